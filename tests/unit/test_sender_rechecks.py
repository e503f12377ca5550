"""The sender re-checks the appointment at the last moment, as it re-checks consent (issue #10,
item 4): a queued reminder whose appointment was cancelled, declined or has already started is
suppressed; a post-visit text is kept while the visit's status holds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from careloop.models import Appointment, Message, MessageStatus, Patient
from careloop.sms.sender import send_queued
from tests.unit.test_consent import FakeChannel

PHONE = "+16175550123"


@pytest.fixture
def queued(svc):
    now = svc.clock.now()
    svc.records.put_patient(Patient(id="p", first_name="Ana", phone=PHONE))

    def make(mid, *, status="booked", start_in=timedelta(days=2), workflow="appointment-reminder", step="reminder-48h",
             declined=False):
        svc.records.put_appointment(Appointment(id=f"a-{mid}", patient_id="p", start=now + start_in, status=status,
                                              declined=declined))
        svc.messages.put_message(Message(message_id=mid, kind="sms_out", patient_id="p", appointment_id=f"a-{mid}",
                                      phone=PHONE, body="hi", at=now, status=MessageStatus.QUEUED, automated=True,
                                      workflow=workflow, step=step))
        return mid

    return make


@pytest.mark.parametrize(("kw", "why"), [
    ({"status": "cancelled"}, "appointment cancelled"),
    ({"status": "noshow"}, "appointment noshow"),
    ({"declined": True}, "appointment declined"),
    ({"start_in": -timedelta(minutes=5)}, "appointment already started"),
    ({"status": "cancelled", "workflow": "confirmation-nudge", "step": "nudge-24h"}, "appointment cancelled"),
])
def test_a_reminder_for_an_appointment_that_moved_on_is_suppressed(svc, queued, kw, why):
    mid = queued("m", **kw)
    channel = FakeChannel()
    outcome = send_queued(svc, channel, mid)
    assert (outcome.status, outcome.detail) == ("suppressed", why) and channel.sent == []
    assert svc.messages.get_message(mid).status == MessageStatus.SUPPRESSED


def test_a_reminder_still_ahead_goes_and_a_post_visit_text_goes_while_the_visit_holds(svc, queued):
    channel = FakeChannel()
    assert send_queued(svc, channel, queued("ok")).status == "sent"
    post = queued("post", status="fulfilled", start_in=-timedelta(hours=3), workflow="post-visit", step="care-instructions")
    assert send_queued(svc, channel, post).status == "sent"
    # but a no-show text for a visit the EHR has since marked fulfilled is not
    late = queued("ns", status="fulfilled", start_in=-timedelta(hours=3), workflow="no-show-recovery", step="recovery-sms")
    outcome = send_queued(svc, channel, late)
    assert (outcome.status, outcome.detail) == ("suppressed", "appointment now fulfilled")
