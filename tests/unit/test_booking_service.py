"""The booking service on the fakes: types, open slots minus busy time, booking, rescheduling,
and the links' 404 / 410 and the 400s that name the field; two racing bookings, one winner."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from careloop.booking import links, service
from careloop.booking.availability import BookingSettings
from careloop.ehr.writeback import ListWritebackQueue, requests_for
from careloop.errors import BookingInputError, LinkGone, SlotTaken, UnknownLink
from careloop.models import Appointment, Patient
from careloop.practice import demo_profile
from careloop_local.fakes import memory_services

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # Mon 08:00 in Boston
BOOKING = {
    "types": [
        {"id": "cleaning", "name": {"en": "Cleaning", "es": "Limpieza"}, "minutes": 60, "providers": ["lee", "patel"]},
        {"id": "new-exam", "name": {"en": "New patient exam", "es": "Examen inicial"}, "minutes": 30,
         "providers": ["lee"], "new_patients": True},
        {"id": "surgery", "name": {"en": "Surgery", "es": "Cirugía"}, "minutes": 90, "providers": ["lee"],
         "online": False},
    ],
    "hours": [{"provider": p, "location": "main", "weekday": d, "hours": {"start": "09:00", "end": "12:00"}}
              for p in ("lee", "patel") for d in ("mon", "tue", "wed", "thu", "fri")],
    "lead_minutes": 120,
    "step_minutes": 60,
}


def booking_services(mode: str = "instant", link_days: int = 14):
    settings = BookingSettings.model_validate(BOOKING | {"mode": mode, "link_days": link_days})
    practice = demo_profile().model_copy(update={"booking": settings,
                                                 "ehr": demo_profile().ehr.model_copy(
                                                     update={"writeback": True, "fhir_base_url": "https://ehr.test/fhir"})})
    svc = memory_services(NOW, practice=practice, workflows=())
    svc.booking_base_url = "http://127.0.0.1:8000"
    svc.writeback = ListWritebackQueue()
    svc.records.put_patient(Patient(id="p1", first_name="Ana", phone="+16175550111", language="es"))
    svc.records.put_patient(Patient(id="p2", first_name="Bo", phone="+16175550122"))
    # both have been seen before, so they are not new patients
    for pid in ("p1", "p2"):
        svc.records.put_appointment(Appointment(id=f"old-{pid}", patient_id=pid, status="fulfilled",
                                                start=NOW - timedelta(days=90), provider="lee", location="main"))
    return svc


def token_for(svc, patient_id="p1", purpose="book", appointment_id=None, ref=None):
    patient = svc.records.get_patient(patient_id)
    return links.mint(svc, patient, purpose, ref=ref or f"ref-{patient_id}-{purpose}",
                      appointment_id=appointment_id).token


def test_a_link_is_short_unguessable_and_minted_once_per_ref():
    svc = booking_services()
    patient = svc.records.get_patient("p1")
    url = links.booking_url_for(svc, patient, "rebook", ref="m-1")
    # Then it is <base>/b/<12 base62 chars>, and the same message gets the same link again
    assert url.startswith("http://127.0.0.1:8000/b/") and links.looks_like_token(url.rsplit("/", 1)[1])
    assert links.booking_url_for(svc, patient, "rebook", ref="m-1") == url
    assert links.booking_url_for(svc, patient, "rebook", ref="m-2") != url
    assert len(links.WORST_CASE_URL) >= len(url)


def test_types_are_the_online_ones_in_the_patients_language():
    svc = booking_services()
    assert service.types_for(svc, token_for(svc)) == [{"id": "cleaning", "name": "Limpieza", "minutes": 60},
                                                      {"id": "new-exam", "name": "Examen inicial", "minutes": 30}]


def test_a_new_patient_sees_only_types_for_new_patients():
    svc = booking_services()
    svc.records.put_patient(Patient(id="p3", first_name="Cy", phone="+16175550133"))
    assert [t["id"] for t in service.types_for(svc, token_for(svc, "p3"))] == ["new-exam"]


def test_slots_are_working_time_minus_booked_appointments_and_claims():
    svc = booking_services()
    token = token_for(svc)
    before = service.slots_for(svc, token, "cleaning", "2026-03-03", 1)
    assert before["timezone"] == "America/New_York"
    assert [(s["start"], s["provider"]) for s in before["slots"]][:2] == [
        ("2026-03-03T09:00:00-05:00", "lee"), ("2026-03-03T09:00:00-05:00", "patel")]
    assert len(before["slots"]) == 6  # 9, 10, 11 for each of two providers
    # When the EHR books Dr. Lee at 9 (by display name) and someone else's claim takes Dr. Patel at 10
    svc.records.put_appointment(Appointment(id="e1", patient_id="p2", provider="Dr. Lee", location="main",
                                            start=datetime(2026, 3, 3, 14, 0, tzinfo=UTC), minutes=60))
    service.book(svc, token_for(svc, "p2"), "cleaning", "2026-03-03T10:00:00-05:00", "patel")
    after = {(s["start"], s["provider"]) for s in service.slots_for(svc, token, "cleaning", "2026-03-03", 1)["slots"]}
    assert ("2026-03-03T09:00:00-05:00", "lee") not in after
    assert ("2026-03-03T10:00:00-05:00", "patel") not in after
    assert len(after) == 4


def test_booking_makes_a_careloop_appointment_confirms_at_once_and_writes_back():
    svc = booking_services()
    token = token_for(svc, purpose="rebook")
    booked = service.book(svc, token, "cleaning", "2026-03-03T11:00:00-05:00")
    appt = svc.records.get_appointment(booked.appointment.id)
    assert booked.status == "booked" and appt is not None
    assert appt.source == "careloop" and appt.id.startswith("careloop-") and appt.status == "booked"
    assert appt.start == datetime(2026, 3, 3, 16, 0, tzinfo=UTC) and appt.minutes == 60 and appt.provider == "lee"
    # one confirmation text at once, in Spanish, with the zone named; not an automated (gated) one
    texts = [m for m in svc.outbox.sent if m.appointment_id == appt.id]
    assert len(texts) == 1 and not texts[0].automated and "EST" in texts[0].body and "Limpieza" in texts[0].body
    # the EHR is told: a FHIR Appointment create, conditional on the Careloop identifier
    (event,) = svc.writeback.events
    assert event.kind == "appointment_created" and event.appointment_id == appt.id
    (request,) = requests_for(event, appt)
    assert request.method == "POST" and request.path == "Appointment"
    assert request.headers["If-None-Exist"].endswith(f"|{appt.id}")
    assert request.body["identifier"][0]["value"] == appt.id


def test_a_spent_link_is_410_and_books_nothing_more():
    svc = booking_services()
    token = token_for(svc)
    service.book(svc, token, "cleaning", "2026-03-03T11:00:00-05:00")
    with pytest.raises(LinkGone):
        service.book(svc, token, "cleaning", "2026-03-04T11:00:00-05:00")
    with pytest.raises(LinkGone):
        service.types_for(svc, token)
    assert len([a for a in svc.records.all_appointments() if a.source == "careloop"]) == 1


def test_an_expired_link_is_410():
    svc = booking_services(link_days=1)
    token = token_for(svc)
    svc.clock.set(NOW + timedelta(days=1, seconds=1))
    with pytest.raises(LinkGone):
        service.slots_for(svc, token, "cleaning", "2026-03-03", 1)


@pytest.mark.parametrize("token", ["AAAAAAAAAAAA", "short", "", None, "../../etc/passwd", "x" * 500])
def test_a_forged_token_is_404_and_says_nothing_about_a_patient(token):
    svc = booking_services()
    with pytest.raises(UnknownLink) as err:
        service.types_for(svc, token)
    assert str(err.value) == "unknown link"


@pytest.mark.parametrize(("args", "field"), [
    (("nope", "2026-03-03T11:00:00-05:00"), "type"),
    (("surgery", "2026-03-03T11:00:00-05:00"), "type"),
    (("cleaning", "tomorrow"), "start"),
    (("cleaning", "2026-03-03T11:00:00"), "start"),
    (("cleaning", "2026-03-03T11:07:00-05:00"), "start"),
    (("cleaning", "2026-03-03T11:00:00-05:00", "nobody"), "provider"),
])
def test_bad_input_is_400_naming_the_field(args, field):
    svc = booking_services()
    with pytest.raises(BookingInputError) as err:
        service.book(svc, token_for(svc), *args)
    assert err.value.field == field


@pytest.mark.parametrize(("args", "field"), [(("cleaning", "03/03/2026", 1), "from"),
                                             (("cleaning", "2026-03-03", "many"), "days"),
                                             (("cleaning", "2026-03-03", 400), "days")])
def test_bad_slot_queries_are_400_naming_the_field(args, field):
    svc = booking_services()
    with pytest.raises(BookingInputError) as err:
        service.slots_for(svc, token_for(svc), *args)
    assert err.value.field == field


def test_a_taken_slot_is_409_and_offers_the_next_ones():
    svc = booking_services()
    service.book(svc, token_for(svc, "p2"), "cleaning", "2026-03-03T11:00:00-05:00", "lee")
    with pytest.raises(SlotTaken) as err:
        service.book(svc, token_for(svc), "cleaning", "2026-03-03T11:00:00-05:00", "lee")
    offered = err.value.alternatives
    assert 1 <= len(offered) <= service.ALTERNATIVES
    assert all(o["start"] > "2026-03-03T11:00:00-05:00" for o in offered)


def test_reschedule_cancels_the_old_appointment_and_tells_the_ehr():
    svc = booking_services()
    svc.records.put_appointment(Appointment(id="e9", patient_id="p1", provider="lee", location="main",
                                            start=datetime(2026, 3, 5, 14, 0, tzinfo=UTC), minutes=60))
    token = token_for(svc, purpose="reschedule", appointment_id="e9")
    # the slot of the appointment being moved is offered to its own patient
    starts = {s["start"] for s in service.slots_for(svc, token, "cleaning", "2026-03-05", 1)["slots"]
              if s["provider"] == "lee"}
    assert "2026-03-05T09:00:00-05:00" in starts
    booked = service.book(svc, token, "cleaning", "2026-03-06T10:00:00-05:00", "lee")
    assert svc.records.get_appointment("e9").status == "cancelled"
    assert svc.records.get_appointment(booked.appointment.id).status == "booked"
    kinds = [(e.kind, e.appointment_id) for e in svc.writeback.events]
    assert ("appointment_cancelled", "e9") in kinds and ("appointment_created", booked.appointment.id) in kinds


def test_request_mode_holds_the_slot_creates_a_task_and_says_pending():
    svc = booking_services(mode="request")
    booked = service.book(svc, token_for(svc), "cleaning", "2026-03-03T11:00:00-05:00", "lee")
    assert booked.status == "requested" and booked.appointment.status == "pending"
    (task,) = [m for m in svc.notifier.notified if m.kind == "task"]
    assert task.appointment_id == booked.appointment.id and task.team == "front_desk"
    assert svc.writeback.events == []  # staff enter it in the practice-management system
    # the hold keeps the slot from anyone else
    taken = {(s["start"], s["provider"]) for s in service.slots_for(svc, token_for(svc, "p2"), "cleaning",
                                                                    "2026-03-03", 1)["slots"]}
    assert ("2026-03-03T11:00:00-05:00", "lee") not in taken


def test_two_threads_racing_for_one_slot_one_wins():
    svc = booking_services()
    tokens = [token_for(svc, "p1"), token_for(svc, "p2")]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(token: str) -> None:
        barrier.wait()
        try:
            service.book(svc, token, "cleaning", "2026-03-03T11:00:00-05:00", "lee")
            outcomes.append("201")
        except SlotTaken:
            outcomes.append("409")

    threads = [threading.Thread(target=attempt, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["201", "409"]
    assert len([a for a in svc.records.all_appointments() if a.source == "careloop"]) == 1


class CrashOnceRecords:
    """RecordStore that dies once on storing the first Careloop appointment: a crash between
    spend_link and put_appointment, as a Lambda timeout would leave it."""

    def __init__(self, records):
        self._records, self.crashed = records, False

    def __getattr__(self, name):
        return getattr(self._records, name)

    def put_appointment(self, appointment):
        if appointment.source == "careloop" and not self.crashed:
            self.crashed = True
            raise RuntimeError("crashed before the appointment was stored")
        return self._records.put_appointment(appointment)


def test_a_retry_after_a_crash_between_spend_and_store_finishes_the_booking_instead_of_410():
    svc = booking_services()
    svc.records = CrashOnceRecords(svc.records)
    token = token_for(svc, purpose="rebook")
    with pytest.raises(RuntimeError):
        service.book(svc, token, "cleaning", "2026-03-03T11:00:00-05:00", "lee")
    spent = svc.booking.get_link(token)
    assert spent.spent_at is not None and svc.records.get_appointment(spent.booked_appointment_id) is None
    # When the patient taps again: the link still opens, its own claim does not hide the slot
    assert any(s["start"] == "2026-03-03T11:00:00-05:00" and s["provider"] == "lee"
               for s in service.slots_for(svc, token, "cleaning", "2026-03-03", 1)["slots"])
    booked = service.book(svc, token, "cleaning", "2026-03-03T11:00:00-05:00", "lee")
    # Then that booking is finished under the id the spend named, once, with one text
    assert booked.appointment.id == spent.booked_appointment_id
    assert svc.records.get_appointment(booked.appointment.id).status == "booked"
    assert len([m for m in svc.outbox.sent if m.appointment_id == booked.appointment.id]) == 1
    assert [e.kind for e in svc.writeback.events] == ["appointment_created"]
    # and now the link is spent for good
    with pytest.raises(LinkGone):
        service.book(svc, token, "cleaning", "2026-03-04T11:00:00-05:00", "lee")


def test_a_retry_after_a_crash_on_another_slot_frees_the_first_tries_claim():
    svc = booking_services()
    svc.records = CrashOnceRecords(svc.records)
    token = token_for(svc, purpose="rebook")
    with pytest.raises(RuntimeError):
        service.book(svc, token, "cleaning", "2026-03-03T11:00:00-05:00", "lee")
    booked = service.book(svc, token, "cleaning", "2026-03-04T10:00:00-05:00", "lee")
    assert booked.appointment.start == datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    others = {(s["start"], s["provider"]) for s in service.slots_for(svc, token_for(svc, "p2"), "cleaning",
                                                                     "2026-03-03", 1)["slots"]}
    assert ("2026-03-03T11:00:00-05:00", "lee") in others  # the crashed try holds nothing


def test_book_for_patient_is_the_text_path_same_ref_same_appointment_once():
    svc = booking_services()
    svc.records.put_appointment(Appointment(id="e9", patient_id="p2", provider="lee", location="main",
                                            start=datetime(2026, 3, 5, 14, 0, tzinfo=UTC), minutes=60))
    patient, kind = svc.records.get_patient("p2"), svc.practice.booking.type("cleaning")
    (slot, *_) = service.slots_near(svc, patient, kind, None, after=None, ignore="e9")
    first = service.book_for_patient(svc, patient, kind, slot, moves="e9", ref="offer-1#1")
    again = service.book_for_patient(svc, patient, kind, slot, moves="e9", ref="offer-1#1")
    assert first.appointment.id == again.appointment.id and first.appointment.source == "careloop"
    assert svc.records.get_appointment("e9").status == "cancelled"
    assert len([m for m in svc.outbox.sent if m.appointment_id == first.appointment.id]) == 1
    assert [e.kind for e in svc.writeback.events] == ["appointment_cancelled", "appointment_created"]
    # another patient's booking of the same slot loses, with the next open ones
    with pytest.raises(SlotTaken) as err:
        service.book_for_patient(svc, svc.records.get_patient("p1"), kind, slot, moves=None, ref="offer-2#1")
    assert err.value.alternatives and all(a["start"] > slot.start.isoformat() for a in err.value.alternatives)


def test_one_link_is_limited_per_minute_and_others_are_not():
    # Given a link whose page asks as often as the limit allows this minute
    from careloop.errors import TooManyRequests

    svc = booking_services()
    token, other = token_for(svc), token_for(svc, "p2")
    for _ in range(service.REQUESTS_PER_LINK_PER_MINUTE):
        service.types_for(svc, token)
    # When it asks once more, it is refused with 429; another patient's link is not
    with pytest.raises(TooManyRequests) as refused:
        service.slots_for(svc, token, "cleaning", "2026-03-03", 1)
    assert refused.value.status == 429 and refused.value.retry_after == 60
    assert service.types_for(svc, other)
    # And the next minute it is served again
    svc.clock.set(NOW + timedelta(minutes=1))
    assert service.types_for(svc, token)
