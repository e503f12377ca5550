"""Workflows that do what their format says (issue #10, items 15 and 16): switching a workflow on
plans it for appointments already booked, under the catch-up rules; `enter_workflow` starts the
named workflow (trigger `entered`) for the same patient and appointment, with the usual gates."""

from __future__ import annotations

from datetime import timedelta

from careloop.engine.dispatcher import tick
from careloop.engine.planner import plan_switched_on
from careloop.models import ActionStatus, Appointment, Patient
from careloop.records import ingest
from careloop.workflows import Workflow, default_library


def _library(**enabled):
    out = []
    for wf in default_library():
        out.append(wf.model_copy(update={"enabled": enabled.get(wf.id, wf.enabled)}))
    return tuple(out)


def test_switching_the_reminder_on_plans_it_for_appointments_already_booked(svc):
    # Given the reminder off while two appointments were booked (5 days and 1 day ahead)
    svc.workflow_source = _library(**{"appointment-reminder": False})
    now = svc.clock.now()
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", phone="+16175550101"),
                       Patient(id="p2", first_name="Bo", phone="+16175550102")],
           [Appointment(id="far", patient_id="p1", start=now + timedelta(days=5)),
            Appointment(id="near", patient_id="p2", start=now + timedelta(days=1))], now)
    from careloop.engine.planner import plan_appointment_change

    for a in svc.records.all_appointments():
        plan_appointment_change(svc, None, a, now)
    assert [x for x in svc.actions.actions_for_subject("APT#far")] == []
    # When it is switched on
    svc.workflow_source = _library()
    reminder = next(w for w in svc.workflows if w.id == "appointment-reminder")
    result = plan_switched_on(svc, reminder, now)
    # Then the far one is due 48 h before its start, the near one at once (the catch-up rule)
    due = {a.appointment_id: a.due_at for a in result.planned}
    assert due == {"far": now + timedelta(days=3), "near": now}
    # and switching it on again plans nothing twice
    assert plan_switched_on(svc, reminder, now).planned == []


def test_enter_workflow_starts_the_named_workflow_with_its_steps(svc):
    # Given a workflow that, 1 hour after a visit, enters a follow-up workflow of one text
    follow = Workflow.model_validate({
        "id": "follow-up", "name": "Follow-up", "enabled": True, "trigger": {"on": "entered"},
        "steps": [{"id": "hello", "timing": {"anchor": "trigger", "offset_minutes": 60},
                   "action": {"type": "sms", "template": {"en": "Hi {{ first_name }}, how are you feeling?",
                                                          "es": "Hola {{ first_name }}, ¿cómo se siente?"}}}]})
    entry = Workflow.model_validate({
        "id": "after-visit", "name": "After visit", "enabled": True,
        "trigger": {"on": "appointment_status", "status": "fulfilled"},
        "steps": [{"id": "go", "timing": {"anchor": "trigger", "offset_minutes": 0},
                   "action": {"type": "enter_workflow", "workflow": "follow-up"}}]})
    svc.workflow_source = (entry, follow)
    now = svc.clock.now()
    ingest(svc.records, svc.consent, [Patient(id="p", first_name="Ana", phone="+16175550103")],
           [Appointment(id="v", patient_id="p", start=now - timedelta(minutes=30), status="fulfilled")], now)
    from careloop.engine.planner import plan_appointment_change

    plan_appointment_change(svc, None, svc.records.get_appointment("v"), now)
    # When the dispatcher runs now and an hour later
    tick(svc, now)
    tick(svc, now + timedelta(hours=1, minutes=1))
    # Then the entered workflow's text went out once, for the same appointment
    texts = [m for m in svc.outbox.sent if m.workflow == "follow-up"]
    assert len(texts) == 1 and texts[0].appointment_id == "v" and "how are you feeling" in texts[0].body
    entered = [a for a in svc.actions.actions_for_subject("APT#v") if a.workflow == "follow-up"]
    assert [a.status for a in entered] == [ActionStatus.SENT]
