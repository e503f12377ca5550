"""The slot engine: open slots = working time - busy time (booked appointments, holds), in each
location's own time zone, earliest first. The booking routes and the voice agent book through it."""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from careloop.booking.availability import WEEKDAYS, BookingSettings, Span

if TYPE_CHECKING:
    from careloop.ehr.common import EhrSlot


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
    by_provider: dict[str, list[tuple[datetime, datetime]]] = {who: [] for who in providers}
    for b in busy:
        if b.provider in by_provider:
            by_provider[b.provider].append((b.start, b.end))
    taken = {who: _Taken(spans) for who, spans in by_provider.items()}
    free = {who: _Spans(spans) for who, spans in (ehr_free or {}).items() if who in providers}
    closed = {(c.date, c.provider, c.location) for c in settings.closures}
    rows_of = {day: [h for h in settings.hours if h.weekday == day and h.provider in providers] for day in WEEKDAYS}
    step_span, long = timedelta(seconds=step), timedelta(seconds=length)
    # providers keeping the same hours share the zone arithmetic
    instant, frame = functools.cache(_instant), functools.cache(_frame)
    closed_days = {c.date for c in settings.closures}
    found: list[tuple[int, str, Slot]] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for hours in rows_of[WEEKDAYS[day.weekday()]]:
            if day in closed_days and {(day, None, None), (day, hours.provider, None), (day, None, hours.location),
                                       (day, hours.provider, hours.location)} & closed:
                continue
            zone = zone_of(hours.location)
            opens, closes, local_open = frame(day, hours.hours, zone)
            lowest, highest = max(opens, earliest), min(closes - length, latest)  # where a start may lie
            if highest < lowest:
                continue  # nothing fits today, or the day lies outside lead time / horizon
            blocked = sorted([(instant(day, b.opens, zone), instant(day, b.closes, zone)) for b in hours.breaks]
                             + taken[hours.provider].within(opens, closes))
            gaps = _Spans.of(_gaps(opens, closes, blocked), merged=True)
            if hours.provider in free:
                gaps = gaps.intersect(free[hours.provider])
            if local_open is not None:
                # one offset all day (nearly always): the grid is plain arithmetic, and wall
                # arithmetic (what aware datetimes in one zone do) is real time; walk only the gaps
                for gap_start, gap_end in zip(gaps.starts, gaps.ends, strict=True):
                    first = -(-(max(gap_start, lowest) - opens) // step)
                    last = (min(gap_end - length, highest) - opens) // step
                    at = local_open + first * step_span
                    for start in range(opens + first * step, opens + last * step + 1, step):
                        found.append((start, hours.provider, _slot(at, hours.provider, at + long, hours.location, type_id)))
                        at += step_span
                continue
            for start, start_at, end_at in _dst_day_starts(day, hours.hours, zone, step, length, opens, closes):
                if lowest <= start <= highest and gaps.covers(start, start + length):
                    found.append((start, hours.provider, _slot(start_at, hours.provider, end_at, hours.location, type_id)))
    found.sort()  # by instant, then provider (ties beyond that: one provider at two locations)
    return [slot for _, _, slot in found]


def _slot(start: datetime, provider: str, end: datetime, location: str, type_id: str) -> Slot:
    """Slot(start, provider, end, location, type), built 3x faster: a frozen dataclass's __init__
    sets each field through object.__setattr__, and a long search builds thousands."""
    slot = object.__new__(Slot)
    slot.__dict__.update(start=start, provider=provider, end=end, location=location, type=type_id)
    return slot


def _frame(day: date, hours: Span, zone: ZoneInfo) -> tuple[int, int, datetime | None]:
    """Opening and closing of `hours` on `day` in UTC seconds, and the local opening when one UTC
    offset holds all day (None on a day whose hours span a DST change)."""
    opens, closes = _instant(day, hours.opens, zone), _instant(day, hours.closes, zone)
    local_open = datetime.fromtimestamp(opens, zone)
    steady = (local_open.utcoffset() == datetime.fromtimestamp(closes, zone).utcoffset()
              and local_open.replace(tzinfo=None) == datetime.combine(day, hours.opens))
    return opens, closes, local_open if steady else None


def _gaps(opens: int, closes: int, blocked: list[tuple[int, int]]) -> Iterable[tuple[int, int]]:
    """The stretches of [opens, closes) that no blocked span (sorted by start) touches."""
    cursor = opens
    for start, end in blocked:
        if start > cursor:
            yield cursor, min(start, closes)
        cursor = max(cursor, end)
        if cursor >= closes:
            return
    if cursor < closes:
        yield cursor, closes


def ehr_free_spans(schedules: Mapping[str, str | None], slots: Iterable[EhrSlot]) -> dict[str, list[tuple[datetime, datetime]]]:
    """`open_slots(ehr_free=...)` from the EHR's Schedules (id -> profile provider id or None) and
    Slots: every provider with a schedule gets its free slots' spans (none free: not bookable)."""
    free: dict[str, list[tuple[datetime, datetime]]] = {p: [] for p in schedules.values() if p is not None}
    for slot in slots:
        who = schedules.get(slot.schedule)
        if who is not None and slot.status == "free":
            free[who].append((slot.start, slot.end))
    return free


class _Taken:
    """One provider's busy time in UTC seconds, sorted by start (overlaps allowed: the gap walk
    copes), so a day's share is found by bisecting instead of scanning."""

    def __init__(self, spans: list[tuple[datetime, datetime]]) -> None:
        self.spans = sorted((int(s.timestamp()), int(e.timestamp())) for s, e in spans)
        self.starts = [s for s, _ in self.spans]
        self.longest = max((e - s for s, e in self.spans), default=0)

    def within(self, start: int, end: int) -> list[tuple[int, int]]:
        """The spans that overlap [start, end) (and perhaps a few that end before it)."""
        return self.spans[bisect_right(self.starts, start - self.longest):bisect_left(self.starts, end)]


class _Spans:
    """Time spans in UTC seconds, merged and sorted, for bisecting: O(log n) per question."""

    def __init__(self, spans: Iterable[tuple[datetime, datetime]]) -> None:
        self._merge(sorted((int(s.timestamp()), int(e.timestamp())) for s, e in spans))

    @classmethod
    def of(cls, seconds: Iterable[tuple[int, int]], *, merged: bool = False) -> _Spans:
        """Spans from UTC seconds; `merged`: they are already sorted and disjoint."""
        spans = cls.__new__(cls)
        if merged:
            pairs = list(seconds)
            spans.starts, spans.ends = [s for s, _ in pairs], [e for _, e in pairs]
        else:
            spans._merge(sorted(seconds))
        return spans

    def _merge(self, spans: list[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for s, e in spans:
            if e <= s:
                continue
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def within(self, start: int, end: int) -> list[tuple[int, int]]:
        """The spans that overlap [start, end)."""
        i = bisect_right(self.ends, start)  # the first span ending after `start`
        j = bisect_left(self.starts, end)  # the first span starting at or after `end`
        return list(zip(self.starts[i:j], self.ends[i:j], strict=True))

    def intersect(self, other: _Spans) -> _Spans:
        return _Spans.of((max(s, os), min(e, oe)) for s, e in zip(self.starts, self.ends, strict=True)
                         for os, oe in other.within(s, e))

    def covers(self, start: int, end: int) -> bool:
        i = bisect_right(self.starts, start) - 1  # the last span starting at or before `start`
        return i >= 0 and self.ends[i] >= end


def _dst_day_starts(day: date, hours: Span, zone: ZoneInfo, step: int, length: int, opens: int,
                    closes: int) -> Iterable[tuple[int, datetime, datetime]]:
    """On a day whose hours span a DST change: each wall time on the grid from opening resolved
    by itself (UTC seconds, local start, local end), skipping those the change removes."""
    wall = datetime.combine(day, hours.opens)
    for k in range(24 * 3600 // step + 1):
        utc = _utc(wall + timedelta(seconds=k * step), zone)
        if utc is None:
            continue  # skipped by spring forward
        start = int(utc.timestamp())
        if start + length > closes:
            return
        if start >= opens:
            yield start, utc.astimezone(zone), datetime.fromtimestamp(start + length, zone)


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
