"""Filling gaps from the waitlist (issue 12, item 8): patients who asked to come sooner, the offer
of a slot a late cancellation freed, and the first YES that takes it; the others are told it is gone.

The offer is an automated text: a planned action (workflow `gap-fill`) the dispatcher claims and
gates like any other, once per patient per slot. The YES books through the booking service's
`book_for_patient`, whose conditional slot claim makes exactly one winner.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from careloop.clock import iso
from careloop.models import aware as _aware

if TYPE_CHECKING:
    from careloop.booking.availability import AppointmentType, BookingSettings
    from careloop.engine.gates import Verdict
    from careloop.models import Appointment, Message, Patient, PlannedAction
    from careloop.ports import BookingStore, Services

GAP_FILL = "gap-fill"  # the workflow name on the offer's planned action and on every text below
OFFER_STEP, TAKEN_STEP, WAVE_STEP = "offer", "taken", "next-wave"
WINDOW = timedelta(hours=48)  # a cancellation sooner than this frees a slot worth offering
OFFERS_AT_ONCE = 3  # patients offered one slot at a time; a dropped offer passes to the next
WAVE = timedelta(minutes=30)  # an unanswered offer holds its place this long, then the next are offered


# ---- the waitlist matcher: narrow phrases, read before the classifier's intents ------------------


def _plain(text: str) -> str:
    """Lower case, accents off, punctuation and emoji to spaces: "¡Avísenme!" -> "avisenme"."""
    folded = unicodedata.normalize("NFKD", text.lower())
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", letters.replace("’", "'")).split())


_SOONER = r"(sooner|earlier)"
_LIST = r"(wait ?list|waiting list|cancell?ation list|lista de espera)"
_LEAVE = re.compile("|".join((
    rf"^(no|not|no more|nothing) {_SOONER}( please| thanks| thank you)?$",
    rf"\b(take|remove|get|drop) me (off|from|out of) (the |your |of the )?{_LIST}",
    rf"\b(off|out of) (the |your )?{_LIST}\b",
    rf"\bno longer (need|want) (an? |something |anything )?{_SOONER}",
    rf"\b(dont|don't|do not|no longer) (want|need) (to be |to stay )?(on |in )?(the |your |a )?{_LIST}",
    rf"\b(no quiero|ya no quiero) (estar |seguir )?(en )?(la )?{_LIST}",
    r"^no (antes|mas temprano|mas pronto)( por favor| gracias)?$",
    rf"\b(saquen(me)?|quiten(me)?|borren(me)?|salir|sacarme|quitarme|borrarme)\b.*\b{_LIST}",
    r"\bya no (necesito|quiero) (algo |una cita |un horario )?(antes|mas temprano|mas pronto)\b",
)))
_JOIN = re.compile("|".join((
    rf"^{_SOONER}( please)?$",
    # the list named with a wish to be on it ("Am I on the waitlist?" is a question for staff)
    rf"^{_LIST}( me)?( please| por favor)?$",
    rf"\b(put|add|sign|place|keep) me (on|up for|to|in) (the |your |a )?{_LIST}",
    rf"\b(join|be on|get on|go on) (the |your |a )?{_LIST}",
    rf"\b(ponerme|ponganme|pongame|agregueme|agreguenme|anoteme|anotenme|apunteme|apuntenme|meterme|estar)\b"
    rf".*\b{_LIST}",
    rf"\b(any(thing)?|an?|some) {_SOONER} (opening|appointment|appt|time|slot|spot|availability|date|day)s?\b",
    rf"\b(anything|something) {_SOONER}\b",
    rf"\b(come in|get in|be seen|see (me|us)|go in) {_SOONER}\b",
    rf"\b(let me know|text me|tell me|notify me|call me)\b.*\b({_SOONER}|cancell?ation|opening|opens up|frees up)\b",
    r"^(antes|mas temprano|mas pronto)( por favor)?$",
    r"\b(avisenme|aviseme|avisame|me avisan|me avisa|avisarme|me pueden avisar|me puede avisar)\b.*"
    r"\b(antes|mas temprano|mas pronto|cancelacion|se libera|se abre|se desocupa)\b",
    r"\b(algo|una cita|un espacio|un horario|un hueco|una hora) (mas )?(antes\b(?! de)|temprano|pronto)",
)))
_ACCEPT = re.compile(
    r"^((ok |okay )?(yes|y|yeah|yep|yup|sure|si|1)( please| por favor| i'?ll take it| i will take it| take it"
    r"| i want it| lo tomo| la tomo| lo quiero| la quiero)?|(i'?ll|i will) take (it|that|this)( one)?"
    r"|i want it|lo tomo|la tomo|lo quiero|la quiero|me lo quedo|me la quedo)$")
_DECLINE = re.compile(r"^(no|n|nope|no thanks|no thank you|no gracias|pass|paso|not that one)$")


def waitlist_request(text: str) -> Literal["join", "leave"] | None:
    """"join" for a patient asking to come sooner ("SOONER", "put me on the waitlist", "avísenme si
    hay algo antes"), "leave" for "no sooner", "take me off the waitlist"; None for anything else."""
    plain = _plain(text)
    if not plain or len(plain) > 200:
        return None
    if _LEAVE.search(plain):
        return "leave"
    return "join" if _JOIN.search(plain) else None


# Words that ask for texts to stop, beside the waitlist words: then it is an opt-out (the consent
# rules win), not only leaving the waitlist.
_STOP_TEXTS = re.compile(
    r"\b(stop|unsubscribe|opt ?out|quit|cancel|end)\b(?! (the )?(wait ?list|waiting list))"
    r"|\bno more (texts|messages|msgs)\b|\b(dont|don't|do not|never) (text|message|contact) me\b"
    r"|\b(stop|quit) (texting|messaging|sending)\b"
    r"|\b(dejen de|no me) (manden|envien|escriban|mensajeen|textee?n|mandar(me)?|enviar(me)?|escribir(me)?)\b|\bno (mas|quiero) (mensajes|textos)\b"
    r"|\b(baja|alto|parar)\b")


def asks_to_stop_texts(text: str) -> bool:
    """The text also asks for texts to stop ("stop texting me and take me off the waitlist")."""
    return bool(_STOP_TEXTS.search(_plain(text)))


def accepts_offer(text: str) -> bool:
    """YES / sí / 1 / "I'll take it": the answer that takes an offered slot."""
    return bool(_ACCEPT.match(_plain(text)))


def declines_offer(text: str) -> bool:
    """A bare no to an offer: not a cancellation of the patient's own visit."""
    return bool(_DECLINE.match(_plain(text)))


# ---- records (in the booking table: an EHR update of the patient never wipes them) -------------


class WaitlistEntry(BaseModel):
    """A patient who asked to come sooner, since when (the longest waiting is offered first)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    patient_id: str
    since: datetime
    source: Literal["sms", "staff"] = "sms"
    by: str = ""  # staff: who set it

    _times = field_validator("since")(lambda cls, v: _aware(v))


class Gap(BaseModel):
    """A slot a late cancellation freed: `open` while offered, `taken` once someone booked it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    provider: str
    start: datetime
    end: datetime
    location: str
    type: str
    cancelled: str  # the appointment whose cancellation freed it
    cancelled_patient: str
    opened_at: datetime
    status: Literal["open", "taken"] = "open"
    taken_by: str | None = None

    _times = field_validator("start", "end", "opened_at")(lambda cls, v: _aware(v))

    @property
    def key(self) -> str:
        return gap_key(self.provider, self.start)


class GapOffer(BaseModel):
    """One patient offered one gap (at most once per slot): planned, then sent or dropped by the
    dispatcher's gates; `taken_message_id` is the "it is gone" text, when one went."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    gap: str
    patient_id: str
    message_id: str
    moves: str | None = None  # the patient's later appointment the slot replaces
    planned_at: datetime
    status: Literal["planned", "sent", "dropped"] = "planned"
    sent_at: datetime | None = None
    taken_message_id: str | None = None

    _times = field_validator("planned_at", "sent_at")(lambda cls, v: _aware(v))


def gap_key(provider: str, start: datetime) -> str:
    return f"{iso(start.astimezone(UTC))}#{provider}"


def _hash(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def booking_ref(key: str, patient_id: str) -> str:
    """The booking a YES makes (book_for_patient's ref): a redelivered YES finishes it, once."""
    return f"gap:{key}:{patient_id}"


def offer_action_id(key: str, patient_id: str) -> str:
    return f"{GAP_FILL}/{OFFER_STEP}/PAT#{patient_id}/gap={key}"


def offer_message_id(key: str, patient_id: str) -> str:
    """The dispatcher's id for the offer's action (careloop.engine.dispatcher.message_id_for)."""
    return "m-" + hashlib.sha256(offer_action_id(key, patient_id).encode()).hexdigest()[:20]


# ---- who could take a slot ---------------------------------------------------------------------


def _kind_of(settings: BookingSettings, visit_type: str | None) -> AppointmentType | None:
    return next((t for t in settings.types if (t.visit_type or t.id) == visit_type), None) if visit_type else None


@dataclass(frozen=True)
class Candidate:
    entry: WaitlistEntry
    patient: Patient
    moves: Appointment | None  # their later appointment of this type, moved to the slot


def _candidate(services: Services, gap: Gap, kind: AppointmentType, entry: WaitlistEntry,
               now: datetime) -> Candidate | None:
    """The waitlisted patient, when they could take this slot: reachable, may book the type, free
    then, and with no visit of this type sooner (a later one is moved, or none is booked)."""
    from careloop.models import UPCOMING_STATUSES

    if entry.patient_id == gap.cancelled_patient:
        return None
    patient = services.records.get_patient(entry.patient_id)
    if patient is None or patient.opted_out or not patient.phone or patient.undeliverable or "deceased" in patient.tags:
        return None
    appointments = services.records.appointments_for_patient(patient.id)
    new_patient = not any(a.status != "cancelled" for a in appointments)
    if not kind.online or (new_patient and not kind.new_patients) or gap.provider not in kind.providers:
        return None
    upcoming = [a for a in appointments if a.status in UPCOMING_STATUSES and a.end > now]
    if any(a.start < gap.end and a.end > gap.start for a in upcoming):
        return None  # already somewhere then
    same = sorted((a for a in upcoming if (a.visit_type or "") == (kind.visit_type or kind.id)), key=lambda a: a.start)
    if same and same[0].start <= gap.start:
        return None  # already comes sooner than this
    return Candidate(entry, patient, same[0] if same else None)


def _slot_open(services: Services, gap: Gap, kind: AppointmentType, now: datetime,
               ignore: frozenset[str] = frozenset()) -> bool:
    """The slot engine still offers this start (nobody rebooked it; lead time and hours hold);
    `ignore`: appointments that do not count as busy (a booking of this slot being finished)."""
    from careloop.booking.service import _busy, zone_for
    from careloop.booking.slots import open_slots

    settings, store = services.practice.booking, services.booking
    if settings is None or store is None:
        return False
    zone = zone_for(services, gap.location)
    busy = _busy(services, store, gap.start - timedelta(days=1), gap.end + timedelta(days=1), ignore)
    found = open_slots(settings, type_id=kind.id, first_day=gap.start.astimezone(zone).date(), days=1, now=now,
                       busy=busy, zone_of=lambda loc: zone_for(services, loc), provider=gap.provider)
    return any(s.start == gap.start and s.location == gap.location for s in found)


def _location_id(settings: BookingSettings, provider: str, raw: str | None, services: Services) -> str:
    """The availability's location id for an appointment's location (an EHR may send the id or
    the name); the provider's only location when it names none or one unknown."""
    works_at = sorted({h.location for h in settings.hours if h.provider == provider})
    names = {key.casefold(): loc.id for loc in services.practice.locations for key in (loc.id, loc.name) if key}
    found = names.get((raw or "").casefold(), raw or "")
    if found in works_at:
        return found
    return works_at[0] if len(works_at) == 1 else found


def _in_window(services: Services, start: datetime, now: datetime) -> bool:
    settings = services.practice.booking
    lead = timedelta(minutes=settings.lead_minutes if settings else 120)
    return now + lead <= start < now + WINDOW


# ---- a cancellation opens a gap (called by the planner for every appointment change) ------------


def on_appointment_change(services: Services, old: Appointment | None, new: Appointment,
                          now: datetime) -> list[PlannedAction]:
    """A booked appointment became cancelled and started in under 48 h (after the lead time):
    open the gap and plan offers to the longest-waiting patients who could take it. Idempotent:
    a redelivered change opens nothing twice and plans no offer twice."""
    from careloop.booking.service import _provider_ids
    from careloop.models import UPCOMING_STATUSES

    settings, store = services.practice.booking, services.booking
    if settings is None or store is None or old is None or new.status != "cancelled":
        return []
    if old.status not in UPCOMING_STATUSES or not new.provider or not _in_window(services, new.start, now):
        return []
    if new.superseded_by:  # the EHR's own copy of this visit took its place: nothing was freed
        return []
    kind = _kind_of(settings, new.visit_type)
    provider = _provider_ids(services).get(new.provider, new.provider)
    if kind is None or provider not in kind.providers:
        return []
    if new.source == "careloop":  # its claim would keep the slot busy: the cancellation frees it
        for claim in store.claims_between(new.start, new.start + timedelta(seconds=1)):
            if claim.provider == provider and claim.appointment_id == new.id:
                store.release_slot(provider, claim.start)
    location = _location_id(settings, provider, new.location, services)
    gap = Gap(provider=provider, start=new.start.astimezone(UTC), end=new.start.astimezone(UTC)
              + timedelta(minutes=kind.minutes), location=location, type=kind.id, cancelled=new.id,
              cancelled_patient=new.patient_id, opened_at=now)
    if not _slot_open(services, gap, kind, now):
        return []  # off the grid, outside hours, or someone is already in it
    store.open_gap(gap)
    stored = store.get_gap(gap.key)
    if stored is None or stored.status != "open" or stored.cancelled != new.id:
        return []
    return plan_offers(services, stored, now)


def _live(offer: GapOffer, now: datetime) -> bool:
    """Still holding one of the OFFERS_AT_ONCE places: planned, or sent less than WAVE ago."""
    if offer.status == "planned":
        return True
    return offer.status == "sent" and (offer.sent_at or offer.planned_at) > now - WAVE


def plan_offers(services: Services, gap: Gap, now: datetime) -> list[PlannedAction]:
    """Plan offers until OFFERS_AT_ONCE are live, longest waiting first, each patient once per slot
    (the offer record is the claim; the planned action's key is deterministic). When more patients
    are waiting and every live offer went out, the next wave is planned WAVE from now: unanswered
    offers then make room. Called when a gap opens, and after each offer is sent or dropped."""
    from careloop.models import PlannedAction

    settings, store = services.practice.booking, services.booking
    kind = settings.type(gap.type) if settings else None
    if store is None or kind is None:
        return []
    offers = store.gap_offers(gap.key)
    offered = {o.patient_id for o in offers}
    live = sum(1 for o in offers if _live(o, now))
    planned: list[PlannedAction] = []
    waiting = False
    for entry in sorted(store.waitlist(), key=lambda e: (e.since, e.patient_id)):
        if entry.patient_id in offered:
            continue
        candidate = _candidate(services, gap, kind, entry, now)
        if candidate is None:
            continue
        if live >= OFFERS_AT_ONCE:
            waiting = True  # someone else could take it: their turn comes with the next wave
            break
        offer = GapOffer(gap=gap.key, patient_id=entry.patient_id, message_id=offer_message_id(gap.key, entry.patient_id),
                         moves=candidate.moves.id if candidate.moves else None, planned_at=now)
        if not store.put_gap_offer(offer):
            continue  # another worker offered them this slot first
        live += 1
        action = PlannedAction(
            action_id=offer_action_id(gap.key, entry.patient_id), workflow=GAP_FILL, step=OFFER_STEP, kind="sms",
            subject=f"PAT#{entry.patient_id}", patient_id=entry.patient_id, appointment_id=offer.moves,
            due_at=now, planned_at=now, generation=f"gap={gap.key}", trigger_at=now)
        if services.actions.put_action_if_absent(action):
            planned.append(action)
    if waiting and not planned and not any(o.status == "planned" for o in offers):
        _plan_wave(services, gap, now + WAVE)  # WAVE after the last offer went (held ones count from sending)
    return planned


def _plan_wave(services: Services, gap: Gap, due: datetime) -> None:
    """The next look at the waitlist for this gap, at `due` (none once the slot is too near)."""
    from careloop.models import PlannedAction

    settings = services.practice.booking
    due = due.replace(second=0, microsecond=0)  # one wave a minute at most, whoever plans it
    if not _in_window(services, gap.start, due) or settings is None:
        return
    services.actions.put_action_if_absent(PlannedAction(
        action_id=f"{GAP_FILL}/{WAVE_STEP}/APT#{gap.cancelled}/gap={gap.key}@{iso(due)}", workflow=GAP_FILL,
        step=WAVE_STEP, kind="sms", subject=f"APT#{gap.cancelled}", patient_id=gap.cancelled_patient,
        appointment_id=gap.cancelled, due_at=due, planned_at=due - WAVE, generation=f"gap={gap.key}",
        trigger_at=due - WAVE))


# ---- the offer text, at fire time (the dispatcher hands gap-fill actions here) ------------------

def _slot_words(services: Services, gap: Gap, language: str) -> dict[str, str]:
    from careloop.booking.service import zone_for
    from careloop.templates import format_date, format_time, named_zone

    zone = zone_for(services, gap.location)
    local = gap.start.astimezone(zone)
    provider = next((p.name for p in services.practice.providers if p.id == gap.provider), gap.provider)
    return {"practice": services.practice.name, "when": f"{format_date(local, language)} {format_time(local, language)}",
            "zone": named_zone(local), "provider": provider}


def offer_text(services: Services, gap: Gap, language: str) -> str:
    from careloop.agent.replies import GAP_OFFER

    lang = "es" if language == "es" else "en"
    return GAP_OFFER[lang].format(**_slot_words(services, gap, lang))


def taken_text(services: Services, patient: Patient) -> str:
    from careloop.agent.replies import REPLIES
    from careloop.templates import context_for

    lang = "es" if patient.language == "es" else "en"
    return REPLIES["gap_taken"][lang].format(**context_for(services.practice, patient, None))


def fire_offer(services: Services, action: PlannedAction, now: datetime) -> Verdict:
    """A gap-fill action at its due time: the next wave looks at the waitlist again; an offer is
    re-checked and sent, or says why not: the slot is still open and the patient
    could still take it, through the gates of every automated text (consent, quiet hours in their
    zone, caps). An offer that would wait past the slot's lead time is dropped, and the next
    patient on the waitlist is offered it instead."""
    from careloop.engine import gates
    from careloop.models import Message, MessageStatus

    store, settings = services.booking, services.practice.booking
    key = action.generation.removeprefix("gap=")
    gap = store.get_gap(key) if store else None
    kind = settings.type(gap.type) if settings and gap else None
    if store is None or gap is None or kind is None:
        return gates.Verdict("drop", "the gap is unknown")
    if action.step == WAVE_STEP:
        if gap.status != "open":
            return gates.Verdict("drop", "the slot was taken")
        plan_offers(services, gap, now)
        return gates.SEND

    def drop(reason: str) -> Verdict:
        store.set_gap_offer(key, action.patient_id, status="dropped")
        if gap.status == "open":
            plan_offers(services, gap, now)  # the next patient waiting gets their turn
        return gates.Verdict("drop", reason)

    if gap.status != "open":
        return drop("the slot was taken")
    if not _in_window(services, gap.start, now) or not _slot_open(services, gap, kind, now):
        return drop("the slot is no longer open")
    entry = store.get_waitlist(action.patient_id)
    candidate = _candidate(services, gap, kind, entry, now) if entry else None
    if candidate is None:
        return drop("the patient can no longer take this slot")
    patient = candidate.patient
    sent_before = [m for m in services.messages.messages_for_patient(patient.id) if m.kind == "sms_out"]
    verdict = gates.check(services.practice, patient, None, sent_before, now, pre_appointment=False)
    lead = timedelta(minutes=settings.lead_minutes if settings else 120)
    if verdict.action == "drop":
        return drop(verdict.reason)
    if verdict.action == "defer":
        if verdict.until is None or verdict.until + lead > gap.start:
            return drop(f"{verdict.reason}: it would wait past the slot")
        return verdict
    message = Message(
        message_id=offer_message_id(key, patient.id), kind="sms_out", patient_id=patient.id,
        appointment_id=candidate.moves.id if candidate.moves else None, phone=patient.phone,
        body=offer_text(services, gap, patient.language), at=now, status=MessageStatus.QUEUED,
        workflow=GAP_FILL, step=OFFER_STEP, automated=True)
    services.messages.put_message(message)  # conditional: a retried action reuses the same text
    services.outbox.enqueue(message)
    store.set_gap_offer(key, patient.id, status="sent", sent_at=iso(now))
    plan_offers(services, gap, now)  # the last of a wave to go plans the next one
    return gates.SEND


# ---- the answer to an offer ------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the SMS agent does with a reply to a gap-fill text: the reply key of
    careloop.agent.replies, or None when the booking's confirmation text is the reply."""

    reply_key: str | None


def open_offer(services: Services, patient: Patient, last_out: Message | None) -> tuple[GapOffer, Gap] | None:
    """The gap offer this patient's last text was about: the offer, its "gone" notice, or the
    confirmation of the booking it made (what a redelivered YES finds, once it has booked)."""
    from careloop.booking.service import appointment_id_for

    store = services.booking
    if store is None or last_out is None or last_out.workflow not in (GAP_FILL, "booking"):
        return None
    for offer in store.gap_offers_for_patient(patient.id):
        booked = "m-booked-" + appointment_id_for(booking_ref(offer.gap, patient.id))
        if last_out.message_id in (offer.message_id, offer.taken_message_id, booked):
            gap = store.get_gap(offer.gap)
            return (offer, gap) if gap is not None else None
    return None


def answer_offer(services: Services, patient: Patient, last_out: Message | None, body: str,
                 now: datetime) -> Answer | None:
    """YES to the open offer books the slot (exactly one winner: the booking's conditional claim),
    moves the patient's later visit, takes them off the waitlist and tells the others it is gone;
    a YES too late, or beaten, hears it was just taken. A bare NO keeps them on the waitlist.
    None: the text is not an answer to a gap offer (the classifier reads it)."""
    from careloop.booking.service import appointment_id_for, book_for_patient
    from careloop.booking.slots import Slot
    from careloop.errors import BookingError

    found = open_offer(services, patient, last_out)
    if found is None:
        return None
    offer, gap = found
    if declines_offer(body):
        return Answer("gap_declined")
    if not accepts_offer(body):
        return None
    if gap.taken_by == patient.id:
        return Answer(None)  # a redelivered YES: the booking and its confirmation already happened
    store, settings = services.booking, services.practice.booking
    kind = settings.type(gap.type) if settings else None
    if store is None or kind is None or gap.status != "open" or offer.status != "sent" \
            or not _in_window(services, gap.start, now):
        return Answer("gap_taken")
    ref = booking_ref(gap.key, patient.id)
    if not _slot_open(services, gap, kind, now, frozenset({appointment_id_for(ref)})):
        return Answer("gap_taken")  # another YES won it, or the front desk filled it in the EHR
    slot = Slot(start=gap.start, provider=gap.provider, end=gap.end, location=gap.location, type=gap.type)
    moves = services.records.get_appointment(offer.moves) if offer.moves else None
    try:
        book_for_patient(services, patient, kind, slot, moves=moves.id if moves and moves.start > gap.start else None,
                         ref=ref)
    except BookingError:  # the claim went to someone else: another YES, a link
        return Answer("gap_taken")
    store.take_gap(gap.key, patient.id, now)
    store.remove_waitlist(patient.id)
    tell_others_taken(services, gap, patient.id, now)
    return Answer(None)


def tell_others_taken(services: Services, gap: Gap, winner: str, now: datetime) -> list[Message]:
    """"That time was just taken" to everyone else who got the offer: a direct follow-up of a text
    they received (not held by caps), but never during quiet hours in their zone nor to a number
    that opted out; once per patient per slot."""
    from careloop.engine.gates import next_opening, patient_zone
    from careloop.models import Message, MessageStatus

    store = services.booking
    told: list[Message] = []
    if store is None:
        return told
    quiet = services.practice.quiet_hours
    for offer in store.gap_offers(gap.key):
        if offer.patient_id == winner or offer.status != "sent" or offer.taken_message_id:
            continue
        patient = services.records.get_patient(offer.patient_id)
        if patient is None or patient.opted_out or not patient.phone:
            continue
        if next_opening(now, patient_zone(services.practice, patient), quiet.opens, quiet.closes) != now:
            continue  # at night they hear it only if they answer
        message = Message(
            message_id="m-gap-taken-" + _hash(gap.key, patient.id), kind="sms_out", patient_id=patient.id,
            appointment_id=offer.moves, phone=patient.phone, body=taken_text(services, patient), at=now,
            status=MessageStatus.QUEUED, workflow=GAP_FILL, step=TAKEN_STEP, automated=False)
        if services.messages.put_message(message):
            services.outbox.enqueue(message)
            told.append(message)
        store.set_gap_offer(gap.key, patient.id, taken_message_id=message.message_id)
    return told


# ---- the waitlist flag, set by the patient's text or by staff -----------------------------------


def join(store: BookingStore, patient_id: str, now: datetime, source: Literal["sms", "staff"] = "sms",
         by: str = "") -> WaitlistEntry:
    """Put the patient on the waitlist; one already on it keeps their place (their first `since`)."""
    entry = WaitlistEntry(patient_id=patient_id, since=now, source=source, by=by)
    if store.put_waitlist(entry):
        return entry
    return store.get_waitlist(patient_id) or entry


def leave(store: BookingStore, patient_id: str) -> bool:
    return store.remove_waitlist(patient_id)


def staff_set_waitlist(services: Services, patient_id: str, on: bool, staff: str) -> dict:
    """The staff API's waitlist flag: on (keeping the patient's place when already on) or off."""
    from careloop.errors import Conflict, NotFound

    if services.booking is None or services.practice.booking is None:
        raise Conflict("self-scheduling is off: there is no waitlist")
    if services.records.get_patient(patient_id) is None:
        raise NotFound(f"no patient {patient_id}")
    if not on:
        leave(services.booking, patient_id)
        return {"patient": patient_id, "waitlist": False, "since": None}
    entry = join(services.booking, patient_id, services.clock.now(), source="staff", by=staff[:120])
    return {"patient": patient_id, "waitlist": True, "since": iso(entry.since), "source": entry.source}


def waitlist_state(services: Services, patient_id: str) -> dict:
    from careloop.errors import NotFound

    if services.records.get_patient(patient_id) is None:
        raise NotFound(f"no patient {patient_id}")
    entry = services.booking.get_waitlist(patient_id) if services.booking else None
    if entry is None:
        return {"patient": patient_id, "waitlist": False, "since": None}
    return {"patient": patient_id, "waitlist": True, "since": iso(entry.since), "source": entry.source}
