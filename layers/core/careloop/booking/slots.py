"""The slot engine: open slots = working time - busy time (booked appointments, holds), in each
location's own time zone, earliest first. The booking routes and the voice agent book through it."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from careloop.booking.availability import WEEKDAYS, BookingSettings, Span


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
    ehr_free: Mapping[str, Sequence[tuple[datetime, datetime]]] | None = None,
) -> list[Slot]:
    """Open slots of `type_id` on local days [first_day, first_day + days), no sooner than the
    lead time and no later than the horizon, earliest first (then by provider). A wall time that
    does not exist (the spring-forward gap) is skipped; one that happens twice (fall back) is
    offered once, at its first occurrence. `zone_of(location_id)` is the location's zone.
    `ehr_free` (provider -> free spans the EHR sent as FHIR Slots) is authoritative: a provider
    in it is bookable only inside those spans, within its working hours."""
    kind = settings.type(type_id)
    if kind is None or days <= 0:
        return []
    # every comparison in UTC seconds: aware datetimes sharing one ZoneInfo compare by wall time
    # in Python, which is wrong across a DST change (and integers are much faster)
    length = kind.minutes * 60
    step = settings.step_minutes * 60
    now_s = int(now.timestamp())
    earliest = now_s + settings.lead_minutes * 60
    latest = now_s + settings.horizon_days * 86400
    providers = {p for p in kind.providers if provider is None or p == provider}
    taken = {who: _Spans((b.start, b.end) for b in busy if b.provider == who) for who in providers}
    free = {who: _Spans(spans) for who, spans in (ehr_free or {}).items() if who in providers}
    closed = {(c.date, c.provider, c.location) for c in settings.closures}
    rows_of = {day: [h for h in settings.hours if h.weekday == day and h.provider in providers] for day in WEEKDAYS}
    found: list[tuple[int, str, Slot]] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for hours in rows_of[WEEKDAYS[day.weekday()]]:
            if {(day, None, None), (day, hours.provider, None), (day, None, hours.location),
                    (day, hours.provider, hours.location)} & closed:
                continue
            zone = zone_of(hours.location)
            opens = _first(day, hours.hours, zone)
            closes = _instant(day, hours.hours.closes, zone)
            if opens is None or closes - length < max(opens, earliest) or opens > latest:
                continue  # nothing fits today (or the whole row lies outside lead time / horizon)
            breaks = [(_instant(day, b.opens, zone), _instant(day, b.closes, zone))
                      for b in hours.breaks]
            busy_here, free_here = taken[hours.provider], free.get(hours.provider)
            for start, start_at, end_at in _starts(day, hours.hours, zone, step, length, opens, closes):
                if start < earliest or start > latest:
                    continue
                end = start + length
                if any(start < be and bs < end for bs, be in breaks) or busy_here.overlaps(start, end):
                    continue
                if free_here is not None and not free_here.covers(start, end):
                    continue
                found.append((start, hours.provider, Slot(start_at, hours.provider, end_at, hours.location, type_id)))
    found.sort(key=lambda f: (f[0], f[1]))
    return [slot for _, _, slot in found]


class _Spans:
    """Time spans in UTC seconds, merged and sorted, for bisecting: O(log n) per question."""

    def __init__(self, spans: Iterable[tuple[datetime, datetime]]) -> None:
        merged: list[list[int]] = []
        for s, e in sorted((int(s.timestamp()), int(e.timestamp())) for s, e in spans):
            if e <= s:
                continue
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_right(self.ends, start)  # the first span ending after `start`
        return i < len(self.starts) and self.starts[i] < end

    def covers(self, start: int, end: int) -> bool:
        i = bisect_right(self.starts, start) - 1  # the last span starting at or before `start`
        return i >= 0 and self.ends[i] >= end


def _starts(day: date, hours: Span, zone: ZoneInfo, step: int, length: int, opens: int,
            closes: int) -> Iterable[tuple[int, datetime, datetime]]:
    """Slot starts on the grid of `step` seconds from opening whose slot ends by closing (UTC
    seconds), each with its local start and end. Without a DST change inside the hours (nearly
    always) the grid is plain arithmetic; across one, each wall time is resolved by itself."""
    wall = datetime.combine(day, hours.opens)
    local_open = datetime.fromtimestamp(opens, zone)
    last = closes - length
    if local_open.utcoffset() == datetime.fromtimestamp(closes, zone).utcoffset() and local_open.replace(tzinfo=None) == wall:
        # one offset all day: wall arithmetic (what aware datetimes in one zone do) is real time
        long = timedelta(seconds=length)
        for k in range((last - opens) // step + 1):
            at = local_open + timedelta(seconds=k * step)
            yield opens + k * step, at, at + long
        return
    for k in range(24 * 3600 // step + 1):
        utc = _utc(wall + timedelta(seconds=k * step), zone)
        if utc is None:
            continue  # skipped by spring forward
        start = int(utc.timestamp())
        if start > last:
            return
        if start >= opens:
            yield start, utc.astimezone(zone), datetime.fromtimestamp(start + length, zone)


def _first(day: date, hours: Span, zone: ZoneInfo) -> int | None:
    """Opening time in UTC seconds (an opening inside the spring-forward gap opens when the clock
    lands); None if nothing of the hours exists."""
    opens, closes = _instant(day, hours.opens, zone), _instant(day, hours.closes, zone)
    return opens if opens < closes else None


def _instant(day: date, at: time, zone: ZoneInfo) -> int:
    """A wall time of `day` in `zone` as UTC seconds: its first occurrence when it happens twice;
    inside the spring-forward gap, the instant the clock jumps over it (an opening, a closing or
    a break edge there neither adds nor invents working time)."""
    wall = datetime.combine(day, at)
    exists = _utc(wall, zone)
    if exists is not None:
        return int(exists.timestamp())
    # the two readings of a missing wall time bracket the change; find it to the minute (rare)
    low, high = sorted(int(wall.replace(tzinfo=zone, fold=f).timestamp()) for f in (0, 1))
    before = datetime.fromtimestamp(low, zone).utcoffset()
    while high - low > 60:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == before:
            low = mid
        else:
            high = mid
    return high - high % 60


def _utc(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The wall time in `zone` as UTC (its first occurrence when it happens twice), or None when
    it does not exist there (skipped by the spring-forward change)."""
    aware = wall.replace(tzinfo=zone)
    at = aware.astimezone(UTC)
    return at if at.astimezone(zone).replace(tzinfo=None) == wall else None
