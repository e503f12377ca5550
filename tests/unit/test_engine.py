"""The workflow engine on the in-memory core: planning, re-planning, dispatch, gates."""

from __future__ import annotations

from datetime import datetime, timedelta

from careloop.engine.dispatcher import tick
from careloop.models import ActionStatus, Appointment, Patient
from careloop.records import ingest
from tests.conftest import NY


def book(svc, start, *, appt_id="a1", patient_id="p1", language="en", status="booked", tz=None, phone="+16175550101"):
    patient = Patient(id=patient_id, first_name="Ana", last_name="Reyes", phone=phone, language=language, timezone=tz)
    appt = Appointment(id=appt_id, patient_id=patient_id, start=start, provider="Dr. Lee", visit_type="cleaning", status=status)
    return ingest(svc.records, svc.consent, [patient], [appt], svc.clock.now())


def run_until(svc, until, step=timedelta(minutes=15)):
    while svc.clock.now() < until:
        svc.clock.set(svc.clock.now() + step)
        tick(svc)
    return svc.outbox.sent


def test_reminder_is_planned_48h_before_and_sent_once(svc):
    # Given an appointment booked four days ahead
    book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY))
    # When time passes to the appointment
    sent = run_until(svc, datetime(2026, 12, 5, 9, 0, tzinfo=NY))
    # Then exactly one reminder went out 48 h before, and one nudge 24 h after it
    steps = [(m.step, m.at.astimezone(NY).strftime("%a %H:%M")) for m in sent]
    assert steps == [("reminder-48h", "Thu 10:00"), ("nudge-24h", "Fri 10:00")]
    assert "Thu Dec 3" not in sent[0].body and "Sat Dec 5 at 10:00 AM" in sent[0].body


def test_redelivered_booking_plans_nothing_new(svc):
    book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY))
    before = dict(svc.actions.actions)
    # When the same EHR data arrives again
    result = book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY))
    # Then nothing changed and nothing was planned twice
    assert result.appointments == [] and svc.actions.actions.keys() == before.keys()


def test_reschedule_cancels_old_plan_and_plans_new(svc):
    book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY))
    book(svc, datetime(2026, 12, 8, 15, 0, tzinfo=NY))
    states = {a.generation: a.status for a in svc.actions.actions.values()}
    assert states == {"start=2026-12-05T15:00:00Z": ActionStatus.CANCELLED, "start=2026-12-08T20:00:00Z": ActionStatus.PENDING}
    sent = run_until(svc, datetime(2026, 12, 8, 12, 0, tzinfo=NY))
    assert [m.at.astimezone(NY).day for m in sent if m.step == "reminder-48h"] == [6]


def test_late_booking_sends_at_booking_if_two_hours_ahead(svc):
    # Given a booking at 09:00 for 14:00 the same day (< 48 h, >= 2 h ahead)
    book(svc, datetime(2026, 12, 1, 14, 0, tzinfo=NY))
    sent = run_until(svc, datetime(2026, 12, 1, 9, 15, tzinfo=NY))
    assert [m.step for m in sent] == ["reminder-48h"]


def test_booking_under_two_hours_ahead_gets_no_reminder(svc):
    book(svc, datetime(2026, 12, 1, 10, 30, tzinfo=NY))
    assert run_until(svc, datetime(2026, 12, 1, 10, 0, tzinfo=NY)) == []
    assert all(a.status == ActionStatus.SKIPPED for a in svc.actions.actions.values())


def test_cancelled_appointment_gets_no_reminder(svc):
    book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY))
    book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY), status="cancelled")
    assert run_until(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY)) == []


def test_confirmed_patient_gets_no_nudge(svc):
    book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY))
    run_until(svc, datetime(2026, 12, 3, 11, 0, tzinfo=NY))
    appt = svc.records.get_appointment("a1")
    svc.records.put_appointment(appt.model_copy(update={"confirmed": True}))
    sent = run_until(svc, datetime(2026, 12, 5, 9, 0, tzinfo=NY))
    assert [m.step for m in sent] == ["reminder-48h"]


def test_quiet_hours_in_patient_zone_defer_then_drop_if_pointless(svc):
    # Given a Los Angeles patient whose reminder falls due at 07:00 Pacific (10:00 Eastern + 3h shift)
    book(svc, datetime(2026, 12, 5, 7, 30, tzinfo=NY) + timedelta(hours=0), tz="America/Los_Angeles")
    # due 2026-12-03 07:30 NY = 04:30 LA -> deferred to 08:00 LA
    sent = run_until(svc, datetime(2026, 12, 3, 12, 0, tzinfo=NY))
    assert [m.at.astimezone(NY).strftime("%H:%M") for m in sent] == ["11:00"]


def test_opted_out_patient_gets_nothing(svc):
    book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY))
    p = svc.records.get_patient("p1")
    svc.records.put_patient(p.model_copy(update={"opted_out": True}))
    assert run_until(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY)) == []
    assert {a.reason for a in svc.actions.actions.values()} == {"opted out"}


def test_daily_cap_moves_the_farther_appointment(svc):
    # Given two appointments whose reminders are due the same morning
    book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY), appt_id="a1")
    book(svc, datetime(2026, 12, 5, 11, 0, tzinfo=NY), appt_id="a2")
    sent = run_until(svc, datetime(2026, 12, 4, 12, 0, tzinfo=NY))
    # Then only one automated text per calendar day: the nearer appointment wins
    days = [m.at.astimezone(NY).date() for m in sent]
    assert len(days) == len(set(days))
    assert sent[0].appointment_id == "a1"


def test_two_dispatchers_never_send_twice(svc):
    book(svc, datetime(2026, 12, 5, 10, 0, tzinfo=NY))
    svc.clock.set(datetime(2026, 12, 3, 10, 0, tzinfo=NY))
    first, second = tick(svc), tick(svc)
    assert len(first.sent) == 1 and second.sent == []
    assert len(svc.outbox.sent) == 1
