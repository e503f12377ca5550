"""`careloop simulate` per spec/simulate.md: output shape, ordering, redelivery, bad scenarios."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from careloop_local.simulate import simulate

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
CLI = [sys.executable, "-m", "careloop_local.cli", "simulate"]


def base(**over):
    sc = {
        "start": "2026-12-01T08:00:00-05:00",
        "until": "2026-12-10T23:59:00-05:00",
        "patients": [{"id": "p1", "first_name": "Ana", "phone": "(617) 555-0101"}],
        "events": [{"at": "2026-12-01T09:00:00-05:00", "type": "appointment",
                    "appointment": {"id": "a1", "patient": "p1", "start": "2026-12-05T10:00:00-05:00",
                                    "provider": "Dr. Lee"}}],
    }
    sc.update(over)
    return sc


def test_cli_runs_a_scenario_file_and_prints_json_lines():
    res = subprocess.run(CLI + [str(SCENARIOS / "reminder-confirm-visit.json")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    sms = [x for x in lines if x["kind"] == "sms"]
    assert [(x["workflow"], x["step"]) for x in sms] == [
        ("appointment-reminder", "reminder-48h"), ("sms-agent", "confirm"),
        ("post-visit", "care-instructions"), ("post-visit", "check-in-48h")]
    assert sms[0]["at"] == "2026-12-03T10:00:00-05:00" and sms[0]["message"] == "m-0001"
    assert sms[0]["body"].startswith("Hola Ana") and "sáb 5 dic a las 10:00" in sms[0]["body"]
    assert lines[-2] == {"kind": "appointment_state", "appointment": "a1", "patient": "p1", "status": "fulfilled",
                         "confirmed": True, "start": "2026-12-05T10:00:00-05:00"}
    assert lines[-1] == {"kind": "patient_state", "patient": "p1", "phone": "+16175550101", "opted_out": False,
                         "language": "es"}


@pytest.mark.parametrize("scenario, message", [
    ("{not json", "not valid JSON"),
    (json.dumps(base(start="tomorrow")), "start: not an ISO 8601 datetime"),
    (json.dumps(base(events=[{"at": "2026-12-02", "type": "sms", "from": "p1", "body": "C"},
                             {"at": "2026-12-02T10:00:00", "type": "sms", "from": "p1", "body": "C"}])),
     "events[0].at: ISO 8601 datetime needs a UTC offset"),
    (json.dumps(base(events=[{"at": "2026-12-02T10:00:00-05:00", "type": "fax"}])), "events[0].type"),
    (json.dumps(base(patients=[{"id": "p1", "phone": "call me maybe"}])), "patients[0].phone"),
    (json.dumps(base(events=[{"at": "2026-12-01T09:00:00-05:00", "type": "appointment",
                              "appointment": {"id": "a1", "patient": "p1", "start": "2026-12-05T10:00:00-05:00",
                                              "status": "bookd"}}])), "events[0].appointment.status"),
    (json.dumps(base(practice={"timezone": "Mars/Base"})), "practice: timezone"),
])
def test_bad_scenarios_exit_2_with_one_line_naming_the_field(scenario, message):
    res = subprocess.run(CLI + ["-"], input=scenario, capture_output=True, text=True)
    assert res.returncode == 2 and res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1 and message in res.stderr, res.stderr


def test_same_event_twice_is_a_redelivery():
    once, _ = simulate(base(events=base()["events"] + [
        {"at": "2026-12-03T11:00:00-05:00", "type": "sms", "from": "p1", "body": "C"}]))
    twice, _ = simulate(base(events=base()["events"] * 2 + [
        {"at": "2026-12-03T11:00:00-05:00", "type": "sms", "from": "p1", "body": "C"}] * 2))
    assert once == twice


def test_events_apply_in_time_order_whatever_the_list_order():
    events = base()["events"] + [{"at": "2026-12-02T12:00:00-05:00", "type": "appointment",
                                  "appointment": {"id": "a1", "patient": "p1", "start": "2026-12-05T10:00:00-05:00",
                                                  "status": "cancelled"}}]
    forward, _ = simulate(base(events=events))
    backward, _ = simulate(base(events=list(reversed(events))))
    assert forward == backward
    assert [x for x in forward if x["kind"] == "sms"] == []


def test_ehr_fhir_event_appears_under_the_ehr_ids(data_dir):
    patient = json.loads((data_dir / "fhir-r4-examples" / "patient-example.json").read_text())
    lines, _ = simulate(base(patients=[], events=[{"at": "2026-12-01T09:00:00-05:00", "type": "ehr_fhir", "payload": patient}]))
    states = [x for x in lines if x["kind"] == "patient_state"]
    assert [s["patient"] for s in states] == [patient["id"]]


def test_delivery_event_is_accepted_for_a_sent_message():
    lines, warnings = simulate(base(events=base()["events"] + [
        {"at": "2026-12-03T10:05:00-05:00", "type": "delivery", "message": "m-0001", "status": "TEXT_BLOCKED"}]))
    assert warnings == []
    # an undeliverable number gets nothing more (no nudge)
    assert [x["step"] for x in lines if x["kind"] == "sms"] == ["reminder-48h"]


@pytest.mark.parametrize("event, message", [
    ({"at": "2026-12-01T09:00:00-05:00", "type": "appointment"},
     "events[0].appointment: required for an appointment event"),
    ({"at": "2026-12-01T09:00:00-05:00", "type": "sms", "from": "p1"},
     "events[0]: an sms event needs 'from' and 'body'"),
])
def test_a_simulation_built_without_parse_scenario_still_names_a_missing_event_field(event, message):
    # Given a scenario validated by the schema only, not by parse_scenario's cross-field checks
    from careloop.errors import ScenarioError
    from careloop_local.simulate import Scenario, Simulation

    sim = Simulation(Scenario.model_validate(base(events=[event])))
    # When it runs, Then the event is refused with parse_scenario's message, not an AttributeError
    with pytest.raises(ScenarioError, match=re.escape(message)):
        sim.run()
