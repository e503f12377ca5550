"""The booking service behind the public routes: the types a link's patient may book, open slots,
and the booking itself with what follows it (claim, appointment, reschedule, confirmation, EHR)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from careloop.booking.availability import AppointmentType, BookingSettings
from careloop.booking.links import BookingLink, SlotClaim, looks_like_token
from careloop.booking.slots import Busy, Slot, open_slots
from careloop.errors import BookingInputError, LinkGone, SlotTaken, UnknownLink
from careloop.models import UPCOMING_STATUSES, Appointment, Message, MessageStatus, Patient
from careloop.ports import BookingStore, Services
from careloop.templates import format_date_time

MAX_DAYS = 31  # one slots request looks this many days ahead at most
ALTERNATIVES = 3  # open slots a 409 offers instead
HOLD_DAYS = 7  # a request-mode hold lasts this long after the visit, then the store forgets it


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    status: str  # booked | requested
    location: str
    type: str


@dataclass(frozen=True)
class _Context:
    link: BookingLink
    patient: Patient
    settings: BookingSettings
    store: BookingStore


def _open(services: Services, token: str | None) -> _Context:
    """The link behind a token, usable now; 404 for anything unknown, 410 for expired or spent."""
    if not token or not isinstance(token, str) or not looks_like_token(token):
        raise UnknownLink()
    store, settings = services.booking, services.practice.booking
    if store is None or settings is None:
        raise UnknownLink()
    link = store.get_link(token)
    patient = services.records.get_patient(link.patient_id) if link else None
    if link is None or patient is None:
        raise UnknownLink()
    if link.spent_at is not None:
        raise LinkGone("this link was already used to book")
    if services.clock.now() >= link.expires_at:
        raise LinkGone("this link has expired")
    return _Context(link, patient, settings, store)


def _is_new_patient(services: Services, patient: Patient) -> bool:
    return not any(a.status != "cancelled" for a in services.records.appointments_for_patient(patient.id))


def _bookable(services: Services, ctx: _Context) -> list[AppointmentType]:
    new = _is_new_patient(services, ctx.patient)
    return [t for t in ctx.settings.types if t.online and (t.new_patients or not new)]


def types_for(services: Services, token: str | None) -> list[dict]:
    ctx = _open(services, token)
    lang = ctx.patient.language if ctx.patient.language in ("en", "es") else "en"
    return [{"id": t.id, "name": t.name[lang], "minutes": t.minutes} for t in _bookable(services, ctx)]


def _type(services: Services, ctx: _Context, type_id: object) -> AppointmentType:
    if not isinstance(type_id, str) or not type_id:
        raise BookingInputError("type", "is required")
    kind = next((t for t in _bookable(services, ctx) if t.id == type_id), None)
    if kind is None:
        raise BookingInputError("type", "is not an appointment type this link can book")
    return kind


def zone_for(services: Services, location_id: str) -> ZoneInfo:
    for loc in services.practice.locations:
        if loc.id == location_id and loc.timezone:
            return ZoneInfo(loc.timezone)
    return services.practice.zone


def _provider_ids(services: Services) -> dict[str, str]:
    """Appointment.provider as the EHR writes it (an id or a display name) -> the provider id."""
    ids = {p.id: p.id for p in services.practice.providers}
    ids.update({p.name: p.id for p in services.practice.providers})
    return ids


def _busy(services: Services, store: BookingStore, start: datetime, end: datetime,
          ignore: str | None = None) -> list[Busy]:
    """Booked and pending appointments (EHR or Careloop) plus claims and holds overlapping [start, end)."""
    ids = _provider_ids(services)
    busy = [Busy(ids.get(a.provider, a.provider), a.start, a.end) for a in services.records.all_appointments()
            if a.provider and a.status in UPCOMING_STATUSES and a.id != ignore and a.start < end and a.end > start]
    busy += [Busy(c.provider, c.start, c.end) for c in store.claims_between(start - timedelta(days=1), end)
             if c.appointment_id != ignore]
    return busy


def _slots(services: Services, ctx: _Context, kind: AppointmentType, first_day: date, days: int,
           provider: str | None = None, with_busy: bool = True) -> list[Slot]:
    zones = [zone_for(services, h.location) for h in ctx.settings.hours] or [services.practice.zone]
    window_start = min(datetime.combine(first_day, datetime.min.time(), z) for z in zones).astimezone(UTC)
    window_end = window_start + timedelta(days=days + 2)
    ignore = ctx.link.appointment_id if ctx.link.purpose == "reschedule" else None
    busy = _busy(services, ctx.store, window_start, window_end, ignore) if with_busy else []
    # the EHR's free Slots win for each provider it sent a Schedule for
    from careloop.booking.grid import ehr_free_between

    ehr_free = ehr_free_between(services.records, window_start, window_end, kind.providers)
    return open_slots(ctx.settings, type_id=kind.id, first_day=first_day, days=days, now=services.clock.now(),
                      busy=busy, zone_of=lambda loc: zone_for(services, loc), provider=provider,
                      ehr_free=ehr_free)


def _day(value: object) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise BookingInputError("from", "is not a date YYYY-MM-DD") from exc


def _days(value: object) -> int:
    try:
        days = int(str(value))
    except ValueError as exc:
        raise BookingInputError("days", "is not a whole number") from exc
    if not 1 <= days <= MAX_DAYS:
        raise BookingInputError("days", f"must be 1 to {MAX_DAYS}")
    return days


def slot_json(slot: Slot) -> dict:
    return {"start": slot.start.isoformat(), "end": slot.end.isoformat(), "provider": slot.provider,
            "location": slot.location, "type": slot.type}


def slots_for(services: Services, token: str | None, type_id: object, first_day: object = None,
              days: object = 7) -> dict:
    """The spec's slots answer: the zone the slots are shown in, and the open slots, earliest first."""
    ctx = _open(services, token)
    kind = _type(services, ctx, type_id)
    day = _day(first_day) if first_day not in (None, "") else services.clock.now().astimezone(services.practice.zone).date()
    slots = _slots(services, ctx, kind, day, _days(days if days not in (None, "") else 7))
    zone = zone_for(services, slots[0].location) if slots else services.practice.zone
    return {"timezone": zone.key, "slots": [slot_json(s) for s in slots]}


def _start(value: object) -> datetime:
    try:
        start = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise BookingInputError("start", "is not an ISO 8601 date and time") from exc
    if start.tzinfo is None:
        raise BookingInputError("start", "needs a UTC offset")
    return start


def _alternatives(services: Services, ctx: _Context, kind: AppointmentType, after: datetime) -> list[dict]:
    day = after.astimezone(services.practice.zone).date()
    later = [s for s in _slots(services, ctx, kind, day, 14) if s.start > after]
    return [slot_json(s) for s in later[:ALTERNATIVES]]


def appointment_id_for(token: str) -> str:
    """A Careloop identifier: one link makes at most one appointment, so a retry reuses the id."""
    return "careloop-" + hashlib.sha256(token.encode()).hexdigest()[:16]


def book(services: Services, token: str | None, type_id: object, start: object,
         provider: object = None) -> Booked:
    """Book the slot for the link's patient: exactly one of two racing bookings wins (409 to the
    other, with the next open slots), the link is spent, the old appointment of a reschedule is
    cancelled, and the patient gets one confirmation text."""
    ctx = _open(services, token)
    kind = _type(services, ctx, type_id)
    at = _start(start)
    if provider is not None and (not isinstance(provider, str) or provider not in kind.providers):
        raise BookingInputError("provider", "does not see this appointment type")
    first_day = at.astimezone(services.practice.zone).date() - timedelta(days=1)
    matching = [s for s in _slots(services, ctx, kind, first_day, 3, provider)
                if s.start == at and (provider is None or s.provider == provider)]
    if not matching:
        offered = [s for s in _slots(services, ctx, kind, first_day, 3, provider, with_busy=False)
                   if s.start == at and (provider is None or s.provider == provider)]
        if offered:
            raise SlotTaken(_alternatives(services, ctx, kind, at))
        raise BookingInputError("start", "is not an open slot of this type")
    slot = matching[0]
    request_mode = ctx.settings.mode == "request"
    appointment_id = appointment_id_for(ctx.link.token)
    claim = SlotClaim(provider=slot.provider, start=slot.start, end=slot.end, appointment_id=appointment_id,
                      kind="hold" if request_mode else "booked", expires_at=slot.end + timedelta(days=HOLD_DAYS))
    if not ctx.store.claim_slot(claim):
        raise SlotTaken(_alternatives(services, ctx, kind, at))
    now = services.clock.now()
    if not ctx.store.spend_link(ctx.link.token, appointment_id, now):
        ctx.store.release_slot(slot.provider, slot.start)  # the link's other request booked first
        raise LinkGone("this link was already used to book")
    appointment = Appointment(
        id=appointment_id, patient_id=ctx.patient.id, start=slot.start.astimezone(UTC), minutes=kind.minutes,
        status="pending" if request_mode else "booked", provider=slot.provider, location=slot.location,
        visit_type=kind.visit_type or kind.id, source="careloop", updated_at=now,
    )
    services.records.put_appointment(appointment)  # the records stream plans its reminders
    if ctx.link.purpose == "reschedule" and ctx.link.appointment_id:
        _cancel_moved(services, ctx.store, ctx.link.appointment_id, now)
    _after_booking(services, ctx, appointment, kind, slot, request_mode, now)
    return Booked(appointment, "requested" if request_mode else "booked", slot.location, kind.id)


def _cancel_moved(services: Services, store: BookingStore, appointment_id: str, now: datetime) -> None:
    from careloop.ehr import writeback

    old = services.records.get_appointment(appointment_id)
    if old is None or old.status not in UPCOMING_STATUSES:
        return
    services.records.put_appointment(old.model_copy(update={"status": "cancelled", "updated_at": now}))
    if old.source == "careloop" and old.provider:
        store.release_slot(old.provider, old.start)
    writeback.record(services.practice, services.writeback, writeback.WritebackEvent(
        kind="appointment_cancelled", patient_id=old.patient_id, appointment_id=old.id, at=now, reason="rescheduled"))


_CONFIRM = {
    "booked": {
        "en": "{practice}: you're booked, {first_name}. {what} on {when} ({zone}) with {provider}. "
              "To change it, reply R or call {phone}.",
        "es": "{practice}: su cita está reservada, {first_name}. {what} el {when} ({zone}) con {provider}. "
              "Para cambiarla, responda R o llame al {phone}.",
    },
    "requested": {
        "en": "{practice}: we got your request, {first_name}: {what} on {when} ({zone}) with {provider}. "
              "It is pending until our front desk confirms it; we'll text you.",
        "es": "{practice}: recibimos su solicitud, {first_name}: {what} el {when} ({zone}) con {provider}. "
              "Queda pendiente hasta que recepción la confirme; le avisaremos por texto.",
    },
}


def _after_booking(services: Services, ctx: _Context, appointment: Appointment, kind: AppointmentType,
                   slot: Slot, request_mode: bool, now: datetime) -> None:
    """One confirmation text at once (a direct answer: not held by quiet hours or caps), then the
    EHR create (instant) or the front desk's task (request)."""
    from careloop.ehr import writeback

    patient, practice = ctx.patient, services.practice
    lang = patient.language if patient.language in ("en", "es") else "en"
    zone = zone_for(services, slot.location)
    local = slot.start.astimezone(zone)
    provider = next((p.name for p in practice.providers if p.id == slot.provider), slot.provider)
    status = "requested" if request_mode else "booked"
    from careloop.templates import _pretty_phone  # one way of writing the practice's number

    body = _CONFIRM[status][lang].format(
        practice=practice.name, first_name=patient.first_name, what=kind.name[lang],
        when=format_date_time(local, lang), zone=local.tzname() or zone.key, provider=provider,
        phone=_pretty_phone(practice.phone))
    if patient.phone and not patient.opted_out:
        text = Message(message_id=f"m-booked-{appointment.id}", kind="sms_out", patient_id=patient.id,
                       appointment_id=appointment.id, phone=patient.phone, body=body, at=now,
                       workflow="booking", step="confirmation", automated=False)
        if services.messages.put_message(text):
            services.outbox.enqueue(text)
    if request_mode:
        task = Message(message_id=f"t-booked-{appointment.id}", kind="task", patient_id=patient.id,
                       appointment_id=appointment.id, at=now, status=MessageStatus.OPEN, workflow="booking",
                       step="enter-request", priority="normal", team="front_desk", automated=False,
                       reason="online booking request to enter in the practice-management system",
                       body=f"Online booking request: {kind.name['en']} on {format_date_time(local, 'en')} "
                            f"({local.tzname()}) with {provider}. Enter it in the schedule, then confirm it.")
        if services.messages.put_message(task):
            services.notifier.notify(task)
        return
    writeback.record(practice, services.writeback, writeback.WritebackEvent(
        kind="appointment_created", patient_id=patient.id, appointment_id=appointment.id, at=now))
