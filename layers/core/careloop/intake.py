"""EHR webhook intake: signature check, parsing, archive or quarantine, then the records.

Nothing is lost: what cannot be understood is quarantined with its reason for `careloop ehr
replay`; what was accepted is archived. Returns what the HTTP boundary should answer, and what
happened as fields (counts, coded warnings) for everything else to read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from careloop.ehr.outcome import COUNT_NAMES, accepted_outcome, operation_outcome
from careloop.ehr.payload import (
    SUFFIX,
    Archive,
    Kind,
    apply_batches,
    fhir_merges,
    parse,
    payload_key,
    quarantine,
    queue_fetches,
)
from careloop.ehr.signing import (
    SIGNATURE_TOLERANCE_S,
    WebhookSecrets,
    sign,
    sign_timestamped,
    verify_signature,
)
from careloop.errors import PayloadError
from careloop.notices import code_of
from careloop.ports import Services
from careloop.records import IngestResult

# the pieces callers have always found here (handlers, the CLI, tests); they live in careloop.ehr
__all__ = [
    "SIGNATURE_TOLERANCE_S", "SUFFIX", "Archive", "IntakeResult", "Kind", "accepted_outcome", "apply_batches",
    "apply_fetched", "fhir_merges", "operation_outcome", "parse", "quarantine", "queue_fetches", "receive",
    "receive_verified",
    "sign", "sign_timestamped", "take", "verify_signature",
]


@dataclass
class IntakeResult:
    """The answer (`status`, `body`, `content_type`) and what happened, as fields: `warnings` are
    coded (careloop.notices), the mapping's then the merge's; `errors` why a payload was refused."""

    status: int
    body: str
    content_type: str = "application/fhir+json"
    ingested: IngestResult | None = None
    archive_key: str | None = None
    extra: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return self.ingested.counts() if self.ingested else dict.fromkeys(COUNT_NAMES, 0)

    @property
    def warning_codes(self) -> list[str]:
        return [code_of(w) for w in self.warnings]


def receive(
    services: Services,
    archive: Archive,
    kind: Kind,
    body: bytes,
    signature: str | None,
    secret: str | WebhookSecrets,
    *,
    wants_hl7_ack: bool = False,
) -> IntakeResult:
    verify_signature(secret, body, signature)  # SignatureError -> 401 at the boundary
    return receive_verified(services, archive, kind, body, wants_hl7_ack=wants_hl7_ack)


def receive_verified(services: Services, archive: Archive, kind: Kind, body: bytes, *,
                     wants_hl7_ack: bool = False) -> IntakeResult:
    """`receive` of a body whose signature the caller checked (over the bytes as sent: a gzip
    body is signed compressed, and inflated before it comes here)."""
    now = services.clock.now()
    try:
        key, batches, result = take(services, archive, kind, body, now)
    except PayloadError as exc:
        if kind == "hl7v2" and wants_hl7_ack:
            return IntakeResult(400, _hl7_ack(services, body, "AR", exc.issues[0]), "x-application/hl7-v2+er7",
                                archive_key=exc.archive_key, errors=list(exc.issues))
        return IntakeResult(400, operation_outcome(exc.issues), archive_key=exc.archive_key, errors=list(exc.issues))

    # what the mapping noticed (an invalid phone, a deceased patient, an unknown element) goes back
    # to the EHR with the answer, beside what the merge noticed
    mapped = tuple(dict.fromkeys(w for b in batches for w in b.warnings))
    noticed = [*mapped, *result.warnings()]
    if kind == "hl7v2" and wants_hl7_ack:
        ack = _hl7_ack(services, body, "AA", "", warnings=tuple(noticed))
        return IntakeResult(200, ack, "x-application/hl7-v2+er7", result, key, extra={"warnings": list(mapped)},
                            warnings=noticed)
    return IntakeResult(200, accepted_outcome(result, mapped), ingested=result, archive_key=key,
                        extra={"warnings": list(mapped)}, warnings=noticed)


def take(services: Services, archive: Archive, kind: Kind, body: bytes, now: datetime,
         meta: dict[str, str] | None = None) -> tuple[str, list, IngestResult]:
    """A signed (or fetched) payload: parsed, then archived and applied, with the resources an
    id-only notification names queued for fetching -> (archive key, batches, result). What
    cannot be understood is quarantined and the PayloadError re-raised, its `archive_key` set."""
    digest = hashlib.sha256(body).hexdigest()
    try:
        batches = parse(kind, body, services)
    except PayloadError as exc:
        exc.archive_key = payload_key("quarantine", kind, now, digest)
        quarantine(archive, exc.archive_key, kind, body, exc.issues, now)
        raise
    key = payload_key("archive", kind, now, digest)
    archive.put(key, body, {"kind": kind, **(meta or {})})
    result = apply_batches(services, batches, now)
    queue_fetches(services, batches, now)
    return key, batches, result


def apply_fetched(services: Services, archive: Archive, resource: dict, now: datetime) -> IngestResult | None:
    """A resource fetched for an id-only notification: taken like a webhook payload (signature
    aside: it came from the EHR's own API over HTTPS). -> what was applied, or None if it was
    quarantined."""
    try:
        return take(services, archive, "fhir", json.dumps(resource).encode(), now, {"fetched": "true"})[2]
    except PayloadError:
        return None


def _hl7_ack(services: Services, body: bytes, code: str, text: str, warnings: tuple[str, ...] = ()) -> str:
    # loaded on first use (cold start): a FHIR-only practice never loads the HL7 library
    from careloop.ehr.hl7v2 import ack_for

    return ack_for(body, code, text, services.practice, warnings=warnings)
