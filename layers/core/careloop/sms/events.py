"""Delivery events from End User Messaging SMS update message status; numbers that cannot
receive texts are flagged on the patient for staff."""

from __future__ import annotations

from dataclasses import dataclass

from careloop.models import MessageStatus
from careloop.ports import Services

DELIVERED = {"TEXT_DELIVERED", "TEXT_SUCCESSFUL"}
PENDING = {"TEXT_QUEUED", "TEXT_PENDING"}
# the number itself cannot take texts: stop automating to it until staff fix it
UNDELIVERABLE = {"TEXT_INVALID", "TEXT_BLOCKED", "TEXT_CARRIER_BLOCKED", "TEXT_UNREACHABLE"}
# the order matters: a later, weaker event never downgrades a final one
_RANK = {MessageStatus.SENT: 1, MessageStatus.DELIVERED: 3, MessageStatus.FAILED: 3}


@dataclass(frozen=True)
class EventOutcome:
    message_id: str | None
    status: str
    flagged_patient: str | None = None


def apply_delivery_event(services: Services, event: dict) -> EventOutcome:
    provider_id = event.get("messageId")
    event_type = event.get("eventType", "")
    if not provider_id or not event_type.startswith("TEXT_"):
        return EventOutcome(None, "ignored")
    message = services.messages.message_by_provider_id(provider_id)
    if message is None:
        context = event.get("context") or {}
        mid = context.get("message_id")
        message = services.messages.get_message(mid) if mid else None
    if message is None:
        return EventOutcome(None, "unknown message")
    if event_type in PENDING:
        if message.status in (MessageStatus.QUEUED, MessageStatus.SENDING):
            # the carrier has it, though the sender never heard back (a lost answer, a crash): sent,
            # so the queue's retry does not send it again
            services.messages.update_message(message.message_id, status=MessageStatus.SENT, provider_message_id=provider_id)
            return EventOutcome(message.message_id, str(MessageStatus.SENT))
        return EventOutcome(message.message_id, str(message.status))
    new = MessageStatus.DELIVERED if event_type in DELIVERED else MessageStatus.FAILED
    if _RANK.get(message.status, 0) > _RANK[new] or (
        message.status == MessageStatus.DELIVERED and new == MessageStatus.DELIVERED
        and message.status_detail == event_type
    ):
        return EventOutcome(message.message_id, str(message.status))
    # found by its context: the sender died (or its table write failed) after the carrier took it,
    # so the carrier's id is recorded here
    provider = provider_id if not message.provider_message_id else None
    services.messages.update_message(message.message_id, status=new, status_detail=event_type,
                                     provider_message_id=provider)
    flagged = None
    if event_type in UNDELIVERABLE and message.patient_id:
        patient = services.records.get_patient(message.patient_id)
        if patient and not patient.undeliverable:
            patient.undeliverable = True
            services.records.put_patient(patient)
            flagged = patient.id
    return EventOutcome(message.message_id, str(new), flagged)
