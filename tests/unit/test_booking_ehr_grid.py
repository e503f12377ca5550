"""The EHR's booking grid end to end on the fakes: FHIR Schedule/Slot mapped, stored through the
record store (versions, out of order, moved Slots) and authoritative in the booking service's slots."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from careloop.booking import service
from careloop.ehr.common import EhrSchedule, EhrSlot
from careloop.ehr.payload import apply_batches, parse
from careloop.errors import BookingInputError
from tests.unit.test_booking_service import NOW, booking_services, token_for

TUESDAY = "2026-03-03"  # Dr. Lee and Dr. Patel work 09:00-12:00 there (hourly cleanings)


def _deliver(svc, *resources: dict):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    return apply_batches(svc, parse("fhir", json.dumps(bundle).encode(), svc), NOW)


def _schedule(updated: str = "2026-03-01T10:00:00Z", active: bool = True) -> dict:
    return {"resourceType": "Schedule", "id": "lee-main", "active": active, "meta": {"lastUpdated": updated},
            "actor": [{"reference": "Practitioner/lee", "display": "Dr. Lee"}, {"reference": "Location/main"}]}


def _slot(sid: str, start: str, end: str, status: str = "free", updated: str = "2026-03-01T10:00:00Z") -> dict:
    return {"resourceType": "Slot", "id": sid, "schedule": {"reference": "Schedule/lee-main"}, "status": status,
            "meta": {"lastUpdated": updated}, "start": f"{TUESDAY}T{start}:00-05:00", "end": f"{TUESDAY}T{end}:00-05:00"}


def _times(svc, provider: str) -> list[str]:
    answer = service.slots_for(svc, token_for(svc), "cleaning", TUESDAY, 1)
    return [s["start"][11:16] for s in answer["slots"] if s["provider"] == provider]


def test_a_schedule_and_its_slots_are_stored_and_only_the_free_ones_are_bookable():
    svc = booking_services()
    assert _times(svc, "lee") == ["09:00", "10:00", "11:00"]  # working hours, before the EHR says anything
    # Given the EHR sends Dr. Lee's schedule: free 10:00-11:00, busy 09:00-10:00 and 11:00-12:00
    result = _deliver(svc, _schedule(), _slot("s1", "09:00", "10:00", "busy"), _slot("s2", "10:00", "11:00"),
                      _slot("s3", "11:00", "12:00", "busy-unavailable"))
    # Then all of it is stored (the Schedule with its provider and location)...
    assert result.grid == ["Schedule/lee-main", "Slot/s1", "Slot/s2", "Slot/s3"] and result.stale == []
    assert svc.records.schedules() == [EhrSchedule("lee-main", "lee", "main")]
    window = svc.records.slots_between("lee-main", datetime(2026, 3, 3, 15, tzinfo=UTC), datetime(2026, 3, 3, 16, tzinfo=UTC))
    assert [s.id for s in window] == ["s2"]
    # ...and Dr. Lee is offered only inside the free slot; Dr. Patel, with no EHR schedule, by hours
    assert _times(svc, "lee") == ["10:00"]
    assert _times(svc, "patel") == ["09:00", "10:00", "11:00"]


def test_a_slot_that_comes_before_its_schedule_is_kept_and_counts_once_the_schedule_arrives():
    svc = booking_services()
    # Given a free Slot on a Schedule Careloop has not seen yet
    assert _deliver(svc, _slot("s2", "10:00", "11:00")).grid == ["Slot/s2"]
    assert _times(svc, "lee") == ["09:00", "10:00", "11:00"]  # no schedule known: working hours still rule
    # When the Schedule arrives on its own
    _deliver(svc, _schedule())
    # Then the stored Slot is what Dr. Lee offers
    assert _times(svc, "lee") == ["10:00"]


def test_an_older_version_never_overwrites_a_newer_one():
    svc = booking_services()
    # Given version 2 of the slot (taken at the front desk) arrives before version 1 (free)
    _deliver(svc, _schedule(), _slot("s2", "10:00", "11:00", "busy", updated="2026-03-02T09:00:00Z"))
    late = _deliver(svc, _slot("s2", "10:00", "11:00", "free", updated="2026-03-01T09:00:00Z"),
                    _schedule(updated="2026-02-01T00:00:00Z", active=False))
    # Then the late deliveries are reported stale and change nothing: Dr. Lee has no free time
    assert late.stale == ["Schedule/lee-main", "Slot/s2"] and late.grid == []
    assert _times(svc, "lee") == []
    # And a redelivery of the newest is harmless
    assert _deliver(svc, _slot("s2", "10:00", "11:00", "busy", updated="2026-03-02T09:00:00Z")).stale == []
    assert _times(svc, "lee") == []


def test_a_slot_moved_by_a_newer_version_is_only_where_it_is_now():
    svc = booking_services()
    _deliver(svc, _schedule(), _slot("s2", "09:00", "10:00"))
    assert _times(svc, "lee") == ["09:00"]
    _deliver(svc, _slot("s2", "11:00", "12:00", updated="2026-03-02T09:00:00Z"))
    assert _times(svc, "lee") == ["11:00"]


def test_booking_goes_through_the_ehr_free_slot_and_refuses_a_time_outside_it():
    svc = booking_services()
    _deliver(svc, _schedule(), _slot("s2", "10:00", "11:00"))
    token = token_for(svc)
    booked = service.book(svc, token, "cleaning", f"{TUESDAY}T10:00:00-05:00", "lee")
    assert booked.appointment.provider == "lee" and booked.status == "booked"
    other = token_for(svc, "p2")
    # Then a time the EHR holds busy is not an open slot, even inside Dr. Lee's working hours
    with pytest.raises(BookingInputError, match="start"):
        service.book(svc, other, "cleaning", f"{TUESDAY}T09:00:00-05:00", "lee")


def test_the_window_query_finds_a_slot_that_began_before_the_window():
    svc = booking_services()
    svc.records.put_slot(EhrSlot("long", "x", datetime(2026, 3, 3, 8, tzinfo=UTC), datetime(2026, 3, 3, 20, tzinfo=UTC),
                                 "free"))
    assert [s.id for s in svc.records.slots_between("x", datetime(2026, 3, 3, 19, tzinfo=UTC),
                                                    datetime(2026, 3, 3, 21, tzinfo=UTC))] == ["long"]
    assert svc.records.slots_between("x", datetime(2026, 3, 3, 20, tzinfo=UTC), datetime(2026, 3, 3, 21, tzinfo=UTC)) == []
