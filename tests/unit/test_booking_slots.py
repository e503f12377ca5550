"""The slot engine offers exactly the working time nobody holds: lead time, horizon, breaks,
closures, busy edges, the step grid, two zones, and both DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from careloop.booking.availability import BookingSettings
from careloop.booking.slots import Busy, Slot, open_slots
from careloop.practice import demo_profile

NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")
ZONES = {"main": NY, "chicago": CHI}
MONDAY = date(2027, 3, 1)  # a Monday, far from either DST change
EARLY = datetime(2027, 2, 1, 12, tzinfo=UTC)  # a month before MONDAY: lead time and horizon leave it alone


def _settings(**overrides: object) -> BookingSettings:
    data: dict = {
        "types": [{"id": "exam", "name": {"en": "Exam", "es": "Examen"}, "minutes": 30, "providers": ["lee", "patel"]},
                  {"id": "cleaning", "name": {"en": "Cleaning", "es": "Limpieza"}, "minutes": 60, "providers": ["lee"]}],
        "hours": [{"provider": "lee", "location": "main", "weekday": "mon", "hours": {"start": "09:00", "end": "12:00"},
                   "breaks": [{"start": "10:00", "end": "10:30"}]}],
        "step_minutes": 30,
    }
    data.update(overrides)
    return BookingSettings.model_validate(data)


def _search(settings: BookingSettings, *, type_id: str = "exam", first_day: date = MONDAY, days: int = 1,
            now: datetime = EARLY, busy: tuple[Busy, ...] = (), provider: str | None = None,
            ehr_free: dict | None = None) -> list[Slot]:
    return open_slots(settings, type_id=type_id, first_day=first_day, days=days, now=now, busy=busy,
                      zone_of=ZONES.__getitem__, provider=provider, ehr_free=ehr_free)


def _walls(slots: list[Slot]) -> list[str]:
    return [s.start.strftime("%H:%M") for s in slots]


def _ny(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=NY)


def test_working_time_minus_breaks_on_the_step_grid() -> None:
    slots = _search(_settings())
    assert _walls(slots) == ["09:00", "09:30", "10:30", "11:00", "11:30"]
    first = slots[0]
    assert first.start == _ny(MONDAY, 9) and first.end - first.start == timedelta(minutes=30)
    assert (first.provider, first.location, first.type) == ("lee", "main", "exam")
    assert first.start.tzinfo == NY  # shown in the location's zone


def test_a_longer_type_fits_only_where_it_ends_before_a_break_or_closing() -> None:
    # 60 minutes on a 30-minute grid: 09:00 ends as the break starts; 09:30 runs into it, 11:30 past closing
    assert _walls(_search(_settings(), type_id="cleaning")) == ["09:00", "10:30", "11:00"]


def test_a_finer_step_makes_a_finer_grid() -> None:
    assert _walls(_search(_settings(step_minutes=15)))[:4] == ["09:00", "09:15", "09:30", "10:30"]


def test_nothing_sooner_than_the_lead_time() -> None:
    # Given it is 07:40 on the Monday and the lead time is 2 h
    now = _ny(MONDAY, 7, 40)
    slots = _search(_settings(lead_minutes=120), now=now)
    assert _walls(slots) == ["10:30", "11:00", "11:30"]  # 09:40 is the limit: 09:30 is too soon
    assert _walls(_search(_settings(lead_minutes=90), now=_ny(MONDAY, 7, 30))) == ["09:00", "09:30", "10:30", "11:00", "11:30"]


def test_nothing_past_the_horizon() -> None:
    # Given a horizon of 30 days from 10:15 on 2027-02-01, searching 6 weeks of Mondays
    now = _ny(date(2027, 2, 1), 10, 15)
    slots = _search(_settings(horizon_days=30), first_day=date(2027, 2, 1), days=42, now=now)
    days = sorted({s.start.date() for s in slots})
    assert days[-1] == date(2027, 3, 1)  # day 28 is a Monday; the horizon ends on 03-03 at 10:15
    assert max(s.start for s in slots) <= now + timedelta(days=30)
    assert min(s.start for s in slots) >= now + timedelta(hours=2)


def test_a_closure_of_everyone_of_one_provider_or_one_location() -> None:
    hours = [{"provider": p, "location": loc, "weekday": "mon", "hours": {"start": "09:00", "end": "10:00"}}
             for p, loc in (("lee", "main"), ("patel", "main"), ("patel", "chicago"))]
    # Chicago's 09:00 is an hour after New York's, so nothing coincides
    base = _settings(hours=hours, step_minutes=30)
    everyone = {(s.provider, s.location) for s in _search(base)}
    assert everyone == {("lee", "main"), ("patel", "main"), ("patel", "chicago")}
    all_closed = _settings(hours=hours, step_minutes=30, closures=[{"date": "2027-03-01"}])
    assert _search(all_closed) == []
    lee_off = _settings(hours=hours, step_minutes=30, closures=[{"date": "2027-03-01", "provider": "lee"}])
    assert {(s.provider, s.location) for s in _search(lee_off)} == {("patel", "main"), ("patel", "chicago")}
    main_shut = _settings(hours=hours, step_minutes=30, closures=[{"date": "2027-03-01", "location": "main"}])
    assert {(s.provider, s.location) for s in _search(main_shut)} == {("patel", "chicago")}
    other_day = _settings(hours=hours, step_minutes=30, closures=[{"date": "2027-03-08"}])
    assert len(_search(other_day)) == len(_search(base))


def test_busy_time_blocks_overlapping_slots_at_both_edges_but_not_touching_ones() -> None:
    # Given Dr. Lee is busy 10:30-11:00 (a booked exam)
    busy = (Busy("lee", _ny(MONDAY, 10, 30), _ny(MONDAY, 11)),)
    assert _walls(_search(_settings(), busy=busy)) == ["09:00", "09:30", "11:00", "11:30"]
    # a busy span that starts inside a slot and one that ends inside a slot both block it
    edges = (Busy("lee", _ny(MONDAY, 9, 15), _ny(MONDAY, 9, 45)), Busy("lee", _ny(MONDAY, 11, 20), _ny(MONDAY, 11, 40)))
    assert _walls(_search(_settings(), busy=edges)) == ["10:30"]
    # a 60-minute cleaning at 10:30 overlaps a hold at 11:15 and is gone; 11:00 too
    hold = (Busy("lee", _ny(MONDAY, 11, 15), _ny(MONDAY, 11, 30)),)
    assert _walls(_search(_settings(), type_id="cleaning", busy=hold)) == ["09:00"]
    # someone else's busy time changes nothing
    other = (Busy("patel", _ny(MONDAY, 9), _ny(MONDAY, 12)),)
    assert _walls(_search(_settings(), busy=other)) == ["09:00", "09:30", "10:30", "11:00", "11:30"]


def test_busy_times_given_in_another_zone_compare_as_instants() -> None:
    busy = (Busy("lee", datetime(2027, 3, 1, 14, 0, tzinfo=UTC), datetime(2027, 3, 1, 8, 30, tzinfo=CHI)),)
    assert _walls(_search(_settings(), busy=busy)) == ["09:30", "10:30", "11:00", "11:30"]  # 09:00-09:30 ET gone


def test_two_locations_in_two_zones_each_in_its_own_wall_time_earliest_first() -> None:
    # Given Dr. Patel works 09:00-10:00 in Chicago and Dr. Lee 09:30-10:30 in New York on Mondays
    hours = [{"provider": "patel", "location": "chicago", "weekday": "mon", "hours": {"start": "09:00", "end": "10:00"}},
             {"provider": "lee", "location": "main", "weekday": "mon", "hours": {"start": "09:30", "end": "10:30"}}]
    slots = _search(_settings(hours=hours))
    # Then each is offered at its own wall time, in its own zone, ordered by the real instant
    assert [(s.provider, s.start.strftime("%H:%M %Z")) for s in slots] == [
        ("lee", "09:30 EST"), ("lee", "10:00 EST"), ("patel", "09:00 CST"), ("patel", "09:30 CST")]
    assert [s.start.tzinfo for s in slots] == [NY, NY, CHI, CHI]
    starts = [s.start.astimezone(UTC) for s in slots]
    assert starts == sorted(starts)


def test_ties_at_one_instant_are_ordered_by_provider() -> None:
    hours = [{"provider": p, "location": "main", "weekday": "mon", "hours": {"start": "09:00", "end": "10:00"}}
             for p in ("patel", "lee")]
    assert [s.provider for s in _search(_settings(hours=hours))] == ["lee", "patel", "lee", "patel"]


def test_the_provider_filter() -> None:
    hours = [{"provider": p, "location": "main", "weekday": "mon", "hours": {"start": "09:00", "end": "10:00"}}
             for p in ("patel", "lee")]
    assert {s.provider for s in _search(_settings(hours=hours), provider="patel")} == {"patel"}
    assert _search(_settings(hours=hours), type_id="cleaning", provider="patel") == []  # Patel does not clean
    assert _search(_settings(), type_id="nonsense") == []


SPRING = date(2027, 3, 14)  # US clocks go 02:00 -> 03:00
FALL = date(2027, 11, 7)  # US clocks go 02:00 -> 01:00


def test_spring_forward_offers_nothing_in_the_gap_and_real_lengths() -> None:
    # Given hours 00:00-05:00 on the Sunday of the spring change
    hours = [{"provider": "lee", "location": "main", "weekday": "sun", "hours": {"start": "00:00", "end": "05:00"}}]
    slots = _search(_settings(hours=hours, step_minutes=30), type_id="cleaning", first_day=SPRING)
    walls = _walls(slots)
    assert not any(w.startswith("02:") for w in walls)  # 02:00-02:59 does not exist
    assert walls == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00"]
    spanning = slots[3]  # 01:30 EST + 60 real minutes = 03:30 EDT
    assert spanning.end.astimezone(UTC) - spanning.start.astimezone(UTC) == timedelta(hours=1)
    assert spanning.end.astimezone(NY).strftime("%H:%M %Z") == "03:30 EDT"
    assert all(s.end.astimezone(UTC) - s.start.astimezone(UTC) == timedelta(hours=1) for s in slots)
    # 4 hours of real working time: the 60-minute slots that end by 05:00 EDT
    assert slots[-1].end.astimezone(UTC) <= datetime(2027, 3, 14, 9, tzinfo=UTC)


def test_an_opening_or_a_break_edge_inside_the_gap_means_the_moment_the_clock_lands() -> None:
    opens_in_gap = [{"provider": "lee", "location": "main", "weekday": "sun", "hours": {"start": "02:30", "end": "04:00"}}]
    assert _walls(_search(_settings(hours=opens_in_gap), first_day=SPRING)) == ["03:00", "03:30"]
    pause_in_gap = [{"provider": "lee", "location": "main", "weekday": "sun", "hours": {"start": "00:00", "end": "04:00"},
                     "breaks": [{"start": "01:30", "end": "02:30"}]}]
    assert _walls(_search(_settings(hours=pause_in_gap), first_day=SPRING)) == ["00:00", "00:30", "01:00", "03:00", "03:30"]
    closes_in_gap = [{"provider": "lee", "location": "main", "weekday": "sun", "hours": {"start": "00:00", "end": "02:30"}}]
    slots = _search(_settings(hours=closes_in_gap), first_day=SPRING)
    assert _walls(slots) == ["00:00", "00:30", "01:00", "01:30"]
    assert slots[-1].end.strftime("%H:%M %Z") == "03:00 EDT"


def test_fall_back_offers_the_repeated_hour_once() -> None:
    hours = [{"provider": "lee", "location": "main", "weekday": "sun", "hours": {"start": "00:00", "end": "04:00"}}]
    slots = _search(_settings(hours=hours, step_minutes=30), first_day=FALL, now=datetime(2027, 10, 1, tzinfo=UTC))
    walls = _walls(slots)
    assert walls == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "03:30"]
    assert walls.count("01:30") == 1
    one_thirty = slots[3]
    assert one_thirty.start.astimezone(UTC) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # its first occurrence (EDT)
    assert one_thirty.end.astimezone(UTC) - one_thirty.start.astimezone(UTC) == timedelta(minutes=30)
    starts = [s.start.astimezone(UTC) for s in slots]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_a_normal_day_after_a_change_keeps_its_wall_times() -> None:
    hours = [{"provider": "lee", "location": "main", "weekday": "mon", "hours": {"start": "09:00", "end": "10:00"}}]
    before, after = (_search(_settings(hours=hours), first_day=d, now=datetime(2027, 3, 1, tzinfo=UTC))
                     for d in (date(2027, 3, 8), date(2027, 3, 15)))
    assert _walls(before) == _walls(after) == ["09:00", "09:30"]
    assert before[0].start.utcoffset() == timedelta(hours=-5) and after[0].start.utcoffset() == timedelta(hours=-4)


def test_ehr_free_slots_are_authoritative_for_their_provider() -> None:
    hours = [{"provider": p, "location": "main", "weekday": "mon", "hours": {"start": "09:00", "end": "12:00"}}
             for p in ("lee", "patel")]
    # Given the EHR says Dr. Lee is free only 09:30-10:30 and 11:00-11:30
    free = {"lee": [(_ny(MONDAY, 9, 30), _ny(MONDAY, 10)), (_ny(MONDAY, 10), _ny(MONDAY, 10, 30)),
                    (_ny(MONDAY, 11), _ny(MONDAY, 11, 30))]}
    slots = _search(_settings(hours=hours), ehr_free=free)
    assert _walls([s for s in slots if s.provider == "lee"]) == ["09:30", "10:00", "11:00"]
    assert len([s for s in slots if s.provider == "patel"]) == 6  # no EHR schedule: working hours rule
    # a free span longer than the slot covers it; adjacent spans merge for a longer type
    assert _walls([s for s in _search(_settings(hours=hours), type_id="cleaning", ehr_free=free)]) == ["09:30"]
    # free time outside working hours is still not bookable
    late = {"lee": [(_ny(MONDAY, 17), _ny(MONDAY, 18))]}
    assert [s for s in _search(_settings(hours=hours), ehr_free=late) if s.provider == "lee"] == []


def test_the_demo_practice_has_slots_on_weekdays_only() -> None:
    booking = demo_profile().booking
    assert booking is not None
    now = datetime(2027, 1, 4, 8, tzinfo=NY)  # a Monday morning
    slots = open_slots(booking, type_id="exam", first_day=date(2027, 1, 4), days=14, now=now, busy=(),
                       zone_of=lambda _loc: NY)
    assert {s.start.strftime("%a") for s in slots} == {"Mon", "Tue", "Wed", "Thu", "Fri"}  # as its hours say
    assert not [s for s in slots if s.start.hour == 12 and s.provider == "lee"]  # lunch
    assert not [s for s in slots if s.start.date() == date(2027, 1, 18)]  # MLK Day
    assert min(s.start for s in slots) >= now + timedelta(hours=2)


# -- one property over arbitrary days: what is offered never collides, lies inside hours, is sorted


_minutes = st.integers(min_value=0, max_value=23 * 60).map(lambda m: m - m % 5)


@st.composite
def _day_plan(draw: st.DrawFn) -> tuple[BookingSettings, list[Busy], date]:
    opens = draw(st.integers(min_value=0, max_value=20 * 60))
    closes = draw(st.integers(min_value=opens + 60, max_value=24 * 60 - 1))
    pause = draw(st.integers(min_value=opens, max_value=closes - 30))
    pause_end = draw(st.integers(min_value=pause + 5, max_value=min(pause + 90, closes)))
    hhmm = lambda m: f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731
    hours = [{"provider": "lee", "location": loc, "weekday": "sun", "hours": {"start": hhmm(opens), "end": hhmm(closes)},
              "breaks": [{"start": hhmm(pause), "end": hhmm(pause_end)}]} for loc in ("main", "chicago")]
    settings_ = _settings(hours=hours, step_minutes=draw(st.sampled_from([5, 10, 15, 30])))
    day = draw(st.sampled_from([SPRING, FALL, date(2027, 6, 6)]))
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    busy = [Busy("lee", base + timedelta(minutes=s), base + timedelta(minutes=s + n))
            for s, n in draw(st.lists(st.tuples(st.integers(0, 36 * 60), st.integers(5, 120)), max_size=8))]
    return settings_, busy, day


@settings(max_examples=150, deadline=None)
@given(plan=_day_plan(), kind=st.sampled_from(["exam", "cleaning"]))
def test_offered_slots_never_collide_lie_inside_hours_and_are_sorted(plan: tuple, kind: str) -> None:
    settings_, busy, day = plan
    slots = _search(settings_, type_id=kind, first_day=day, busy=tuple(busy), now=datetime(2027, 1, 1, tzinfo=UTC))
    minutes = settings_.type(kind).minutes  # type: ignore[union-attr]
    for s in slots:
        start, end = s.start.astimezone(UTC), s.end.astimezone(UTC)
        assert end - start == timedelta(minutes=minutes)
        assert not any(start < b.end and b.start < end for b in busy)
        zone = ZONES[s.location]
        row = settings_.hours[0]
        assert s.start.astimezone(zone).date() == day
        assert _reading(day, row.hours.opens, zone) <= start and end <= _reading(day, row.hours.closes, zone)
        for pause in row.breaks:
            assert not (start < _reading(day, pause.closes, zone) and _reading(day, pause.opens, zone) < end)
    keys = [(s.start.astimezone(UTC), s.provider) for s in slots]
    assert keys == sorted(keys)
    assert len({(s.start.astimezone(UTC), s.location) for s in slots}) == len(slots)


def _reading(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The instant a wall time means, worked out apart from the engine: its first occurrence, or
    for a wall time skipped by spring forward the first minute after it that exists."""
    at = datetime.combine(day, wall)
    while (at.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)) != at:
        at += timedelta(minutes=1)
    return at.replace(tzinfo=zone).astimezone(UTC)


def test_the_engine_builds_ordinary_slots() -> None:
    # the engine builds Slot objects its own fast way: they are the same as the constructor's
    slot = _search(_settings())[0]
    same = Slot(_ny(MONDAY, 9), "lee", _ny(MONDAY, 9, 30), "main", "exam")
    assert slot == same and hash(slot) == hash(same) and not slot < same
    assert repr(slot) == repr(same)
