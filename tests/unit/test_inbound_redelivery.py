"""An effect is marked done only after it happened (issue #10, items 8 and 9): an urgent page whose
publish failed once, a STOP confirmation whose queueing failed once, and a crash between recording
an opt-out and confirming it, each followed by the redelivery, end with exactly one page, one
confirmation (sent once) and one proof row."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from careloop import consent
from careloop.agent.inbound import handle_inbound
from careloop.models import MessageStatus, Patient
from careloop.records import ingest
from careloop.sms.sender import send_queued
from tests.unit.test_consent import FakeChannel

PHONE = "+16175550199"


@dataclass
class FailsOnce:
    """A notifier / outbox whose first call raises (SNS or SQS down for a moment)."""

    calls: list = field(default_factory=list)
    failed: bool = False

    def _call(self, message):
        if not self.failed:
            self.failed = True
            raise ConnectionError("injected failure")
        self.calls.append(message.message_id)

    notify = enqueue = _call


@pytest.fixture
def patient(svc):
    ingest(svc.records, svc.consent, [Patient(id="p", first_name="Ana", last_name="Reyes", phone=PHONE)], [], svc.clock.now())


def test_an_urgent_page_that_failed_once_goes_out_on_the_redelivery(svc, patient):
    svc.notifier = FailsOnce()
    with pytest.raises(ConnectionError):
        handle_inbound(svc, PHONE, "I'm having chest pain and can't breathe", "sns-1")
    out = handle_inbound(svc, PHONE, "I'm having chest pain and can't breathe", "sns-1")  # the redelivery
    assert not out.duplicate and svc.notifier.calls == [out.alert.message_id]
    # and a third delivery changes nothing: one page, one safety reply
    assert handle_inbound(svc, PHONE, "I'm having chest pain and can't breathe", "sns-1").duplicate
    assert svc.notifier.calls == [out.alert.message_id]
    replies = [m for m in svc.messages.messages_for_patient("p") if m.kind == "sms_out"]
    assert len(replies) == 1 and "911" in replies[0].body


def test_a_stop_confirmation_whose_queueing_failed_is_sent_once_after_the_redelivery(svc, patient):
    svc.outbox = FailsOnce()
    with pytest.raises(ConnectionError):  # the opt-out is recorded, then queueing the confirmation fails
        handle_inbound(svc, PHONE, "STOP", "sns-2")
    assert consent.is_opted_out(svc.consent, PHONE)
    handle_inbound(svc, PHONE, "STOP", "sns-2")
    handle_inbound(svc, PHONE, "STOP", "sns-2")
    # one proof row, one confirmation queued, sent once, and the number reaches the carrier list
    assert len(consent.entries(svc.consent, PHONE)) == 1
    (reply_id,) = set(svc.outbox.calls)
    channel = FakeChannel()
    for _ in svc.outbox.calls:  # even if it was queued more than once
        send_queued(svc, channel, reply_id)
    assert len(channel.sent) == 1 and channel.opted_out == [PHONE]
    assert svc.messages.get_message(reply_id).status == MessageStatus.SENT
