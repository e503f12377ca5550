"""The slot engine: open slots = working time - busy time (booked appointments, holds), in each
location's own time zone, earliest first. The booking routes and the voice agent book through it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from careloop.booking.availability import WEEKDAYS, BookingSettings


@dataclass(frozen=True, order=True)
class Slot:
    """One bookable start: aware datetimes; `end` is `start` + the type's length."""

    start: datetime
    provider: str
    end: datetime
    location: str
    type: str


@dataclass(frozen=True)
class Busy:
    """Time a provider cannot be booked: an appointment (EHR or Careloop) or a hold."""

    provider: str
    start: datetime
    end: datetime


def open_slots(
    settings: BookingSettings,
    *,
    type_id: str,
    first_day: date,
    days: int,
    now: datetime,
    busy: Iterable[Busy],
    zone_of: Callable[[str], ZoneInfo],
    provider: str | None = None,
) -> list[Slot]:
    """Open slots of `type_id` on local days [first_day, first_day + days), no sooner than the
    lead time and no later than the horizon, earliest first (then by provider). A wall time that
    does not exist (the spring-forward gap) is skipped; one that happens twice (fall back) is
    offered once, at its first occurrence. `zone_of(location_id)` is the location's zone."""
    kind = settings.type(type_id)
    if kind is None:
        return []
    # every comparison in UTC: aware datetimes sharing one ZoneInfo compare by wall time in Python,
    # which is wrong across a DST change
    length = timedelta(minutes=kind.minutes)
    step = timedelta(minutes=settings.step_minutes)
    earliest = now.astimezone(UTC) + timedelta(minutes=settings.lead_minutes)
    latest = now.astimezone(UTC) + timedelta(days=settings.horizon_days)
    providers = {p for p in kind.providers if provider is None or p == provider}
    taken: dict[str, list[tuple[datetime, datetime]]] = {}
    for b in busy:
        if b.provider in providers:
            taken.setdefault(b.provider, []).append((b.start.astimezone(UTC), b.end.astimezone(UTC)))
    closed = {(c.date, c.provider, c.location) for c in settings.closures}
    out: list[Slot] = []
    for offset in range(max(days, 0)):
        day = first_day + timedelta(days=offset)
        weekday = WEEKDAYS[day.weekday()]
        for hours in settings.hours:
            if hours.weekday != weekday or hours.provider not in providers:
                continue
            if {(day, None, None), (day, hours.provider, None), (day, None, hours.location),
                    (day, hours.provider, hours.location)} & closed:
                continue
            zone = zone_of(hours.location)
            closes = _utc(datetime.combine(day, hours.hours.closes), zone)
            breaks = [(bs, be) for b in hours.breaks
                      if (bs := _utc(datetime.combine(day, b.opens), zone)) and (be := _utc(datetime.combine(day, b.closes), zone))]
            busy_here = taken.get(hours.provider, ())
            wall = datetime.combine(day, hours.hours.opens)
            while closes is not None:
                start = _utc(wall, zone)
                wall += step
                if start is None:
                    continue
                end = start + length
                if end > closes:
                    break
                if start < earliest or start > latest:
                    continue
                if any(start < be and bs < end for bs, be in breaks):
                    continue
                if any(start < te and ts < end for ts, te in busy_here):
                    continue
                out.append(Slot(start.astimezone(zone), hours.provider, end.astimezone(zone), hours.location, type_id))
    out.sort(key=lambda s: (s.start.astimezone(UTC), s.provider))
    return out


def _utc(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The wall time in `zone` as UTC (its first occurrence when it happens twice), or None when
    it does not exist there (skipped by the spring-forward change)."""
    aware = wall.replace(tzinfo=zone)
    at = aware.astimezone(UTC)
    return at if at.astimezone(zone).replace(tzinfo=None) == wall else None
