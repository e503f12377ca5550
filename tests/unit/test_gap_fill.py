"""Filling gaps from the waitlist on the fakes: the waitlist phrases (en/es), who a freed slot is
offered to, the 48 h window and the gates, one offer per patient per slot, the first YES wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careloop.agent.inbound import handle_inbound
from careloop.booking import gaps
from careloop.booking.availability import BookingSettings
from careloop.ehr.writeback import ListWritebackQueue
from careloop.engine.dispatcher import tick
from careloop.engine.planner import plan_appointment_change
from careloop.models import Appointment, Patient
from careloop.practice import demo_profile
from careloop.sms.parts import count_parts
from careloop_local.fakes import memory_services

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Mon 09:00 in Boston
SLOT = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # Tue 10:00 in Boston: 25 h ahead
LATER = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
BOOKING = {
    "types": [
        {"id": "cleaning", "name": {"en": "Cleaning", "es": "Limpieza"}, "minutes": 60, "providers": ["lee", "patel"]},
        {"id": "exam", "name": {"en": "Exam", "es": "Examen"}, "minutes": 60, "providers": ["patel"]},
    ],
    "hours": [{"provider": p, "location": "main", "weekday": d, "hours": {"start": "09:00", "end": "17:00"}}
              for p in ("lee", "patel") for d in ("mon", "tue", "wed", "thu", "fri")],
    "lead_minutes": 120,
    "step_minutes": 60,
}
PHONES = {"c1": "+16175550140", "w1": "+16175550141", "w2": "+16175550142", "w3": "+16175550143",
          "w4": "+16175550144"}


def gap_services(now: datetime = NOW):
    settings = BookingSettings.model_validate(BOOKING)
    practice = demo_profile().model_copy(update={
        "booking": settings,
        "ehr": demo_profile().ehr.model_copy(update={"writeback": True, "fhir_base_url": "https://ehr.test/fhir"})})
    svc = memory_services(now, practice=practice, workflows=())
    svc.booking_base_url = "http://127.0.0.1:8000"
    svc.writeback = ListWritebackQueue()
    for pid, phone in PHONES.items():
        svc.records.put_patient(Patient(id=pid, first_name=pid.upper(), phone=phone,
                                        language="es" if pid == "w2" else "en"))
        svc.records.put_appointment(Appointment(id=f"old-{pid}", patient_id=pid, status="fulfilled",
                                                start=now - timedelta(days=200), provider="lee", location="main",
                                                visit_type="cleaning"))
    svc.records.put_appointment(Appointment(id="a-c1", patient_id="c1", start=SLOT, minutes=60, provider="lee",
                                            location="main", visit_type="cleaning"))
    for i, pid in enumerate(("w1", "w2", "w3", "w4")):  # w1 has waited longest
        svc.records.put_appointment(Appointment(id=f"a-{pid}", patient_id=pid, start=LATER + timedelta(hours=i),
                                                minutes=60, provider="lee", location="main", visit_type="cleaning"))
        gaps.join(svc.booking, pid, now - timedelta(days=10 - i))
    return svc


def cancel(svc, appointment_id: str = "a-c1") -> None:
    appt = svc.records.get_appointment(appointment_id)
    svc.records.put_appointment(appt.model_copy(update={"status": "cancelled", "source_version": "2"}))


def offers(svc) -> dict[str, str]:
    return {m.patient_id: m.body for m in svc.outbox.sent if m.workflow == gaps.GAP_FILL and m.step == "offer"}


def text(svc, pid: str, body: str, ref: str):
    return handle_inbound(svc, PHONES[pid], body, ref)


def last_reply(svc, pid: str) -> str:
    return [m for m in svc.outbox.sent if m.patient_id == pid][-1].body


# ---- the waitlist phrases ------------------------------------------------------------------------


@pytest.mark.parametrize("phrase", [
    "SOONER", "sooner please", "Any earlier opening?", "put me on the waitlist", "Add me to the wait list please",
    "is there anything sooner?", "can I come in earlier?", "let me know if something opens up sooner",
    "text me if there's a cancellation", "avísenme si hay algo antes", "lista de espera", "¿Me avisan si se libera algo?",
    "Quiero una cita más temprano", "ANTES", "waitlist please", "can I join the waitlist?",
    "quiero estar en la lista de espera", "anóteme en la lista de espera",
])
def test_asking_to_come_sooner_joins_the_waitlist(phrase):
    assert gaps.waitlist_request(phrase) == "join"


@pytest.mark.parametrize("phrase", [
    "no sooner", "NO SOONER.", "take me off the waitlist", "remove me from the waiting list",
    "I no longer need an earlier time", "no antes", "sáquenme de la lista de espera",
    "ya no necesito algo antes", "I don't want to be on the waitlist anymore", "dont need the waiting list",
    "ya no quiero estar en la lista de espera",
])
def test_asking_to_stop_leaves_the_waitlist(phrase):
    assert gaps.waitlist_request(phrase) == "leave"


@pytest.mark.parametrize("phrase", [
    "C", "yes", "see you thursday", "can we do later this week", "R", "I'm running late",
    "What time do you open?", "¿tienen una cita antes de las 5?", "STOP", "I came earlier last time", "",
    "Am I on the waitlist?", "how does your waitlist work",
])
def test_other_texts_are_not_waitlist_requests(phrase):
    assert gaps.waitlist_request(phrase) is None


@pytest.mark.parametrize("phrase", ["YES", "yes please", "Sí", "si por favor", "1", "I'll take it", "lo tomo", "Y!"])
def test_yes_takes_an_offer(phrase):
    assert gaps.accepts_offer(phrase) and not gaps.declines_offer(phrase)


@pytest.mark.parametrize("phrase", ["yes but can we do 3pm", "2", "maybe", "no"])
def test_other_answers_do_not_take_an_offer(phrase):
    assert not gaps.accepts_offer(phrase)


# ---- joining and leaving by text ----------------------------------------------------------------


def test_a_patient_joins_by_text_in_their_language_and_an_ehr_update_keeps_the_flag():
    svc = gap_services()
    svc.booking.remove_waitlist("w2")
    out = text(svc, "w2", "Avísenme si hay algo antes, por favor", "in-1")
    assert out.needs_attention is False
    assert svc.booking.get_waitlist("w2") is not None
    assert last_reply(svc, "w2") == ("Maple Family Dental: ya está en la lista de espera, W2. Le avisaremos si se abre "
                                     "un horario antes. Responda NO ANTES para salir.")
    # an EHR update of the patient does not wipe it (it lives in the booking table)
    svc.records.put_patient(Patient(id="w2", first_name="W2", last_name="Ruiz", phone=PHONES["w2"], language="es",
                                    source_version="9"))
    assert svc.booking.get_waitlist("w2") is not None
    text(svc, "w2", "no antes", "in-2")
    assert svc.booking.get_waitlist("w2") is None
    assert "ya no está en la lista de espera" in last_reply(svc, "w2")


def test_no_sooner_leaves_the_waitlist_not_the_visit_nor_the_texts():
    # the classifier alone would read "NO SOONER" as a cancel
    svc = gap_services()
    out = text(svc, "w1", "NO SOONER", "in-no-sooner")
    appt = svc.records.get_appointment("a-w1")
    assert out.needs_attention is False and svc.booking.get_waitlist("w1") is None
    assert appt.status == "booked" and not appt.declined and not svc.records.get_patient("w1").opted_out
    assert last_reply(svc, "w1") == ("Maple Family Dental: you're off the waitlist, W1. Your appointments stay as "
                                     "they are. To stop all texts, reply STOP.")


@pytest.mark.parametrize("words", ["remove me from the wait list", "take me off the waitlist",
                                   "get me off the waiting list"])
def test_leaving_the_waitlist_in_words_the_classifier_reads_as_stop_is_not_an_opt_out(words):
    # "remove me from the wait list" is an opt-out to the classifier (0.97): it would stop every
    # text, reminders included; the patient asked only to leave the waitlist
    from careloop.agent.classifier import classify

    svc = gap_services()
    assert classify(words).intent == "opt_out"
    text(svc, "w1", words, "in-leave-words")
    assert svc.booking.get_waitlist("w1") is None
    assert not svc.records.get_patient("w1").opted_out
    assert last_reply(svc, "w1").endswith("To stop all texts, reply STOP.")


def test_stop_still_opts_out_a_waitlisted_patient():
    svc = gap_services()
    text(svc, "w1", "STOP", "in-stop")
    assert svc.records.get_patient("w1").opted_out


def test_joining_twice_keeps_the_place_in_line():
    svc = gap_services()
    first = svc.booking.get_waitlist("w1")
    text(svc, "w1", "put me on the waitlist", "in-3")
    assert svc.booking.get_waitlist("w1").since == first.since
    assert "Reply NO SOONER to stop" in last_reply(svc, "w1")


# ---- a late cancellation frees a slot ------------------------------------------------------------


def test_a_visit_the_ehrs_own_copy_superseded_frees_no_slot():
    # a request-mode booking the front desk entered in the EHR: Careloop's copy is cancelled with
    # superseded_by, but the visit still happens at that time
    svc = gap_services()
    appt = svc.records.get_appointment("a-c1")
    svc.records.put_appointment(appt.model_copy(update={"status": "cancelled", "superseded_by": "ehr-1",
                                                         "source_version": "2"}))
    tick(svc)
    assert offers(svc) == {}


def test_a_late_cancellation_is_offered_to_the_three_longest_waiting():
    svc = gap_services()
    gaps.join(svc.booking, "c1", NOW - timedelta(days=30))  # waiting longest, but it is their own slot
    cancel(svc)
    assert offers(svc) == {}  # planned, not sent: the dispatcher sends it through the gates
    tick(svc)
    sent = offers(svc)
    assert set(sent) == {"w1", "w2", "w3"}
    assert sent["w1"] == ("Maple Family Dental: an earlier time opened: Tue Mar 3 10:00 AM (EST) with Dr. Lee. "
                          "Reply YES to take it.")
    assert sent["w2"] == ("Maple Family Dental: hay un horario antes: mar 3 mar 10:00 (EST) con Dr. Lee. "
                          "Responda SI para tomarlo.")
    assert all(count_parts(body) == 1 for body in sent.values())
    assert all(m.automated for m in svc.outbox.sent if m.workflow == gaps.GAP_FILL)


def test_an_ehr_appointment_naming_provider_and_location_by_name_is_offered_too():
    svc = gap_services()
    svc.records.put_appointment(svc.records.get_appointment("a-c1").model_copy(
        update={"provider": "Dr. Lee", "location": "Main", "source_version": "1"}))
    cancel(svc)
    tick(svc)
    assert set(offers(svc)) == {"w1", "w2", "w3"}
    gap = svc.booking.get_gap(gaps.gap_key("lee", SLOT))
    assert (gap.provider, gap.location, gap.type) == ("lee", "main", "cleaning")


def test_who_could_take_the_slot():
    svc = gap_services()
    # w1 opted out; w2 already comes sooner; w3 is somewhere else then; w4 waits for another type only
    svc.records.put_patient(svc.records.get_patient("w1").model_copy(update={"opted_out": True}))
    svc.records.put_appointment(Appointment(id="soon-w2", patient_id="w2", start=NOW + timedelta(hours=5),
                                            provider="patel", location="main", visit_type="cleaning"))
    svc.records.put_appointment(Appointment(id="busy-w3", patient_id="w3", start=SLOT + timedelta(minutes=30),
                                            provider="patel", location="main", visit_type="exam"))
    # n1, never seen, on the waitlist: cleaning is not for new patients; n2, seen, nothing booked
    svc.records.put_patient(Patient(id="n1", first_name="N1", phone="+16175550151"))
    svc.records.put_patient(Patient(id="n2", first_name="N2", phone="+16175550152"))
    svc.records.put_appointment(Appointment(id="old-n2", patient_id="n2", status="fulfilled",
                                            start=NOW - timedelta(days=400), provider="lee", location="main"))
    gaps.join(svc.booking, "n1", NOW - timedelta(days=2))
    gaps.join(svc.booking, "n2", NOW - timedelta(days=1))
    cancel(svc)
    tick(svc)
    assert set(offers(svc)) == {"w4", "n2"}
    moves = {o.patient_id: o.moves for o in svc.booking.gap_offers(gaps.gap_key("lee", SLOT))}
    assert moves == {"w4": "a-w4", "n2": None}


@pytest.mark.parametrize("ahead", [timedelta(hours=49), timedelta(days=5), timedelta(minutes=90)])
def test_no_offer_for_a_cancellation_more_than_48h_ahead_or_inside_the_lead_time(ahead):
    start = NOW + ahead
    svc = gap_services()
    svc.records.put_appointment(Appointment(id="a-c1", patient_id="c1", start=start, minutes=60, provider="lee",
                                            location="main", visit_type="cleaning", source_version="1"))
    cancel(svc)
    tick(svc, NOW)
    assert offers(svc) == {} and svc.booking.get_gap(gaps.gap_key("lee", start)) is None


def test_a_cancellation_at_night_is_offered_when_quiet_hours_end():
    night = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # Mon 22:00 in Boston; the slot is Tue 10:00
    svc = gap_services(night)
    cancel(svc)
    result = tick(svc, night)
    assert offers(svc) == {} and len(result.deferred) == 3
    assert set(result.deferred.values()) == {datetime(2026, 3, 3, 13, 0, tzinfo=UTC)}  # 08:00 Boston

    def waves():
        return [a.due_at for a in svc.actions.actions_for_subject("APT#a-c1") if a.step == gaps.WAVE_STEP]

    assert waves() == []  # w4 waits, but the next wave counts from when the held offers go
    svc.clock.at = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
    tick(svc)
    assert set(offers(svc)) == {"w1", "w2", "w3"}
    assert waves() == []  # a next wave at 08:30 plus the 2 h lead time would be past the 10:00 slot


def test_an_offer_that_would_wait_past_the_slot_is_not_sent():
    night = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # 22:00; the slot is at 09:00, inside the lead time of 08:00
    svc = gap_services(night)
    early = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
    svc.records.put_appointment(Appointment(id="a-c1", patient_id="c1", start=early, minutes=60, provider="lee",
                                            location="main", visit_type="cleaning", source_version="1"))
    cancel(svc)
    result = tick(svc, night)
    assert offers(svc) == {} and result.deferred == {}
    assert all("would wait past the slot" in why for why in result.skipped.values()) and result.skipped


def test_the_daily_cap_defers_and_a_dropped_offer_passes_to_the_next_patient():
    svc = gap_services()
    # the slot is Tue 09:00; w1 got an automated text this morning: the cap holds their offer to
    # Tue 08:00, inside the lead time, so it drops
    from careloop.models import Message

    svc.records.put_appointment(svc.records.get_appointment("a-c1").model_copy(
        update={"start": SLOT - timedelta(hours=1), "source_version": "1"}))

    svc.messages.put_message(Message(message_id="m-earlier", kind="sms_out", patient_id="w1", phone=PHONES["w1"],
                                     at=NOW - timedelta(minutes=30), automated=True, workflow="x", step="y"))
    cancel(svc)
    tick(svc)
    assert set(offers(svc)) == {"w2", "w3"}
    tick(svc)  # the next in line was planned when w1's offer dropped
    assert set(offers(svc)) == {"w2", "w3", "w4"}


def test_unanswered_offers_make_room_for_the_next_wave():
    svc = gap_services()
    cancel(svc)
    tick(svc)
    assert set(offers(svc)) == {"w1", "w2", "w3"}
    svc.clock.at = NOW + gaps.WAVE - timedelta(minutes=1)
    tick(svc)
    assert set(offers(svc)) == {"w1", "w2", "w3"}  # they still hold their places
    svc.clock.at = NOW + gaps.WAVE
    tick(svc)  # the wave plans w4's offer, due at once
    tick(svc)
    assert set(offers(svc)) == {"w1", "w2", "w3", "w4"}
    # and the first YES of any wave still wins
    text(svc, "w3", "YES", "in-wave-yes")
    assert [a.patient_id for a in svc.records.all_appointments() if a.source == "careloop"] == ["w3"]
    assert {m.patient_id for m in svc.outbox.sent if m.step == "taken"} == {"w1", "w2", "w4"}


def test_each_patient_is_offered_a_slot_once_even_when_the_cancellation_is_redelivered():
    svc = gap_services()
    old = svc.records.get_appointment("a-c1")
    cancel(svc)
    new = svc.records.get_appointment("a-c1")
    again = plan_appointment_change(svc, old, new, NOW)  # the stream redelivers the change
    assert again.planned == []
    tick(svc)
    tick(svc)
    assert len([m for m in svc.outbox.sent if m.step == "offer"]) == 3


# ---- the first to accept gets it -----------------------------------------------------------------


def test_the_first_yes_books_moves_the_later_visit_and_the_others_are_told():
    svc = gap_services()
    cancel(svc)
    tick(svc)
    out = text(svc, "w2", "Sí", "in-yes-w2")
    assert out.needs_attention is False
    booked = [a for a in svc.records.appointments_for_patient("w2") if a.source == "careloop"]
    assert [(a.start, a.provider, a.status) for a in booked] == [(SLOT, "lee", "booked")]
    assert svc.records.get_appointment("a-w2").status == "cancelled"  # the later one moved
    assert {(e.kind, e.appointment_id) for e in svc.writeback.events} >= {
        ("appointment_cancelled", "a-w2"), ("appointment_created", booked[0].id)}
    assert last_reply(svc, "w2").startswith("Maple Family Dental: su cita está reservada")  # the confirmation
    assert svc.booking.get_waitlist("w2") is None
    told = {m.patient_id: m.body for m in svc.outbox.sent if m.step == "taken"}
    assert told == {p: "Maple Family Dental: that time was just taken; you stay on the waitlist. "
                       "Reply NO SOONER to leave it." for p in ("w1", "w3")}
    # a late YES hears the same, books nothing and stays on the waitlist
    text(svc, "w1", "YES", "in-yes-w1")
    assert last_reply(svc, "w1").startswith("Maple Family Dental: that time was just taken")
    assert [a.id for a in svc.records.appointments_for_patient("w1") if a.source == "careloop"] == []
    assert svc.records.get_appointment("a-w1").status == "booked" and not svc.records.get_appointment("a-w1").confirmed
    assert svc.booking.get_waitlist("w1") is not None


def test_a_redelivered_yes_books_once():
    svc = gap_services()
    cancel(svc)
    tick(svc)
    text(svc, "w1", "YES", "in-yes")
    sent = len(svc.outbox.sent)
    # the consumer crashed after booking, before marking the text handled: the queue redelivers it
    svc.messages.update_message(next(m.message_id for m in svc.messages.messages_for_patient("w1")
                                     if m.kind == "sms_in"), effects_done=False)
    out = text(svc, "w1", "YES", "in-yes")
    assert out.duplicate is False and out.replies == [] and len(svc.outbox.sent) == sent
    assert len([a for a in svc.records.appointments_for_patient("w1") if a.source == "careloop"]) == 1
    assert not [a for a in svc.records.appointments_for_patient("w1") if a.source == "careloop"][0].confirmed


def test_two_yes_replies_racing_have_one_winner():
    import threading

    svc = gap_services()
    cancel(svc)
    tick(svc)
    barrier = threading.Barrier(3)

    def reply(pid: str) -> None:
        barrier.wait()
        text(svc, pid, "YES", f"in-race-{pid}")

    threads = [threading.Thread(target=reply, args=(p,)) for p in ("w1", "w2", "w3")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    winners = [a.patient_id for a in svc.records.all_appointments() if a.source == "careloop" and a.start == SLOT]
    assert len(winners) == 1
    losers = {"w1", "w2", "w3"} - set(winners)
    assert all(svc.records.get_appointment(f"a-{p}").status == "booked" for p in losers)
    assert svc.booking.get_gap(gaps.gap_key("lee", SLOT)).taken_by == winners[0]


def test_no_to_an_offer_keeps_the_waitlist_and_the_visit():
    svc = gap_services()
    cancel(svc)
    tick(svc)
    out = text(svc, "w1", "no thanks", "in-no")
    appt = svc.records.get_appointment("a-w1")
    assert out.needs_attention is False and appt.status == "booked" and not appt.declined
    assert last_reply(svc, "w1") == "OK, W1. You stay on the waitlist; we'll text you if another time opens."


def test_yes_to_another_text_is_still_a_confirmation():
    svc = gap_services()
    cancel(svc)
    tick(svc)
    # w4 was not offered the slot: their YES confirms their own visit as always
    text(svc, "w4", "YES", "in-yes-w4")
    assert svc.records.get_appointment("a-w4").confirmed
    assert [a for a in svc.records.appointments_for_patient("w4") if a.source == "careloop"] == []


@pytest.mark.parametrize("words", ["Stop texting me and take me off the waitlist",
                                   "no more texts, and take me off the waitlist",
                                   "sáquenme de la lista de espera y dejen de mandarme mensajes"])
def test_leaving_the_waitlist_while_asking_texts_to_stop_is_an_opt_out(words):
    # the consent rules win: the patient asked for texts to stop, not only to leave the list
    svc = gap_services()
    text(svc, "w1", words, "in-stop-and-leave")
    assert svc.records.get_patient("w1").opted_out


@pytest.mark.parametrize("words", ["I don't want to be on the waitlist anymore", "ya no quiero estar en la lista de espera"])
def test_saying_no_to_the_waitlist_never_joins_it(words):
    svc = gap_services()
    svc.booking.remove_waitlist("w2")
    text(svc, "w2", words, "in-no-list")
    assert svc.booking.get_waitlist("w2") is None


def test_a_spanish_saturday_offer_is_two_parts_at_most():
    from careloop.sms.parts import count_parts, encoding

    svc = gap_services()
    saturday = gaps.Gap(provider="lee", start=datetime(2026, 3, 7, 15, 30, tzinfo=UTC),
                        end=datetime(2026, 3, 7, 16, 30, tzinfo=UTC), location="main", type="cleaning",
                        cancelled="x", cancelled_patient="y", opened_at=NOW)
    body = gaps.offer_text(svc, saturday, "es")
    assert "sáb" in body and encoding(body) == "UCS2" and count_parts(body) <= 2
    assert count_parts(gaps.offer_text(svc, saturday, "en")) == 1
