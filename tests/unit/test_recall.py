"""The `recall` workflow of the default library and the no-show task after a rebooking, through
`careloop simulate` (issue 12, items 6 and 9; spec/default-workflows.md, spec/booking.md)."""

from __future__ import annotations

from tests.unit.test_default_library import appt, run, sms

YEAR_ON = "2027-12-31T23:00:00-05:00"
BOOKING_URL = "https://book.example.test/maple"


def visit(visit_type, aid="a1", start="2026-12-05T10:00:00-05:00", **kw):
    """A visit booked on Dec 1 and fulfilled the day it happened (10:00-10:30)."""
    return [appt("2026-12-01T09:00:00-05:00", start, aid=aid, visit_type=visit_type, **kw),
            appt("2026-12-05T11:00:00-05:00", start, aid=aid, status="fulfilled", visit_type=visit_type, **kw)]


def recall_lines(lines):
    return [x for x in lines if x.get("workflow") == "recall"]


# -- recall ------------------------------------------------------------------------------------
def test_cleaning_recalled_6_months_later_with_the_booking_link_then_a_task():
    lines = run(visit("cleaning"), until=YEAR_ON)
    text, task = recall_lines(lines)
    # 182 days after the visit ended (10:30 EST), the same instant in summer time
    assert (text["kind"], text["step"], text["at"]) == ("sms", "recall-cleaning-6m", "2027-06-05T11:30:00-04:00")
    assert BOOKING_URL in text["body"] and "cleaning" in text["body"] and text["appointment"] == "a1"
    # no reply and nothing booked two weeks on: the front desk calls
    assert (task["kind"], task["step"], task["at"]) == ("task", "recall-cleaning-task", "2027-06-19T11:30:00-04:00")
    assert task["priority"] == "normal" and "Ana Reyes" in task["body"] and "Sat Dec 5" in task["body"]


def test_check_up_recalled_12_months_later():
    lines = run(visit("checkup"), until="2028-01-31T23:00:00-05:00")
    assert [(x["step"], x["at"]) for x in recall_lines(lines)] == [
        ("recall-check-up-12m", "2027-12-05T10:30:00-05:00"), ("recall-check-up-task", "2027-12-19T10:30:00-05:00")]
    assert "check-up" in recall_lines(lines)[0]["body"] and BOOKING_URL in recall_lines(lines)[0]["body"]


def test_recall_in_spanish():
    lines = run(visit("cleaning"), until=YEAR_ON,
                patients=[{"id": "p1", "first_name": "Ana", "phone": "617 555 0101", "language": "es"}])
    text = recall_lines(lines)[0]
    assert text["body"].startswith("Hola Ana") and "limpieza" in text["body"] and BOOKING_URL in text["body"]


def test_a_visit_type_without_a_recall_gets_none():
    assert recall_lines(run(visit("extraction"), until=YEAR_ON)) == []


def test_no_recall_when_the_next_visit_is_already_booked():
    # booked at the front desk on the way out, for after the recall date
    lines = run(visit("cleaning") + [appt("2026-12-05T11:05:00-05:00", "2027-06-20T10:00:00-05:00", aid="a2",
                                          visit_type="cleaning")],
                until="2027-06-30T23:00:00-05:00")
    assert recall_lines(lines) == []


def test_a_cleaning_in_between_restarts_the_recall_from_that_visit():
    later = visit("cleaning", aid="a2", start="2027-03-01T10:00:00-05:00")
    later[0]["at"], later[1]["at"] = "2027-02-20T09:00:00-05:00", "2027-03-01T11:00:00-05:00"
    lines = run(visit("cleaning") + later, until="2027-09-30T23:00:00-05:00")
    texts = [x for x in recall_lines(lines) if x["kind"] == "sms"]
    # nothing from the December visit (the patient came again), the March visit's recall in August
    assert [(x["appointment"], x["at"][:10]) for x in texts] == [("a2", "2027-08-30")]


def test_a_reply_to_the_recall_means_no_task():
    lines = run(visit("cleaning") + [sms("2027-06-05T12:00:00-04:00", "I'll call you next week")], until=YEAR_ON)
    assert [x["step"] for x in recall_lines(lines)] == ["recall-cleaning-6m"]


def test_booking_after_the_recall_means_no_task():
    lines = run(visit("cleaning") + [appt("2027-06-06T09:00:00-04:00", "2027-07-01T10:00:00-04:00", aid="a2",
                                          visit_type="cleaning")],
                until="2027-06-30T23:00:00-04:00")
    assert [x["step"] for x in recall_lines(lines)] == ["recall-cleaning-6m"]


def test_recall_waits_for_quiet_hours_in_the_patients_zone():
    # 15:30 UTC is 05:30 in Honolulu: held to 08:00 there
    lines = run(visit("cleaning"), until=YEAR_ON,
                patients=[{"id": "p1", "first_name": "Ana", "phone": "617 555 0101", "timezone": "Pacific/Honolulu"}])
    assert recall_lines(lines)[0]["at"] == "2027-06-05T14:00:00-04:00"


def test_recall_yields_to_the_days_cap():
    # a missed visit that morning: its reminder (Jun 3), nudge (Jun 4) and recovery text (Jun 5)
    # are the day's one and the rolling week's three automated texts, so the recall waits to Jun 10
    missed = [appt("2027-05-20T09:00:00-04:00", "2027-06-05T08:00:00-04:00", aid="a2"),
              appt("2027-06-05T09:00:00-04:00", "2027-06-05T08:00:00-04:00", aid="a2", status="noshow")]
    lines = run(visit("cleaning") + missed, until="2027-06-30T23:00:00-04:00")
    texts = [(x["workflow"], x["at"][:10]) for x in lines if x["kind"] == "sms" and x["at"] >= "2027-06"]
    assert texts == [("appointment-reminder", "2027-06-03"), ("confirmation-nudge", "2027-06-04"),
                     ("no-show-recovery", "2027-06-05"), ("recall", "2027-06-10")]


def test_no_recall_text_after_stop():
    lines = run(visit("cleaning") + [sms("2026-12-10T09:00:00-05:00", "STOP")], until=YEAR_ON)
    assert [x for x in recall_lines(lines) if x["kind"] == "sms"] == []


def test_recall_is_planned_once_whatever_is_redelivered():
    events = visit("cleaning")
    assert run(events, until=YEAR_ON) == run(events * 3, until=YEAR_ON)


# -- no-show recovery: no staff task once the patient rebooked ----------------------------------
NO_SHOW = [appt("2026-12-01T09:00:00-05:00", "2026-12-05T10:00:00-05:00"),
           appt("2026-12-05T10:30:00-05:00", "2026-12-05T10:00:00-05:00", status="noshow")]


def task_steps(lines):
    return [x["step"] for x in lines if x["kind"] == "task"]


def test_no_show_without_a_booking_gets_the_task():
    assert task_steps(run(NO_SHOW, until="2026-12-10T23:00:00-05:00")) == ["rebook-alert"]


def test_no_show_with_a_visit_already_booked_ahead_gets_no_task():
    lines = run([appt("2026-12-01T09:00:00-05:00", "2026-12-20T10:00:00-05:00", aid="a0"), *NO_SHOW],
                until="2026-12-10T23:00:00-05:00")
    assert task_steps(lines) == []


def test_no_show_rebooked_and_seen_before_the_task_gets_no_task():
    rebooked = [appt("2026-12-05T13:00:00-05:00", "2026-12-05T16:00:00-05:00", aid="a2"),
                appt("2026-12-05T17:00:00-05:00", "2026-12-05T16:00:00-05:00", aid="a2", status="fulfilled")]
    assert task_steps(run(NO_SHOW + rebooked, until="2026-12-10T23:00:00-05:00")) == []


def test_no_show_rebooked_then_cancelled_gets_the_task():
    rebooked = [appt("2026-12-05T13:00:00-05:00", "2026-12-12T10:00:00-05:00", aid="a2"),
                appt("2026-12-05T18:00:00-05:00", "2026-12-12T10:00:00-05:00", aid="a2", status="cancelled")]
    assert task_steps(run(NO_SHOW + rebooked, until="2026-12-10T23:00:00-05:00")) == ["rebook-alert"]


def test_staff_read_the_recall_steps_in_plain_words():
    from careloop.inbox import workflow_view
    from careloop.workflows import default_library

    recall = workflow_view(next(w for w in default_library() if w.id == "recall"))
    summaries = {s["id"]: s["summary"] for s in recall["steps"]}
    assert summaries["recall-cleaning-6m"].startswith("Text the patient 182 days after the status change, if the "
                                                      "visit was a cleaning, teeth cleaning,")
    assert summaries["recall-check-up-task"].startswith("Create a staff task 379 days after the status change")
    assert summaries["recall-check-up-task"].endswith("and the patient has not texted for 14 days")


def test_switching_recall_on_plans_for_visits_months_ago(svc):
    from datetime import timedelta

    from careloop.engine.planner import plan_switched_on
    from careloop.models import ActionStatus, Appointment, Patient
    from careloop.records import ingest

    # Given a cleaning 4 months ago and a check-up 8 months ago, from before recall was on
    from careloop.workflows import default_library

    svc.workflow_source = tuple(w.model_copy(update={"enabled": w.id != "recall"}) for w in default_library())
    now = svc.clock.now()
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", phone="+16175550101")],
           [Appointment(id="c", patient_id="p1", start=now - timedelta(days=120), status="fulfilled",
                        visit_type="cleaning"),
            Appointment(id="k", patient_id="p1", start=now - timedelta(days=240), status="fulfilled",
                        visit_type="checkup")], now)
    assert [a for a in svc.actions.actions_for_subject("APT#c") if a.workflow == "recall"] == []
    # When recall is switched on
    svc.workflow_source = default_library()
    recall = next(w for w in svc.workflows if w.id == "recall")
    result = plan_switched_on(svc, recall, now)
    # Then both are planned from their visit (not 90 days back only); what has passed is late
    pending = {(a.appointment_id, a.step) for a in result.planned}
    assert {("c", "recall-cleaning-6m"), ("c", "recall-cleaning-task"),
            ("k", "recall-check-up-12m"), ("k", "recall-check-up-task")} <= pending
    late = {(a.appointment_id, a.step) for a in result.skipped if a.status == ActionStatus.SKIPPED}
    assert ("k", "recall-cleaning-6m") in late
