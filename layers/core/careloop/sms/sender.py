"""Sends one queued text through the SMS channel, exactly once.

queued -> sending (conditional) -> sent | failed | suppressed. A message seen in `sending`
again (a retry after a crash mid-call) is never re-sent: staff are told instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from careloop import consent
from careloop.errors import SendError
from careloop.models import UPCOMING_STATUSES, Message, MessageStatus
from careloop.ports import Services, SmsChannel
from careloop.sms.parts import count_parts


@dataclass(frozen=True)
class SendOutcome:
    message_id: str
    status: str  # sent | failed | suppressed | duplicate | missing
    detail: str = ""



def _root_trigger(services: Services, workflow_id: str | None, depth: int = 0):
    """The trigger that started a workflow's chain (a nudge chained from the reminder is about
    the appointment ahead, like the reminder)."""
    workflow = services.workflow(workflow_id) if workflow_id else None
    if workflow is None or depth > 5:
        return None
    trigger = workflow.trigger
    if trigger.on in ("step_sent", "entered") and trigger.workflow:
        return _root_trigger(services, trigger.workflow, depth + 1) or trigger
    return trigger


def _appointment_moved_on(services: Services, message) -> str | None:
    """Why an automated text about an appointment must not go out any more, or None: re-checked
    at the last moment like consent (the appointment was cancelled, or is already over, while
    the text sat in the queue)."""
    if not message.automated or not message.appointment_id:
        return None
    appt = services.records.get_appointment(message.appointment_id)
    trigger = _root_trigger(services, message.workflow)
    if appt is None or trigger is None:
        return None
    if trigger.on == "appointment_booked":
        if appt.status not in UPCOMING_STATUSES or appt.declined:
            return f"appointment {appt.status if appt.status not in UPCOMING_STATUSES else 'declined'}"
        if appt.start <= services.clock.now():
            return "appointment already started"
    elif trigger.on == "appointment_status" and trigger.status and appt.status != trigger.status:
        return f"appointment now {appt.status}"
    return None


def _page_operators(services: Services, message, exc: SendError) -> None:
    """A quota or spend limit stops every text: an urgent alert (no PHI) for whoever runs the
    account, once per limit per day."""
    now = services.clock.now()
    alert_id = f"ops-quota-{exc.code}-{now:%Y%m%d}"
    alert = Message(
        message_id=alert_id, kind="staff_alert", at=now, status=MessageStatus.OPEN, priority="urgent",
        team="ops", workflow="sms-sender", step="quota", automated=False, reason="SMS quota or spend limit",
        body=f"Texts are not going out: End User Messaging refused with {exc.code}. Raise the limit in the AWS console.",
    )
    if services.messages.put_message(alert):
        services.notifier.notify(alert)


def send_queued(
    services: Services, channel: SmsChannel, message_id: str, pace: Callable[[int], object] | None = None
) -> SendOutcome:
    """`pace(parts)` blocks until the origination number may take that many more parts."""
    messages = services.messages
    message = messages.get_message(message_id)
    if message is None:
        return SendOutcome(message_id, "missing")
    if message.status != MessageStatus.QUEUED:
        return SendOutcome(message_id, "duplicate", str(message.status))

    patient = services.records.get_patient(message.patient_id) if message.patient_id else None
    # consent re-checked at the last moment: a STOP that arrived while this sat in the queue.
    # Only the one opt-out confirmation, HELP answers and the safety reply to the patient's own
    # urgent text (911 / 988: every time, whatever their consent) reach a number that opted out.
    reaches_opted_out = message.workflow == "sms-agent" and message.step in ("opt_out", "help", "urgent")
    opted_out = (patient is not None and patient.opted_out) or consent.is_opted_out(services.consent, message.phone)
    if opted_out and not reaches_opted_out:
        messages.transition_message(
            message_id, MessageStatus.QUEUED, MessageStatus.SUPPRESSED, status_detail="opted out"
        )
        return SendOutcome(message_id, "suppressed", "opted out")
    stale = _appointment_moved_on(services, message)
    if stale:
        messages.transition_message(message_id, MessageStatus.QUEUED, MessageStatus.SUPPRESSED, status_detail=stale)
        return SendOutcome(message_id, "suppressed", stale)
    if not message.phone:
        messages.transition_message(
            message_id, MessageStatus.QUEUED, MessageStatus.FAILED, status_detail="no phone"
        )
        return SendOutcome(message_id, "failed", "no phone")

    if not messages.transition_message(message_id, MessageStatus.QUEUED, MessageStatus.SENDING):
        return SendOutcome(message_id, "duplicate", "claimed by another sender")
    context = {"message_id": message.message_id}
    if message.workflow:
        context["workflow"] = message.workflow
    if message.step:
        context["step"] = message.step
    if pace is not None:
        pace(count_parts(message.body))
    # the safety reply to an opted-out number's own urgent text passes the carrier list for this
    # one message (then the number goes back on it, below)
    safety_reply_past_opt_out = opted_out and message.workflow == "sms-agent" and message.step == "urgent"
    if safety_reply_past_opt_out:
        try:
            channel.opt_in(message.phone)
        except Exception as exc:  # the send below then fails permanently and staff, paged, call
            messages.update_message(message_id, status_detail=f"carrier opt-out list not lifted: {type(exc).__name__}")
    try:
        provider_id = channel.send(message.phone, message.body, context)
    except SendError as exc:
        if safety_reply_past_opt_out:
            _back_on_carrier_list(channel, messages, message)
        if exc.permanent:
            messages.transition_message(
                message_id, MessageStatus.SENDING, MessageStatus.FAILED,
                status_detail=("quota: " if exc.quota else "") + (exc.code or "permanent error"),
            )
            if exc.quota:
                _page_operators(services, message, exc)
            return SendOutcome(message_id, "failed", exc.code or "")
        # transient: give it back to the queue's retry. Left in `sending` it would never be tried
        # again (only a staff task after STUCK_AFTER), so a throttled table gets a few more tries.
        _persist(lambda: messages.transition_message(message_id, MessageStatus.SENDING, MessageStatus.QUEUED))
        raise
    messages.transition_message(
        message_id, MessageStatus.SENDING, MessageStatus.SENT,
        provider_message_id=provider_id, parts=count_parts(message.body),
    )
    if (message.workflow == "sms-agent" and message.step == "opt_out") or safety_reply_past_opt_out:
        # the confirmation (or the safety reply) is out: now the carrier layer refuses anything more, too
        _back_on_carrier_list(channel, messages, message)
    return SendOutcome(message_id, "sent")


def _persist(write: Callable[[], object], tries: int = 3, pause_s: float = 0.2) -> None:
    """A write that must land (the table's client has retried already): a few more tries, with a
    growing pause, before the error goes to the queue's retry."""
    for attempt in range(tries):
        try:
            write()
            return
        except Exception:
            if attempt == tries - 1:
                raise
            time.sleep(pause_s * 2**attempt)


def _back_on_carrier_list(channel, messages, message: Message) -> None:
    try:
        channel.opt_out(message.phone)
    except Exception as exc:  # the ledger still blocks every send; staff see the flag
        messages.update_message(message.message_id, status_detail=f"carrier opt-out list not updated: {type(exc).__name__}")

