"""EHR webhook intake: signature check, parsing, archive or quarantine, then the records.

Nothing is lost: what cannot be understood is quarantined with its reason for `careloop ehr
replay`; what was accepted is archived. Returns what the HTTP boundary should answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from careloop.errors import PayloadError, SignatureError
from careloop.ports import Services
from careloop.records import IngestResult, ingest

Kind = Literal["fhir", "hl7v2"]
SUFFIX = {"fhir": "json", "hl7v2": "hl7"}


class Archive(Protocol):
    def put(self, key: str, body: bytes, metadata: dict[str, str]) -> None: ...


@dataclass
class IntakeResult:
    status: int
    body: str
    content_type: str = "application/fhir+json"
    ingested: IngestResult | None = None
    archive_key: str | None = None
    extra: dict = field(default_factory=dict)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> None:
    if not secret:
        raise SignatureError("webhook secret not configured")
    if not header:
        raise SignatureError("missing X-Careloop-Signature header")
    if not hmac.compare_digest(sign(secret, body), header.strip()):
        raise SignatureError("X-Careloop-Signature does not match the body")


def operation_outcome(issues: list[str], code: str = "invalid", severity: str = "error") -> str:
    return json.dumps(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": text} for text in issues],
        }
    )


def _key(prefix: str, kind: Kind, now: datetime, digest: str) -> str:
    return f"{prefix}/{kind}/{now:%Y/%m/%d}/{now:%H%M%S}-{digest[:16]}-{uuid.uuid4().hex[:8]}.{SUFFIX[kind]}"


def parse(kind: Kind, body: bytes, services: Services) -> list:
    """-> the EhrBatch(es) the payload holds, or PayloadError naming each problem."""
    if kind == "fhir":
        from careloop.ehr.fhir import parse_fhir

        return [parse_fhir(body, services.practice)]
    from careloop.ehr.hl7v2 import parse_hl7v2

    return parse_hl7v2(body, services.practice)


def apply_batches(services: Services, batches: list, now: datetime) -> IngestResult:
    """Records from the batches, plus cancellations that name only an appointment id."""
    patients = [p for b in batches for p in b.patients]
    appointments = [a for b in batches for a in b.appointments]
    mapped = {a.id for a in appointments}
    for batch in batches:
        for appt_id in batch.cancelled_appointment_ids:
            stored = services.store.get_appointment(appt_id)
            if appt_id not in mapped and stored is not None and stored.status != "cancelled":
                appointments.append(stored.model_copy(update={"status": "cancelled", "source_version": ""}))
    return ingest(services.store, patients, appointments, now)


def receive(
    services: Services,
    archive: Archive,
    kind: Kind,
    body: bytes,
    signature: str | None,
    secret: str,
    *,
    wants_hl7_ack: bool = False,
) -> IntakeResult:
    verify_signature(secret, body, signature)  # SignatureError -> 401 at the boundary
    now = services.clock.now()
    digest = hashlib.sha256(body).hexdigest()
    try:
        batches = parse(kind, body, services)
    except PayloadError as exc:
        key = _key("quarantine", kind, now, digest)
        archive.put(key, body, {"reason": _ascii(exc.issues[0])[:1500], "kind": kind})
        archive.put(key + ".reason.json", json.dumps({"kind": kind, "issues": exc.issues,
                    "received_at": now.isoformat(), "sha256": digest}).encode(), {"kind": kind})
        if kind == "hl7v2" and wants_hl7_ack:
            return IntakeResult(400, _hl7_ack(services, body, "AR", exc.issues[0]), "x-application/hl7-v2+er7", archive_key=key)
        return IntakeResult(400, operation_outcome(exc.issues), archive_key=key)

    key = _key("archive", kind, now, digest)
    archive.put(key, body, {"kind": kind})
    result = apply_batches(services, batches, now)
    if kind == "hl7v2" and wants_hl7_ack:
        return IntakeResult(200, _hl7_ack(services, body, "AA", ""), "x-application/hl7-v2+er7", result, key)
    summary = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational",
                   "diagnostics": f"accepted: {len(result.patients)} patient(s), {len(result.appointments)} "
                                  f"appointment(s) changed; {len(result.unchanged)} unchanged; "
                                  f"{len(result.stale)} older than stored"}],
    }
    return IntakeResult(200, json.dumps(summary), ingested=result, archive_key=key)


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode()


def _hl7_ack(services: Services, body: bytes, code: str, text: str) -> str:
    from careloop.ehr.hl7v2 import ack_for

    return ack_for(body, code, text, services.practice)
