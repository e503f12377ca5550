"""Sends one queued text through the SMS channel, exactly once.

queued -> sending (conditional) -> sent | failed | suppressed. A message seen in `sending`
again (a retry after a crash mid-call) is never re-sent: staff are told instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from careloop.errors import SendError
from careloop.models import MessageStatus
from careloop.ports import Services, SmsChannel


@dataclass(frozen=True)
class SendOutcome:
    message_id: str
    status: str  # sent | failed | suppressed | duplicate | missing
    detail: str = ""


def gsm7_parts(body: str) -> int:
    from careloop.sms.parts import count_parts

    return count_parts(body)


def send_queued(services: Services, channel: SmsChannel, message_id: str) -> SendOutcome:
    store = services.store
    message = store.get_message(message_id)
    if message is None:
        return SendOutcome(message_id, "missing")
    if message.status != MessageStatus.QUEUED:
        return SendOutcome(message_id, "duplicate", str(message.status))

    patient = store.get_patient(message.patient_id) if message.patient_id else None
    # consent re-checked at the last moment: a STOP that arrived while this sat in the queue
    if message.automated and patient is not None and patient.opted_out:
        store.transition_message(
            message_id, MessageStatus.QUEUED, MessageStatus.SUPPRESSED, status_detail="opted out"
        )
        return SendOutcome(message_id, "suppressed", "opted out")
    if not message.phone:
        store.transition_message(
            message_id, MessageStatus.QUEUED, MessageStatus.FAILED, status_detail="no phone"
        )
        return SendOutcome(message_id, "failed", "no phone")

    if not store.transition_message(message_id, MessageStatus.QUEUED, MessageStatus.SENDING):
        return SendOutcome(message_id, "duplicate", "claimed by another sender")
    context = {"message_id": message.message_id}
    if message.workflow:
        context["workflow"] = message.workflow
    if message.step:
        context["step"] = message.step
    try:
        provider_id = channel.send(message.phone, message.body, context)
    except SendError as exc:
        if exc.permanent:
            store.transition_message(
                message_id, MessageStatus.SENDING, MessageStatus.FAILED,
                status_detail=exc.code or "permanent error",
            )
            return SendOutcome(message_id, "failed", exc.code or "")
        # transient: give it back to the queue's retry
        store.transition_message(message_id, MessageStatus.SENDING, MessageStatus.QUEUED)
        raise
    store.transition_message(
        message_id, MessageStatus.SENDING, MessageStatus.SENT,
        provider_message_id=provider_id, parts=gsm7_parts(message.body),
    )
    return SendOutcome(message_id, "sent")
