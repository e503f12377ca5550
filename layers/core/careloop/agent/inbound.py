"""Handles one inbound text: dedupe, match the patient and conversation, classify, act, reply.

Replies are direct answers (not automated marketing): they skip quiet hours and caps, but
never go to a number that opted out, except the one opt-out confirmation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from careloop import consent, templates
from careloop.agent.classifier import Prediction, classify
from careloop.models import Appointment, Message, MessageStatus, Patient
from careloop.ports import Services
from careloop.sms.keywords import bare_word, keyword_kind

ACTIVE = ("booked", "pending")

REPLIES = {
    "confirm": {
        "en": "Thanks {first_name}, you're confirmed for {date_time}. See you then!",
        "es": "Gracias {first_name}, su cita del {date_time} está confirmada. ¡Hasta pronto!",
    },
    "opt_out": {
        "en": "{practice_name}: you will no longer receive texts from us. Reply START to resubscribe.",
        "es": "{practice_name}: ya no recibirá mensajes nuestros. Responda START para volver a recibirlos.",
    },
    "opt_in": {
        "en": "{practice_name}: you will receive appointment texts again. Reply STOP to opt out, HELP for help.",
        "es": "{practice_name}: volverá a recibir mensajes sobre sus citas. Responda ALTO para cancelarlos.",
    },
    "help": {
        "en": "{practice_name} appointment messages. Questions? Call {practice_phone}. Reply STOP to opt out. Msg & data rates may apply.",
        "es": "Mensajes de citas de {practice_name}. ¿Preguntas? Llame al {practice_phone}. Responda ALTO para no recibir mensajes.",
    },
    "reschedule": {
        "en": "No problem, {first_name}. Pick a new time here: {booking_url} or call {practice_phone}.",
        "es": "Con gusto, {first_name}. Elija otra hora aquí: {booking_url} o llame al {practice_phone}.",
    },
    "handoff": {
        "en": "Thanks, {first_name}. A member of our team will get back to you during office hours.",
        "es": "Gracias, {first_name}. Una persona de nuestro equipo le responderá en horario de oficina.",
    },
}


@dataclass
class InboundOutcome:
    message_id: str
    duplicate: bool = False
    patient_id: str | None = None
    intent: str | None = None
    replies: list[Message] = field(default_factory=list)
    needs_attention: bool = False
    reason: str | None = None


def _id(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _conversation_patient(services: Services, patients: list[Patient]) -> tuple[Patient | None, Message | None]:
    """The patient (of those sharing this phone) the last outbound text was about."""
    if not patients:
        return None, None
    latest: tuple[Patient | None, Message | None] = (None, None)
    for p in patients:
        for m in services.store.messages_for_patient(p.id):
            if m.kind == "sms_out" and (latest[1] is None or m.at > latest[1].at):
                latest = (p, m)
    if latest[0] is not None:
        return latest
    return (patients[0], None) if len(patients) == 1 else (None, None)


def _target_appointment(services: Services, patient: Patient, last: Message | None, now: datetime) -> Appointment | None:
    if last is not None and last.appointment_id:
        appt = services.store.get_appointment(last.appointment_id)
        if appt and appt.status in ACTIVE and appt.start > now:
            return appt
    upcoming = [a for a in services.store.appointments_for_patient(patient.id) if a.status in ACTIVE and a.start > now]
    return min(upcoming, key=lambda a: a.start) if upcoming else None


def handle_inbound(
    services: Services, from_phone: str, body: str, inbound_id: str, at: datetime | None = None
) -> InboundOutcome:
    now = at or services.clock.now()
    message_id = _id("in-", inbound_id)
    if services.store.get_message(message_id) is not None:
        return InboundOutcome(message_id, duplicate=True)

    patients = services.store.patients_by_phone(from_phone)
    patient, last_out = _conversation_patient(services, patients)
    prediction = classify(body)
    outcome = InboundOutcome(message_id, patient_id=patient.id if patient else None, intent=prediction.intent)

    language = patient.language if patient else prediction.language
    ctx = templates.context_for(services.practice, patient or Patient(id="?", language=language), None)
    reply_key: str | None = None
    appt: Appointment | None = None

    if prediction.intent in ("opt_out", "opt_in"):
        # consent follows the phone (every patient on this number), with the text as proof
        words = bare_word(body) if keyword_kind(body) else f"free text read as {prediction.intent}"
        changed = consent.record(services.store, consent.ConsentEntry(
            phone=from_phone, action=prediction.intent, at=now, source="sms", words=words[:60],
            text=body[:1600], message_id=message_id))
        if changed and prediction.intent == "opt_in" and services.sms is not None:
            services.sms.opt_in(from_phone)  # off the carrier list first, or the reply is refused
        reply_key = prediction.intent if changed else None
    elif prediction.intent == "help":
        reply_key = "help"
    elif patient is None:
        outcome.needs_attention = True
        outcome.reason = "number shared by several patients" if patients else "unknown number"
    elif prediction.intent == "confirm":
        appt = _target_appointment(services, patient, last_out, now)
        if appt is None:
            outcome.needs_attention, outcome.reason = True, "confirmation with no upcoming appointment"
        else:
            if not appt.confirmed:
                services.store.put_appointment(appt.model_copy(update={"confirmed": True, "confirmed_at": now}))
            reply_key = "confirm"
            ctx = templates.context_for(services.practice, patient, appt)
    elif prediction.intent == "reschedule":
        appt = _target_appointment(services, patient, last_out, now)
        reply_key = "reschedule" if services.practice.booking_url else "handoff"
        outcome.needs_attention, outcome.reason = True, "wants to reschedule"
    elif prediction.intent == "thanks":
        pass
    else:
        outcome.needs_attention = True
        outcome.reason = _reason(prediction)
        reply_key = "handoff"
        if prediction.intent == "cancel":
            appt = _target_appointment(services, patient, last_out, now)

    inbound = Message(
        message_id=message_id, kind="sms_in", patient_id=outcome.patient_id,
        appointment_id=appt.id if appt else (last_out.appointment_id if last_out else None),
        phone=from_phone, body=body, at=now, status=MessageStatus.RECEIVED, automated=False,
        intent=prediction.intent, needs_attention=outcome.needs_attention, reason=outcome.reason,
    )
    if not services.store.put_message(inbound):
        return InboundOutcome(message_id, duplicate=True)
    if reply_key:
        text = REPLIES[reply_key]["es" if language == "es" else "en"].format(**ctx)
        reply = Message(
            message_id=_id("r-", inbound_id), kind="sms_out", patient_id=outcome.patient_id,
            appointment_id=inbound.appointment_id, phone=from_phone, body=" ".join(text.split()),
            at=now, status=MessageStatus.QUEUED, workflow="sms-agent", step=prediction.intent,
            automated=False,
        )
        if services.store.put_message(reply):
            services.outbox.enqueue(reply)
            outcome.replies.append(reply)
    return outcome


def _reason(prediction: Prediction) -> str:
    if prediction.confidence < 0.6:
        return "the agent could not tell what this text is about"
    return f"{prediction.intent.replace('_', ' ')} request"
