"""Applying EHR data to Careloop's records, with one rule for who owns which field:
the EHR owns demographics, times and status; Careloop owns consent and confirmation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from careloop.models import Appointment, Patient
from careloop.store import Store


@dataclass
class IngestResult:
    patients: list[str] = field(default_factory=list)
    appointments: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # older versions that were not applied
    unchanged: list[str] = field(default_factory=list)


def merge_patient(stored: Patient | None, incoming: Patient) -> Patient:
    if stored is None:
        return incoming
    keep = {"opted_out": stored.opted_out}
    # a new number deserves a new chance; the same number keeps its delivery flag
    keep["undeliverable"] = stored.undeliverable and stored.phone == incoming.phone
    return incoming.model_copy(update=keep)


def merge_appointment(stored: Appointment | None, incoming: Appointment) -> Appointment:
    if stored is None:
        return incoming
    if stored.start != incoming.start:
        return incoming.model_copy(update={"confirmed": False, "confirmed_at": None})
    return incoming.model_copy(
        update={"confirmed": stored.confirmed, "confirmed_at": stored.confirmed_at}
    )


def ingest(
    store: Store, patients: list[Patient], appointments: list[Appointment], now: datetime
) -> IngestResult:
    result = IngestResult()
    for p in patients:
        stored = store.get_patient(p.id)
        if stored and p.source_version and stored.source_version > p.source_version:
            result.stale.append(f"Patient/{p.id}")
            continue
        merged = merge_patient(stored, p.model_copy(update={"updated_at": now}))
        if stored and _same(stored, merged):
            result.unchanged.append(f"Patient/{p.id}")
            continue
        (result.patients if store.put_patient(merged) else result.stale).append(p.id)
    for a in appointments:
        stored = store.get_appointment(a.id)
        if stored and a.source_version and stored.source_version > a.source_version:
            result.stale.append(f"Appointment/{a.id}")
            continue
        merged = merge_appointment(stored, a.model_copy(update={"updated_at": now}))
        if stored and _same(stored, merged):
            result.unchanged.append(f"Appointment/{a.id}")
            continue
        (result.appointments if store.put_appointment(merged) else result.stale).append(a.id)
    return result


def _same(stored, merged) -> bool:
    """Equal but for bookkeeping: a redelivered payload writes nothing (so no stream record)."""
    ignore = {"updated_at"}
    return stored.model_dump(exclude=ignore) == merged.model_dump(exclude=ignore)
