"""Issue 15 item 4: the same text again within a minute gets one answer. Phones resend and
patients double-tap; a second "yes" must not confirm twice, a second emergency text must not
page twice, and neither copy is dropped from the thread."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from careloop.agent.inbound import REPEAT_REASON, _id, handle_inbound
from careloop.models import Appointment, Message, MessageStatus, Patient
from careloop.records import ingest
from tests.conftest import NY

PHONE = "+16175550144"


@pytest.fixture
def ana(svc):
    ingest(svc.records, svc.consent, [Patient(id="rp1", first_name="Ana", last_name="Reyes", phone=PHONE)],
           [Appointment(id="rpA", patient_id="rp1", start=datetime(2026, 12, 5, 10, tzinfo=NY), provider="Dr. Lee")],
           svc.clock.now())
    return "rp1"


def inbound(svc, body, n, **kw):
    return handle_inbound(svc, PHONE, body, f"rep-{n}", **kw)


def replies(svc):
    return [m for m in svc.outbox.sent if m.phone == PHONE]


def test_a_double_tapped_yes_confirms_once_and_both_copies_stay_in_the_thread(svc, ana):
    first = inbound(svc, "Yes", 1)
    second = inbound(svc, "yes ", 2, at=svc.clock.now() + timedelta(seconds=20))
    assert not first.duplicate and second.duplicate and second.reason == REPEAT_REASON
    assert len(replies(svc)) == 1
    thread = [m for m in svc.messages.messages_for_patient(ana) if m.kind == "sms_in"]
    assert [m.body for m in thread] == ["Yes", "yes "]
    assert thread[1].repeat_of == first.message_id and thread[1].effects_done
    assert thread[1].intent == "confirm" and not thread[1].needs_attention


def test_an_emergency_sent_twice_pages_once(svc, ana):
    body = "my face is really swollen since the extraction and I have a fever"
    inbound(svc, body, 1)
    inbound(svc, body, 2, at=svc.clock.now() + timedelta(seconds=5))
    assert len(svc.notifier.notified) == 1 and svc.notifier.notified[0].priority == "urgent"
    assert len(replies(svc)) == 1 and "911" in replies(svc)[0].body


def test_the_same_words_after_a_minute_are_a_new_text(svc, ana):
    inbound(svc, "what are your hours", 1)
    later = inbound(svc, "what are your hours", 2, at=svc.clock.now() + timedelta(seconds=61))
    assert not later.duplicate and len(replies(svc)) == 2


def test_different_words_within_the_minute_are_each_answered(svc, ana):
    inbound(svc, "what are your hours", 1)
    other = inbound(svc, "where are you located", 2, at=svc.clock.now() + timedelta(seconds=10))
    assert not other.duplicate and len(replies(svc)) == 2


def test_a_yes_to_a_new_question_sent_in_between_is_answered(svc, ana):
    inbound(svc, "what are your hours", 1)
    # staff (or a workflow) text the patient a new question; the same words answer it
    svc.messages.put_message(Message(
        message_id="staff-q", kind="sms_out", patient_id=ana, phone=PHONE, body="Can you come at 3?",
        at=svc.clock.now() + timedelta(seconds=10), status=MessageStatus.SENT, automated=False))
    again = inbound(svc, "what are your hours", 2, at=svc.clock.now() + timedelta(seconds=20))
    assert not again.duplicate and len(replies(svc)) == 2


def test_the_carrier_time_decides_not_a_queue_backlog(svc, ana):
    # sent five minutes apart, handled a second apart after a backlog: two texts, two answers
    t0 = svc.clock.now()
    inbound(svc, "what are your hours", 1, carrier_at=(t0 - timedelta(minutes=5)).isoformat())
    again = inbound(svc, "what are your hours", 2, at=t0 + timedelta(seconds=1), carrier_at=t0.isoformat())
    assert not again.duplicate and len(replies(svc)) == 2


def test_an_unreadable_carrier_time_falls_back_to_the_handling_time(svc, ana):
    inbound(svc, "Yes", 1, carrier_at="yesterday-ish")
    again = inbound(svc, "Yes", 2, at=svc.clock.now() + timedelta(seconds=3), carrier_at="not a time")
    assert again.duplicate and len(replies(svc)) == 1


def test_a_redelivered_repeat_is_kept_once_and_answers_nothing(svc, ana):
    inbound(svc, "Yes", 1)
    inbound(svc, "Yes", 2, at=svc.clock.now() + timedelta(seconds=3))
    inbound(svc, "Yes", 2, at=svc.clock.now() + timedelta(seconds=30))  # the queue delivers it again
    assert len(replies(svc)) == 1
    kept = [m.message_id for m in svc.messages.messages_for_patient(ana) if m.kind == "sms_in"]
    assert kept.count(_id("in-", "rep-2")) == 1


def test_the_claim_stays_with_its_holder_and_is_refused_to_another_copy(svc, ana):
    # the first copy's handler died after the claim and before storing it: its redelivery holds
    # the claim again (and answers), a second copy is told who holds it
    holder = "in-" + "x" * 20
    svc.messages.claim_repeat(PHONE, "d", holder, svc.clock.now(), timedelta(minutes=1))
    assert svc.messages.claim_repeat(PHONE, "d", holder, svc.clock.now(), timedelta(minutes=1)) == holder
    assert svc.messages.claim_repeat(PHONE, "d", "in-other", svc.clock.now(), timedelta(minutes=1)) == holder
