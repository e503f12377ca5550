"""An EHR payload's way from bytes to the records, one path for the webhook intake, replay, bulk
import and the simulator: parse into batches, the merges it declares, apply, or quarantine."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Literal, Protocol

from careloop.ports import RecordStore, Services
from careloop.records import IngestResult, ingest

Kind = Literal["fhir", "hl7v2"]
SUFFIX = {"fhir": "json", "hl7v2": "hl7"}


class Archive(Protocol):
    def put(self, key: str, body: bytes, metadata: dict[str, str]) -> None: ...


def payload_key(prefix: str, kind: Kind, now: datetime, digest: str) -> str:
    """Where a payload is kept: `archive/...` or `quarantine/...`, by kind and time of receipt."""
    return f"{prefix}/{kind}/{now:%Y/%m/%d}/{now:%H%M%S}-{digest[:16]}-{uuid.uuid4().hex[:8]}.{SUFFIX[kind]}"


def parse(kind: Kind, body: bytes, services: Services) -> list:
    """-> the EhrBatch(es) the payload holds, or PayloadError naming each problem."""
    # each parser loads on first use: a FHIR webhook's cold start never pays for the HL7 library
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
                  phone_opted_out: Callable[[str], bool] | None = None,
                  supersede_online: bool | None = None) -> IngestResult:
    """Records from the batches, merges, plus cancellations that name only an appointment id.
    `supersede_online` (default: not `bulk`): the EHR's copy of an online booking replaces it."""
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
    result = ingest(services.records, services.consent, patients, appointments, now, merges=merges, bulk=bulk,
                    live=live, phone_opted_out=phone_opted_out)
    apply_grid(services.records, batches, result)
    if supersede_online is None:
        supersede_online = not bulk
    if services.practice.booking is not None and result.appointments and supersede_online:
        # the EHR's copy of an online booking replaces it (one read per appointment: webhooks and
        # replays, not the onboarding import, which comes before anyone booked online)
        from careloop.booking.requests import supersede

        applied = services.records.get_appointments(result.appointments)
        supersede(services, [a for a in applied.values() if a.source != "careloop"])
    return result


def queue_fetches(services: Services, batches: list, now: datetime) -> int:
    """An id-only Subscription notification names resources without carrying them: each is
    fetched from the EHR's FHIR API by the EHR worker (retried, then its DLQ) and applied like
    any payload. -> how many were queued."""
    # loaded on first use (cold start): most payloads name nothing to fetch
    from careloop.ehr import writeback

    refs = list(dict.fromkeys(r for b in batches for r in b.to_fetch))
    if not refs or services.writeback is None or not writeback.fetch_enabled(services.practice):
        return 0
    for ref in refs:
        services.writeback.enqueue(writeback.WritebackEvent(kind="fetch_resource", patient_id="", ref=ref, at=now))
    return len(refs)


def apply_grid(records: RecordStore, batches: list, result: IngestResult) -> None:
    """The EHR's booking grid (FHIR Schedules, then Slots) into the record store: an older version
    never replaces a newer one (reported stale), and a Slot whose Schedule has not come yet is
    kept all the same (it counts for booking once the Schedule arrives)."""
    for batch in batches:
        for schedule in getattr(batch, "schedule_records", ()):
            if records.put_schedule(schedule):
                result.grid.append(f"Schedule/{schedule.id}")
            else:
                result.stale.append(f"Schedule/{schedule.id}")
        for slot in getattr(batch, "slots", ()):
            if records.put_slot(slot):
                result.grid.append(f"Slot/{slot.id}")
            else:
                result.stale.append(f"Slot/{slot.id}")


def quarantine(archive: Archive, key: str, kind: Kind, body: bytes, issues: list[str], now: datetime,
               *, details: dict | None = None) -> None:
    """Keep a payload that could not be understood, with its reasons next to it (`.reason.json`).
    `details`: extra fields of the reason document (a replay's count and first issues)."""
    digest = hashlib.sha256(body).hexdigest()
    archive.put(key, body, {"reason": _ascii(issues[0])[:1500], "kind": kind})
    reason = {"kind": kind, "issues": issues, "received_at": now.isoformat(), "sha256": digest}
    archive.put(key + ".reason.json", json.dumps(reason | (details or {})).encode(), {"kind": kind})


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode()
