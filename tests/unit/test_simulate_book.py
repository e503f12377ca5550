"""`careloop simulate`'s `book` event: a patient books a slot through their link, so scenarios can
test the recovery-then-rebook path (issue 12, item 10; spec/simulate.md, spec/booking.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from careloop.errors import ScenarioError
from careloop_local.simulate import parse_scenario, simulate

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "noshow-recovery-rebook.json"
CLI = [sys.executable, "-m", "careloop_local.cli", "simulate"]
BOOKING = {
    "types": [{"id": "cleaning", "name": {"en": "Cleaning", "es": "Limpieza"}, "minutes": 60, "providers": ["lee"]}],
    "hours": [{"provider": "lee", "location": "main", "weekday": "tue", "hours": {"start": "09:00", "end": "17:00"}}],
}


def scenario():
    return json.loads(SCENARIO.read_text())


def book(at="2026-12-05T13:20:00-05:00", start="2026-12-15T09:30:00-05:00", **kw):
    return {"at": at, "type": "book", "patient": "p1", "start": start, **kw}


def with_events(*events, practice=None):
    sc = scenario()
    sc["events"] = sc["events"][:2] + list(events)
    if practice:
        sc["practice"] |= practice
    return sc


def actions(lines):
    return [(x["workflow"], x["step"], x["appointment"]) for x in lines if x["kind"] in ("sms", "task", "staff_alert")]


def test_no_show_then_recovery_text_then_book_plans_the_reminder_and_no_staff_task():
    # Given the scenario file: a no-show, its recovery text, then a booking through the link
    res = subprocess.run(CLI + [str(SCENARIO)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    # Then the new appointment is reminded of like any other, and nobody is asked to call
    booked = next(x["appointment"] for x in lines if x["kind"] == "appointment_state" and x["appointment"] != "a1")
    assert actions(lines) == [
        ("appointment-reminder", "reminder-48h", "a1"), ("confirmation-nudge", "nudge-24h", "a1"),
        ("no-show-recovery", "recovery-sms", "a1"),
        ("appointment-reminder", "reminder-48h", booked), ("confirmation-nudge", "nudge-24h", booked)]
    reminder = next(x for x in lines if x["appointment"] == booked and x["kind"] == "sms")
    assert reminder["at"] == "2026-12-13T09:30:00-05:00" and "Tue Dec 15 at 9:30 AM" in reminder["body"]
    state = next(x for x in lines if x.get("appointment") == booked and x["kind"] == "appointment_state")
    assert state | {"appointment": "?"} == {"kind": "appointment_state", "appointment": "?", "patient": "p1",
                                            "status": "booked", "confirmed": False,
                                            "start": "2026-12-15T09:30:00-05:00", "source": "careloop"}


def test_without_the_booking_the_staff_task_is_raised():
    lines, _ = simulate(with_events())
    assert ("no-show-recovery", "rebook-alert", "a1") in actions(lines)


def test_a_booking_after_the_task_was_raised_changes_nothing_that_was_sent():
    lines, _ = simulate(with_events(book(at="2026-12-07T09:00:00-05:00")))
    assert [s for w, s, _ in actions(lines) if w == "no-show-recovery"] == ["recovery-sms", "rebook-alert"]


def test_a_redelivered_booking_books_once():
    once, _ = simulate(with_events(book()))
    assert simulate(with_events(book(), book()))[0] == once
    assert len([x for x in once if x["kind"] == "appointment_state"]) == 2


def test_the_booking_keeps_the_given_id_visit_type_and_provider():
    lines, _ = simulate(with_events(book(id="web-1", visit_type="exam", provider="Dr. Patel", minutes=45)))
    reminder = next(x for x in lines if x["appointment"] == "web-1" and x["kind"] == "sms")
    assert "exam appointment with Dr. Patel" in reminder["body"]


def test_with_availability_the_slot_must_be_open_and_the_type_sets_the_length():
    practice = {"booking": BOOKING}
    lines, warnings = simulate(with_events(book(id="b1", visit_type="cleaning", provider="lee"), practice=practice))
    assert warnings == []
    reminder = next(x for x in lines if x["appointment"] == "b1" and x["kind"] == "sms")
    assert "cleaning appointment with Dr. Lee" in reminder["body"]  # the provider's name, not its id
    # a second patient racing for the same slot is told it is taken: nothing is booked for them
    sc = with_events(book(id="b1", visit_type="cleaning"),
                     book(id="b2", visit_type="cleaning", at="2026-12-05T13:30:00-05:00") | {"patient": "p2"},
                     practice=practice)
    sc["patients"].append({"id": "p2", "first_name": "Leo", "phone": "(617) 555-0102"})
    lines, warnings = simulate(sc)
    assert warnings == ["events[3]: no open slot at 2026-12-15T09:30:00-05:00; the booking page would answer 409 "
                        "and nothing was booked"]
    assert [x["appointment"] for x in lines if x["kind"] == "appointment_state"] == ["a1", "b1"]
    # outside working hours (Saturday): no slot either
    _, warnings = simulate(with_events(book(start="2026-12-19T10:00:00-05:00"), practice=practice))
    assert len(warnings) == 1 and "no open slot" in warnings[0]


def test_with_availability_an_unknown_type_names_the_field():
    with pytest.raises(ScenarioError, match=r"events\[2\]\.visit_type: not a bookable type of the practice \(cleaning\)"):
        simulate(with_events(book(visit_type="whitening"), practice={"booking": BOOKING}))


@pytest.mark.parametrize("change, message", [
    ({"patient": None}, "events[2].patient: required for a book event"),
    ({"patient": "p9"}, "events[2].patient: unknown patient 'p9'"),
    ({"start": None}, "events[2].start: required for a book event"),
    ({"start": "next tuesday"}, "events[2].start: not an ISO 8601 datetime"),
    ({"start": "2026-12-15T09:30:00"}, "events[2].start: ISO 8601 datetime needs a UTC offset"),
    ({"start": "2026-12-05T09:00:00-05:00"}, "events[2].start: a booking must start after its 'at'"),
    ({"minutes": 0}, "events[2].minutes"),
])
def test_bad_book_events_name_the_field(change, message):
    event = {k: v for k, v in (book() | change).items() if v is not None}
    with pytest.raises(ScenarioError) as err:
        parse_scenario(with_events(event))
    assert str(err.value).startswith(message)


def test_bad_book_event_exits_2_with_one_line_on_stderr():
    sc = with_events({k: v for k, v in book().items() if k != "start"})
    res = subprocess.run(CLI + ["-"], input=json.dumps(sc), capture_output=True, text=True)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.strip().splitlines() == ["events[2].start: required for a book event"]

