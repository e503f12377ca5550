"""FHIR Schedule and Slot from the EHR: mapped into the batch, tied to the practice's providers,
and authoritative for them in the slot engine (only free Slots are bookable)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from careloop.booking.slots import ehr_free_spans, open_slots
from careloop.ehr.common import EhrSlot
from careloop.ehr.fhir import parse_fhir
from careloop.practice import demo_profile

NY = ZoneInfo("America/New_York")


def _bundle(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def _slot(sid: str, start: str, end: str, status: str = "free", schedule: str = "Schedule/lee-main") -> dict:
    return {"resourceType": "Slot", "id": sid, "schedule": {"reference": schedule}, "status": status,
            "start": start, "end": end}


SCHEDULE = {"resourceType": "Schedule", "id": "lee-main", "active": True,
            "actor": [{"reference": "Practitioner/lee", "display": "Dr. Lee"}, {"reference": "Location/main"}]}


def test_a_schedule_and_its_slots_map_to_the_practice_provider() -> None:
    # Given a Bundle with Dr. Lee's schedule, one free and one busy slot
    batch = parse_fhir(_bundle(_slot("s2", "2027-03-01T10:00:00-05:00", "2027-03-01T10:30:00-05:00", "busy"),
                               SCHEDULE,
                               _slot("s1", "2027-03-01T09:00:00-05:00", "2027-03-01T10:00:00-05:00")), demo_profile())
    # Then the schedule is Dr. Lee's (the profile's id) and both slots are kept with their status
    assert batch.schedules == {"lee-main": "lee"}
    assert sorted(batch.slots, key=lambda s: s.id) == [
        EhrSlot("s1", "lee-main", datetime(2027, 3, 1, 14, tzinfo=UTC), datetime(2027, 3, 1, 15, tzinfo=UTC), "free"),
        EhrSlot("s2", "lee-main", datetime(2027, 3, 1, 15, tzinfo=UTC), datetime(2027, 3, 1, 15, 30, tzinfo=UTC), "busy")]
    assert batch.warnings == []


def test_a_schedule_is_matched_by_the_practitioner_name_when_ids_differ() -> None:
    schedule = {"resourceType": "Schedule", "id": "x9", "actor": [{"reference": "Practitioner/ehr-771", "display": "Dr. Patel"}]}
    assert parse_fhir(schedule, demo_profile()).schedules == {"x9": "patel"}


def test_a_schedule_of_no_provider_of_the_practice_is_kept_as_none_quietly() -> None:
    room = {"resourceType": "Schedule", "id": "room-2", "actor": [{"reference": "Location/2"}]}
    batch = parse_fhir(room, demo_profile())
    assert batch.schedules == {"room-2": None} and batch.warnings == []
    inactive = dict(SCHEDULE, active=False)
    assert parse_fhir(inactive, demo_profile()).schedules == {"lee-main": None}


def test_unusable_slots_are_skipped_with_a_coded_warning() -> None:
    batch = parse_fhir(_bundle(_slot("bad1", "2027-03-01T10:00:00-05:00", "2027-03-01T09:00:00-05:00"),
                               _slot("bad2", "2027-03-01T10:00:00-05:00", "2027-03-01T11:00:00-05:00", "maybe"),
                               _slot("bad3", "2027-03-01T10:00:00", "2027-03-01T11:00:00")), demo_profile())
    assert batch.slots == []
    assert [w.code for w in batch.warnings] == ["bad_slot"] * 3
    assert [w.refs for w in batch.warnings] == [("Slot/bad1",), ("Slot/bad2",), ("Slot/bad3",)]


def test_free_ehr_slots_are_what_the_engine_offers_for_that_provider() -> None:
    # Given Dr. Lee's EHR schedule is free only 09:00-10:00 on Monday 2027-03-01 (one busy slot after)
    batch = parse_fhir(_bundle(SCHEDULE, _slot("s1", "2027-03-01T09:00:00-05:00", "2027-03-01T10:00:00-05:00"),
                               _slot("s2", "2027-03-01T10:00:00-05:00", "2027-03-01T10:30:00-05:00", "busy")),
                       demo_profile())
    free = ehr_free_spans(batch.schedules, batch.slots)
    booking = demo_profile().booking
    assert booking is not None
    slots = open_slots(booking, type_id="exam", first_day=date(2027, 3, 1), days=1,
                       now=datetime(2027, 2, 1, tzinfo=UTC), busy=(), zone_of=lambda _loc: NY, ehr_free=free)
    # Then Dr. Lee is offered only inside it; Dr. Patel, with no EHR schedule, by working hours
    assert [s.start.strftime("%H:%M") for s in slots if s.provider == "lee"] == ["09:00", "09:15", "09:30"]
    assert len([s for s in slots if s.provider == "patel"]) > 20


def test_a_provider_whose_schedule_has_no_free_slot_is_not_bookable() -> None:
    free = ehr_free_spans({"lee-main": "lee", "room-2": None}, [
        EhrSlot("s2", "lee-main", datetime(2027, 3, 1, 15, tzinfo=UTC), datetime(2027, 3, 1, 16, tzinfo=UTC), "busy"),
        EhrSlot("s3", "room-2", datetime(2027, 3, 1, 15, tzinfo=UTC), datetime(2027, 3, 1, 16, tzinfo=UTC), "free"),
        EhrSlot("s4", "unknown", datetime(2027, 3, 1, 15, tzinfo=UTC), datetime(2027, 3, 1, 16, tzinfo=UTC), "free")])
    assert free == {"lee": []}
    booking = demo_profile().booking
    assert booking is not None
    slots = open_slots(booking, type_id="exam", first_day=date(2027, 3, 1), days=5,
                       now=datetime(2027, 2, 1, tzinfo=UTC), busy=(), zone_of=lambda _loc: NY, ehr_free=free)
    assert {s.provider for s in slots} == {"patel"}
