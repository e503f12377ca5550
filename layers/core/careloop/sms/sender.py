"""Sends one queued text through the SMS channel, exactly once.

queued -> sending (conditional) -> sent | failed | suppressed. A message seen in `sending`
again (a retry after a crash mid-call) is never re-sent: staff are told instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from careloop import consent
from careloop.errors import SendError
from careloop.models import MessageStatus
from careloop.ports import Services, SmsChannel
from careloop.sms.parts import count_parts


@dataclass(frozen=True)
class SendOutcome:
    message_id: str
    status: str  # sent | failed | suppressed | duplicate | missing
    detail: str = ""



def send_queued(
    services: Services, channel: SmsChannel, message_id: str, pace: Callable[[int], object] | None = None
) -> SendOutcome:
    """`pace(parts)` blocks until the origination number may take that many more parts."""
    store = services.store
    message = store.get_message(message_id)
    if message is None:
        return SendOutcome(message_id, "missing")
    if message.status != MessageStatus.QUEUED:
        return SendOutcome(message_id, "duplicate", str(message.status))

    patient = store.get_patient(message.patient_id) if message.patient_id else None
    # consent re-checked at the last moment: a STOP that arrived while this sat in the queue.
    # Only the one opt-out confirmation and HELP answers reach a number that opted out.
    is_confirmation = message.workflow == "sms-agent" and message.step in ("opt_out", "help")
    opted_out = (patient is not None and patient.opted_out) or consent.is_opted_out(store, message.phone)
    if opted_out and not is_confirmation:
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
    if pace is not None:
        pace(count_parts(message.body))
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
        provider_message_id=provider_id, parts=count_parts(message.body),
    )
    if message.workflow == "sms-agent" and message.step == "opt_out":
        # the confirmation is out: now the carrier layer refuses anything more, too
        try:
            channel.opt_out(message.phone)
        except Exception as exc:  # the ledger still blocks every send; staff see the flag
            store.update_message(message_id, status_detail=f"carrier opt-out list not updated: {type(exc).__name__}")
    return SendOutcome(message_id, "sent")

