"""Texts stuck in `sending`: a sender that died after handing a text to the carrier (or before)
leaves it there, and it is never resent blindly (it may have gone out). After a timeout with no
delivery event, a person is told instead: one staff task per text ("may not have been sent"),
and the count goes to an ops metric."""

from __future__ import annotations

from datetime import datetime, timedelta

from careloop.models import Message, MessageStatus
from careloop.ports import Services

STUCK_AFTER = timedelta(minutes=15)
LOOK_BACK = timedelta(days=2)
SWEEP_EVERY_MINUTES = 15
NOTED = "stuck in sending: staff asked to check"


def sweep_stuck(services: Services, now: datetime | None = None) -> list[Message]:
    """Tasks raised now for texts in `sending` longer than STUCK_AFTER (each once)."""
    now = now or services.clock.now()
    messages = services.messages
    raised = []
    for m in messages.messages_of_kind("sms_out", since=now - LOOK_BACK):
        if m.status != MessageStatus.SENDING or m.status_detail == NOTED or now - m.at < STUCK_AFTER:
            continue
        task = Message(
            message_id=f"stuck-{m.message_id}", kind="task", patient_id=m.patient_id, appointment_id=m.appointment_id,
            phone=m.phone, at=now, status=MessageStatus.OPEN, priority="normal", team="front_desk",
            workflow="sms-sender", step="stuck", automated=False, reason="a text may not have been sent",
            body="A text to this patient may not have been sent (no answer from the carrier). Check the "
                 "thread and resend by hand if needed.",
        )
        if messages.put_message(task):
            services.notifier.notify(task)
            raised.append(task)
        messages.update_message(m.message_id, status_detail=NOTED)
    return raised


def due(now: datetime) -> bool:
    """The sweep runs every SWEEP_EVERY_MINUTES minutes of the every-minute schedule."""
    return now.minute % SWEEP_EVERY_MINUTES == 0
