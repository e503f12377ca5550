"""`careloop simulate` on the waitlist scenario: two patients ask to come sooner by text, a visit
cancelled 23 h ahead is offered to both, the first YES books it, the other is told it is gone."""

from __future__ import annotations

import json
from pathlib import Path

from careloop_local.simulate import simulate

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "waitlist-gap-fill.json"


def run() -> list[dict]:
    lines, _warnings = simulate(json.loads(SCENARIO.read_text()))
    return lines


def test_a_late_cancellation_goes_to_the_waitlist_and_the_first_yes_books_it():
    lines = run()
    texts = [(x["at"][:16], x["patient"], x["workflow"], x["step"]) for x in lines if x["kind"] == "sms"]
    booked = next(x["appointment"] for x in lines if x["kind"] == "appointment_state" and x["patient"] == "p3"
                  and x["status"] == "booked")
    assert [t for t in texts if t[2] in ("gap-fill", "booking")] == [
        ("2026-12-02T11:00", "p2", "gap-fill", "offer"), ("2026-12-02T11:00", "p3", "gap-fill", "offer"),
        ("2026-12-02T11:20", "p3", "booking", "confirmation"), ("2026-12-02T11:20", "p2", "gap-fill", "taken")]
    bodies = {(x["patient"], x["step"], x["at"][:16]): x["body"] for x in lines if x["kind"] == "sms"}
    assert bodies[("p2", "offer", "2026-12-02T11:00")] == (
        "Maple Family Dental: an earlier time opened: Thu Dec 3 10:00 AM (EST) with Dr. Lee. Reply YES to take it.")
    assert bodies[("p3", "offer", "2026-12-02T11:00")] == (
        "Maple Family Dental: hay un horario antes: jue 3 dic 10:00 (EST) con Dr. Lee. Responda SI para tomarlo.")
    # the late YES hears it was taken; nobody was sent a staff alert for any of it
    late = next(x for x in lines if x["kind"] == "sms" and x["at"].startswith("2026-12-02T11:40"))
    assert late["patient"] == "p2" and late["body"].startswith("Maple Family Dental: that time was just taken")
    assert [x for x in lines if x["kind"] in ("staff_alert", "task") and x["patient"] in ("p2", "p3")] == []
    states = {x["appointment"]: (x["status"], x["start"]) for x in lines if x["kind"] == "appointment_state"}
    assert states["a1"][0] == "cancelled" and states["a3"][0] == "cancelled" and states["a2"][0] == "booked"
    assert states[booked] == ("booked", "2026-12-03T10:00:00-05:00")
    # the new visit is reminded of like any other
    assert ("2026-12-03T08:00", "p3", "appointment-reminder", "reminder-48h") in texts


def test_the_same_scenario_twice_gives_the_same_lines():
    assert run() == run()
