"""`careloop ehr import` into the local stack: Bulk Data NDJSON with bad lines (each reported,
none aborting), the Synthea Bundles from the shared samples (streamed), re-import changing
nothing, and the same files through a running local stack's webhook (--endpoint)."""

# ruff: noqa: F811 (pytest fixtures imported from test_ehr_webhook are parameters here)

from __future__ import annotations

import gzip
import json
from datetime import timedelta

from careloop_local.cli import main
from careloop_local.ehr_bulk import import_files
from tests.conftest import DATA

SYNTHEA = DATA / "smart-generated-sample-data-synthea-r4"


def ndjson(path, resources) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in resources))


def panel(tmp_path, prefix: str, start, n: int = 30):
    patients = [{"resourceType": "Patient", "id": f"{prefix}-p{i}", "meta": {"versionId": "1"},
                 "identifier": [{"system": "urn:oid:1.2.3.4", "value": f"{prefix}-{i}"}],
                 "name": [{"family": "Imported", "given": [f"P{i}"]}],
                 "telecom": [{"system": "phone", "value": f"617-555-{1000 + i}", "use": "mobile"}]}
                for i in range(n)]
    appointments = [{"resourceType": "Appointment", "id": f"{prefix}-a{i}", "status": "booked",
                     "start": (start + timedelta(days=3, minutes=30 * i)).isoformat(), "minutesDuration": 30,
                     "participant": [{"actor": {"reference": f"Patient/{prefix}-p{i % n}"}, "status": "accepted"},
                                     {"actor": {"reference": f"Practitioner/{prefix}-dr"}, "status": "accepted"}]}
                    for i in range(2 * n)]
    practitioners = [{"resourceType": "Practitioner", "id": f"{prefix}-dr", "name": [{"family": "Lee", "prefix": ["Dr."]}]}]
    ndjson(tmp_path / "Patient.ndjson", patients)
    ndjson(tmp_path / "Appointment.ndjson", appointments)
    with gzip.open(tmp_path / "Practitioner.ndjson.gz", "wt") as f:
        f.write(json.dumps(practitioners[0]) + "\n")
    return [tmp_path / "Appointment.ndjson", tmp_path / "Patient.ndjson", tmp_path / "Practitioner.ndjson.gz"]


def test_ndjson_import_with_bad_lines_goes_on_and_reports_each(stack, ports, tmp_path):
    # Given a panel export, with broken lines among the appointments, files in any order
    files = panel(tmp_path, "imp", stack.clock.now())
    with (tmp_path / "Appointment.ndjson").open("a") as f:
        f.write("{not json\n")
        f.write(json.dumps({"resourceType": "Appointment", "id": "imp-bad", "status": "sometime"}) + "\n")
        f.write("\n")
        f.write(json.dumps({"resourceType": "Observation", "id": "o1", "status": "final"}) + "\n")
        f.write(json.dumps({"resourceType": "Appointment", "id": "imp-orphan", "status": "booked",
                            "start": "2030-01-01T10:00:00Z", "participant": [
                                {"actor": {"reference": "Patient/nobody"}, "status": "accepted"}]}) + "\n")
    # When imported with the services of the local stack (DynamoDB)
    from careloop.adapters.aws import services

    summary = import_files(files, services(), chunk_size=7)
    # Then every good record is written, each bad line is reported with its line number, and
    # patients came before appointments whatever the order on the command line
    assert (summary.patients, summary.appointments) == (30, 61)
    assert [(e.file, e.where) for e in summary.errors] == [("Appointment.ndjson", "line 61"),
                                                           ("Appointment.ndjson", "line 62")]
    assert "not valid JSON" in summary.errors[0].issue and summary.errors[1].issue.startswith("Appointment")
    assert summary.skipped == 1 and summary.orphans == ["imp-orphan"]
    appt = ports.records.get_appointment("imp-a3")
    assert appt.patient_id == "imp-p3" and appt.provider == "Dr. Lee"  # named by an earlier file
    assert ports.records.get_patient("imp-p0").phone == "+16175551000"

    # When the same files are imported again
    again = import_files(files, services())
    # Then nothing is written
    assert (again.patients, again.appointments, again.unchanged) == (0, 0, 91)

    # And the planner has work: the imported appointments are planned from the stream
    stack.drain(timeout=120)
    assert ports.actions.actions_for_subject("APT#imp-a0")


def test_synthea_bundles_stream_through_the_cli(stack, ports, capsys):
    # Given the Synthea patient Bundles (hundreds of clinical resources Careloop does not use)
    files = sorted(str(p) for p in SYNTHEA.glob("*.json"))
    # When imported with the CLI straight into the store
    code = main(["ehr", "import", *files])
    out = capsys.readouterr().out
    # Then the patients are in, everything else counted as not used, no errors
    assert code == 0, out
    assert ports.records.get_patient("e4531916-b162-4f4b-90c2-ce37e132b8d4") is not None
    assert "written: 2 patient(s)" in out and "not used" in out


def test_import_through_a_running_local_stack(stack, served, ports, tmp_path, capsys):
    # Given an export and a running local stack
    files = panel(tmp_path, "viahttp", stack.clock.now(), n=5)
    (tmp_path / "bad.ndjson").write_text('{"resourceType": "Patient"}\n')
    # When imported with --endpoint (signed batches to POST /ehr/fhir)
    code = main(["ehr", "import", *map(str, files), str(tmp_path / "bad.ndjson"), "--endpoint", served,
                 "--batch-size", "4", "--errors", str(tmp_path / "errors.csv"), "--json", str(tmp_path / "s.json")])
    # Then the records are there, archived by the webhook, and the one bad line is reported
    assert code == 1
    summary = json.loads((tmp_path / "s.json").read_text())
    assert (summary["patients"], summary["appointments"], summary["error_count"]) == (5, 10, 1)
    assert ports.records.get_appointment("viahttp-a9").patient_id == "viahttp-p4"
    assert "bad.ndjson,line 1" in (tmp_path / "errors.csv").read_text()
    assert "1 error(s)" in capsys.readouterr().out


def test_importing_last_years_visits_texts_nobody(stack, ports, tmp_path):
    # Given an onboarding export: patients with a visit last June and a no-show in May
    now = stack.clock.now()
    patients = [{"resourceType": "Patient", "id": f"hist-p{i}", "meta": {"versionId": "1"},
                 "name": [{"family": "History", "given": [f"H{i}"]}],
                 "telecom": [{"system": "phone", "value": f"617-555-{4000 + i}", "use": "mobile"}]} for i in range(5)]
    appointments = []
    for i in range(5):
        for k, (status, days) in enumerate((("fulfilled", 170), ("noshow", 200))):
            appointments.append({
                "resourceType": "Appointment", "id": f"hist-a{i}-{k}", "status": status, "minutesDuration": 30,
                "start": (now - timedelta(days=days + i)).replace(microsecond=0).isoformat(),
                "participant": [{"actor": {"reference": f"Patient/hist-p{i}"}, "status": "accepted"}]})
    ndjson(tmp_path / "Patient.ndjson", patients)
    ndjson(tmp_path / "Appointment.ndjson", appointments)
    before = len(stack.standin.outbox())
    # When `careloop ehr import` loads it and the stack runs for the next two months
    assert main(["ehr", "import", str(tmp_path / "Patient.ndjson"), str(tmp_path / "Appointment.ndjson")]) == 0
    stack.drain()
    stack.advance(60 * 24 * 60)  # two months, every due time on the way
    # Then no text went to any of them, and no task was raised
    phones = {f"+1617555{4000 + i}" for i in range(5)}
    assert [m for m in stack.standin.outbox()[before:] if m["destination"] in phones] == []
    tasks = [m for m in ports.messages.messages_of_kind("task") if (m.patient_id or "").startswith("hist-")]
    assert tasks == []
    # and every step that would have been due is recorded as skipped: late
    skipped = [a for a in ports.actions.actions_for_subject("APT#hist-a0-0") if a.reason == "late"]
    assert {a.step for a in skipped} >= {"care-instructions", "check-in-48h"}
