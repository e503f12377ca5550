"""EHR payloads through careloop.intake on the in-memory core: ordering by FHIR meta.lastUpdated /
versionId and HL7 MSH-7, redelivery, merges (HL7 A40, FHIR Patient.link), duplicates,
signature failures and broken payloads (each kept, none lost), and every shared sample."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from careloop.errors import SignatureError
from careloop.intake import fhir_merges, receive, sign
from careloop.records import merged_into
from tests.conftest import DATA

SECRET = "unit-secret"
HL7_SAMPLES = DATA / "microsoft-FHIR-Converter" / "hl7v2"
FHIR_SAMPLES = DATA / "fhir-r4-examples"


class DictArchive:
    """The S3 archive port in memory."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, dict]] = {}

    def put(self, key: str, body: bytes, metadata: dict[str, str]) -> None:
        self.objects[key] = (body, dict(metadata))

    def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def get(self, key: str) -> tuple[bytes, dict[str, str]]:
        return self.objects[key]

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)


@pytest.fixture
def archive():
    return DictArchive()


def post(svc, archive, kind: str, payload, *, secret: str = SECRET, signature: str | None = None, ack=False):
    body = payload if isinstance(payload, bytes) else (
        json.dumps(payload).encode() if isinstance(payload, dict) else payload.encode())
    return receive(svc, archive, kind, body, signature if signature is not None else sign(secret, body), SECRET,
                   wants_hl7_ack=ack)


def fhir_patient(pid="p1", *, updated="2026-11-20T10:00:00Z", version=None, given="Ana", phone="617-555-0101", **extra):
    meta = {"lastUpdated": updated} | ({"versionId": version} if version else {})
    return {"resourceType": "Patient", "id": pid, "meta": meta,
            "name": [{"family": "Reyes", "given": [given]}],
            "telecom": [{"system": "phone", "value": phone, "use": "mobile"}]} | extra


def fhir_appointment(aid="a1", pid="p1", *, start="2026-12-10T14:00:00-05:00", updated="2026-11-20T10:00:00Z",
                     version=None, status="booked"):
    meta = {"lastUpdated": updated} | ({"versionId": version} if version else {})
    return {"resourceType": "Appointment", "id": aid, "meta": meta, "status": status, "start": start,
            "end": start.replace(":00:00", ":30:00"),
            "participant": [{"actor": {"reference": f"Patient/{pid}"}, "status": "accepted"}]}


def hl7(trigger: str, *, sent: str, mrn="MRN-1", start="202612101400", control="C1", extra: tuple = ()) -> str:
    msh = f"MSH|^~\\&|PMS|MAPLE|CARELOOP|DEMO|{sent}||{trigger}|{control}|P|2.5"
    pid = f"PID|1||{mrn}^^^MAPLE^MR||Rivera^Ana||19800101|||||^PRN^CP^^1^617^5550101"
    if trigger.startswith("SIU"):
        sch = f"SCH|A-100^PMS|F-200||||||CHECKUP^Checkup|30|MIN|^^M30^{start}"
        return "\r".join([msh, sch, pid, "RGS|1", "AIP|1||lee^Lee^Jane^^^Dr|DDS", *extra]) + "\r"
    return "\r".join([msh, "EVN|A08|" + sent, pid, *extra]) + "\r"


# ---- out of order ----------------------------------------------------------------------------


def test_fhir_older_last_updated_never_overwrites(svc, archive):
    # Given the newer version of a patient arrives first
    post(svc, archive, "fhir", fhir_patient(given="Newer", updated="2026-11-21T10:00:00Z"))
    # When the older one arrives late
    result = post(svc, archive, "fhir", fhir_patient(given="Older", updated="2026-11-20T10:00:00Z"))
    # Then it is accepted (archived) but not applied
    assert result.status == 200 and result.ingested.stale == ["Patient/p1"]
    assert svc.records.get_patient("p1").first_name == "Newer"
    assert "1 older than stored" in json.loads(result.body)["issue"][0]["diagnostics"]


def test_fhir_version_id_orders_two_versions_of_the_same_instant(svc, archive):
    # Given version 3 and version 2 of an appointment share one lastUpdated
    same = "2026-11-20T10:00:00Z"
    post(svc, archive, "fhir", fhir_patient())
    post(svc, archive, "fhir", fhir_appointment(start="2026-12-11T09:00:00-05:00", updated=same, version="3"))
    # When version 2 arrives after version 3
    result = post(svc, archive, "fhir", fhir_appointment(start="2026-12-10T09:00:00-05:00", updated=same, version="2"))
    # Then version 3's start stays
    assert result.ingested.stale == ["Appointment/a1"]
    assert svc.records.get_appointment("a1").start.day == 11
    # And version 10 (numerically newer, textually "smaller") wins
    post(svc, archive, "fhir", fhir_appointment(start="2026-12-12T09:00:00-05:00", updated=same, version="10"))
    assert svc.records.get_appointment("a1").start.day == 12


def test_hl7_msh7_orders_messages(svc, archive):
    # Given a reschedule (S13, sent 10:05) processed before the booking it replaces (S12, sent 10:00)
    post(svc, archive, "hl7v2", hl7("SIU^S13", sent="20261120100500", start="202612111500", control="C2"))
    result = post(svc, archive, "hl7v2", hl7("SIU^S12", sent="20261120100000", start="202612101400", control="C1"))
    # Then the older booking does not move the appointment back
    assert "Appointment/A-100" in result.ingested.stale
    assert svc.records.get_appointment("A-100").start.day == 11
    # And an older ADT^A08 does not overwrite newer demographics either
    post(svc, archive, "hl7v2", hl7("ADT^A08", sent="20261120110000", control="C3").replace("Rivera^Ana", "Rivera^Anita"))
    post(svc, archive, "hl7v2", hl7("ADT^A08", sent="20261120090000", control="C4").replace("Rivera^Ana", "Rivera^Old"))
    assert svc.records.get_patient("MRN-1").first_name == "Anita"


def test_same_payload_redelivered_changes_nothing(svc, archive):
    # Given a bundle accepted once
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": fhir_patient()}, {"resource": fhir_appointment()}]}
    post(svc, archive, "fhir", bundle)
    writes = []
    svc.records.listeners.append(lambda kind, old, new: writes.append(new.id))
    # When the EHR retries it twice (a timeout on its side)
    results = [post(svc, archive, "fhir", bundle) for _ in range(2)]
    # Then nothing is written again (so nothing is planned or sent twice); each delivery is archived
    assert writes == []
    assert all(r.status == 200 and r.ingested.patients == [] and r.ingested.appointments == [] for r in results)
    assert len(archive.list("archive/")) == 3


# ---- merges and duplicates through intake ----------------------------------------------------


def test_hl7_a40_merges_through_intake_and_redelivery_is_harmless(svc, archive):
    # Given two records of one person, the old one with an appointment, opted out
    post(svc, archive, "hl7v2", hl7("SIU^S12", sent="20261120100000", mrn="MRN-OLD"))
    post(svc, archive, "hl7v2", hl7("ADT^A04", sent="20261120100000", mrn="MRN-NEW", control="C9"))
    svc.records.put_patient(svc.records.get_patient("MRN-OLD").model_copy(update={"opted_out": True}))
    # When the EHR sends ADT^A40 (MRN-OLD merged into MRN-NEW), twice
    merge = hl7("ADT^A40^ADT_A39", sent="20261121080000", mrn="MRN-NEW", control="M1",
                extra=("MRG|MRN-OLD^^^MAPLE^MR",))
    first = post(svc, archive, "hl7v2", merge, ack=True)
    second = post(svc, archive, "hl7v2", merge, ack=True)
    # Then the appointment moved, the old record is a tombstone, consent travelled; both ACKed AA
    assert "MSA|AA|M1" in first.body and "MSA|AA|M1" in second.body
    assert first.ingested.merged == ["MRN-OLD->MRN-NEW"] and second.ingested.merged == []
    assert svc.records.get_appointment("A-100").patient_id == "MRN-NEW"
    assert merged_into(svc.records.get_patient("MRN-OLD")) == "MRN-NEW"
    assert svc.records.get_patient("MRN-NEW").opted_out is True


def test_fhir_patient_link_replaced_by_is_a_merge(svc, archive):
    # Given two patients, the old one with an appointment
    post(svc, archive, "fhir", {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": fhir_patient("old")}, {"resource": fhir_patient("new", phone="617-555-0102")},
        {"resource": fhir_appointment("a1", "old")}]})
    # When the EHR retires "old" with Patient.link replaced-by "new"
    retired = fhir_patient("old", updated="2026-11-22T10:00:00Z", active=False,
                           link=[{"other": {"reference": "Patient/new"}, "type": "replaced-by"}])
    result = post(svc, archive, "fhir", retired)
    # Then it is merged like an HL7 A40
    assert result.ingested.merged == ["old->new"]
    assert svc.records.get_appointment("a1").patient_id == "new"
    assert svc.records.get_patient("old").phone is None


def test_fhir_merges_reads_both_link_directions():
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "id": "keep",
                                               "link": [{"other": {"reference": "Patient/gone"}, "type": "replaces"}]}},
        {"resource": {"resourceType": "Patient", "id": "x",
                      "link": [{"other": {"reference": "urn:uuid:1"}, "type": "replaced-by"},
                               {"other": {"reference": "Patient/y"}, "type": "seealso"}]}}]}
    assert fhir_merges(json.dumps(bundle).encode()) == [("keep", "gone"), ("keep", "x")]
    assert fhir_merges(b'{"resourceType": "Patient", "id": "p"}') == []


def test_duplicate_identifier_is_a_warning_in_the_answer(svc, archive):
    # Given a patient with an MRN
    ident = [{"system": "urn:oid:1.2.3", "value": "MRN77"}]
    post(svc, archive, "fhir", fhir_patient("p1", identifier=ident))
    # When another id arrives with the same MRN
    result = post(svc, archive, "fhir", fhir_patient("p2", identifier=ident))
    # Then it is accepted, both are kept, and the answer says so (ids only)
    issues = json.loads(result.body)["issue"]
    assert result.status == 200 and svc.records.get_patient("p2") is not None
    assert issues[1]["severity"] == "warning" and "Patient/p2" in issues[1]["diagnostics"]
    assert "MRN77" not in result.body


# ---- refused and broken payloads -------------------------------------------------------------


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha256=deadbeef", "md5=x"])
def test_bad_signature_changes_nothing(svc, archive, signature):
    body = json.dumps(fhir_patient()).encode()
    with pytest.raises(SignatureError):
        receive(svc, archive, "fhir", body, signature or None, SECRET)
    with pytest.raises(SignatureError):  # signed with another secret
        receive(svc, archive, "fhir", body, sign("other", body), SECRET)
    assert archive.objects == {} and svc.records.all_patients() == []


BROKEN = [
    ("fhir", b""), ("fhir", b"{not json"), ("fhir", b'{"resourceType": "Nope"}'),
    ("fhir", json.dumps({"resourceType": "Appointment", "id": "a", "status": "maybe"}).encode()),
    ("fhir", "\xff\xfe".encode("latin-1")),
    ("hl7v2", b"hello"), ("hl7v2", b"MSH|^~\\&|A|B|C|D|20261120||ZZZ^Z01|1|P|2.5\r"),
    ("hl7v2", b"MSH|^~\\&|A|B|C|D|20261120||ADT^A40|1|P|2.5\rPID|1||X^^^A^MR\r"),
]


def test_broken_payloads_are_each_quarantined_with_reasons(svc, archive):
    # When eight different broken payloads arrive (two of them twice)
    results = [post(svc, archive, kind, body) for kind, body in BROKEN + BROKEN[:2]]
    # Then each got 400 and each delivery is kept, with a reason document beside it
    assert all(r.status == 400 for r in results)
    kept = [k for k in archive.list("quarantine/") if not k.endswith(".reason.json")]
    assert len(kept) == len(BROKEN) + 2 and len(set(r.archive_key for r in results)) == len(kept)
    for r, (kind, body) in zip(results, BROKEN + BROKEN[:2], strict=True):
        assert archive.get(r.archive_key)[0] == body
        reason = json.loads(archive.get(r.archive_key + ".reason.json")[0])
        assert reason["kind"] == kind and reason["issues"]
    assert svc.records.all_patients() == [] and svc.records.all_appointments() == []


# ---- every shared sample that applies --------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in HL7_SAMPLES.glob("*.hl7")))
def test_every_hl7_sample_is_accepted_and_idempotent(svc, archive, name):
    body = (HL7_SAMPLES / name).read_bytes()
    first = post(svc, archive, "hl7v2", body, ack=True)
    assert first.status == 200 and "MSA|AA|" in first.body
    changed = len(first.ingested.patients) + len(first.ingested.appointments)
    assert changed >= 1
    second = post(svc, archive, "hl7v2", body, ack=True)
    assert second.ingested.patients == [] and second.ingested.appointments == []


@pytest.mark.parametrize("name", sorted(p.name for p in FHIR_SAMPLES.glob("*.json")))
def test_every_fhir_sample_is_accepted(svc, archive, name):
    body = (FHIR_SAMPLES / name).read_bytes()
    # When a shared FHIR sample is posted, twice
    result = post(svc, archive, "fhir", body)
    again = post(svc, archive, "fhir", copy.copy(body))
    # Then it is accepted and archived byte for byte, and the second delivery changes nothing
    assert result.status == 200, result.body
    assert result.archive_key.startswith("archive/") and archive.get(result.archive_key)[0] == body
    assert again.ingested.patients == [] and again.ingested.appointments == []


def test_synthea_bundles_are_accepted(svc, archive):
    folder = Path(DATA / "smart-generated-sample-data-synthea-r4")
    for path in sorted(folder.glob("*.json")):
        assert post(svc, archive, "fhir", path.read_bytes()).status == 200, path.name
