"""Stuck in `sending` (issue #10, item 7): a text whose sender died after marking it `sending` is
never resent blindly; after 15 minutes without a delivery event a staff task says it may not have
been sent, once, and the dispatcher counts it."""

from __future__ import annotations

from datetime import timedelta

from careloop.models import Message, MessageStatus
from careloop.sms import stuck


def _sending(svc, mid, age):
    svc.messages.put_message(Message(message_id=mid, kind="sms_out", patient_id="p", phone="+16175550100", body="hi",
                                  at=svc.clock.now() - age, status=MessageStatus.SENDING, workflow="w", step="s"))


def test_a_text_stuck_in_sending_becomes_one_staff_task_and_is_never_resent(svc):
    _sending(svc, "old", timedelta(hours=1))
    _sending(svc, "fresh", timedelta(minutes=5))
    raised = stuck.sweep_stuck(svc)
    assert [t.message_id for t in raised] == ["stuck-old"]
    assert raised[0].kind == "task" and "may not have been sent" in raised[0].body
    assert svc.notifier.notified == raised
    # a second sweep raises nothing more, and neither text is queued again
    assert stuck.sweep_stuck(svc) == []
    assert svc.messages.get_message("old").status == MessageStatus.SENDING
    assert svc.outbox.sent == []


def test_the_sweep_runs_every_fifteen_minutes_of_the_schedule(svc):
    now = svc.clock.now().replace(minute=30)
    assert stuck.due(now) and not stuck.due(now.replace(minute=31))
