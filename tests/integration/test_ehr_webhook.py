"""The EHR webhook over HTTP (LocalHttp served by werkzeug -> the real ehr_webhook handler ->
DynamoDB/S3 on moto): shared samples, redelivery, out-of-order, merges and duplicates in
DynamoDB, signature failures and broken payloads (each kept in S3, none lost).

Also home of `served` (the local HTTP front with the dev routes issue 6 asks the lead to add),
which the other test_ehr_* modules import."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from careloop.intake import sign
from careloop.records import merged_into
from tests.conftest import DATA

SECRET = "local-dev-secret"
HL7_SAMPLES = DATA / "microsoft-FHIR-Converter" / "hl7v2"


def post(url: str, path: str, body: bytes, *, secret: str | None = SECRET, hl7_ack=False, signature=None):
    headers = {"Content-Type": "x-application/hl7-v2+er7" if path.endswith("hl7v2") else "application/fhir+json"}
    if hl7_ack:
        headers["Accept"] = "x-application/hl7-v2+er7"
    if signature is not None:
        headers["X-Careloop-Signature"] = signature
    elif secret is not None:
        headers["X-Careloop-Signature"] = sign(secret, body)
    req = urllib.request.Request(url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def objects(prefix: str) -> list[str]:
    from careloop.adapters.aws import archive

    return archive().list(prefix)


def fhir_patient(pid: str, *, updated: str = "2026-11-20T10:00:00Z", given="Ana", phone="617-555-0131", **extra) -> bytes:
    return json.dumps({"resourceType": "Patient", "id": pid, "meta": {"lastUpdated": updated},
                       "name": [{"family": "Reyes", "given": [given]}],
                       "telecom": [{"system": "phone", "value": phone, "use": "mobile"}]} | extra).encode()


def fhir_appointment(aid: str, pid: str, start: str, *, updated="2026-11-20T10:00:00Z") -> bytes:
    return json.dumps({"resourceType": "Appointment", "id": aid, "meta": {"lastUpdated": updated},
                       "status": "booked", "start": start, "minutesDuration": 30,
                       "participant": [{"actor": {"reference": f"Patient/{pid}"}, "status": "accepted"}]}).encode()


def hl7(trigger: str, control: str, mrn: str, *, sent="20261120100000", extra=()) -> bytes:
    segments = [f"MSH|^~\\&|PMS|MAPLE|CARELOOP|DEMO|{sent}||{trigger}|{control}|P|2.5",
                f"EVN||{sent}", f"PID|1||{mrn}^^^MAPLE^MR||Rivera^Ana||19800101|||||^PRN^CP^^1^617^5550141", *extra]
    return ("\r".join(segments) + "\r").encode()


def test_shared_hl7_samples_over_http_ack_and_store(served, ports):
    for path in sorted(HL7_SAMPLES.glob("*.hl7")):
        # When each sample is posted with Accept: HL7
        status, ack = post(served, "/ehr/hl7v2", path.read_bytes(), hl7_ack=True)
        # Then it is ACKed AA and archived
        assert status == 200 and "MSA|AA|" in ack, (path.name, ack)
    assert len(objects("archive/hl7v2/")) >= len(list(HL7_SAMPLES.glob("*.hl7")))
    assert ports.records.all_appointments() and ports.records.all_patients()


def test_redelivery_plans_once(stack, served, ports):
    # Given a patient and an appointment four days ahead, delivered once and planned
    start = (stack.clock.now() + timedelta(days=4)).replace(microsecond=0).isoformat()
    assert post(served, "/ehr/fhir", fhir_patient("w-redeliver"))[0] == 200
    body = fhir_appointment("w-appt-1", "w-redeliver", start)
    assert post(served, "/ehr/fhir", body)[0] == 200
    stack.drain()
    planned = ports.actions.actions_for_subject("APT#w-appt-1")
    # When the EHR delivers the same appointment three more times
    for _ in range(3):
        status, text = post(served, "/ehr/fhir", body)
        assert status == 200 and "0 patient(s), 0 appointment(s) changed; 1 unchanged" in text
    stack.drain()
    # Then nothing new is planned (no record was rewritten, so no stream record)
    assert [a.action_id for a in ports.actions.actions_for_subject("APT#w-appt-1")] == [a.action_id for a in planned]
    assert planned


def test_out_of_order_fhir_in_dynamodb(served, ports):
    post(served, "/ehr/fhir", fhir_patient("w-order", given="Newer", updated="2026-11-21T10:00:00Z"))
    status, text = post(served, "/ehr/fhir", fhir_patient("w-order", given="Older", updated="2026-11-20T10:00:00Z"))
    assert status == 200 and "1 older than stored" in text
    assert ports.records.get_patient("w-order").first_name == "Newer"


def test_a40_merge_in_dynamodb(served, ports):
    # Given two records of one person, the old one with an appointment, opted out
    sch = "SCH|W-A40^PMS|F-1||||||CHECKUP^Checkup|30|MIN|^^M30^202612151000"
    post(served, "/ehr/hl7v2", hl7("SIU^S12", "S1", "W-OLD", extra=(sch, "RGS|1")))
    post(served, "/ehr/hl7v2", hl7("ADT^A04", "S2", "W-NEW"))
    ports.records.put_patient(ports.records.get_patient("W-OLD").model_copy(update={"opted_out": True}))
    # When the EHR sends ADT^A40, and then again
    merge = hl7("ADT^A40^ADT_A39", "M1", "W-NEW", sent="20261121080000", extra=("MRG|W-OLD^^^MAPLE^MR",))
    acks = [post(served, "/ehr/hl7v2", merge, hl7_ack=True) for _ in range(2)]
    # Then both are ACKed, the appointment follows the survivor (the by_patient index agrees),
    # the old record is a tombstone no text can reach, and consent travelled
    assert all(status == 200 and "MSA|AA|M1" in ack for status, ack in acks)
    assert [a.id for a in ports.records.appointments_for_patient("W-NEW")] == ["W-A40"]
    assert ports.records.appointments_for_patient("W-OLD") == []
    assert merged_into(ports.records.get_patient("W-OLD")) == "W-NEW" and ports.records.get_patient("W-OLD").phone is None
    assert ports.records.get_patient("W-NEW").opted_out is True
    assert all(p.id != "W-OLD" for p in ports.records.patients_by_phone("+16175550141"))


def test_duplicate_identifier_flagged_in_dynamodb(served, ports):
    ident = [{"system": "urn:oid:2.16.840.1.113883.19.5", "value": "W-MRN-1"}]
    post(served, "/ehr/fhir", fhir_patient("w-dup-1", identifier=ident))
    status, text = post(served, "/ehr/fhir", fhir_patient("w-dup-2", identifier=ident))
    warnings = [i["diagnostics"] for i in json.loads(text)["issue"] if i["severity"] == "warning"]
    assert status == 200 and warnings == [warnings[0]] and "Patient/w-dup-2" in warnings[0]
    assert ports.records.identifier_owners([f"{ident[0]['system']}|W-MRN-1"]) == {f"{ident[0]['system']}|W-MRN-1": "w-dup-1"}


@pytest.mark.parametrize("path", ["/ehr/fhir", "/ehr/hl7v2"])
@pytest.mark.parametrize("signature", [
    None, "sha256=" + "0" * 64, "garbage",
    "sha256=é" + "0" * 63,  # non-ASCII: was a TypeError in compare_digest -> 500 (issue #10, item 12)
    "t=abc,v1=00", "t=1,v1=" + "0" * 64,  # malformed; stale by decades
])
def test_signature_failures_change_nothing(served, ports, signature, path):
    before = (len(objects("archive/")), len(objects("quarantine/")))
    body = fhir_patient("w-unsigned") if path.endswith("fhir") else hl7("ADT^A04", "W-UNSIGNED", "W-UNSIGNED-1")
    status, text = post(served, path, body, secret=None, signature=signature)
    assert status == 401, text
    if path.endswith("fhir"):
        assert json.loads(text)["issue"][0]["code"] == "security"
    assert ports.records.get_patient("w-unsigned") is None and ports.records.get_patient("W-UNSIGNED-1") is None
    assert (len(objects("archive/")), len(objects("quarantine/"))) == before


def test_a_timestamped_signature_is_accepted_fresh_and_refused_when_replayed_later(served, ports):
    import time

    from careloop.intake import sign_timestamped

    body = fhir_patient("w-stamped")
    status, _ = post(served, "/ehr/fhir", body, secret=None, signature=sign_timestamped(SECRET, body))
    assert status == 200 and ports.records.get_patient("w-stamped") is not None
    # a capture of the same request, replayed six minutes later (issue #10, item 5)
    old = sign_timestamped(SECRET, fhir_patient("w-replayed"), time.time() - 360)
    status, text = post(served, "/ehr/fhir", fhir_patient("w-replayed"), secret=None, signature=old)
    assert status == 401 and "5 minutes" in text and ports.records.get_patient("w-replayed") is None


def test_broken_payloads_each_kept(served):
    # Given several broken payloads, one of them sent twice
    broken = [("/ehr/fhir", b"{nope"), ("/ehr/fhir", b'{"resourceType": "Appointment", "status": "booked"}'),
              ("/ehr/hl7v2", b"not hl7"), ("/ehr/hl7v2", hl7("ZZZ^Z99", "B1", "X")), ("/ehr/fhir", b"{nope")]
    before = set(objects("quarantine/"))
    for path, body in broken:
        status, _ = post(served, path, body)
        assert status == 400
    # Then every delivery is in quarantine, with its reason, and listed by the dev route
    added = sorted(set(objects("quarantine/")) - before)
    payloads = [k for k in added if not k.endswith(".reason.json")]
    assert len(payloads) == len(broken) and all(k + ".reason.json" in added for k in payloads)
    listed = json.loads(urllib.request.urlopen(served + "/dev/ehr/quarantine", timeout=10).read())
    assert set(payloads) <= {item["key"] for item in listed}


# --- out-of-range dates and oversized fields: 400 naming the field, nothing half-written ---------
@pytest.mark.parametrize(("path", "body", "field"), [
    ("/ehr/fhir", fhir_appointment("w-y9999", "w-p-dates", "9999-12-31T23:30:00-05:00"), "start"),
    ("/ehr/fhir", fhir_appointment("w-y1", "w-p-dates", "0001-01-01T00:10:00+05:00"), "start"),
    ("/ehr/fhir", fhir_appointment("w-y2100", "w-p-dates", "2100-01-01T10:00:00Z"), "start"),
    ("/ehr/fhir", fhir_patient("w-frozen", updated="9999-01-01T00:00:00Z"), "meta.lastUpdated"),
    ("/ehr/fhir", fhir_patient("w-huge", given="A" * 500_000), "name.given"),
    ("/ehr/hl7v2", hl7("ADT^A04", "W-MSH9999", "W-MRN-9999", sent="99991231235959"), "MSH-7"),
])
def test_out_of_range_dates_and_huge_fields_are_400s_naming_the_field(served, ports, path, body, field):
    before = len(objects("quarantine/"))
    status, text = post(served, path, body)
    assert status == 400 and field in text, text
    assert len(objects("quarantine/")) > before  # kept for replay
    for pid in ("w-p-dates", "w-frozen", "w-huge", "W-MRN-9999"):
        assert ports.records.get_patient(pid) is None
    # and the audit still answers for everyone
    assert urllib.request.urlopen(served + "/dev/audit", timeout=10).status == 200


def test_the_mappings_warnings_reach_the_ehr_in_the_outcome_and_the_ack(served, ports):
    # Given a patient whose only phone is not a valid number, and an HL7 patient marked deceased
    status, text = post(served, "/ehr/fhir", fhir_patient("w-badphone", phone="555-01"))
    warnings = [i["diagnostics"] for i in json.loads(text)["issue"] if i["severity"] == "warning"]
    # Then the 200 answer says so (ids only: the number itself is not echoed)
    assert status == 200 and any("telecom" in w and "not a valid phone" in w for w in warnings), warnings
    assert all("555-01" not in w for w in warnings)
    msh, evn, pid = hl7("ADT^A04", "W-DEAD-1", "W-MRN-DEAD").rstrip(b"\r").split(b"\r")
    fields = pid.split(b"|") + [b""] * 31
    fields[30] = b"Y"  # PID-30: patient death indicator
    body = b"\r".join([msh, evn, b"|".join(fields[:31])]) + b"\r"
    status, ack = post(served, "/ehr/hl7v2", body, hl7_ack=True)
    assert status == 200 and "MSA|AA|W-DEAD-1" in ack
    assert any(seg.startswith("ERR|") and "|W|" in seg and "deceased" in seg for seg in ack.split("\r")), ack


def test_a_payload_without_meta_never_overwrites_a_versioned_newer_record(served, ports):
    # Given a patient stored from a versioned payload
    post(served, "/ehr/fhir", fhir_patient("w-versioned", phone="617-555-0151"))
    unversioned = json.loads(fhir_patient("w-versioned", phone="617-555-0152"))
    del unversioned["meta"]
    # When the same patient arrives without meta (an old capture, a script) (issue #10, item 5)
    status, text = post(served, "/ehr/fhir", json.dumps(unversioned).encode())
    # Then it is accepted as older than stored, and nothing is reverted
    assert status == 200 and "1 older than stored" in text
    assert ports.records.get_patient("w-versioned").phone == "+16175550151"
