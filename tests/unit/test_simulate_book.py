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
        ("no-show-recovery", "recovery-sms", "a1"), ("booking", "confirmation", booked),
        ("appointment-reminder", "reminder-48h", booked), ("confirmation-nudge", "nudge-24h", booked)]
    # the booking service's confirmation text went out at once, as the booking route's does
    confirmation = next(x for x in lines if x["step"] == "confirmation" if x["kind"] == "sms")
    assert confirmation["at"] == "2026-12-05T13:20:00-05:00" and confirmation["to"] == "+16175550101"
    assert confirmation["body"].startswith("Maple Family Dental: you're booked, Ana. Cleaning on Tue Dec 15 at 9:30 AM")
    reminder = next(x for x in lines if x["appointment"] == booked and x["step"] == "reminder-48h")
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
    reminder = next(x for x in lines if x["appointment"] == "web-1" and x["step"] == "reminder-48h")
    assert "exam appointment with Dr. Patel" in reminder["body"]


def test_with_availability_the_slot_must_be_open_and_the_type_sets_the_length():
    practice = {"booking": BOOKING}
    lines, warnings = simulate(with_events(book(id="b1", visit_type="cleaning", provider="lee"), practice=practice))
    assert warnings == []
    reminder = next(x for x in lines if x["appointment"] == "b1" and x["step"] == "reminder-48h")
    assert "cleaning appointment with Dr. Lee" in reminder["body"]  # the provider's name, not its id
    # the appointment takes the type's 60 minutes: 10:00 is still Dr. Lee's, 10:30 is open
    sc = with_events(book(id="b1", visit_type="cleaning"),
                     book(id="b2", visit_type="cleaning", at="2026-12-05T13:30:00-05:00",
                          start="2026-12-15T10:00:00-05:00") | {"patient": "p2"},
                     practice=practice)
    sc["patients"].append({"id": "p2", "first_name": "Leo", "phone": "(617) 555-0102"})
    sc["events"].append({"at": "2026-12-01T09:00:00-05:00", "type": "appointment", "appointment": {
        "id": "old-p2", "patient": "p2", "start": "2026-12-02T10:00:00-05:00", "status": "fulfilled"}})
    with pytest.raises(ScenarioError, match=r"^events\[3\]: 409 that time was just taken \(the page offers instead: "
                                            r"2026-12-15T10:30:00-05:00, "):
        simulate(sc)
    # a second patient racing for the same slot is told it is taken (409), as the route tells them
    sc["events"][3] = book(id="b2", visit_type="cleaning", at="2026-12-05T13:30:00-05:00") | {"patient": "p2"}
    with pytest.raises(ScenarioError, match=r"^events\[3\]: 409 that time was just taken"):
        simulate(sc)
    # outside working hours (Saturday): no slot either, the route's 400 naming the field
    with pytest.raises(ScenarioError, match=r"^events\[2\]\.start: is not an open slot of this type"):
        simulate(with_events(book(start="2026-12-19T10:00:00-05:00"), practice=practice))


def test_a_spent_link_is_410_naming_the_event():
    # Given two bookings through the same personal link (the second at another time)
    sc = with_events(book(link="recovery"), book(link="recovery", at="2026-12-05T14:00:00-05:00",
                                                  start="2026-12-15T11:00:00-05:00"))
    # Then the second gets the route's 410, as a scenario error naming it
    with pytest.raises(ScenarioError, match=r"^events\[3\]: 410 this link was already used to book$"):
        simulate(sc)
    # while the same booking listed twice is a redelivery: booked once, one confirmation
    lines, _ = simulate(with_events(book(link="recovery"), book(link="recovery")))
    assert [x["step"] for x in lines if x["kind"] == "sms"].count("confirmation") == 1


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

