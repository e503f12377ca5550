"""careloop.audit: every problem the data-quality audit reports, the summary counts, the CSV a
person opens in a spreadsheet, and a clean panel reporting nothing."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from careloop.audit import CSV_COLUMNS, PROBLEMS, audit
from careloop.models import Appointment, Patient
from careloop.records import ingest
from careloop_local.fakes import MemoryConsent, MemoryRecords

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def patient(pid: str, phone: str | None = "+16175550101", kind: str = "mobile", **kw) -> Patient:
    return Patient(id=pid, first_name=kw.pop("first", "Ana"), last_name=kw.pop("last", pid.upper()),
                   phone=phone, phone_kind=kind, **kw)


def appt(aid: str, pid: str, days: float = 3, **kw) -> Appointment:
    return Appointment(id=aid, patient_id=pid, start=NOW + timedelta(days=days), **kw)


def problems(report) -> set[tuple[str, str]]:
    return {(r.problem, r.record) for r in report.rows}


def test_a_clean_panel_reports_nothing():
    # Given textable patients with future appointments
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("p1"), patient("p2", phone="+16175550102")], [appt("a1", "p1"), appt("a2", "p2")], NOW)
    # When audited
    report = audit(records, NOW)
    # Then there is nothing to do
    assert report.rows == [] and report.summary["textable"] == 2
    assert report.summary["by_severity"] == {"error": 0, "warning": 0, "info": 0}


def test_every_problem_is_found_with_what_to_do():
    # Given a panel with one of each problem
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [
        patient("nophone", phone=None, kind="unknown"),
        patient("landline", phone="+16175550103", kind="landline"),
        patient("bad", phone="+1555"),
        patient("undeliv", phone="+16175550104"),
        patient("dup1", phone="+16175550105", identifiers=["urn:mrn|7"]),
        patient("dup2", phone="+16175550106", identifiers=["urn:mrn|7"]),
        patient("twin1", phone="+16175550107", first="Sam", last="Lee"),
        patient("twin2", phone="+16175550107", first="sam", last="LEE"),
        patient("old"), patient("new", phone="+16175550108"),
        patient("optout", phone="+16175550109"),
    ], [
        appt("a-nophone", "nophone"), appt("a-orphan", "ghost"), appt("a-past", "new", days=-10),
        appt("a-old", "old"),
    ], NOW - timedelta(days=400))
    records.put_patient(records.get_patient("undeliv").model_copy(update={"undeliverable": True}))
    records.put_patient(records.get_patient("optout").model_copy(update={"opted_out": True}))
    ingest(records, ledger, [], [], NOW, merges=[("new", "old")])
    records.put_appointment(appt("a-late", "old"))  # written before merges were handled (ingest re-points)
    # When audited with a 180-day staleness window
    report = audit(records, NOW, stale_days=180)
    found = problems(report)
    # Then each problem is a row naming the record
    assert {
        ("no_phone", "Patient/nophone"), ("landline_only", "Patient/landline"), ("invalid_phone", "Patient/bad"),
        ("undeliverable", "Patient/undeliv"), ("duplicate_identifier", "Patient/dup1"),
        ("duplicate_identifier", "Patient/dup2"), ("duplicate_name_phone", "Patient/twin1"),
        ("duplicate_name_phone", "Patient/twin2"), ("appointment_without_patient", "Appointment/a-orphan"),
        ("past_still_booked", "Appointment/a-past"), ("upcoming_not_textable", "Appointment/a-nophone"),
        ("appointment_of_merged_patient", "Appointment/a-late"), ("not_updated", "Patient/landline"),
    } <= found
    # And the merged record and the opted-out patient are not data problems (only old)
    assert {r.problem for r in report.rows if r.record in ("Patient/old", "Patient/optout")} <= {"not_updated"}
    assert not any(r.record == "Patient/old" for r in report.rows)
    # And every row says what to do, errors first
    assert all(r.action == PROBLEMS[r.problem][1] for r in report.rows)
    assert [r.severity for r in report.rows] == sorted((r.severity for r in report.rows),
                                                       key=["error", "warning", "info"].index)
    dup = next(r for r in report.rows if r.record == "Patient/dup1")
    assert dup.related == ["Patient/dup2"] and "7" not in dup.detail
    s = report.summary
    assert (s["opted_out"], s["undeliverable"], s["merged_records"]) == (1, 1, 1)
    assert s["by_problem"]["duplicate_identifier"] == 2


def test_csv_has_one_row_per_problem_and_no_formulas():
    # Given a patient whose name starts like a spreadsheet formula, without a phone
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("p1", phone=None, first="=HYPERLINK(\"x\")", last="")], [], NOW)
    report = audit(records, NOW)
    # When written as CSV
    rows = list(csv.reader(io.StringIO(report.to_csv())))
    # Then the header and the row are there, and the cell cannot run as a formula
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1][:3] == ["warning", "Patient/p1", "no_phone"] and rows[1][3].startswith("'=")
    # And the JSON form is plain JSON
    assert json.loads(json.dumps(report.to_json()))["rows"][0]["problem"] == "no_phone"
