"""`{{ booking_url }}` renders the patient's own link: in the no-show recovery text (rebook, minted
once per message) and in the agent's reschedule answer; the profile's fixed URL without booking."""

from __future__ import annotations

from datetime import datetime, timedelta

from careloop.agent import inbound
from careloop.booking import links, service
from careloop.booking.availability import BookingSettings
from careloop.engine.dispatcher import message_id_for, tick
from careloop.models import Appointment, Patient
from careloop.records import ingest
from careloop_local.fakes import memory_services
from tests.conftest import NY
from tests.unit.test_agent_responses import (
    P as Said,  # the classifier's answer, as those tests fake it
)

BASE = "http://127.0.0.1:8000"
PHONE = "+16175550101"
MISSED = datetime(2026, 12, 1, 10, 0, tzinfo=NY)
BOOKING = BookingSettings.model_validate({
    "types": [{"id": "cleaning", "name": {"en": "Cleaning", "es": "Limpieza"}, "minutes": 60, "providers": ["lee"]}],
    "hours": [{"provider": "lee", "location": "main", "weekday": d, "hours": {"start": "09:00", "end": "17:00"}}
              for d in ("mon", "tue", "wed", "thu", "fri")],
})


def self_scheduling(with_booking: bool = True):
    svc = memory_services(datetime(2026, 12, 1, 9, 0, tzinfo=NY))
    if with_booking:
        svc.practice = svc.practice.model_copy(update={"booking": BOOKING})
        svc.booking_base_url = BASE
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", last_name="Reyes", phone=PHONE)],
           [Appointment(id="a1", patient_id="p1", start=MISSED, provider="lee", location="main")], svc.clock.now())
    return svc


def miss_the_visit(svc):
    svc.clock.set(MISSED + timedelta(minutes=30))
    appt = svc.records.get_appointment("a1")
    svc.records.put_appointment(appt.model_copy(update={"status": "noshow"}))


def run_until(svc, until, step=timedelta(minutes=15)):
    while svc.clock.now() < until:
        svc.clock.set(svc.clock.now() + step)
        tick(svc)


def test_the_no_show_text_carries_the_patients_own_rebook_link():
    svc = self_scheduling()
    miss_the_visit(svc)
    run_until(svc, MISSED + timedelta(hours=2))
    (text,) = [m for m in svc.outbox.sent if m.step == "recovery-sms"]
    link = svc.booking.link_for_ref(text.message_id)
    assert link is not None and f"{BASE}/b/{link.token}" in text.body
    assert (link.patient_id, link.purpose, link.appointment_id) == ("p1", "rebook", "a1")
    # a redelivered action renders the same message id, so the same link
    assert links.booking_url_for(svc, svc.records.get_patient("p1"), "rebook", ref=text.message_id) == \
        f"{BASE}/b/{link.token}"
    assert text.message_id == message_id_for(next(a.action_id for a in svc.actions.actions_for_subject("APT#a1")
                                                  if a.step == "recovery-sms"))


def test_rebooking_through_the_link_stops_the_no_show_task():
    svc = self_scheduling()
    miss_the_visit(svc)
    run_until(svc, MISSED + timedelta(hours=2))
    (text,) = [m for m in svc.outbox.sent if m.step == "recovery-sms"]
    token = svc.booking.link_for_ref(text.message_id).token
    slot = service.slots_for(svc, token, "cleaning", "2026-12-03", 1)["slots"][0]
    booked = service.book(svc, token, "cleaning", slot["start"])
    assert svc.records.get_appointment(booked.appointment.id).source == "careloop"
    run_until(svc, MISSED + timedelta(hours=26))
    assert [m for m in svc.notifier.notified if m.step == "rebook-alert"] == []
    # the confirmation at once, then the reminder workflow plans for it like any other booking
    assert [m.step for m in svc.outbox.sent if m.appointment_id == booked.appointment.id] == [
        "confirmation", "reminder-48h"]


def test_without_self_scheduling_the_profiles_fixed_url_is_sent():
    svc = self_scheduling(with_booking=False)
    miss_the_visit(svc)
    run_until(svc, MISSED + timedelta(hours=2))
    (text,) = [m for m in svc.outbox.sent if m.step == "recovery-sms"]
    assert svc.practice.booking_url and svc.practice.booking_url in text.body



def test_the_agents_reschedule_answer_carries_a_reschedule_link(monkeypatch):
    svc = self_scheduling()
    svc.practice = svc.practice.model_copy(update={"booking_url": None})  # the personal link is enough
    monkeypatch.setattr(inbound, "classify", lambda text: Said("reschedule"))
    outcome = inbound.handle_inbound(svc, PHONE, "can we do later this week", "in-1")
    (reply,) = outcome.replies
    token = reply.body.split(f"{BASE}/b/")[1][:links.TOKEN_LENGTH]
    link = svc.booking.get_link(token)
    # for the visit still to come, the one the patient asks to move
    assert link is not None and link.purpose == "reschedule" and link.appointment_id == "a1"
    # minted once per inbound text: handled again, it mints no second link
    assert link.ref.startswith("agent:") and svc.booking.link_for_ref(link.ref).token == token
