"""History is not news (issue #10, item 1): an EHR sync or import that brings last year's visits
and no-shows texts nobody and raises no task; status-triggered steps are timed from the
appointment, so a visit of this morning reported this afternoon still gets today's care text,
worded truthfully; the skipped steps are recorded as late."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from careloop_local.simulate import simulate

NY = ZoneInfo("America/New_York")
START = datetime(2026, 12, 1, 8, 0, tzinfo=NY)


def _appt(aid, pid, start, status, visit_type="extraction"):
    return {"id": aid, "patient": pid, "start": start.isoformat(), "minutes": 30, "status": status,
            "visit_type": visit_type}


def test_a_year_of_imported_history_sends_nothing_and_raises_no_task():
    # Given 40 patients and a year of past visits, no-shows and cancellations (older than the
    # longest step of the default library, 33 days), all arriving today
    patients = [{"id": f"p{i}", "first_name": f"Pat{i}", "phone": f"(617) 555-{1000 + i}"} for i in range(40)]
    events = []
    for i in range(40):
        for k, status in enumerate(("fulfilled", "noshow", "cancelled", "fulfilled")):
            when = START - timedelta(days=35 + 80 * k + i)
            events.append({"at": (START + timedelta(minutes=i)).isoformat(), "type": "appointment",
                           "appointment": _appt(f"a{i}-{k}", f"p{i}", when.replace(hour=10), status)})
    scenario = {"start": START.isoformat(), "until": (START + timedelta(days=45)).isoformat(),
                "workflows": "default", "patients": patients, "events": events}
    # When simulated for the next 45 days
    lines, _ = simulate(scenario)
    # Then not one text, task or alert goes out
    actions = [x for x in lines if x["kind"] in ("sms", "task", "staff_alert")]
    assert actions == []
    # and the steps that were due are recorded as skipped because they were late
    states = [x for x in lines if x["kind"] == "appointment_state" and x["status"] in ("fulfilled", "noshow")]
    assert states and all(x.get("skipped_late") for x in states)
    noshow = next(x for x in states if x["status"] == "noshow")
    assert "no-show-recovery/recovery-sms" in noshow["skipped_late"]


def test_a_visit_this_morning_reported_this_afternoon_still_gets_todays_care_text():
    visit = START.replace(hour=9)
    scenario = {"start": START.isoformat(), "until": (START + timedelta(days=1)).isoformat(), "workflows": "default",
                "patients": [{"id": "p", "first_name": "Ana", "phone": "(617) 555-0101"}],
                "events": [{"at": (START.replace(hour=15, minute=30)).isoformat(), "type": "appointment",
                            "appointment": _appt("a", "p", visit, "fulfilled")}]}
    lines, _ = simulate(scenario)
    care = [x for x in lines if x.get("step") == "care-instructions"]
    assert len(care) == 1 and care[0]["at"].startswith("2026-12-01T15:30") and "today" in care[0]["body"]


def test_a_no_show_reported_the_next_morning_says_yesterday_or_is_skipped():
    # a no-show at 16:00 reported at 05:00 the next day: within the 12 h grace window, held by quiet
    # hours to 08:00, and worded truthfully
    missed = START.replace(hour=16)
    scenario = {"start": START.isoformat(), "until": (START + timedelta(days=3)).isoformat(), "workflows": "default",
                "patients": [{"id": "p", "first_name": "Ana", "phone": "(617) 555-0101"}],
                "events": [{"at": (missed + timedelta(hours=13)).isoformat(), "type": "appointment",
                            "appointment": _appt("a", "p", missed, "noshow")}]}
    lines, _ = simulate(scenario)
    recovery = [x for x in lines if x.get("step") == "recovery-sms"]
    assert len(recovery) == 1 and "yesterday" in recovery[0]["body"] and "today" not in recovery[0]["body"]


def test_a_visit_three_weeks_ago_gets_only_the_steps_still_ahead():
    visit = START - timedelta(days=21)
    scenario = {"start": START.isoformat(), "until": (START + timedelta(days=20)).isoformat(), "workflows": "default",
                "patients": [{"id": "p", "first_name": "Ana", "phone": "(617) 555-0101"}],
                "events": [{"at": START.isoformat(), "type": "appointment", "appointment": _appt("a", "p", visit, "fulfilled")}]}
    lines, _ = simulate(scenario)
    steps = [x["step"] for x in lines if x["kind"] in ("sms", "task")]
    assert steps == ["re-engage-30d", "no-reply-task"]  # care text, 48 h and 7-day steps: late
    state = next(x for x in lines if x["kind"] == "appointment_state")
    assert set(state["skipped_late"]) == {"post-visit/care-instructions", "post-visit/check-in-48h", "post-visit/follow-up-7d"}
