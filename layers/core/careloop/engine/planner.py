"""The workflow planner: turns a record change into planned actions with deterministic keys.

Re-planning is idempotent (same change -> same keys -> nothing new) and a moved or cancelled
appointment's pending actions are cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from careloop.clock import iso
from careloop.engine.conditions import Facts, first_failing
from careloop.models import ActionStatus, Appointment, Patient, PlannedAction
from careloop.ports import Services
from careloop.workflows import Step, Workflow


@dataclass
class PlanResult:
    planned: list[PlannedAction] = field(default_factory=list)
    skipped: list[PlannedAction] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


def _triggered(wf: Workflow, old: Appointment | None, new: Appointment) -> bool:
    t = wf.trigger
    if t.on == "appointment_booked":
        if new.status != "booked":
            return False
        return old is None or old.status != "booked" or old.start != new.start
    if t.on == "appointment_status":
        return new.status == t.status and (old is None or old.status != t.status)
    return False


def generation_for(wf: Workflow, appt: Appointment) -> str:
    """Pre-appointment plans belong to one start time (a reschedule plans afresh); a status
    plan belongs to the appointment once (EHRs book a new appointment id for a rebooking, and a
    second no-show flag on the same appointment must not text the patient again)."""
    if wf.trigger.on == "appointment_booked":
        return f"start={iso(appt.start)}"
    return f"status={appt.status}"


def action_id(workflow: str, step: str, subject: str, generation: str) -> str:
    return f"{workflow}/{step}/{subject}/{generation}"


def plan_appointment_change(
    services: Services, old: Appointment | None, new: Appointment, now: datetime
) -> PlanResult:
    """Called for every appointment create/update (the DynamoDB stream)."""
    result = PlanResult()
    subject = f"APT#{new.id}"
    moved = old is not None and old.start != new.start
    left_booked = old is not None and old.status == "booked" and new.status != "booked"
    if moved or left_booked:
        keep = None if left_booked else f"start={iso(new.start)}"
        result.cancelled += cancel_pending(services, subject, keep_generation=keep)

    if services.booking is not None and new.status == "cancelled":  # a late cancellation: offer the slot
        from careloop.booking.gaps import on_appointment_change

        result.planned += on_appointment_change(services, old, new, now)
    patient = services.records.get_patient(new.patient_id)
    if patient is None:
        return result
    for wf in services.workflows:
        if wf.enabled and _triggered(wf, old, new):
            _plan_workflow(services, wf, patient, new, event_time(wf, new, now), generation_for(wf, new), result,
                           now=now)
    return result


# How late a step of a status-triggered workflow may still go out, unless the step says
DEFAULT_GRACE = timedelta(hours=12)
LATE = "late"
# switched on, a status-triggered workflow looks back at least this far for its appointments
SWITCH_ON_LOOKBACK = timedelta(days=90)


def _grace(step: Step) -> timedelta:
    return DEFAULT_GRACE if step.timing.grace_minutes is None else timedelta(minutes=step.timing.grace_minutes)


def event_time(wf: Workflow, appt: Appointment, now: datetime) -> datetime:
    """When the event a workflow reacts to happened: a status is about the appointment (a visit
    ended, a patient did not come), so it is timed from the appointment's end, never later than
    now; an EHR that reports last June's visit today is reporting history, not news."""
    if wf.trigger.on == "appointment_status":
        return min(now, appt.end)
    return now


def plan_switched_on(services: Services, wf: Workflow, now: datetime) -> PlanResult:
    """A workflow switched on (or saved while on) plans for the appointments already there, under
    the same catch-up and lateness rules as any change: reminders for what is still booked ahead,
    status steps whose moment has not passed. Idempotent (the keys are deterministic). A scan of
    the appointments: switching a workflow on is a rare, deliberate act."""
    result = PlanResult()
    if not wf.enabled or wf.trigger.on not in ("appointment_booked", "appointment_status"):
        return result
    # a recall is due months after the visit: look back as far as the workflow's last step reaches
    reach = max([SWITCH_ON_LOOKBACK] + [timedelta(minutes=s.timing.offset_minutes) + _grace(s) for s in wf.steps])
    for appt in services.records.all_appointments():
        if wf.trigger.on == "appointment_booked":
            if appt.status != "booked" or appt.start <= now:
                continue
        elif appt.status != wf.trigger.status or now - appt.end > reach:
            continue  # not this status, or history no step of it could still reach
        patient = services.records.get_patient(appt.patient_id)
        if patient is not None:
            _plan_workflow(services, wf, patient, appt, event_time(wf, appt, now), generation_for(wf, appt),
                           result, now=now)
    return result


def plan_entered(services: Services, wf: Workflow, source: PlannedAction, at: datetime,
                 patient: Patient, appt: Appointment | None) -> PlanResult:
    """`enter_workflow`: the named workflow starts for the same patient and appointment, its
    steps timed from now (its trigger) or from the appointment; one plan per entering action."""
    result = PlanResult()
    if not wf.enabled or wf.trigger.on != "entered":
        return result
    if wf.trigger.workflow and wf.trigger.workflow != source.workflow:
        return result  # it names who may enter it
    _plan_workflow(services, wf, patient, appt, at, f"entered:{source.workflow}/{source.step}/{source.generation}",
                   result, now=at)
    return result


def plan_after_step(
    services: Services, sent: PlannedAction, at: datetime,
    patient: Patient | None = None, appt: Appointment | None = None,
) -> PlanResult:
    """Chaining: workflows whose trigger is "step X of workflow W was sent". The dispatcher
    passes the patient and appointment it just read, saving two reads per sent action."""
    result = PlanResult()
    chained = [wf for wf in services.workflows if wf.enabled and wf.trigger.on == "step_sent"
               and wf.trigger.workflow == sent.workflow and wf.trigger.step == sent.step]
    if not chained:
        return result
    patient = patient or services.records.get_patient(sent.patient_id)
    if patient is None:
        return result
    if appt is None and sent.appointment_id:
        appt = services.records.get_appointment(sent.appointment_id)
    for wf in chained:
        _plan_workflow(services, wf, patient, appt, at, sent.generation, result)
    return result


def _plan_workflow(
    services: Services,
    wf: Workflow,
    patient: Patient,
    appt: Appointment | None,
    trigger_at: datetime,
    generation: str,
    result: PlanResult,
    now: datetime | None = None,
) -> None:
    now = now or trigger_at
    subject = f"APT#{appt.id}" if appt else f"PAT#{patient.id}"
    facts = Facts(services, patient, appt, trigger_at, trigger_at)
    for step in wf.steps:
        anchor = appt.start if (step.timing.anchor == "start" and appt) else trigger_at
        due = anchor + timedelta(minutes=step.timing.offset_minutes)
        action = PlannedAction(
            action_id=action_id(wf.id, step.id, subject, generation),
            workflow=wf.id,
            workflow_version=wf.version,
            step=step.id,
            kind=step.action.type,
            subject=subject,
            patient_id=patient.id,
            appointment_id=appt.id if appt else None,
            due_at=due,
            planned_at=trigger_at,
            generation=generation,
            trigger_at=trigger_at,
        )
        reason = None
        if due < trigger_at:
            lead = step.timing.catch_up_min_lead_minutes
            if lead is not None and appt and appt.start - trigger_at >= timedelta(minutes=lead):
                action.due_at = trigger_at  # booked late: send at booking
            else:
                reason = "due time already passed when planned"
        elif due < now:
            # a status reported after the fact: still send within the grace window, else skip as late
            if now - due > _grace(step):
                reason = LATE
            else:
                action.due_at = now
        if reason is None and step.timing.anchor == "start":
            # conditions about the world as it is now; re-checked at fire time anyway
            failing = first_failing(step.conditions, facts)
            if failing is not None:
                reason = f"condition {failing.field} {failing.op} failed at planning"
        if reason is not None:
            action.status = ActionStatus.SKIPPED
            action.reason = reason
            if services.actions.put_action_if_absent(action):
                result.skipped.append(action)
            continue
        if services.actions.put_action_if_absent(action):
            result.planned.append(action)


def cancel_pending(services: Services, subject: str, keep_generation: str | None) -> list[str]:
    """Cancel the pending pre-appointment plans of a subject except `keep_generation`;
    status-triggered plans (no-show, post-visit) outlive later changes."""
    cancelled = []
    for action in services.actions.actions_for_subject(subject):
        if action.status != ActionStatus.PENDING or not action.generation.startswith("start="):
            continue
        if action.generation == keep_generation:
            continue
        if services.actions.transition_action(
            action.action_id, ActionStatus.PENDING, ActionStatus.CANCELLED, reason="plan changed"
        ):
            cancelled.append(action.action_id)
    return cancelled
