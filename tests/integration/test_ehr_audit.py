"""`careloop audit` against the local stack's DynamoDB: directly (AWS settings) and through a
running local stack (--endpoint, the dev route the lead adds), CSV and JSON written."""

# ruff: noqa: F811 (pytest fixtures imported from test_ehr_webhook are parameters here)

from __future__ import annotations

import csv
import json
from datetime import timedelta

from careloop.models import Appointment, Patient
from careloop.records import ingest
from careloop_local.cli import main


def seed(stack, ports) -> None:
    now = stack.clock.now()
    ingest(ports.records, ports.consent, [
        Patient(id="aud-landline", first_name="Lan", last_name="Line", phone="+16175550161", phone_kind="landline"),
        Patient(id="aud-dup-1", first_name="Dee", phone="+16175550162", identifiers=["urn:oid:9.9|D1"]),
        Patient(id="aud-dup-2", first_name="Dee", phone="+16175550163", identifiers=["urn:oid:9.9|D1"]),
    ], [
        Appointment(id="aud-a1", patient_id="aud-landline", start=now + timedelta(days=2)),
        Appointment(id="aud-a2", patient_id="aud-ghost", start=now + timedelta(days=2)),
        Appointment(id="aud-a3", patient_id="aud-dup-1", start=now - timedelta(days=20)),
    ], now)


def test_audit_directly_against_dynamodb(stack, ports, tmp_path, capsys):
    # Given records with problems in DynamoDB
    seed(stack, ports)
    # When `careloop audit --csv` runs with the AWS settings
    assert main(["audit", "--csv", str(tmp_path / "audit.csv"), "--json", str(tmp_path / "audit.json")]) == 0
    out = capsys.readouterr().out
    # Then each problem is printed and written, with what to do
    rows = list(csv.DictReader((tmp_path / "audit.csv").open()))
    found = {(r["problem"], r["record"]) for r in rows}
    assert {("landline_only", "Patient/aud-landline"), ("upcoming_not_textable", "Appointment/aud-a1"),
            ("appointment_without_patient", "Appointment/aud-a2"), ("past_still_booked", "Appointment/aud-a3"),
            ("duplicate_identifier", "Patient/aud-dup-1"), ("duplicate_identifier", "Patient/aud-dup-2")} <= found
    assert all(r["what_to_do"] for r in rows)
    assert "appointment_without_patient" in out and "wrote" in out
    report = json.loads((tmp_path / "audit.json").read_text())
    assert set(report) == {"generated_at", "stale_days", "summary", "rows"}
    # identifier claims (IDN# items) are not patients
    assert not any(r["record"].startswith("Patient/IDN") for r in rows)


def test_audit_through_a_running_local_stack(stack, served, ports, tmp_path):
    seed(stack, ports)
    assert main(["audit", "--endpoint", served, "--csv", str(tmp_path / "a.csv")]) == 0
    assert "Appointment/aud-a2" in (tmp_path / "a.csv").read_text()
