"""Rescheduling by text on the fakes: "R" and "next tuesday?" get three open times of the
appointment's type (en/es, the zone named, within the part budget), a plain pick books it and
moves the appointment once, and a taken time, an expired offer, a mismatch and a DST week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from careloop.agent import inbound
from careloop.agent.classifier import classify
from careloop.agent.when import When
from careloop.booking import links, offers, service
from careloop.booking.availability import BookingSettings
from careloop.booking.service import book_for_patient, slots_near
from careloop.models import Appointment, Patient
from careloop.sms.parts import count_parts, encoding
from careloop.workflows.model import MAX_PARTS
from careloop_local.fakes import memory_services
from tests.conftest import NY

BASE = "http://127.0.0.1:8000"
ANA, LUZ = "+16175550171", "+16175550172"
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=NY)  # Mon Nov 30, 08:30 in Boston
VISIT = datetime(2026, 12, 3, 10, 0, tzinfo=NY)  # Thu Dec 3 10:00: the appointment to move
WEEK = ("mon", "tue", "wed", "thu", "fri")
BOOKING = {
    "types": [
        {"id": "cleaning", "name": {"en": "Cleaning", "es": "Limpieza"}, "minutes": 60, "providers": ["lee", "patel"]},
        {"id": "checkup", "name": {"en": "Check-up", "es": "Revisión"}, "minutes": 30, "providers": ["patel"],
         "visit_type": "check-up"},
    ],
    "hours": [{"provider": "lee", "location": "main", "weekday": d, "hours": {"start": "09:00", "end": "12:00"}}
              for d in WEEK]
    + [{"provider": "patel", "location": "main", "weekday": d, "hours": {"start": "13:00", "end": "16:00"}}
       for d in WEEK],
    "lead_minutes": 120,
    "step_minutes": 60,
}


def rescheduling(booking: dict | None = None, now: datetime = NOW, visit: datetime = VISIT,
                 visit_type: str = "cleaning", with_booking: bool = True):
    svc = memory_services(now, workflows=())
    if with_booking:
        svc.practice = svc.practice.model_copy(update={"booking": BookingSettings.model_validate(booking or BOOKING)})
        svc.booking_base_url = BASE
    svc.records.put_patient(Patient(id="p-ana", first_name="Ana", phone=ANA))
    svc.records.put_patient(Patient(id="p-luz", first_name="Luz", phone=LUZ, language="es"))
    for pid, provider in (("p-ana", "lee"), ("p-luz", "patel")):
        svc.records.put_appointment(Appointment(id=f"a-{pid}", patient_id=pid, start=visit.astimezone(UTC),
                                                minutes=60, provider=provider, location="main", visit_type=visit_type))
    return svc


def text(svc, phone: str, body: str, inbound_id: str):
    """One inbound text, a minute after the last (texts of one conversation arrive apart)."""
    svc.clock.set(svc.clock.now() + timedelta(minutes=1))
    return inbound.handle_inbound(svc, phone, body, inbound_id)


def offer_of(svc, patient_id: str = "p-ana"):
    return svc.booking.latest_offer(patient_id)


def starts(offer) -> list[datetime]:
    return [s.start.astimezone(NY).replace(tzinfo=None) for s in offer.slots]


def test_bare_r_from_the_confirmation_text_reaches_reschedule():
    assert "reply R" in service._CONFIRM["booked"]["en"] and "responda R" in service._CONFIRM["booked"]["es"]
    assert classify("R").intent == classify("r").intent == "reschedule"


def test_r_gets_three_open_times_of_the_same_type_with_the_zone_and_a_reschedule_link():
    svc = rescheduling()
    outcome = text(svc, ANA, "R", "in-1")
    (reply,) = outcome.replies
    offer = offer_of(svc)
    # the earliest open times after the lead time, one per start (Dr. Lee's 11, then Dr. Patel's afternoon)
    assert starts(offer) == [datetime(2026, 11, 30, 11), datetime(2026, 11, 30, 13), datetime(2026, 11, 30, 14)]
    assert reply.body.startswith(
        "Ana, open times (EST): 1) Mon Nov 30 11:00 AM 2) Mon Nov 30 1:00 PM 3) Mon Nov 30 2:00 PM. "
        "Reply 1, 2 or 3, or pick another time: http://127.0.0.1:8000/b/")
    token = reply.body.rsplit("/b/", 1)[1]
    link = svc.booking.get_link(token)
    assert (link.purpose, link.appointment_id) == ("reschedule", "a-p-ana")
    # the stored offer: who, what it moves, the type, the reply that listed it, a day to answer
    assert (offer.patient_id, offer.moves, offer.type, offer.message_id) == ("p-ana", "a-p-ana", "cleaning",
                                                                              reply.message_id)
    assert offer.expires_at - offer.created_at == timedelta(hours=offers.OFFER_HOURS) == timedelta(hours=24)
    # the agent handles it: nothing for staff
    assert not outcome.needs_attention and svc.notifier.notified == []


@pytest.mark.parametrize(("body", "lang", "phone", "days"), [
    ("can we do later this week", "en", ANA, {date(2026, 12, 1)}),  # tomorrow on: Tue's first three
    ("N, next tuesday?", "en", ANA, {date(2026, 12, 1)}),
    ("puedo cambiar para el viernes?", "es", LUZ, {date(2026, 12, 4)}),
    ("next week", "en", ANA, {date(2026, 12, 7)}),
])
def test_the_times_are_near_what_the_patient_asked_for(body, lang, phone, days):
    svc = rescheduling()
    text(svc, phone, body, "in-1")
    offer = offer_of(svc, "p-ana" if phone == ANA else "p-luz")
    assert len(offer.slots) == 3 and {s.start.astimezone(NY).date() for s in offer.slots} == days


def test_spanish_offer_reads_in_spanish():
    svc = rescheduling()
    (reply,) = text(svc, LUZ, "el viernes a las 3", "in-1").replies
    # the three nearest 3 PM on Friday, in 24-hour time
    assert reply.body.startswith("Luz, horas libres (EST): 1) vie 4 dic 13:00 2) vie 4 dic 14:00 "
                                 "3) vie 4 dic 15:00. Responda 1, 2 o 3, o elija otra hora: http://127.0.0.1:8000/b/")
    assert count_parts(reply.body) == 1  # GSM-7 and short: one part on the local base URL


def test_the_appointments_visit_type_picks_the_booking_type():
    svc = rescheduling(visit_type="check-up")
    text(svc, ANA, "R", "in-1")
    offer = offer_of(svc)
    assert offer.type == "checkup" and all(s.provider == "patel" for s in offer.slots)
    assert all(s.end - s.start == timedelta(minutes=30) for s in offer.slots)


def test_offer_texts_keep_to_the_part_budget_en_2_parts_es_3_at_worst():
    svc = rescheduling()
    svc.booking_base_url = links.WORST_CASE_BASE
    svc.records.put_patient(Patient(id="p-ana", first_name="Maximiliana", phone=ANA))
    (en,) = text(svc, ANA, "R", "in-1").replies
    # a Spanish offer with a Saturday ("sáb": á is not GSM-7, so UCS-2) is the longest one
    saturday = BOOKING | {"hours": [*BOOKING["hours"], {"provider": "lee", "location": "main", "weekday": "sat",
                                                           "hours": {"start": "09:00", "end": "12:00"}}]}
    svc_es = rescheduling(saturday, now=datetime(2026, 12, 5, 7, 0, tzinfo=NY),
                          visit=datetime(2026, 12, 10, 10, 0, tzinfo=NY))
    svc_es.booking_base_url = links.WORST_CASE_BASE
    svc_es.records.put_patient(Patient(id="p-luz", first_name="Maximiliana", phone=LUZ, language="es"))
    (es,) = text(svc_es, LUZ, "R", "in-1").replies
    assert "sáb" in es.body and encoding(es.body) == "UCS2" and encoding(en.body) == "GSM"
    assert count_parts(en.body) == 2 and count_parts(es.body) == 3 <= MAX_PARTS


@pytest.mark.parametrize(("reply", "choice"), [
    ("1", 1), ("2", 2), ("3", 3), ("#2", 2), ("option 2", 2), ("the second one", 2), ("2 please", 2),
    ("el 2", 2), ("la primera", 1), ("2.", 2), ("Option #3", 3), ("la tercera, por favor", 3), ("yes 1", 1),
])
def test_each_reply_form_books_its_time_and_moves_the_appointment(reply, choice):
    svc = rescheduling()
    text(svc, ANA, "R", "in-1")
    picked = offer_of(svc).slots[choice - 1]
    outcome = text(svc, ANA, reply, "in-2")
    new = [a for a in svc.records.appointments_for_patient("p-ana") if a.source == "careloop"]
    assert [(a.start, a.provider, a.status) for a in new] == [(picked.start.astimezone(UTC), picked.provider, "booked")]
    assert svc.records.get_appointment("a-p-ana").status == "cancelled"
    # the booking's one confirmation is the answer; the offer is closed by this reply
    assert outcome.replies == [] and not outcome.needs_attention
    (confirmation,) = [m for m in svc.outbox.sent if m.step == "confirmation"]
    assert confirmation.appointment_id == new[0].id and "Cleaning" in confirmation.body and "EST" in confirmation.body
    closed = offer_of(svc)
    assert (closed.status, closed.choice, closed.closed_by) == ("closed", choice, outcome.message_id)


@pytest.mark.parametrize("body", ["2pm", "not 2", "4", "1 or 2", "12", "", "two or three", "the 2nd or 3rd"])
def test_what_is_not_plainly_one_of_the_times_picks_nothing(body):
    assert offers.choice_in(body, 3) is None


def test_a_reply_that_matches_nothing_goes_to_staff_and_the_offer_stays_open():
    svc = rescheduling()
    text(svc, ANA, "R", "in-1")
    outcome = text(svc, ANA, "hmm whichever is fine I guess", "in-2")
    assert outcome.needs_attention and outcome.reason == "replied to the offered times, but not with one of them"
    (alert,) = [m for m in svc.notifier.notified if m.kind == "staff_alert"]
    assert alert.team == "front_desk" and alert.appointment_id == "a-p-ana"
    assert [a for a in svc.records.all_appointments() if a.source == "careloop"] == []
    assert offer_of(svc).is_open(svc.clock.now())
    # and a plain pick still books afterwards
    text(svc, ANA, "3", "in-3")
    assert svc.records.get_appointment("a-p-ana").status == "cancelled"


def test_another_time_while_the_offer_is_open_gets_a_new_offer_near_it():
    svc = rescheduling()
    text(svc, ANA, "R", "in-1")
    first = offer_of(svc)
    (reply,) = text(svc, ANA, "none of those, can we do friday?", "in-2").replies
    second = offer_of(svc)
    assert second.offer_id != first.offer_id and {s.start.astimezone(NY).date() for s in second.slots} == {
        date(2026, 12, 4)}
    assert "Fri Dec 4" in reply.body


@pytest.mark.parametrize(("body", "intent"), [("STOP", "opt_out"), ("HELP", "help"),
                                              ("I have chest pain and can't breathe", "urgent")])
def test_urgent_stop_and_help_come_first_and_book_nothing(body, intent):
    svc = rescheduling()
    text(svc, ANA, "R", "in-1")
    outcome = text(svc, ANA, body, "in-2")
    assert outcome.intent == intent
    assert [a for a in svc.records.all_appointments() if a.source == "careloop"] == []
    assert offer_of(svc).status == "open"


def test_a_question_while_the_offer_is_open_is_answered_as_usual():
    svc = rescheduling()
    text(svc, ANA, "R", "in-1")
    outcome = text(svc, ANA, "what are your hours?", "in-2")
    assert outcome.intent == "hours" and not outcome.needs_attention and outcome.replies


def test_a_time_taken_meanwhile_gets_the_next_open_ones_as_a_new_offer():
    svc = rescheduling()
    text(svc, ANA, "R", "in-1")
    first = offer_of(svc)
    taken = first.slots[1]
    # Luz books Ana's second time through her own link first
    token = links.mint(svc, svc.records.get_patient("p-luz"), "book", ref="luz-link").token
    service.book(svc, token, "cleaning", taken.start.isoformat(), taken.provider)
    (reply,) = text(svc, ANA, "2", "in-2").replies
    second = offer_of(svc)
    assert reply.body.startswith("Sorry, that time was just taken. Open times (EST): 1) Mon Nov 30 11:00 AM")
    assert second.after_taken and second.offer_id != first.offer_id and taken.start not in {s.start for s in second.slots}
    assert len(second.slots) == 3 and svc.booking.offers[first.offer_id].status == "closed" and second.status == "open"
    assert svc.records.get_appointment("a-p-ana").status == "booked"  # nothing moved yet
    # the new offer's pick books
    text(svc, ANA, "1", "in-3")
    assert svc.records.get_appointment("a-p-ana").status == "cancelled"


def test_an_expired_offer_books_nothing():
    svc = rescheduling()
    text(svc, ANA, "R", "in-1")
    svc.clock.set(NOW + timedelta(hours=24, minutes=2))
    outcome = text(svc, ANA, "2", "in-2")
    assert [a for a in svc.records.all_appointments() if a.source == "careloop"] == []
    assert svc.records.get_appointment("a-p-ana").status == "booked" and outcome.needs_attention


def test_a_redelivered_pick_books_nothing_twice():
    svc = rescheduling()
    text(svc, ANA, "R", "in-1")
    text(svc, ANA, "2", "in-2")
    again = text(svc, ANA, "2", "in-2")
    assert again.duplicate
    assert len([a for a in svc.records.all_appointments() if a.source == "careloop"]) == 1
    assert len([m for m in svc.outbox.sent if m.step == "confirmation"]) == 1


class CrashingBooking:
    """The booking store, dying once right after the offer is closed: a Lambda that timed out
    between the close and the booking; the redelivery must finish the pick."""

    def __init__(self, store):
        self._store, self.crashed = store, False

    def __getattr__(self, name):
        return getattr(self._store, name)

    def close_offer(self, offer, by, choice, at):
        closed = self._store.close_offer(offer, by, choice, at)
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("crashed after closing the offer")
        return closed


def test_a_crash_after_the_pick_closed_the_offer_is_finished_by_the_redelivery():
    svc = rescheduling()
    text(svc, ANA, "R", "in-1")
    picked = offer_of(svc).slots[2]
    svc.booking = CrashingBooking(svc.booking)
    with pytest.raises(RuntimeError):
        text(svc, ANA, "3", "in-2")
    assert [a for a in svc.records.all_appointments() if a.source == "careloop"] == []
    text(svc, ANA, "3", "in-2")  # the queue redelivers it
    (new,) = [a for a in svc.records.all_appointments() if a.source == "careloop"]
    assert new.start == picked.start.astimezone(UTC) and svc.records.get_appointment("a-p-ana").status == "cancelled"
    assert len([m for m in svc.outbox.sent if m.step == "confirmation"]) == 1


class FailingOnceOutbox:
    """The sender's queue refusing once: the inbound is stored, its effects are not done."""

    def __init__(self, outbox):
        self._outbox, self.failed = outbox, False

    def enqueue(self, message):
        if not self.failed:
            self.failed = True
            raise RuntimeError("queue unavailable")
        self._outbox.enqueue(message)


def test_a_redelivered_ask_lists_the_same_offer_again():
    svc = rescheduling()
    sent, svc.outbox = svc.outbox, FailingOnceOutbox(svc.outbox)
    with pytest.raises(RuntimeError):
        text(svc, ANA, "R", "in-1")
    offer = offer_of(svc)
    svc.clock.set(NOW + timedelta(minutes=5))  # later slots would differ if it searched again
    (reply,) = text(svc, ANA, "R", "in-1").replies
    assert len(svc.booking.offers) == 1 and offer_of(svc) == offer
    assert reply.message_id == offer.message_id and [m.message_id for m in sent.sent] == [offer.message_id]


def test_no_open_time_near_the_ask_sends_the_link_and_a_staff_note():
    svc = rescheduling(BOOKING | {"horizon_days": 1}, now=datetime(2026, 11, 30, 15, 30, tzinfo=NY))
    outcome = text(svc, ANA, "can we do next week?", "in-1")
    (reply,) = outcome.replies
    assert f"{BASE}/b/" in reply.body and reply.body.startswith("No problem, Ana. Pick a new time here:")
    assert outcome.needs_attention and outcome.reason.startswith("wants to reschedule; no open time near Mon Dec 07")
    assert offer_of(svc) is None


def test_self_scheduling_off_keeps_the_handoff():
    svc = rescheduling(with_booking=False)
    outcome = text(svc, ANA, "R", "in-1")
    assert outcome.needs_attention and outcome.reason.startswith("wants to reschedule")
    assert svc.booking.offers == {}


# ---- a week with a clock change ------------------------------------------------------------

DST = {  # one slot a day on Fridays and Mondays: the offer straddles Sun Mar 8 2026 (EST -> EDT)
    "types": [{"id": "cleaning", "name": {"en": "Cleaning", "es": "Limpieza"}, "minutes": 60, "providers": ["lee"]}],
    "hours": [{"provider": "lee", "location": "main", "weekday": d, "hours": {"start": "09:00", "end": "10:00"}}
              for d in ("mon", "fri")],
    "step_minutes": 60,
}


def test_across_a_clock_change_each_time_names_its_zone_and_books_the_right_instant():
    svc = rescheduling(DST, now=datetime(2026, 3, 4, 9, 0, tzinfo=NY), visit=datetime(2026, 3, 20, 9, 0, tzinfo=NY))
    (reply,) = text(svc, ANA, "R", "in-1").replies
    assert "open times: 1) Fri Mar 6 9:00 AM EST 2) Mon Mar 9 9:00 AM EDT 3) Fri Mar 13 9:00 AM EDT." in reply.body
    text(svc, ANA, "2", "in-2")
    (new,) = [a for a in svc.records.all_appointments() if a.source == "careloop"]
    assert new.start == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # 9 AM EDT


# ---- the slot search on its own ---------------------------------------------------------------


def search(svc, when, after=None, ignore=None):
    patient, kind = svc.records.get_patient("p-ana"), svc.practice.booking.type("cleaning")
    return [s.start.astimezone(NY).replace(tzinfo=None) for s in slots_near(svc, patient, kind, when, after=after,
                                                                             ignore=ignore)]


def test_slots_near_keeps_the_part_of_day_and_the_time_asked():
    svc = rescheduling()
    tue = date(2026, 12, 1)
    assert search(svc, When(tue, tue, "afternoon")) == [datetime(2026, 12, 1, h) for h in (13, 14, 15)]
    assert search(svc, When(tue, tue, None, datetime(2026, 1, 1, 10).time())) == [
        datetime(2026, 12, 1, h) for h in (9, 10, 11)]
    # "after 2" is a bound: the earliest from 2 on
    assert search(svc, When(tue, date(2026, 12, 2), None, datetime(2026, 1, 1, 14).time(), after_time=True)) == [
        datetime(2026, 12, 1, 14), datetime(2026, 12, 1, 15), datetime(2026, 12, 2, 14)]


def test_slots_near_widens_to_the_following_days_when_the_window_has_none():
    svc = rescheduling()
    saturday = date(2026, 12, 5)  # nobody works weekends
    assert search(svc, When(saturday, date(2026, 12, 6))) == [datetime(2026, 12, 7, h) for h in (9, 10, 11)]
    # an evening asked for, and no evening hours at all: the earliest of the following days
    assert search(svc, When(saturday, saturday, "evening")) == [datetime(2026, 12, 7, h) for h in (9, 10, 11)]


def test_slots_near_later_means_after_the_current_appointment():
    svc = rescheduling()
    later = When(date(2026, 11, 30), date(2026, 12, 13), later=True)
    assert search(svc, later, after=VISIT, ignore="a-p-ana") == [
        datetime(2026, 12, 3, 11), datetime(2026, 12, 3, 13), datetime(2026, 12, 3, 14)]


def test_book_for_patient_from_an_offer_keeps_the_moved_appointments_time_free_for_its_own_patient():
    svc = rescheduling()
    patient, kind = svc.records.get_patient("p-ana"), svc.practice.booking.type("cleaning")
    same_day = When(date(2026, 12, 3), date(2026, 12, 3), "morning")
    (nine, ten, _) = slots_near(svc, patient, kind, same_day, after=None, ignore="a-p-ana")
    assert ten.start == VISIT  # Dr. Lee's 10:00 is Ana's own, so it is free to her
    booked = book_for_patient(svc, patient, kind, nine, moves="a-p-ana", ref="offer:test")
    assert booked.appointment.start == nine.start.astimezone(UTC)


def test_an_offered_time_staff_filled_in_the_ehr_meanwhile_is_not_double_booked():
    svc = rescheduling()
    text(svc, ANA, "R", "in-1")
    first = offer_of(svc).slots[0]
    # the front desk books someone into Ana's first time in the practice-management system
    svc.records.put_appointment(Appointment(id="ehr-walk-in", patient_id="p-luz", start=first.start.astimezone(UTC),
                                            minutes=60, provider=first.provider, location="main"))
    (reply,) = text(svc, ANA, "1", "in-2").replies
    assert reply.body.startswith("Sorry, that time was just taken.")
    assert [a for a in svc.records.all_appointments() if a.source == "careloop"] == []
    assert svc.booking.claims == {}


@pytest.mark.parametrize("key", ["slot_offer", "slot_taken", "slot_taken_none"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_offer_reply_keeps_to_the_part_budget_at_its_longest(key, language):
    # the longest times there are: Saturdays ("sáb": UCS-2 in Spanish), two-digit days and hours,
    # straddling the November clock change so each time names its own zone, a 50-character link
    from careloop.agent.replies import REPLIES
    from careloop.booking import offers
    from careloop.booking.slots import Slot

    svc = rescheduling()
    starts = [datetime(2026, 10, 31, 11, 30, tzinfo=NY), datetime(2026, 11, 7, 11, 30, tzinfo=NY),
              datetime(2026, 11, 28, 11, 30, tzinfo=NY)]
    slots = [Slot(s, "lee", s + timedelta(hours=1), "main", "cleaning") for s in starts]
    options, zone = offers.options_text(svc, slots, language)
    assert zone == "" and "EDT" in options and "EST" in options
    body = REPLIES[key][language].format(
        first_name="Maximiliana", zone="", options=options, choices=offers.choices_text(3, language),
        booking_url=links.WORST_CASE_URL, practice_phone="(617) 555-0100")
    assert count_parts(" ".join(body.split())) <= MAX_PARTS, body
