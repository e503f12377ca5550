"""EHR webhook intake: signature check, parsing, archive or quarantine, then the records.

Nothing is lost: what cannot be understood is quarantined with its reason for `careloop ehr
replay`; what was accepted is archived. Returns what the HTTP boundary should answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable
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


# A timestamped signature older (or newer) than this is refused: a captured request cannot be
# replayed later to set a record back.
SIGNATURE_TOLERANCE_S = 300


def sign(secret: str, body: bytes) -> str:
    """The plain form: `sha256=<hex HMAC-SHA256 of the body>` (what most EHR webhooks can send)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_timestamped(secret: str, body: bytes, at: float | None = None) -> str:
    """The preferred form: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`, refused when
    stale, so a replayed capture does nothing (`careloop ehr sign` and the MLLP bridge send it)."""
    t = int(time.time() if at is None else at)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str | None, now: float | None = None) -> None:
    """Accepts either form; every refusal is a SignatureError (401) naming what is wrong."""
    if not secret:
        raise SignatureError("webhook secret not configured")
    if not header:
        raise SignatureError("missing X-Careloop-Signature header")
    header = header.strip()
    if not header.isascii():
        raise SignatureError("X-Careloop-Signature is not ASCII")
    if header.startswith("t="):
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        t, mac = parts.get("t", ""), parts.get("v1", "")
        if not t.isdigit() or not mac:
            raise SignatureError("X-Careloop-Signature: expected t=<unix seconds>,v1=<hex>")
        if abs((time.time() if now is None else now) - int(t)) > SIGNATURE_TOLERANCE_S:
            raise SignatureError("X-Careloop-Signature timestamp is more than 5 minutes from now (a replay?)")
        expected = sign_timestamped(secret, body, int(t))
    else:
        expected = sign(secret, body)
    if not hmac.compare_digest(expected.encode(), header.encode()):
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

        batch = parse_fhir(body, services.practice)
        batch.merges += [m for m in fhir_merges(body) if m not in batch.merges]
        return [batch]
    from careloop.ehr.hl7v2 import parse_hl7v2

    return parse_hl7v2(body, services.practice)


_PATIENT_REF = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$")


def fhir_merges(body: bytes | str | dict) -> list[tuple[str, str]]:
    """(surviving, merged) pairs a FHIR payload declares through Patient.link: `replaced-by`
    on the retired record, or `replaces` on the surviving one. `refer`/`seealso` are not merges."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, (bytes, bytearray)):
        if b'"link"' not in body:
            return []
        try:
            data = json.loads(bytes(body).decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return []
    else:
        data = body
    if not isinstance(data, dict):
        return []
    entries = data.get("entry") if data.get("resourceType") == "Bundle" else [{"resource": data}]
    entries = [e for e in entries or [] if isinstance(e, dict)]
    by_url = {e["fullUrl"]: e["resource"].get("id") for e in entries
              if isinstance(e.get("fullUrl"), str) and isinstance(e.get("resource"), dict)}
    out: list[tuple[str, str]] = []
    for e in entries:
        res = e.get("resource")
        if not isinstance(res, dict) or res.get("resourceType") != "Patient" or not isinstance(res.get("id"), str):
            continue
        for link in res.get("link") or []:
            if not isinstance(link, dict) or link.get("type") not in ("replaced-by", "replaces"):
                continue
            ref = (link.get("other") or {}).get("reference") if isinstance(link.get("other"), dict) else None
            if not isinstance(ref, str):
                continue
            other = by_url.get(ref) or (m[1] if (m := _PATIENT_REF.search(ref)) else None)
            if not other or other == res["id"]:
                continue
            pair = (other, res["id"]) if link["type"] == "replaced-by" else (res["id"], other)
            if pair not in out:
                out.append(pair)
    return out


def apply_batches(services: Services, batches: list, now: datetime, *, bulk: bool = False,
                  live: set[str] | None = None,
                  phone_opted_out: Callable[[str], bool] | None = None) -> IngestResult:
    """Records from the batches, merges, plus cancellations that name only an appointment id."""
    patients = [p for b in batches for p in b.patients]
    appointments = [a for b in batches for a in b.appointments]
    merges = [m for b in batches for m in b.merges]
    mapped = {a.id for a in appointments}
    for batch in batches:
        for appt_id in batch.cancelled_appointment_ids:
            stored = services.records.get_appointment(appt_id)
            if appt_id not in mapped and stored is not None and stored.status != "cancelled":
                # the cancel names no version of its own: it applies as of the stored one
                appointments.append(stored.model_copy(update={"status": "cancelled"}))
    return ingest(services.records, services.consent, patients, appointments, now, merges=merges, bulk=bulk, live=live,
                  phone_opted_out=phone_opted_out)


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
    try:
        key, batches, result = take(services, archive, kind, body, now)
    except PayloadError as exc:
        key = exc.archive_key
        if kind == "hl7v2" and wants_hl7_ack:
            return IntakeResult(400, _hl7_ack(services, body, "AR", exc.issues[0]), "x-application/hl7-v2+er7", archive_key=key)
        return IntakeResult(400, operation_outcome(exc.issues), archive_key=key)

    # what the mapping noticed (an invalid phone, a deceased patient, an unknown element) goes back
    # to the EHR with the answer, beside what the merge noticed
    mapped = tuple(dict.fromkeys(w for b in batches for w in b.warnings))
    if kind == "hl7v2" and wants_hl7_ack:
        ack = _hl7_ack(services, body, "AA", "", warnings=mapped + tuple(result.warnings()))
        return IntakeResult(200, ack, "x-application/hl7-v2+er7", result, key, extra={"warnings": list(mapped)})
    return IntakeResult(200, accepted_outcome(result, mapped), ingested=result, archive_key=key,
                        extra={"warnings": list(mapped)})


def quarantine(archive: Archive, key: str, kind: Kind, body: bytes, issues: list[str], now: datetime,
               *, details: dict | None = None) -> None:
    """Keep a payload that could not be understood, with its reasons next to it (`.reason.json`).
    `details`: extra fields of the reason document (a replay's count and first issues)."""
    digest = hashlib.sha256(body).hexdigest()
    archive.put(key, body, {"reason": _ascii(issues[0])[:1500], "kind": kind})
    reason = {"kind": kind, "issues": issues, "received_at": now.isoformat(), "sha256": digest}
    archive.put(key + ".reason.json", json.dumps(reason | (details or {})).encode(), {"kind": kind})


def queue_fetches(services: Services, batches: list, now: datetime) -> int:
    """An id-only Subscription notification names resources without carrying them: each is
    fetched from the EHR's FHIR API by the EHR worker (retried, then its DLQ) and applied like
    any payload. -> how many were queued."""
    from careloop.ehr import writeback

    refs = list(dict.fromkeys(r for b in batches for r in b.to_fetch))
    if not refs or services.writeback is None or not writeback.fetch_enabled(services.practice):
        return 0
    for ref in refs:
        services.writeback.enqueue(writeback.WritebackEvent(kind="fetch_resource", patient_id="", ref=ref, at=now))
    return len(refs)


def take(services: Services, archive: Archive, kind: Kind, body: bytes, now: datetime,
         meta: dict[str, str] | None = None) -> tuple[str, list, IngestResult]:
    """A signed (or fetched) payload: parsed, then archived and applied, with the resources an
    id-only notification names queued for fetching -> (archive key, batches, result). What
    cannot be understood is quarantined and the PayloadError re-raised, its `archive_key` set."""
    digest = hashlib.sha256(body).hexdigest()
    try:
        batches = parse(kind, body, services)
    except PayloadError as exc:
        exc.archive_key = _key("quarantine", kind, now, digest)
        quarantine(archive, exc.archive_key, kind, body, exc.issues, now)
        raise
    key = _key("archive", kind, now, digest)
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


def accepted_outcome(result: IngestResult, mapped: tuple[str, ...] = ()) -> str:
    """The 200 answer: one summary line, then a warning per thing a person should know (the
    mapping's, then the merge's)."""
    merges = f"; {len(result.merged)} merge(s) applied" if result.merged else ""
    issues = [{"severity": "information", "code": "informational",
               "diagnostics": f"accepted: {len(result.patients)} patient(s), {len(result.appointments)} "
                              f"appointment(s) changed; {len(result.unchanged)} unchanged; "
                              f"{len(result.stale)} older than stored{merges}"}]
    issues += [{"severity": "warning", "code": "informational", "diagnostics": w}
               for w in (*mapped, *result.warnings())]
    return json.dumps({"resourceType": "OperationOutcome", "issue": issues})


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode()


def _hl7_ack(services: Services, body: bytes, code: str, text: str, warnings: tuple[str, ...] = ()) -> str:
    from careloop.ehr.hl7v2 import ack_for

    return ack_for(body, code, text, services.practice, warnings=warnings)
