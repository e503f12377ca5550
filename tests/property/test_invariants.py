"""Property tests over random schedules, reschedules, cancellations and replies: the engine's
promises hold whatever happens - nothing in quiet hours, caps never exceeded, nothing after
an opt-out, nothing twice, no reminder for a cancelled appointment."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careloop_local.simulate import simulate

START = datetime(2026, 10, 26, 8, 0, tzinfo=ZoneInfo("America/New_York"))  # spans the DST change
ZONES = [None, "America/Los_Angeles", "America/Chicago", "Pacific/Honolulu"]
REPLIES = ["C", "yes", "STOP", "START", "R", "N", "thanks!", "what time is it again?", "Stop texting me please"]
PRE_APPOINTMENT = {"appointment-reminder", "confirmation-nudge"}


@st.composite
def scenarios(draw):
    n_patients = draw(st.integers(1, 3))
    patients = [
        {"id": f"p{i}", "first_name": f"Pat{i}", "phone": f"(617) 555-01{i:02d}",
         "language": draw(st.sampled_from(["en", "es"])), "timezone": draw(st.sampled_from(ZONES))}
        for i in range(n_patients)
    ]
    events = []
    for a in range(draw(st.integers(1, 5))):
        pid = f"p{draw(st.integers(0, n_patients - 1))}"
        booked_at = START + timedelta(minutes=draw(st.integers(0, 14 * 24 * 60)))
        start = booked_at + timedelta(minutes=draw(st.integers(30, 10 * 24 * 60)))
        start = start.replace(minute=draw(st.sampled_from([0, 15, 30, 45])), second=0)
        appt = {"id": f"a{a}", "patient": pid, "start": start.isoformat(), "status": "booked"}
        events.append({"at": booked_at.isoformat(), "type": "appointment", "appointment": appt})
        for _ in range(draw(st.integers(0, 3))):
            at = booked_at + timedelta(minutes=draw(st.integers(1, 12 * 24 * 60)))
            change = draw(st.sampled_from(["reschedule", "cancelled", "noshow", "fulfilled", "booked"]))
            new = dict(appt)
            if change == "reschedule":
                new["start"] = (at + timedelta(minutes=draw(st.integers(60, 9 * 24 * 60)))).replace(second=0).isoformat()
            else:
                new["status"] = change
            events.append({"at": at.isoformat(), "type": "appointment", "appointment": new})
            appt = new
    for _ in range(draw(st.integers(0, 6))):
        at = START + timedelta(minutes=draw(st.integers(0, 20 * 24 * 60)))
        events.append({"at": at.isoformat(), "type": "sms", "from": f"p{draw(st.integers(0, n_patients - 1))}",
                       "body": draw(st.sampled_from(REPLIES))})
    return {"start": START.isoformat(), "until": (START + timedelta(days=45)).isoformat(),
            "patients": patients, "events": events}


def _zone(scenario, patient_id):
    tz = next(p["timezone"] for p in scenario["patients"] if p["id"] == patient_id)
    return ZoneInfo(tz or "America/New_York")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_engine_invariants(scenario):
    lines, _ = simulate(scenario)
    sms = [x for x in lines if x["kind"] == "sms"]
    automated = [x for x in sms if x["workflow"] not in ("sms-agent", "staff")]

    # nothing twice
    keys = [(x["workflow"], x["step"], x["appointment"], x["body"]) for x in automated]
    assert len(keys) == len(set(keys)), "a message went out twice"

    per_day, per_patient = defaultdict(int), defaultdict(list)
    for x in automated:
        at = datetime.fromisoformat(x["at"])
        local = at.astimezone(_zone(scenario, x["patient"]))
        # nothing in quiet hours (08:00-21:00 in the patient's own zone)
        assert 8 <= local.hour < 21, f"sent at {local} local"
        per_day[(x["patient"], local.date())] += 1
        per_patient[x["patient"]].append(at)
    # caps: one a calendar day, three a rolling week
    assert max(per_day.values(), default=0) <= 1
    for times in per_patient.values():
        times.sort()
        for i, t in enumerate(times):
            assert len([u for u in times[i:] if u - t < timedelta(days=7)]) <= 3

    # nothing automated after an opt-out (until an opt-in). Lines come in the order things
    # happened (ties in time in the order they were sent), so "after" is by position: a reminder
    # sent in the same second just before the STOP arrived is not after it.
    order = {id(x): i for i, x in enumerate(sms)}
    consent_changes = [(order[id(x)], x["patient"], x["step"])
                       for x in sms if x["workflow"] == "sms-agent" and x["step"] in ("opt_out", "opt_in")]
    for x in automated:
        state = [s for i, p, s in consent_changes if p == x["patient"] and i < order[id(x)]]
        assert not state or state[-1] != "opt_out", "texted after STOP"

    # no pre-appointment text after the appointment was cancelled (or for a past start)
    timeline = defaultdict(list)
    for e in scenario["events"]:
        if e["type"] == "appointment":
            timeline[e["appointment"]["id"]].append((datetime.fromisoformat(e["at"]), e["appointment"]))
    for x in automated:
        if x["workflow"] not in PRE_APPOINTMENT:
            continue
        at = datetime.fromisoformat(x["at"])
        # a change at the very instant of the send races it (the simulator sends what was
        # already due first, then applies the change): either state at that instant is valid
        history = sorted(timeline[x["appointment"]], key=lambda ta: ta[0])
        before = [a for t, a in history if t < at]
        same_instant = [a for t, a in history if t == at]
        candidates = ([before[-1]] if before else []) + same_instant
        assert any(a["status"] == "booked" and datetime.fromisoformat(a["start"]) > at for a in candidates), \
            "reminder for a cancelled or past appointment"
