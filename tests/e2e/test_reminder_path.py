"""The one path through everything, over HTTP against `careloop local` (what `make run` runs):
signed FHIR Bundle -> stored -> stream -> planned 48 h reminder -> dispatcher -> sender ->
SMS API -> outbox; the patient texts C -> confirmed + a short reply. Bad input is refused
and kept."""

from __future__ import annotations

import json
import time as _time
import urllib.error
import urllib.request
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from careloop.intake import sign

pytestmark = pytest.mark.e2e
NY = ZoneInfo("America/New_York")
SECRET = "local-dev-secret"
PHONE = "+16175550199"


def call(stack, method, path, body=None, headers=None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(stack.url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def bundle(start: datetime) -> dict:
    return {
        "resourceType": "Bundle", "id": "e2e-bundle-1", "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:9f1c0b1e-0000-4000-8000-000000000001",
             "resource": {"resourceType": "Patient", "id": "e2e-pat-1",
                          "meta": {"versionId": "1", "lastUpdated": "2026-11-01T10:00:00Z"},
                          "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": "MRN-E2E-1"}],
                          "name": [{"use": "official", "family": "Nguyen", "given": ["Linh"]}],
                          "telecom": [{"system": "phone", "value": "(617) 555-0198", "use": "home"},
                                      {"system": "phone", "value": "617.555.0199", "use": "mobile"}],
                          "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]},
                                             "preferred": True}]},
             "request": {"method": "PUT", "url": "Patient/e2e-pat-1"}},
            {"fullUrl": "urn:uuid:9f1c0b1e-0000-4000-8000-000000000002",
             "resource": {"resourceType": "Appointment", "id": "e2e-appt-1",
                          "meta": {"versionId": "1", "lastUpdated": "2026-11-01T10:00:00Z"},
                          "status": "booked",
                          "appointmentType": {"coding": [{"code": "checkup", "display": "Checkup"}]},
                          "start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat(),
                          "participant": [
                              {"actor": {"reference": "urn:uuid:9f1c0b1e-0000-4000-8000-000000000001"}, "status": "accepted"},
                              {"actor": {"display": "Dr. Lee"}, "status": "accepted"}]},
             "request": {"method": "PUT", "url": "Appointment/e2e-appt-1"}},
        ],
    }


def test_health(local_stack):
    status, body, _ = call(local_stack, "GET", "/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_signed_bundle_to_reminder_to_confirmation(local_stack):
    # Given the local clock, and an appointment four days ahead at 10:00 New York time
    now = datetime.fromisoformat(json.loads(call(local_stack, "GET", "/dev/clock")[1])["now"])
    start = datetime.combine(now.astimezone(NY).date() + timedelta(days=4), time(10), tzinfo=NY)
    raw = json.dumps(bundle(start)).encode()

    # When the EHR posts it signed
    status, body, _ = call(local_stack, "POST", "/ehr/fhir", raw=raw, headers={
        "Content-Type": "application/fhir+json", "X-Careloop-Signature": sign(SECRET, raw)})
    assert status in (200, 202), body

    # and the clock moves to one hour after the reminder's due time (start - 48 h)
    minutes = int((start - timedelta(hours=47) - now).total_seconds() // 60)
    status, body, _ = call(local_stack, "POST", "/dev/clock/advance", {"minutes": minutes})
    assert status == 200, body

    # Then the 48 h reminder went to the mobile number (not the home landline), once
    outbox = json.loads(call(local_stack, "GET", "/dev/sms/outbox")[1])
    mine = [m for m in outbox if m["to"] == PHONE]
    assert [m["step"] for m in mine] == ["reminder-48h"], mine
    reminder = mine[0]
    assert reminder["workflow"] == "appointment-reminder"
    assert "Linh" in reminder["body"] and "Reply C to confirm" in reminder["body"]
    assert start.strftime("%b") in reminder["body"] and "10:00 AM" in reminder["body"]
    sent_at = datetime.fromisoformat(reminder["at"])
    assert abs((sent_at - (start - timedelta(hours=48))).total_seconds()) < 120

    # When the patient texts C
    status, _, _ = call(local_stack, "POST", "/dev/sms/inbound", {"from": "617-555-0199", "body": "C"})
    assert status == 202
    # Then a short reply confirms it (the inbound path is asynchronous: 202, then the queue),
    # and the staff API shows the appointment confirmed
    deadline = _time.monotonic() + 15
    while True:
        outbox = json.loads(call(local_stack, "GET", "/dev/sms/outbox")[1])
        replies = [m for m in outbox if m["to"] == PHONE and m["workflow"] == "sms-agent"]
        if replies or _time.monotonic() > deadline:
            break
        _time.sleep(0.2)
    assert len(replies) == 1 and "confirmed" in replies[0]["body"] and len(replies[0]["body"]) <= 160
    token = local_stack.id_token()
    status, body, _ = call(local_stack, "GET", f"/api/appointments?from={(start - timedelta(days=1)).isoformat().replace('+', '%2B')}",
                           headers={"Authorization": token})
    assert status == 200, body
    appt = next(a for a in json.loads(body)["appointments"] if a["id"] == "e2e-appt-1")
    assert appt["confirmed"] is True and appt["status"] == "booked"

    # And a redelivery of the same bundle sends nothing new
    call(local_stack, "POST", "/ehr/fhir", raw=raw, headers={
        "Content-Type": "application/fhir+json", "X-Careloop-Signature": sign(SECRET, raw)})
    call(local_stack, "POST", "/dev/clock/advance", {"minutes": 5})
    outbox = json.loads(call(local_stack, "GET", "/dev/sms/outbox")[1])
    assert len([m for m in outbox if m["to"] == PHONE]) == 2


def test_bad_signature_is_401_and_changes_nothing(local_stack):
    token = local_stack.id_token()
    before = call(local_stack, "GET", "/api/patients", headers={"Authorization": token})[1]
    raw = json.dumps(bundle(datetime(2027, 1, 5, 10, tzinfo=NY)) | {"id": "tampered"}).encode()
    for signature in (None, "sha256=" + "0" * 64, sign("wrong-secret", raw)):
        headers = {"Content-Type": "application/fhir+json"}
        if signature:
            headers["X-Careloop-Signature"] = signature
        status, body, _ = call(local_stack, "POST", "/ehr/fhir", raw=raw, headers=headers)
        assert status == 401 and json.loads(body)["resourceType"] == "OperationOutcome"
    assert call(local_stack, "GET", "/api/patients", headers={"Authorization": token})[1] == before


def test_unparseable_body_is_400_with_operation_outcome_and_quarantined(local_stack):
    raw = b'{"resourceType": "Bundle", "entry": [ this is not json'
    status, body, _ = call(local_stack, "POST", "/ehr/fhir", raw=raw, headers={
        "Content-Type": "application/fhir+json", "X-Careloop-Signature": sign(SECRET, raw)})
    outcome = json.loads(body)
    assert status == 400 and outcome["resourceType"] == "OperationOutcome"
    assert "JSON" in outcome["issue"][0]["diagnostics"]
    kept = json.loads(call(local_stack, "GET", "/dev/ehr/quarantine")[1])
    assert any("JSON" in q["issues"][0] for q in kept)


def test_api_needs_a_valid_token(local_stack):
    assert call(local_stack, "GET", "/api/inbox")[0] == 401
    assert call(local_stack, "GET", "/api/inbox", headers={"Authorization": "eyJhbGciOiJub25lIn0.e30."})[0] == 401
    assert call(local_stack, "GET", "/api/inbox", headers={"Authorization": local_stack.id_token()})[0] == 200
