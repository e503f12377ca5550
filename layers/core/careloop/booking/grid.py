"""The EHR's booking grid as the slot search reads it: for one window, the free time of every
provider whose FHIR Schedule the EHR sent (authoritative for that provider, spec/booking.md)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from careloop.booking.slots import ehr_free_spans
from careloop.ports import RecordStore


def ehr_free_between(records: RecordStore, start: datetime, end: datetime,
                     providers: Collection[str] | None = None) -> dict[str, list[tuple[datetime, datetime]]]:
    """provider -> the free Slot spans overlapping [start, end), for each provider (of `providers`,
    when given) with an active EHR Schedule; one query per such Schedule, never a scan. A
    provider with a Schedule and no free Slot in the window gets [] (not bookable there)."""
    owners = {s.id: s.provider for s in records.schedules()
              if s.provider is not None and (providers is None or s.provider in providers)}
    slots = [slot for schedule_id in owners for slot in records.slots_between(schedule_id, start, end)]
    return ehr_free_spans(owners, slots)
