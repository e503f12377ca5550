"""The same text twice within a minute, over moto and the SMS stand-in: one answer, both kept;
two copies handled at the same moment agree on one (the claim is one conditional write)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from careloop.agent.inbound import handle_inbound
from careloop.models import Appointment, Patient
from careloop.records import ingest

PHONE = "+16175550166"


@pytest.fixture(scope="module")
def patient(stack):
    from careloop.adapters.aws import services

    now = stack.clock.now()
    ingest(services().records, services().consent, [Patient(id="rpt1", first_name="Lu", last_name="Chen", phone=PHONE)],
           [Appointment(id="rptA", patient_id="rpt1", start=now + timedelta(days=3), provider="Dr. Lee")], now)
    stack.drain()
    return "rpt1"


def sent_to(stack, phone=PHONE):
    return [m["body"] for m in stack.standin.outbox() if m["destination"] == phone]


def test_a_text_sent_twice_through_the_carrier_gets_one_reply(stack, patient):
    from careloop.adapters.aws import services

    before = len(sent_to(stack))
    stack.standin.receive(PHONE, stack.res.phone_number, "what are your hours?")
    stack.standin.receive(PHONE, stack.res.phone_number, "What are your hours?")
    stack.drain()
    assert len(sent_to(stack)) == before + 1
    texts = [m for m in services().messages.messages_for_patient(patient)
             if m.kind == "sms_in" and m.body.lower() == "what are your hours?"]
    assert len(texts) == 2 and sum(1 for m in texts if m.repeat_of) == 1


def test_two_copies_handled_at_once_agree_on_one_answer(stack, patient):
    from careloop.adapters.aws import services

    svc = services()
    at = stack.clock.now() + timedelta(minutes=5)  # clear of the test above's minute
    start, outcomes = threading.Barrier(4), []

    def handle(n: int) -> None:
        start.wait()
        outcomes.append(handle_inbound(svc, PHONE, "where do I park", f"rpt-race-{n}", at=at))

    threads = [threading.Thread(target=handle, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stack.drain()
    assert sorted(o.duplicate for o in outcomes) == [False, True, True, True]
    answered = [o for o in outcomes if not o.duplicate]
    assert len(answered[0].replies) == 1
