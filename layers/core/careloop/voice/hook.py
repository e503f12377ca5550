"""The Lex V2 code hook of the voice agent: one caller turn in (a Lex V2 event), one standard Lex V2
answer out, on the SMS agent's core (classifier and safety rules, knowledge, slot engine, inbox).

What the hook must remember between turns lives in the session attributes (strings only, as Lex
keeps them): the patient the caller proved to be, the slot on offer, the offers declined, and
`careloopOutcome` once the caller's business is done. Every turn is recorded (careloop.voice.calls).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal
from xml.sax.saxutils import escape

from careloop.booking.availability import AppointmentType
from careloop.booking.slots import Slot
from careloop.errors import PayloadError
from careloop.models import UPCOMING_STATUSES, Appointment, Message, MessageStatus, Patient
from careloop.ports import Services
from careloop.records import with_change
from careloop.voice import calls, identity
from careloop.voice.bot import SMS_INTENT_TO_LEX

if TYPE_CHECKING:
    from careloop.agent.classifier import Prediction

# session attributes: the three the contact flow sets (voice.md), then the hook's own
CALLER, PRACTICE_NUMBER, CONTACT = "callerNumber", "practiceNumber", "contactId"
OUTCOME = "careloopOutcome"
PATIENT = "careloopPatient"  # the patient the caller is (known number, or proved by name + birth date)
OFFER = "careloopOffer"  # JSON: the slot offered in a ConfirmIntent, or the appointment to cancel
DECLINED = "careloopDeclined"  # JSON list: starts the caller said no to in this call
TRIES = "careloopIdTries"  # failed identity checks
GREETED = "careloopGreeted"
NO_OPENING = "careloopNoOpening"  # days asked for that had no opening

SEARCH_DAYS = 14  # how far past the asked day an offer may be
MAX_OFFERS = 3  # declined offers before the caller is asked for another day
ID_TRIES = 2  # identity checks before a person calls back instead
ID_TRIES_PER_DAY = 3  # failed checks from one number in a practice-local day, over all its calls
CLOSED = "careloopClosed"  # "Fulfilled" on a fulfilled Close that set no outcome: the flow hangs up
ASKED = "careloopAsked"  # the slot the last answer elicited: the next transcript is its value
# Slots whose answers are names, dates and medicines: the urgent model misreads them ("my blood
# pressure pills"), so only the safety rules' warning signs make such an answer urgent.
SLOT_ANSWERS = ("Medication", "FirstName", "LastName", "BirthDate", "VisitType", "Date", "Time")
# The urgent model alone counts on a call only above this (the SMS bar pages staff on "goodbye"),
# and only when the words hold a live warning sign the rules weigh but do not decide on.
VOICE_URGENT_MODEL_BAR = 0.9
# How callers end a call; never urgent by themselves, whatever the model's doubt.
CLOSING_WORDS = frozenset({
    "bye", "goodbye", "good", "adios", "im", "i", "am", "done", "all", "set", "nothing", "else", "that", "is", "thats",
    "it", "for", "now", "thanks", "thank", "you", "ok", "okay", "gracias", "hasta", "luego", "pronto", "eso", "es",
    "todo", "nada", "mas", "ya", "listo", "muchas", "chao", "chau", "see", "then", "have", "a", "nice", "day",
    "great", "buenas", "noches", "tardes", "dias", "bueno", "perfect", "perfecto", "so", "much", "night", "m", "s"})
PARTS_OF_DAY = {"morning": (time(0), time(12)), "afternoon": (time(12), time(17)), "evening": (time(17), time(23, 59))}
# AMAZON.Time resolves "morning" / "afternoon" / "evening" to these
LEX_PARTS = {"MO": "morning", "AF": "afternoon", "EV": "evening", "NI": "evening"}
YES = {"yes", "yeah", "yep", "sure", "ok", "okay", "correct", "right", "please", "si", "claro", "dale", "correcto", "bueno"}
# "not" is no "no" by itself ("not a problem", "I'm not sure"): the phrases below carry it
NO = {"no", "nope", "nah", "neither", "otra", "otro"}
# read before the single words: a "no" inside these is a yes, a yes-word inside these is a no
YES_PHRASES = ("no problem", "not a problem", "no hay problema", "ningun problema", "go ahead", "sounds good",
               "that works", "works for me", "of course", "si claro", "claro que si", "por supuesto", "esta bien",
               "de acuerdo", "me parece bien")
NO_PHRASES = ("not that", "not this", "not then", "not good", "doesn t work", "does not work", "won t work",
              "no thanks", "no thank", "no gracias", "esa no", "ese no", "no me sirve", "no puedo")


def _t(lang: str, en: str, es: str) -> str:
    return es if lang == "es" else en


# ---- the event -------------------------------------------------------------------------------


@dataclass
class LexTurn:
    """One Lex V2 code-hook event, read: what the caller said, in which intent, with which slots."""

    intent: dict[str, Any]
    name: str
    slots: dict[str, Any]
    confirmation: str
    attrs: dict[str, str]
    transcript: str
    locale: str
    lang: Literal["en", "es"]
    caller: str | None
    contact_id: str
    now: datetime
    outcome: str | None = None  # set when this turn finished the caller's business
    patient: Patient | None = None
    prediction: Prediction | None = None  # the SMS classifier's reading of the transcript

    def slot(self, name: str) -> str | None:
        """The slot's interpreted value (Lex's resolution), else what the caller said."""
        value = (self.slots.get(name) or {}).get("value") or {}
        for key in ("interpretedValue", "originalValue"):
            v = value.get(key)
            if isinstance(v, str) and v.strip():
                return v.strip()
        return None

    def said(self, name: str) -> str | None:
        value = (self.slots.get(name) or {}).get("value") or {}
        v = value.get("originalValue") or value.get("interpretedValue")
        return v.strip() if isinstance(v, str) and v.strip() else None

    def clear(self, *names: str) -> None:
        for n in names:
            if n in self.slots:
                self.slots[n] = None


def read_event(event: object, now: datetime) -> LexTurn:
    """The parts of a Lex V2 code-hook event the hook uses; PayloadError naming what is missing."""
    if not isinstance(event, dict):
        raise PayloadError("event: not a Lex V2 code-hook event (a JSON object)")
    state = event.get("sessionState")
    if not isinstance(state, dict):
        raise PayloadError("sessionState: missing")
    intent = state.get("intent")
    if not isinstance(intent, dict) or not isinstance(intent.get("name"), str) or not intent["name"]:
        raise PayloadError("sessionState.intent.name: missing")
    slots = {} if intent.get("slots") is None else intent["slots"]
    if not isinstance(slots, dict):
        raise PayloadError("sessionState.intent.slots: not an object")
    attrs = state.get("sessionAttributes") or {}
    if not isinstance(attrs, dict):
        raise PayloadError("sessionState.sessionAttributes: not an object")
    attrs = {str(k): str(v) for k, v in attrs.items() if v is not None}
    bot = event.get("bot")
    locale = str((bot.get("localeId") if isinstance(bot, dict) else None) or "en_US")
    contact = attrs.get(CONTACT) or str(event.get("sessionId") or "")
    if not contact:
        raise PayloadError("sessionAttributes.contactId: missing (and no sessionId)")
    transcript = event.get("inputTranscript")
    return LexTurn(
        intent=dict(intent), name=intent["name"], slots=dict(slots),
        confirmation=str(intent.get("confirmationState") or "None"), attrs=attrs,
        transcript=transcript.strip() if isinstance(transcript, str) else "", locale=locale,
        lang="es" if locale.lower().startswith("es") else "en", caller=identity.caller_number(attrs.get(CALLER)),
        contact_id=contact, now=now,
    )


# ---- speech and responses --------------------------------------------------------------------


@dataclass
class Say:
    """What the agent says: plain text (the transcript, the inbox) and, when it helps, SSML."""

    text: str
    ssml: str | None = None

    def __add__(self, other: Say) -> Say:
        # a space between the parts, none before the punctuation that ends a sentence
        gap = "" if other.text[:1] in ".,!?;:" else " "
        ssml = None
        if self.ssml is not None or other.ssml is not None:
            ssml = f"{(self.ssml or escape(self.text)).rstrip()}{gap}{other.ssml or escape(other.text)}"
        return Say(f"{self.text.rstrip()}{gap}{other.text}", ssml)


def plain(text: str) -> Say:
    return Say(text)


_DAY = {"en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")}
_MONTH = {"en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                 "November", "December"),
          "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
                 "noviembre", "diciembre")}


def _clock(local: datetime, lang: str) -> str:
    if lang == "es":
        return f"{local.hour}:{local.minute:02d}" if local.minute else f"{local.hour}"
    hour = local.hour % 12 or 12
    return f"{hour}{f':{local.minute:02d}' if local.minute else ''} {'AM' if local.hour < 12 else 'PM'}"


def spoken_when(local: datetime, lang: str) -> Say:
    """"Tuesday, December 8 at 10 AM" / "el martes 8 de diciembre a las 10", the date read as a date."""
    day, month = _DAY[lang][local.weekday()], _MONTH[lang][local.month - 1]
    if lang == "es":
        text = f"el {day} {local.day} de {month} a las {_clock(local, lang)}"
        ssml = (f'el {day} <say-as interpret-as="date" format="dm">{local.day}/{local.month}</say-as> '
                f"a las {_clock(local, lang)}")
    else:
        text = f"{day}, {month} {local.day} at {_clock(local, lang)}"
        ssml = (f'{day}, <say-as interpret-as="date" format="md">{local.month}/{local.day}</say-as> '
                f"at {_clock(local, lang)}")
    return Say(text, ssml)


def _message(say: Say) -> dict:
    if say.ssml is not None:
        return {"contentType": "SSML", "content": f"<speak>{say.ssml}</speak>"}
    return {"contentType": "PlainText", "content": say.text}


@dataclass
class Answer:
    """The Lex V2 response being built for this turn."""

    action: dict
    say: Say
    intent_name: str | None = None  # switch intent (the fallback routes to the intent it found)
    intent_state: str | None = None
    slots: dict | None = field(default=None)


def close(say: Say, fulfilled: bool = True) -> Answer:
    return Answer({"type": "Close"}, say, intent_state="Fulfilled" if fulfilled else "Failed")


def elicit_slot(slot: str, say: Say, intent_name: str | None = None) -> Answer:
    return Answer({"type": "ElicitSlot", "slotToElicit": slot}, say, intent_name=intent_name, intent_state="InProgress")


def confirm_intent(say: Say, intent_name: str | None = None) -> Answer:
    return Answer({"type": "ConfirmIntent"}, say, intent_name=intent_name, intent_state="InProgress")


def elicit_intent(say: Say) -> Answer:
    return Answer({"type": "ElicitIntent"}, say)


def to_lex(turn: LexTurn, answer: Answer) -> dict:
    session: dict[str, Any] = {"sessionAttributes": dict(turn.attrs), "dialogAction": answer.action}
    if answer.action["type"] != "ElicitIntent":
        intent = {**turn.intent, "name": answer.intent_name or turn.name, "slots": turn.slots}
        if answer.intent_name and answer.intent_name != turn.name:
            intent["slots"] = answer.slots or {}
        if answer.action["type"] == "ConfirmIntent":
            intent["confirmationState"] = "None"
        if answer.intent_state:
            intent["state"] = answer.intent_state
        session["intent"] = intent
    return {"sessionState": session, "messages": [_message(answer.say)]}


def polite_close(locale: str = "en_US", event: object = None) -> dict:
    """What Lex hears when the event cannot be read: an apology and the end of the bot's part, with
    the session attributes the event had (the flow's own among them) and the call `unresolved`, so
    the flow hands it to a person (or a callback) instead of reading a finished call."""
    lang = "es" if str(locale).lower().startswith("es") else "en"
    text = _t(lang, "Sorry, something went wrong on our side. Please call again, or stay on the line for our team.",
              "Lo sentimos, hubo un problema de nuestro lado. Llame de nuevo o espere en la línea a nuestro equipo.")
    state = event.get("sessionState") if isinstance(event, dict) else None
    state = state if isinstance(state, dict) else {}
    attrs = state.get("sessionAttributes")
    session = {str(k): str(v) for k, v in attrs.items() if v is not None} if isinstance(attrs, dict) else {}
    session[OUTCOME] = "unresolved"
    session.pop(CLOSED, None)
    intent = state.get("intent")
    name = intent.get("name") if isinstance(intent, dict) else None
    return {"sessionState": {"dialogAction": {"type": "Close"}, "sessionAttributes": session,
                             "intent": {"name": name if isinstance(name, str) and name else "FallbackIntent",
                                        "state": "Failed", "confirmationState": "None", "slots": {}}},
            "messages": [{"contentType": "PlainText", "content": text}]}


# ---- the core behind the answers -------------------------------------------------------------


def _key(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _who(turn: LexTurn) -> str:
    p = turn.patient
    return f"{p.first_name} {p.last_name}".strip() if p else "Caller from an unknown number"


def _staff_item(services: Services, turn: LexTurn, *, kind: Literal["task", "staff_alert"], what: str, team: str,
                reason: str, priority: Literal["urgent", "normal"] = "normal", step: str | None = None) -> Message:
    """A task or alert for the staff inbox, once per call and purpose (Lex retries a turn), notified."""
    msg = Message(
        message_id=f"{'a' if kind == 'staff_alert' else 't'}-voice-{_key(turn.contact_id, what)}", kind=kind,
        patient_id=turn.patient.id if turn.patient else None, phone=turn.caller, at=turn.now,
        status=MessageStatus.OPEN, workflow="voice", step=step or turn.name, priority=priority,
        team=team, reason=reason, automated=False, intent=turn.name,
        body=f"{_who(turn)} (phone call): {reason}", contact_id=turn.contact_id,
    )
    if services.messages.put_message(msg):
        services.notifier.notify(msg)
    return msg


def _when_staff(services: Services, turn: LexTurn) -> str:
    from careloop.agent.replies import when_staff_answer

    return when_staff_answer(services.practice, turn.now, turn.lang)


def in_office_hours(services: Services, now: datetime) -> bool:
    """The practice's opening hours today (a practice-wide closure day is closed)."""
    practice = services.practice
    local = now.astimezone(practice.zone)
    if practice.booking is not None and any(
            c.date == local.date() and c.provider is None and c.location is None for c in practice.booking.closures):
        return False
    from careloop.clocktime import WEEKDAYS

    span = practice.hours.get(WEEKDAYS[local.weekday()])
    if not span or span == "closed":
        return False
    start, end = span.split("-")
    return time.fromisoformat(start) <= local.time() < time.fromisoformat(end)


def callback(services: Services, turn: LexTurn, reason: str, say_first: str | None = None) -> Answer:
    """What the agent cannot finish: a front-desk task to call back, and when to expect the call."""
    _staff_item(services, turn, kind="task", what=f"callback:{reason}", team="front_desk",
                reason=f"call back: {reason}", step="callback")
    turn.outcome = "callback"
    lead = f"{say_first} " if say_first else ""
    return close(plain(lead + _t(turn.lang, f"A member of our team will call you back {_when_staff(services, turn)}.",
                                 f"Una persona de nuestro equipo le llamará {_when_staff(services, turn)}.")))


def urgent(services: Services, turn: LexTurn, kind: str | None, reason: str) -> Answer:
    """911 (988 too for self-harm) at once, and an urgent page to the clinical team, once per call."""
    _staff_item(services, turn, kind="staff_alert", what="urgent", team="clinical", priority="urgent",
                reason=f"urgent: {reason or 'symptoms or safety'}", step="urgent")
    turn.outcome = "urgent"
    if kind == "self_harm":
        text = _t(turn.lang, "You matter, and help is there now. If you might hurt yourself, hang up and call 911, "
                             "or call or text 988, the Suicide and Crisis Lifeline. I've alerted our team.",
                  "Usted importa y hay ayuda ahora. Si podría hacerse daño, cuelgue y llame al 911, "
                  "o llame o envíe un mensaje al 988, la Línea de Crisis y Suicidio. Ya avisé a nuestro equipo.")
    else:
        text = _t(turn.lang, "If this is an emergency, hang up and call 911 now. I've alerted our clinical team, "
                             "and someone will contact you as soon as possible.",
                  "Si es una emergencia, cuelgue y llame al 911 ahora. Ya avisé a nuestro equipo clínico "
                  "y alguien le contactará lo antes posible.")
    return close(plain(text))


def _slot_answer(turn: LexTurn) -> bool:
    """The transcript answers a name, date or medicine question: the slot the last answer
    elicited, or what Lex filled one of those slots with from these very words."""
    if turn.attrs.get(ASKED) in SLOT_ANSWERS:
        return True
    said = identity.fold(turn.transcript)
    for name in SLOT_ANSWERS:
        value = (turn.slots.get(name) or {}).get("value") or {}
        original = value.get("originalValue")
        if isinstance(original, str) and original.strip() and identity.fold(original) == said:
            return True
    return False


def closing_phrase(transcript: str) -> bool:
    """"bye", "I'm all set", "that is all, goodbye", "eso es todo, adiós": a caller ending the call."""
    words = identity.fold(transcript).split()
    return bool(words) and len(words) <= 8 and all(w in CLOSING_WORDS for w in words)


_SAYS_EMERGENCY = re.compile(r"\b(?:emergenc(?:y|ies|ia|ias)|ambulanc(?:e|ia)|9[ -]?1[ -]?1)\b", re.IGNORECASE)


def urgent_on_a_call(turn: LexTurn, screened: Prediction | None) -> tuple[str | None, str] | None:
    """(kind, reason) when this turn is urgent: a live warning sign of the safety rules, in any
    intent and any answer; the urgent model's doubt alone only above VOICE_URGENT_MODEL_BAR, with a
    live warning sign in the words, never on a slot answer or a closing phrase. The SMS bar is
    tuned for texts a person reads; on a call a false alarm plays the 988 script to the caller."""
    if not turn.transcript:
        return None
    from careloop.agent import safety

    signs = safety.signs(turn.transcript)
    hit = safety.urgent(turn.transcript, signs)
    if hit is not None:
        return hit.kind, hit.reason
    if _SAYS_EMERGENCY.search(turn.transcript) and not _slot_answer(turn):
        # "it's an emergency" names no symptom, and the model is unsure of it (0.6): on a call the
        # caller hears 911 at once rather than a menu (a false alarm costs a sentence, a miss more)
        return None, "caller said it is an emergency"
    if screened is None or screened.intent != "urgent" or screened.confidence < VOICE_URGENT_MODEL_BAR:
        return None
    if _slot_answer(turn) or closing_phrase(turn.transcript):
        return None
    live = [s for s in signs if not s.endswith((safety.OUT_OF_SCOPE, safety.EXPLAINED))]
    return (screened.urgent_kind, screened.reason) if live else None


def _next_appointment(services: Services, patient: Patient, now: datetime) -> Appointment | None:
    # a declined one (an EHR appointment the caller cancelled, left for staff to cancel there) is
    # no longer the caller's to confirm, cancel or move
    upcoming = [a for a in services.records.appointments_for_patient(patient.id)
                if a.status in UPCOMING_STATUSES and a.start > now and not a.declined]
    return min(upcoming, key=lambda a: a.start) if upcoming else None


def _type_of(services: Services, appt: Appointment) -> AppointmentType | None:
    booking = services.practice.booking
    if booking is None or not appt.visit_type:
        return None
    return next((t for t in booking.types if appt.visit_type in ((t.visit_type or t.id), t.id)), None)


def _visit_name(services: Services, appt: Appointment, lang: Literal["en", "es"]) -> str:
    kind = _type_of(services, appt)
    if kind is not None:
        return kind.name[lang].lower()
    if appt.visit_type:
        return appt.visit_type.replace("-", " ").replace("_", " ")
    return _t(lang, "appointment", "cita")


def _provider_name(services: Services, provider: str | None) -> str | None:
    if not provider:
        return None
    return next((p.name for p in services.practice.providers if provider in (p.id, p.name)), provider)


def _local(services: Services, at: datetime, location: str | None) -> datetime:
    from careloop.booking.service import zone_for

    return at.astimezone(zone_for(services, location) if location else services.practice.zone)


def describe(services: Services, turn: LexTurn, what: str, at: datetime, provider: str | None,
             location: str | None) -> Say:
    """"your cleaning on Tuesday, December 8 at 10 AM with Dr. Lee"."""
    when = spoken_when(_local(services, at, location), turn.lang)
    who = _provider_name(services, provider)
    if turn.lang == "es":
        head, tail = f"su {what}", f" con {who}" if who else ""
    else:
        head, tail = f"your {what} on", f" with {who}" if who else ""
    return Say(head, escape(head)) + Say(when.text + tail, (when.ssml or "") + escape(tail))


def _tell_ehr(services: Services, kind: str, appt: Appointment, now: datetime, reason: str | None = None) -> None:
    from careloop.ehr import writeback

    writeback.record(services.practice, services.writeback, writeback.WritebackEvent(
        kind=kind, patient_id=appt.patient_id, appointment_id=appt.id, at=now, reason=reason))


# ---- slots and booking (the booking core) ----------------------------------------------------


def _is_new(services: Services, patient: Patient | None) -> bool:
    if patient is None:
        return True
    return not any(a.status != "cancelled" for a in services.records.appointments_for_patient(patient.id))


def bookable_types(services: Services, patient: Patient | None, *, known: bool = True) -> list[AppointmentType]:
    """What this caller may book themselves: the online types (new-patient ones for a new patient;
    `known=False`: every online type, before the caller said who they are)."""
    booking = services.practice.booking
    if booking is None:
        return []
    new = known and _is_new(services, patient)
    return [t for t in booking.types if t.online and (t.new_patients or not new)]


def open_slots_for(services: Services, kind: AppointmentType, first_day: date, days: int,
                   ignore: str | None = None) -> list[Slot]:
    """The booking core's open slots of a type (appointments, claims, holds and the EHR's grid)."""
    from careloop.booking.service import search_slots

    return search_slots(services, kind, first_day, days, ignore=frozenset({ignore}) if ignore else frozenset())


def book_for_caller(services: Services, patient: Patient, kind: AppointmentType, slot: Slot, *,
                    moves: Appointment | None, ref: str) -> tuple[Appointment, str]:
    """Book (or move `moves` to) the slot through the booking core's one path, so the claim, the
    EHR write-back and the one confirmation text are every booking's own; the same `ref` (this
    offer) is the same appointment, so a turn Lex retries books once.
    -> (appointment, "booked" | "requested"); SlotTaken when it is gone."""
    from careloop.booking.service import book_for_patient

    booked = book_for_patient(services, patient, kind, slot, moves=moves.id if moves else None, ref=ref,
                              channel="call")
    return booked.appointment, booked.status


def _asked_window(turn: LexTurn, services: Services) -> tuple[date, time | None, str | None] | None:
    """The day (and time or part of day) the caller asked for, from the Date / Time slots: Lex's
    AMAZON.Date (2026-12-08, 2026-W50, 2026-W50-WE) and AMAZON.Time (10:00, MO/AF/EV), or words."""
    today = turn.now.astimezone(services.practice.zone).date()
    raw_date, raw_time = turn.slot("Date"), turn.slot("Time")
    day: date | None = None
    at: time | None = None
    part: str | None = None
    if raw_date:
        try:
            if len(raw_date) == 10:
                day = date.fromisoformat(raw_date)
            elif "-W" in raw_date:
                year, week = raw_date.split("-W")[0], raw_date.split("-W")[1][:2]
                day = date.fromisocalendar(int(year), int(week), 6 if raw_date.endswith("-WE") else 1)
            elif len(raw_date) == 7:
                day = date.fromisoformat(raw_date + "-01")
        except ValueError:
            day = None
        if day is None:
            from careloop.agent.when import parse_when

            when = parse_when(turn.said("Date") or raw_date, today, turn.lang)
            if when is not None:
                day, at, part = when.first_day, when.time, when.part_of_day
    if raw_time:
        if raw_time in LEX_PARTS:
            part = LEX_PARTS[raw_time]
        else:
            try:
                at = time.fromisoformat(raw_time)
            except ValueError:
                from careloop.agent.when import parse_when

                when = parse_when(turn.said("Time") or raw_time, today, turn.lang)
                if when is not None:
                    at, part = when.time, when.part_of_day or part
    if day is None:
        return None
    return max(day, today), at, part


def find_offer(services: Services, turn: LexTurn, kind: AppointmentType, ignore: str | None = None) -> Slot | None:
    """The first open slot on or after the asked day and time (or in the asked part of the day),
    not one the caller already declined."""
    window = _asked_window(turn, services)
    if window is None:
        return None
    first_day, at, part = window
    declined = set(json.loads(turn.attrs.get(DECLINED, "[]")))
    slots = [s for s in open_slots_for(services, kind, first_day, SEARCH_DAYS, ignore)
             if s.start.isoformat() not in declined]

    def local(s: Slot) -> datetime:
        return _local(services, s.start, s.location)

    if at is not None:
        wanted = [s for s in slots if local(s).time() >= at or local(s).date() > first_day]
        exact = [s for s in wanted if local(s).time() >= at]
        slots = exact or wanted or slots
    elif part is not None:
        lo, hi = PARTS_OF_DAY[part]
        slots = [s for s in slots if lo <= local(s).time() < hi] or slots
    return slots[0] if slots else None


# ---- identity --------------------------------------------------------------------------------


def _identified(services: Services, turn: LexTurn) -> Patient | None:
    pid = turn.attrs.get(PATIENT)
    if pid:
        return services.records.get_patient(pid)
    return identity.known_caller(services, turn.caller)


def prove_identity(services: Services, turn: LexTurn) -> Answer | None:
    """None once the caller is a patient (turn.patient set); else the next question (first name,
    birth date), or, after failed checks, a call back. Never says whose record matched or failed."""
    if turn.patient is not None:
        return None
    if _checks_failed_today(services, turn) >= ID_TRIES_PER_DAY:
        return _identity_locked(services, turn)
    first, birth_raw = turn.slot("FirstName"), turn.slot("BirthDate")
    if not first:
        return elicit_slot("FirstName", plain(_t(turn.lang, "To protect your privacy, what is the patient's first name?",
                                                 "Para proteger su privacidad, ¿cuál es el nombre del paciente?")))
    birth = identity.spoken_birth_date(birth_raw, turn.lang) or _birth(turn)
    if birth is None:
        return elicit_slot("BirthDate", plain(_t(turn.lang, "And the patient's date of birth?",
                                                 "¿Y la fecha de nacimiento del paciente?")))
    patient = identity.verified_caller(services, turn.caller, first, birth)
    if patient is not None:
        turn.patient = patient
        turn.attrs[PATIENT] = patient.id
        return None
    tries = int(turn.attrs.get(TRIES, "0") or 0) + 1
    turn.attrs[TRIES] = str(tries)
    turn.clear("FirstName", "BirthDate")
    if _count_failed_check(services, turn) >= ID_TRIES_PER_DAY:
        return _identity_locked(services, turn)
    if tries < ID_TRIES:
        return elicit_slot("FirstName", plain(_t(
            turn.lang, "I couldn't match those details. Let's try once more: the patient's first name?",
            "No pude verificar esos datos. Intentemos otra vez: ¿el nombre del paciente?")))
    return callback(services, turn, "caller could not be verified by name and birth date",
                    _t(turn.lang, "I'm sorry, I couldn't verify those details.", "Lo siento, no pude verificar esos datos."))


def _checks_key(services: Services, turn: LexTurn) -> str | None:
    """Whose failed checks count together: the caller's number on the practice-local day (a
    withheld number has only the call's own count)."""
    if not turn.caller:
        return None
    day = turn.now.astimezone(services.practice.zone).date().isoformat()
    return _key("identity-checks", services.practice.id, turn.caller, day)


def _check_id(key: str, n: int) -> str:
    return f"cl-idcheck-{key}-{n}"


def _checks_failed_today(services: Services, turn: LexTurn) -> int:
    key = _checks_key(services, turn)
    if key is None:
        return 0
    n = 0
    while n < ID_TRIES_PER_DAY and services.messages.get_message(_check_id(key, n + 1)) is not None:
        n += 1
    return n


def _count_failed_check(services: Services, turn: LexTurn) -> int:
    """Records one failed check from the caller's number today -> how many there are now. Each
    failure claims the next numbered record with the store's conditional put, so two calls at once
    never share a number; a turn Lex retries claims nothing new (the record names its turn)."""
    key = _checks_key(services, turn)
    if key is None:
        return 0
    turn_ref = _key(turn.contact_id, turn.attrs.get(TRIES, ""))
    for n in range(1, ID_TRIES_PER_DAY + 1):
        mid = _check_id(key, n)
        record = Message(message_id=mid, kind="call_log", phone=turn.caller, at=turn.now,
                         status=MessageStatus.RECEIVED, contact_id=turn.contact_id, automated=True,
                         reason=f"failed identity check {turn_ref}")
        if services.messages.put_message(record):
            return n
        stored = services.messages.get_message(mid)
        if stored is not None and stored.reason == record.reason:
            return n  # this very failure, recorded before Lex retried the turn
    return ID_TRIES_PER_DAY


def _identity_locked(services: Services, turn: LexTurn) -> Answer:
    """Too many failed checks from this number today: no more questions, only a call back (the
    caller hears nothing of why), and one note for staff that day, whatever the number of calls."""
    key = _checks_key(services, turn) or _key(turn.contact_id)
    note = Message(
        message_id=f"t-voice-idlock-{key}", kind="task", patient_id=None, phone=turn.caller, at=turn.now,
        status=MessageStatus.OPEN, workflow="voice", step="callback", priority="normal", team="front_desk",
        reason=f"call back: {ID_TRIES_PER_DAY} failed identity checks (first name and birth date) from this number "
               "today; the voice agent stopped asking",
        automated=False, intent=turn.name, contact_id=turn.contact_id,
        body=f"{_who(turn)} (phone call): identity checks stopped for today",
    )
    if services.messages.put_message(note):
        services.notifier.notify(note)
    turn.clear("FirstName", "BirthDate")
    turn.outcome = "callback"
    return close(plain(_t(turn.lang, f"A member of our team will call you back {_when_staff(services, turn)}.",
                          f"Una persona de nuestro equipo le llamará {_when_staff(services, turn)}.")))


# ---- intents ---------------------------------------------------------------------------------


def _pending(turn: LexTurn, kind: str) -> dict | None:
    try:
        offer = json.loads(turn.attrs.get(OFFER, ""))
    except ValueError:
        return None
    return offer if isinstance(offer, dict) and offer.get("for") == kind else None


def _confirmation(turn: LexTurn) -> str:
    """Lex's confirmationState, or the caller's yes / no read here when Lex passed it through."""
    if turn.confirmation in ("Confirmed", "Denied"):
        return turn.confirmation
    said = f" {identity.fold(turn.transcript)} "
    if any(f" {p} " in said for p in YES_PHRASES):
        return "Confirmed"
    if any(f" {p} " in said for p in NO_PHRASES):
        return "Denied"
    words = set(said.split())
    if words & NO:
        return "Denied"
    if words & YES:
        return "Confirmed"
    return "None"


def _offer(services: Services, turn: LexTurn, slot: Slot, kind: AppointmentType, purpose: str,
           moves: str | None = None) -> Answer:
    turn.attrs[OFFER] = json.dumps({"for": purpose, "start": slot.start.isoformat(), "provider": slot.provider,
                                    "location": slot.location, "type": kind.id, "moves": moves})
    what = kind.name[turn.lang].lower()
    when = spoken_when(_local(services, slot.start, slot.location), turn.lang)
    who = _provider_name(services, slot.provider) or ""
    if purpose == "book":
        lead = _t(turn.lang, f"I have a {what} on", f"Tengo una cita de {what}")
        tail = _t(turn.lang, f" with {who}. Shall I book it?", f" con {who}. ¿Se la reservo?")
    else:
        lead = _t(turn.lang, f"I can move your {what} to ", f"Puedo cambiar su {what} para ")
        tail = _t(turn.lang, f" with {who}. Shall I move it?", f" con {who}. ¿La cambio?")
    return confirm_intent(Say(lead, escape(lead)) + Say(when.text + tail, (when.ssml or "") + escape(tail)))


def _declined(turn: LexTurn, offer: dict) -> int:
    seen = json.loads(turn.attrs.get(DECLINED, "[]"))
    seen.append(offer["start"])
    turn.attrs[DECLINED] = json.dumps(seen)
    turn.attrs.pop(OFFER, None)
    return len(seen)


def _slot_from(offer: dict, kind: AppointmentType) -> Slot:
    start = datetime.fromisoformat(offer["start"])
    return Slot(start=start, provider=offer["provider"], end=start + timedelta(minutes=kind.minutes),
                location=offer["location"], type=kind.id)


def on_book(services: Services, turn: LexTurn) -> Answer:
    if services.practice.booking is None or services.booking is None:
        return callback(services, turn, "wants to book an appointment",
                        _t(turn.lang, "I can't book by phone yet.", "Todavía no puedo reservar por teléfono."))
    offer = _pending(turn, "book")
    if offer is not None:
        return _answer_offer(services, turn, offer)
    kinds = {t.id: t for t in bookable_types(services, turn.patient, known=turn.patient is not None)}
    asked = _visit_type_id(turn.slot("VisitType"), kinds)
    if not asked:
        names = ", ".join(t.name[turn.lang].lower() for t in kinds.values())
        return elicit_slot("VisitType", plain(_t(turn.lang, f"What kind of visit would you like? For example {names}.",
                                                 f"¿Qué tipo de cita desea? Por ejemplo {names}.")))
    if turn.slot("Date") is None or _asked_window(turn, services) is None:
        return elicit_slot("Date", plain(_t(turn.lang, "What day works best for you?", "¿Qué día le queda mejor?")))
    if turn.patient is None:  # not a known number: a patient on file by name and birth date, or a new one
        asking = _new_or_known(services, turn)
        if asking is not None:
            return asking
    kind = kinds[asked]
    allowed = bookable_types(services, turn.patient)
    if kind not in allowed:  # a new patient starts with a new-patient visit
        first_visit = [t for t in allowed if t.new_patients]
        if len(first_visit) != 1:
            return callback(services, turn, f"new patient wants to book a {kind.name['en'].lower()}")
        kind = first_visit[0]
    slot = find_offer(services, turn, kind)
    if slot is None:
        return _no_opening(services, turn)
    return _offer(services, turn, slot, kind, "book")


def _visit_type_id(value: str | None, kinds: dict[str, AppointmentType]) -> str | None:
    """The type id Lex resolved (restricted resolution), or the type whose name the caller said."""
    if not value:
        return None
    if value in kinds:
        return value
    said = identity.fold(value)
    for kind in kinds.values():
        if said in {identity.fold(kind.name["en"]), identity.fold(kind.name["es"]), identity.fold(kind.id)}:
            return kind.id
    return None


def _birth(turn: LexTurn) -> date | None:
    return identity.spoken_birth_date(turn.slot("BirthDate"), turn.lang) or identity.spoken_birth_date(
        turn.said("BirthDate"), turn.lang)


def _new_or_known(services: Services, turn: LexTurn) -> Answer | None:
    """A booking caller whose number names nobody: first name and birth date (a patient on file
    when they match one), else also the last name for a new patient. None when nothing is missing."""
    first = turn.slot("FirstName")
    if not first:
        return elicit_slot("FirstName", plain(_t(turn.lang, "May I have the patient's first name?",
                                                 "¿Me da el nombre del paciente?")))
    birth = _birth(turn)
    if birth is None:
        return elicit_slot("BirthDate", plain(_t(turn.lang, "And the patient's date of birth?",
                                                 "¿Y la fecha de nacimiento del paciente?")))
    turn.patient = identity.verified_caller(services, turn.caller, first, birth)
    if turn.patient is not None:
        turn.attrs[PATIENT] = turn.patient.id
        return None
    if not (turn.slot("LastName") or turn.said("LastName")):
        return elicit_slot("LastName", plain(_t(turn.lang, "And the patient's last name?", "¿Y el apellido del paciente?")))
    return None


def _no_opening(services: Services, turn: LexTurn) -> Answer:
    tries = int(turn.attrs.get(NO_OPENING, "0") or 0) + 1
    turn.attrs[NO_OPENING] = str(tries)
    if tries >= 2:
        return callback(services, turn, f"no opening found by phone ({turn.name})",
                        _t(turn.lang, "I couldn't find an opening.", "No encontré un espacio disponible."))
    turn.clear("Date", "Time")
    turn.attrs.pop(DECLINED, None)
    return elicit_slot("Date", plain(_t(turn.lang, "I don't have an opening then. What other day would work?",
                                        "No tengo espacio para entonces. ¿Qué otro día le queda bien?")))


def _new_patient(services: Services, turn: LexTurn) -> Patient | None:
    """The caller as a new patient (source careloop), from the name and birth date they gave."""
    first, last = turn.slot("FirstName") or "", turn.slot("LastName") or turn.said("LastName") or ""
    birth = _birth(turn)
    if not first or birth is None or turn.caller is None:
        return None
    patient = Patient(id="careloop-" + _key("voice-patient", turn.contact_id), first_name=first.title(),
                      last_name=last.title(), phone=turn.caller, language="es" if turn.lang == "es" else "en",
                      birth_date=birth, source="careloop", updated_at=turn.now)
    existing = services.records.get_patient(patient.id)  # Lex retried the turn
    if existing is None:
        services.records.put_patient(patient)
        existing = patient
    turn.attrs[PATIENT] = existing.id
    return existing


def _answer_offer(services: Services, turn: LexTurn, offer: dict) -> Answer:
    from careloop.errors import BookingError, SlotTaken

    booking = services.practice.booking
    kind = booking.type(offer["type"]) if booking else None
    if kind is None:
        turn.attrs.pop(OFFER, None)
        return callback(services, turn, "the offered visit type is no longer bookable")
    purpose = offer["for"]
    decision = _confirmation(turn)
    if decision == "None":
        return _offer(services, turn, _slot_from(offer, kind), kind, purpose, offer.get("moves"))
    if decision == "Denied":
        if _declined(turn, offer) >= MAX_OFFERS:
            turn.clear("Date", "Time")
            turn.attrs.pop(DECLINED, None)
            return elicit_slot("Date", plain(_t(turn.lang, "What other day would work for you?",
                                                "¿Qué otro día le queda bien?")))
        moves = services.records.get_appointment(offer["moves"]) if offer.get("moves") else None
        slot = find_offer(services, turn, kind, ignore=moves.id if moves else None)
        return _offer(services, turn, slot, kind, purpose, offer.get("moves")) if slot else _no_opening(services, turn)
    patient = turn.patient or (_new_patient(services, turn) if purpose == "book" else None)
    if patient is None:
        return callback(services, turn, "new caller wants to book, but left no number or details to book with")
    turn.patient = patient
    moves = services.records.get_appointment(offer["moves"]) if offer.get("moves") else None
    slot = _slot_from(offer, kind)
    try:
        appt, status = book_for_caller(services, patient, kind, slot, moves=moves,
                                       ref=f"voice:{turn.contact_id}:{offer['start']}:{offer['provider']}")
    except SlotTaken:
        _declined(turn, offer)
        again = find_offer(services, turn, kind, ignore=moves.id if moves else None)
        if again is None:
            return _no_opening(services, turn)
        answer = _offer(services, turn, again, kind, purpose, offer.get("moves"))
        answer.say = plain(_t(turn.lang, "Sorry, that time was just taken.", "Lo siento, esa hora se acaba de ocupar.")) + answer.say
        return answer
    except BookingError:
        _declined(turn, offer)
        return _no_opening(services, turn)
    turn.attrs.pop(OFFER, None)
    turn.outcome = "rescheduled" if moves else "booked"
    said = describe(services, turn, kind.name[turn.lang].lower(), appt.start, appt.provider, appt.location)
    if status == "requested":
        lead = plain(_t(turn.lang, "I've requested", "Ya solicité"))
        tail = plain(_t(turn.lang, "Our front desk will confirm it, and we'll text you.",
                        "Recepción la confirmará y le avisaremos por mensaje."))
    else:
        lead = plain(_t(turn.lang, "You're all set:" if not moves else "Done. I've moved it:",
                        "Listo, quedó reservada" if not moves else "Listo, la cambié:"))
        tail = plain(_t(turn.lang, "We'll text you a confirmation. Thank you for calling!",
                        "Le enviaremos un mensaje de confirmación. ¡Gracias por llamar!"))
    return close(lead + said + plain(".") + tail)


def on_confirm(services: Services, turn: LexTurn) -> Answer:
    asking = prove_identity(services, turn)
    if asking is not None:
        return asking
    assert turn.patient is not None
    appt = _next_appointment(services, turn.patient, turn.now)
    if appt is None:
        turn.outcome = "answered"
        return close(plain(_t(turn.lang, "I don't see an upcoming appointment. To book one, just call and say book.",
                              "No veo una cita próxima. Para hacer una, llame y diga reservar.")))
    if not appt.confirmed:
        services.records.put_appointment(with_change(appt.model_copy(
            update={"confirmed": True, "confirmed_at": turn.now}), "confirmed", turn.now, "patient", "call"))
        _tell_ehr(services, "appointment_confirmed", appt, turn.now)
    turn.outcome = "confirmed"
    said = describe(services, turn, _visit_name(services, appt, turn.lang), appt.start, appt.provider, appt.location)
    return close(plain(_t(turn.lang, "Thank you! You're confirmed for", "¡Gracias! Quedó confirmada")) + said
                 + plain(_t(turn.lang, ". See you then!", ". ¡Le esperamos!")))


def on_cancel(services: Services, turn: LexTurn) -> Answer:
    asking = prove_identity(services, turn)
    if asking is not None:
        return asking
    assert turn.patient is not None
    offer = _pending(turn, "cancel")
    appt = services.records.get_appointment(offer["appointment"]) if offer else _next_appointment(
        services, turn.patient, turn.now)
    if appt is None or appt.patient_id != turn.patient.id:
        turn.outcome = "answered"
        return close(plain(_t(turn.lang, "I don't see an upcoming appointment to cancel.",
                              "No veo una cita próxima para cancelar.")))
    said = describe(services, turn, _visit_name(services, appt, turn.lang), appt.start, appt.provider, appt.location)
    decision = _confirmation(turn) if offer else "None"
    if decision == "None":
        turn.attrs[OFFER] = json.dumps({"for": "cancel", "appointment": appt.id})
        return confirm_intent(plain(_t(turn.lang, "That's", "Es")) + said
                              + plain(_t(turn.lang, ". Shall I cancel it?", ". ¿La cancelo?")))
    turn.attrs.pop(OFFER, None)
    if decision == "Denied":
        turn.outcome = "answered"
        return close(plain(_t(turn.lang, "OK, I've kept your appointment. Thank you for calling!",
                              "Muy bien, su cita sigue en pie. ¡Gracias por llamar!")))
    cancel_appointment(services, appt, turn.now)
    _staff_item(services, turn, kind="task", what=f"cancelled:{appt.id}", team="front_desk", step="cancelled",
                reason=f"cancelled by phone: {appt.start.astimezone(services.practice.zone):%a %b %d %H:%M}")
    turn.outcome = "cancelled"
    return close(plain(_t(turn.lang, "Done. I've cancelled", "Listo, cancelé")) + said + plain(
        _t(turn.lang, ". When you're ready, call us to book again. Goodbye!",
           ". Cuando guste, llámenos para reservar de nuevo. ¡Hasta luego!")))


def cancel_appointment(services: Services, appt: Appointment, now: datetime) -> None:
    """A Careloop-made appointment is cancelled here (its slot freed); an EHR one is marked declined,
    as the SMS agent does, for the EHR (write-back) and staff to cancel where it is owned."""
    if appt.source == "careloop":
        services.records.put_appointment(with_change(appt.model_copy(update={
            "status": "cancelled", "declined": True, "confirmed": False, "updated_at": now}),
            "cancelled", now, "patient", "call"))
        if services.booking is not None and appt.provider:
            services.booking.release_slot(appt.provider, appt.start)
    elif not appt.declined:
        services.records.put_appointment(with_change(appt.model_copy(
            update={"confirmed": False, "declined": True}), "declined", now, "patient", "call", "asked to cancel"))
    _tell_ehr(services, "appointment_cancelled", appt, now)


def on_reschedule(services: Services, turn: LexTurn) -> Answer:
    asking = prove_identity(services, turn)
    if asking is not None:
        return asking
    assert turn.patient is not None
    offer = _pending(turn, "reschedule")
    if offer is not None:
        return _answer_offer(services, turn, offer)
    appt = _next_appointment(services, turn.patient, turn.now)
    if appt is None:
        turn.outcome = "answered"
        return close(plain(_t(turn.lang, "I don't see an upcoming appointment to move. To book one, call and say book.",
                              "No veo una cita próxima para cambiar. Para hacer una, llame y diga reservar.")))
    kind = _type_of(services, appt)
    if kind is None or services.booking is None or not kind.online:
        return callback(services, turn, "wants to reschedule (a visit type the agent cannot book)")
    if turn.slot("Date") is None or _asked_window(turn, services) is None:
        said = describe(services, turn, _visit_name(services, appt, turn.lang), appt.start, appt.provider, appt.location)
        return elicit_slot("Date", plain(_t(turn.lang, "I see", "Veo")) + said + plain(
            _t(turn.lang, ". What day would you like instead?", ". ¿Qué día prefiere?")))
    slot = find_offer(services, turn, kind, ignore=appt.id)
    if slot is None:
        return _no_opening(services, turn)
    return _offer(services, turn, slot, kind, "reschedule", moves=appt.id)


def _knowledge(services: Services, turn: LexTurn, topic: str) -> Answer:
    from careloop.agent.knowledge import index_for

    match = index_for(services.practice).best(turn.transcript or topic, topic)
    text = match.entry.answer.get(turn.lang) if match else None
    if not text:
        fact = services.practice.fact("hours" if topic == "hours" else "location")
        text = fact if turn.lang == "en" else None
    if not text:
        return callback(services, turn, f"asks about {topic}; the practice profile has no answer")
    turn.outcome = "answered"
    return close(plain(text.strip().rstrip(".") + "." + _t(turn.lang, " Thank you for calling!", " ¡Gracias por llamar!")))


def on_hours(services: Services, turn: LexTurn) -> Answer:
    return _knowledge(services, turn, "hours")


def on_directions(services: Services, turn: LexTurn) -> Answer:
    return _knowledge(services, turn, "location")


def on_refill(services: Services, turn: LexTurn) -> Answer:
    medication = turn.said("Medication") or turn.slot("Medication")
    if not medication:
        return elicit_slot("Medication", plain(_t(turn.lang, "Which medication would you like refilled?",
                                                  "¿Qué medicamento necesita que le renueven?")))
    _staff_item(services, turn, kind="task", what="refill", team="clinical", step="refill",
                reason=f"prescription refill request by phone: {medication[:200]}")
    turn.outcome = "answered"
    return close(plain(_t(turn.lang, f"Got it. I've sent your refill request to our clinical team. "
                                     f"They'll follow up {_when_staff(services, turn)}.",
                          f"Entendido. Envié su solicitud de receta al equipo clínico. "
                          f"Le contactarán {_when_staff(services, turn)}.")))


def on_staff(services: Services, turn: LexTurn) -> Answer:
    if in_office_hours(services, turn.now):
        turn.outcome = "transferred"  # the contact flow transfers to the front-desk queue
        return close(plain(_t(turn.lang, "One moment, I'm connecting you to our front desk.",
                              "Un momento, le comunico con recepción.")))
    return callback(services, turn, "wants to speak with someone (after hours)",
                    _t(turn.lang, "Our office is closed right now.", "Nuestra oficina está cerrada en este momento."))


# the SMS classifier's labels -> the bot's intents (FallbackIntent routes by them), named once in
# the bot's definition; urgent is handled before any routing, and a late caller wants the front desk
ROUTES = {label: name for label, name in SMS_INTENT_TO_LEX.items() if label != "urgent"} | {
    "running_late": "SpeakToStaff"}


def on_fallback(services: Services, turn: LexTurn) -> Answer:
    from careloop.agent.classifier import CONFIDENCE_THRESHOLD, classify
    from careloop.agent.knowledge import index_for

    if not turn.transcript:
        return elicit_intent(plain(_t(turn.lang, "Sorry, I didn't catch that. How can I help you?",
                                      "Perdón, no le entendí. ¿En qué le puedo ayudar?")))
    prediction = turn.prediction or classify(turn.transcript)
    sure = prediction.confidence >= CONFIDENCE_THRESHOLD
    target = ROUTES.get(prediction.intent) if sure else None
    if target is not None:
        routed = LexTurn(intent={"name": target, "slots": {}, "state": "InProgress", "confirmationState": "None"},
                         name=target, slots={}, confirmation="None", attrs=turn.attrs, transcript=turn.transcript,
                         locale=turn.locale, lang=turn.lang, caller=turn.caller, contact_id=turn.contact_id,
                         now=turn.now, patient=turn.patient, prediction=prediction)
        _fill_from_words(services, routed)
        answer = INTENTS[target](services, routed)
        turn.outcome, turn.patient = routed.outcome, routed.patient
        turn.intent, turn.slots, turn.name = routed.intent, routed.slots, target
        if answer.action["type"] in ("ElicitSlot", "ConfirmIntent"):
            answer.intent_name = target
        return answer
    # the caller is done only when the model is sure of it or the words say so: a guess of "thanks"
    # on words it cannot read ("blorp quux") must not hang up on someone who wanted something
    if (prediction.intent == "thanks" and sure) or closing_phrase(turn.transcript):
        turn.outcome = "answered"  # the caller is done: the flow hangs up, nobody calls back
        return close(plain(_t(turn.lang, "You're welcome. Goodbye!", "Con gusto. ¡Hasta luego!")))
    match = index_for(services.practice).best(turn.transcript, "other")
    text = match.entry.answer.get(turn.lang) if match else None
    if text:
        turn.outcome = "answered"
        return close(plain(text.strip()))
    return callback(services, turn, f"the voice agent could not place the request ({prediction.intent})",
                    _t(turn.lang, "I'm not able to help with that by phone.", "No puedo ayudarle con eso por teléfono."))


def _slot_value(value: str, said: str) -> dict:
    return {"shape": "Scalar", "value": {"originalValue": said, "interpretedValue": value, "resolvedValues": [value]}}


def _fill_from_words(services: Services, turn: LexTurn) -> None:
    """What the caller already said, as the slots Lex would have filled had it matched the intent:
    the visit type by name, the day and time by careloop.agent.when."""
    from careloop.agent.when import parse_when

    said = f" {identity.fold(turn.transcript)} "
    if turn.name == "BookAppointment" and services.practice.booking is not None:
        for kind in services.practice.booking.types:
            names = {identity.fold(kind.name["en"]), identity.fold(kind.name["es"]), identity.fold(kind.id)}
            if any(n and f" {n} " in said for n in names):
                turn.slots["VisitType"] = _slot_value(kind.id, kind.name[turn.lang])
                break
    if turn.name in ("BookAppointment", "RescheduleAppointment"):
        today = turn.now.astimezone(services.practice.zone).date()
        when = parse_when(turn.transcript, today, turn.lang)
        if when is not None and when.first_day:
            turn.slots["Date"] = _slot_value(when.first_day.isoformat(), turn.transcript)
            if when.time is not None:
                turn.slots["Time"] = _slot_value(when.time.strftime("%H:%M"), turn.transcript)
            elif when.part_of_day:
                code = next(k for k, v in LEX_PARTS.items() if v == when.part_of_day)
                turn.slots["Time"] = _slot_value(code, turn.transcript)


INTENTS = {
    "BookAppointment": on_book, "ConfirmAppointment": on_confirm, "CancelAppointment": on_cancel,
    "RescheduleAppointment": on_reschedule, "OfficeHours": on_hours, "Directions": on_directions,
    "RefillRequest": on_refill, "SpeakToStaff": on_staff, "FallbackIntent": on_fallback,
}


def _greeting(services: Services, lang: str) -> Say:
    return plain(_t(lang, f"Hi, you've reached {services.practice.name}'s automated assistant.",
                    f"Hola, habla el asistente automático de {services.practice.name}."))


def handle_lex_event(services: Services, event: dict) -> dict:
    """One caller turn: the Lex V2 answer for it. PayloadError when the event cannot be read."""
    turn = read_event(event, services.clock.now())
    turn.patient = _identified(services, turn)
    from careloop.agent.classifier import classify

    screened = turn.prediction = classify(turn.transcript) if turn.transcript else None
    alarm = urgent_on_a_call(turn, screened)
    if turn.name == "UrgentHelp" or alarm is not None:
        # first, in any intent, whoever it is: symptoms named anywhere count (voice.md)
        kind, reason = alarm or (screened.urgent_kind if screened else None, "")
        answer = urgent(services, turn, kind, reason or "caller asked for urgent help")
    else:
        answer = INTENTS.get(turn.name, on_fallback)(services, turn)
    if answer.action["type"] == "ElicitSlot":
        turn.attrs[ASKED] = answer.action["slotToElicit"]
    else:
        turn.attrs.pop(ASKED, None)
    if answer.action["type"] == "Close" and answer.intent_state == "Fulfilled" and not turn.outcome:
        turn.attrs[CLOSED] = "Fulfilled"  # the flow hangs up on it: nothing is left for a person
    else:
        turn.attrs.pop(CLOSED, None)
    if not turn.attrs.get(GREETED):
        turn.attrs[GREETED] = "1"
        if answer.action["type"] == "ElicitIntent":
            answer.say = _greeting(services, turn.lang) + answer.say
    if turn.outcome:
        turn.attrs[OUTCOME] = turn.outcome
    calls.record_turn(services, contact_id=turn.contact_id, caller_phone=turn.caller,
                      patient_id=turn.patient.id if turn.patient else None, locale=turn.locale,
                      caller_text=turn.transcript, agent_text=answer.say.text, intent=turn.name, at=turn.now,
                      outcome=turn.outcome)
    return to_lex(turn, answer)
