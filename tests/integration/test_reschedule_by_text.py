"""Rescheduling by text through the real sms_inbound handler on moto: "R" gets three open times
(the offer stored in the booking table), a redelivered "2" books it once, moves the appointment
and sends one confirmation; a reply that matches nothing goes to staff."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from careloop.models import Appointment, Patient
from careloop.records import ingest
from tests.integration.conftest import booking_stack, sample, sns_envelope, sqs_records_from_sample

PHONE, OTHER = "+16175550191", "+16175550192"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with booking_stack(tmp_path_factory) as s:
        yield s


@pytest.fixture(scope="module")
def ports(stack):
    from careloop.adapters.aws import services

    return services()


def patient_with_visit(stack, ports, pid: str, phone: str) -> Appointment:
    now = stack.clock.now()
    visit = Appointment(id=f"{pid}-visit", patient_id=pid, start=(now + timedelta(days=5)).replace(
        minute=0, second=0, microsecond=0), minutes=60, provider="lee", location="main", visit_type="cleaning")
    ingest(ports.records, ports.consent, [Patient(id=pid, first_name="Rosa", phone=phone, phone_kind="mobile")],
           [visit], now)
    stack.drain()
    return visit


def inbound_event(stack, phone: str, body: str, inbound_id: str) -> dict:
    payload = sample("aws-docs-end-user-messaging/two-way-sms-inbound-payload.json") | {
        "originationNumber": phone, "destinationNumber": stack.res.phone_number, "messageBody": body,
        "inboundMessageId": inbound_id}
    return sqs_records_from_sample([sns_envelope(payload, stack.res.topics["sms_inbound"])],
                                   stack.res.queue_arns["inbound"])


def texts_to(stack, phone: str) -> list[str]:
    stack.drain()
    return [m["body"] for m in stack.standin.outbox() if m["destination"] == phone]


def test_r_then_2_redelivered_moves_the_appointment_once(stack, ports):
    visit = patient_with_visit(stack, ports, "rs1", PHONE)
    # Given "R": three open times, stored as an offer in the booking table
    assert stack.invoke("sms_inbound", inbound_event(stack, PHONE, "R", "rs-in-1")) == {"batchItemFailures": []}
    (offer_text,) = texts_to(stack, PHONE)
    assert "open times (" in offer_text and "1) " in offer_text and "3) " in offer_text
    assert "Reply 1, 2 or 3, or pick another time: http" in offer_text
    offer = ports.booking.latest_offer("rs1")
    assert offer is not None and offer.status == "open" and offer.moves == visit.id and len(offer.slots) == 3
    picked = offer.slots[1]
    # When "2" arrives, and the queue delivers it again
    event = inbound_event(stack, PHONE, "2", "rs-in-2")
    assert stack.invoke("sms_inbound", event) == {"batchItemFailures": []}
    assert stack.invoke("sms_inbound", event) == {"batchItemFailures": []}
    # Then one new Careloop appointment at that time, the old one cancelled, one confirmation
    new = [a for a in ports.records.appointments_for_patient("rs1") if a.source == "careloop"]
    assert [(a.start, a.status) for a in new] == [(picked.start.astimezone(UTC), "booked")]
    assert ports.records.get_appointment(visit.id).status == "cancelled"
    confirmations = [b for b in texts_to(stack, PHONE)[1:]]
    assert len(confirmations) == 1 and "you're booked" in confirmations[0]
    closed = ports.booking.latest_offer("rs1")
    assert (closed.status, closed.choice) == ("closed", 2)
    # and the offer, closed, cannot be closed again
    assert ports.booking.close_offer(closed, "someone-else", 1, stack.clock.now()) is False
    assert ports.booking.put_offer(closed) is False


def test_a_reply_that_matches_nothing_goes_to_staff(stack, ports):
    patient_with_visit(stack, ports, "rs2", OTHER)
    stack.invoke("sms_inbound", inbound_event(stack, OTHER, "R", "rs-in-3"))
    stack.invoke("sms_inbound", inbound_event(stack, OTHER, "hmm whichever is fine I guess", "rs-in-4"))
    alerts = [m for m in ports.messages.messages_for_patient("rs2") if m.kind == "staff_alert"]
    assert [a.reason for a in alerts] == ["replied to the offered times, but not with one of them"]
    assert [a for a in ports.records.appointments_for_patient("rs2") if a.source == "careloop"] == []
    assert ports.booking.latest_offer("rs2").status == "open"
