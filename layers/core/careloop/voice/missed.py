"""Missed-call text-back: a voice contact that ended without a person or a finished bot outcome
gets one text (one per number per day), and every call gets its inbox entry (careloop.voice.calls)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from careloop import consent
from careloop.models import Message, MessageStatus, Patient
from careloop.phones import try_e164
from careloop.voice.contact import CallContact, ContactEvent, ContactEventError, parse_contact_event

if TYPE_CHECKING:
    from careloop.ports import Services

# What the code hook sets as careloopOutcome (spec/voice.md); only these three leave a caller
# waiting for us, so only these (or none at all) earn a text-back.
UNFINISHED_OUTCOMES = frozenset({"unresolved", "callback"})
FINISHED_OUTCOMES = frozenset({"booked", "confirmed", "cancelled", "rescheduled", "answered", "transferred", "urgent"})
# The contact attributes the flow may carry the call's language in (the bot's locale, `es_US`).
LOCALE_ATTRIBUTES = ("careloopLocale", "locale", "language", "careloopLanguage")
TEXT_BACK_WORKFLOW, TEXT_BACK_STEP = "voice", "missed-call"
# Within 3 SMS parts for a practice name up to 40 characters and a 50-character link, even when
# the name needs UCS-2 (an accent): so the Spanish text has no accent of its own ("aquí" made it UCS-2).
TEXT_BACK_MAX_PARTS = 3
TEXT_BACK = {
    "en": ("Sorry we missed your call to {practice}. Reply to this text and we will help",
           ", or book a visit here: {url}", "."),
    "es": ("Sentimos no haber atendido su llamada a {practice}. Responda a este mensaje y le ayudamos",
           ", o reserve su cita en: {url}", "."),
}

Action = Literal["ignored", "recorded", "texted", "already_texted", "opted_out", "no_number", "not_textable"]


@dataclass
class ContactEventOutcome:
    """What one contact event did (ids only: the handler logs this)."""

    contact_id: str
    action: Action
    outcome: str | None = None  # the call's careloopOutcome, or None
    text: Message | None = None  # the text-back, when this event queued it
    inbox_message_id: str | None = None


def text_back_id(phone: str, day: str) -> str:
    """One id per caller number per calendar day: the message store's conditional put is the
    once-a-day guard, and a redelivered or second event lands on the same id. Hashed, so the
    number never appears in an id that reaches a log."""
    return "mc-" + hashlib.sha256(f"{phone}|{day}".encode()).hexdigest()[:32]


def language_of(patients: list[Patient], contact: CallContact) -> Literal["en", "es"]:
    """The patient's language when the number is one person's (or all of theirs agree), else the call's locale."""
    languages = {p.language for p in patients}
    if len(languages) == 1:
        return patients[0].language
    for name in LOCALE_ATTRIBUTES:
        value = contact.attributes.get(name)
        if value:
            return "es" if value.lower().startswith("es") else "en"
    return "en"


def text_back_body(services: Services, language: str, url: str) -> str:
    opening, with_link, close = TEXT_BACK["es" if language == "es" else "en"]
    text = opening.format(practice=services.practice.name)
    return text + (with_link.format(url=url) if url else close)


def handle_contact_event(services: Services, event: Any) -> ContactEventOutcome:
    """One EventBridge contact event: DISCONNECTED voice contacts are recorded in the inbox and,
    when missed, texted back once; every other event type is ignored. Raises ContactEventError
    on an event it cannot read (the rule's DLQ keeps it)."""
    ev = parse_contact_event(event)
    if ev.event_type != "DISCONNECTED" or ev.channel != "VOICE":
        return ContactEventOutcome(ev.contact_id, "ignored")
    if services.contacts is None:
        raise ContactEventError("no Connect contact directory is configured for the voice-events function")
    contact = services.contacts.describe(ev.instance_id, ev.contact_id)
    if contact is None:
        raise ContactEventError("DescribeContact knows no such contact on this instance")
    return _finish(services, ev, contact)


def _finish(services: Services, ev: ContactEvent, contact: CallContact) -> ContactEventOutcome:
    from careloop.voice import calls  # voice-hook's calls-in-the-inbox interface

    reached_agent = ev.reached_agent or contact.reached_agent
    outcome = contact.attributes.get("careloopOutcome") or calls.call_outcome(services, ev.contact_id) or None
    if outcome is not None and outcome not in calls.OUTCOMES:
        outcome = None  # a value the flow should never copy: the call counts as not finished
    caller = try_e164(contact.caller_phone, services.practice.sms.country) if contact.caller_phone else None
    ended_at = contact.disconnected_at or ev.disconnected_at or ev.at or services.clock.now()
    started_at = contact.initiated_at or ev.initiated_at
    entry = calls.finish_call(services, contact_id=ev.contact_id, caller_phone=caller, outcome=outcome,
                              reached_agent=reached_agent, started_at=started_at, ended_at=ended_at)
    if entry.outcome == "callback" and entry.phone and calls.call_outcome(services, ev.contact_id) != "callback":
        # the flow promised the call back (after hours, or nobody free), not the agent, which made
        # its own task: the front desk gets it here, once per contact (a withheld number has none)
        calls.callback_task(services, entry)
    result = ContactEventOutcome(ev.contact_id, "recorded", outcome, inbox_message_id=entry.message_id)
    inbound = (contact.initiation_method or ev.initiation_method) == "INBOUND"
    if not inbound or reached_agent or (outcome is not None and outcome not in UNFINISHED_OUTCOMES):
        return result  # a person answered, the agent finished the caller's business, or we called them
    if caller is None:
        result.action = "no_number"  # a withheld number: nothing to text
        return result
    return _text_back(services, contact, caller, ended_at, result)


def _text_back(services: Services, contact: CallContact, caller: str, ended_at: datetime,
               result: ContactEventOutcome) -> ContactEventOutcome:
    patients = services.records.patients_by_phone(caller)
    if consent.is_opted_out(services.consent, caller) or any(p.opted_out for p in patients):
        result.action = "opted_out"
        return result
    if any(p.phone_kind == "landline" or p.undeliverable for p in patients):
        result.action = "not_textable"  # the carrier cannot take a text there
        return result
    day = ended_at.astimezone(services.practice.zone).date().isoformat()
    message_id = text_back_id(caller, day)
    existing = services.messages.get_message(message_id)
    if existing is None:
        patient = patients[0] if len(patients) == 1 else None  # a shared number gets no one's personal link
        if patient is not None:
            from careloop.booking.links import booking_url_for

            url = booking_url_for(services, patient, "book", ref=message_id)
        else:
            url = services.practice.booking_url or ""
        text = Message(
            message_id=message_id, kind="sms_out", patient_id=patient.id if patient else None, phone=caller,
            body=text_back_body(services, language_of(patients, contact), url), at=services.clock.now(),
            status=MessageStatus.QUEUED, workflow=TEXT_BACK_WORKFLOW, step=TEXT_BACK_STEP,
            automated=False,  # an answer to someone who just called: quiet hours do not hold it
            reason=f"missed call {contact.contact_id}",
        )
        if services.messages.put_message(text):
            _hand_over(services, text)
            result.action, result.text = "texted", text
            return result
        existing = services.messages.get_message(message_id)
    if existing is not None and not existing.effects_done and existing.reason == f"missed call {contact.contact_id}":
        # this very call's text, stored before a crash but never handed over: hand it over now
        _hand_over(services, existing)
    result.action = "already_texted"
    return result


def _hand_over(services: Services, text: Message) -> None:
    """To the send queue, then marked done: a redelivered event finds it done and queues nothing
    (and were it queued twice, the sender still moves it queued -> sending once)."""
    services.outbox.enqueue(text)
    services.messages.update_message(text.message_id, effects_done=True)
