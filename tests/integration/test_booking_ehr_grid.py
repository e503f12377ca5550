"""The EHR's booking grid on DynamoDB (moto): the record store's Schedule/Slot methods answer as the
fake does, and a Bundle posted to the FHIR webhook decides what the booking routes offer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from careloop.ehr.common import EhrSchedule, EhrSlot
from careloop.models import Patient
from tests.integration.conftest import booking_stack
from tests.integration.test_booking_routes import call
from tests.integration.test_ehr_webhook import post

T0 = datetime(2027, 3, 1, 14, tzinfo=UTC)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with booking_stack(tmp_path_factory) as s:
        yield s


def _slot(sid: str, hour: int, status: str = "free", version: str = "v1", schedule: str = "g-lee") -> EhrSlot:
    return EhrSlot(sid, schedule, T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1), status, version)


def _answers(records) -> dict:
    window = (T0 + timedelta(hours=1), T0 + timedelta(hours=4))
    return {
        "schedules": sorted((s.id, s.provider, s.location, s.version) for s in records.schedules()
                            if s.id.startswith("g-")),
        "window": [(s.id, s.start, s.end, s.status, s.version) for s in records.slots_between("g-lee", *window)],
        "other": [s.id for s in records.slots_between("g-patel", *window)],
    }


def test_the_grid_store_answers_alike_on_dynamodb_and_in_memory(ports):
    # (providers the profile does not have: this module's booking routes are not touched)
    from careloop_local.fakes import MemoryRecords

    answers, writes = {}, {}
    for name, records in (("memory", MemoryRecords()), ("dynamo", ports.records)):
        writes[name] = [
            records.put_schedule(EhrSchedule("g-lee", "dr-x", "main", "2027-02-01#2")),
            records.put_schedule(EhrSchedule("g-lee", None, None, "2027-01-01#1")),  # older: refused
            records.put_schedule(EhrSchedule("g-patel", "dr-y", None, "")),
            records.put_slot(_slot("g1", 0)),  # ends as the window opens: not in it
            records.put_slot(_slot("g2", 1, version="v1")),
            records.put_slot(_slot("g2", 2, "busy", version="v2")),  # moved and taken
            records.put_slot(_slot("g2", 1, version="v1")),  # the late older one: refused
            records.put_slot(_slot("g3", 3)),
            records.put_slot(_slot("g3", 3, version="")),  # unversioned never replaces versioned
            records.put_slot(_slot("g4", 2, schedule="g-patel", version="v1")),
            records.put_slot(_slot("g4", 2, schedule="g-lee", version="v2")),  # moved to another schedule
        ]
        answers[name] = _answers(records)
    assert writes["memory"] == writes["dynamo"] == [True, False, True, True, True, True, False, True, False, True, True]
    assert answers["memory"] == answers["dynamo"]
    assert answers["dynamo"]["window"] == [
        ("g2", T0 + timedelta(hours=2), T0 + timedelta(hours=3), "busy", "v2"),
        ("g4", T0 + timedelta(hours=2), T0 + timedelta(hours=3), "free", "v2"),
        ("g3", T0 + timedelta(hours=3), T0 + timedelta(hours=4), "free", "v1")]
    assert answers["dynamo"]["other"] == []
    assert answers["dynamo"]["schedules"] == [("g-lee", "dr-x", "main", "2027-02-01#2"), ("g-patel", "dr-y", None, "")]


def _fhir_slot(sid: str, start: datetime, status: str) -> dict:
    return {"fullUrl": f"urn:uuid:{sid}", "resource": {
        "resourceType": "Slot", "id": sid, "schedule": {"reference": "Schedule/ehr-lee"}, "status": status,
        "meta": {"lastUpdated": "2026-11-20T10:00:00Z"},
        "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}}


def test_a_bundle_posted_to_the_webhook_decides_the_times_the_booking_routes_offer(served, stack):
    from careloop.adapters.aws import services
    from careloop.booking.links import mint
    from careloop.booking.service import zone_for

    svc = services()
    patient = Patient(id="p-grid", first_name="Di", phone="+16175550191", phone_kind="mobile")
    svc.records.put_patient(patient)
    token = mint(svc, patient, "rebook", ref="test-grid").token
    zone = zone_for(svc, "main")
    day = (svc.clock.now() + timedelta(days=3)).astimezone(zone).date()
    at = [datetime(day.year, day.month, day.day, h, tzinfo=zone) for h in (10, 11, 14)]
    slots_url = f"{served}/booking/api/slots?t={token}&type=cleaning&from={day.isoformat()}&days=1"
    status, before = call(slots_url)
    assert status == 200 and len(before["slots"]) == 8  # Dr. Lee's working hours, 09:00-17:00 hourly

    # Given the EHR posts Dr. Lee's Schedule with two free slots and one busy one
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:sched", "resource": {
            "resourceType": "Schedule", "id": "ehr-lee", "meta": {"lastUpdated": "2026-11-20T10:00:00Z"},
            "actor": [{"reference": "Practitioner/lee", "display": "Dr. Lee"}]}},
        _fhir_slot("ehr-s1", at[0], "free"), _fhir_slot("ehr-s2", at[1], "busy"), _fhir_slot("ehr-s3", at[2], "free")]}
    status, outcome = post(served, "/ehr/fhir", json.dumps(bundle).encode())
    assert status == 200, outcome
    stack.drain()
    # Then the slots route offers exactly the free ones, with the spec's fields
    status, after = call(slots_url)
    assert status == 200
    assert [s["start"] for s in after["slots"]] == [at[0].isoformat(), at[2].isoformat()]
    assert {s["provider"] for s in after["slots"]} == {"lee"}
    # And a time outside them is refused as no open slot (400 naming `start`), the free one books
    status, refused = call(f"{served}/booking/api/book", "POST", {"t": token, "type": "cleaning", "start": at[1].isoformat()})
    assert status == 400 and "start" in refused["error"]
    status, booked = call(f"{served}/booking/api/book", "POST", {"t": token, "type": "cleaning", "start": at[2].isoformat()})
    assert status == 201 and booked["appointment"]["start"] == at[2].isoformat()


def test_appointments_in_a_window_answer_alike_on_dynamodb_and_in_memory(ports):
    # Given appointments before, across, inside and after a window (one running into it from the
    # day before, one that ends as it opens), in both stores
    from careloop.models import Appointment
    from careloop_local.fakes import MemoryRecords

    start, end = T0 + timedelta(days=30), T0 + timedelta(days=30, hours=8)
    shapes = {"w-before": (-3, 60), "w-ends-at-open": (-1, 60), "w-across-open": (-1, 120),
              "w-inside": (2, 30), "w-last": (7, 120), "w-at-close": (8, 30), "w-overnight": (-20, 23 * 60)}
    answers = {}
    for name, records in (("memory", MemoryRecords()), ("dynamo", ports.records)):
        for aid, (hours, minutes) in shapes.items():
            records.put_appointment(Appointment(id=aid, patient_id="p-window", start=start + timedelta(hours=hours),
                                                minutes=minutes))
        # When the slot search asks for the window
        answers[name] = sorted(a.id for a in records.appointments_between(start, end) if a.id.startswith("w-"))
    # Then both answer exactly the appointments overlapping it, the overnight one included
    assert answers["memory"] == answers["dynamo"] == ["w-across-open", "w-inside", "w-last", "w-overnight"]
