"""The booking service behind the public routes: the types a link's patient may book, open slots,
and the booking itself with what follows it (claim, appointment, reschedule, confirmation, EHR)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from careloop.booking.availability import AppointmentType, BookingSettings
from careloop.booking.grid import ehr_free_between
from careloop.booking.links import BookingLink, SlotClaim, looks_like_token
from careloop.booking.slots import Busy, Slot, open_slots
from careloop.errors import BookingInputError, LinkGone, SlotTaken, TooManyRequests, UnknownLink
from careloop.models import UPCOMING_STATUSES, Appointment, Message, MessageStatus, Patient
from careloop.ports import BookingStore, Services
from careloop.records import with_change
from careloop.templates import format_date_time, named_zone

if TYPE_CHECKING:
    from careloop.agent.when import When

REQUESTS_PER_LINK_PER_MINUTE = 60  # the page's own use is a handful; a script's is not
MAX_DAYS = 31  # one slots request looks this many days ahead at most
ALTERNATIVES = 3  # open slots a 409 offers instead
# a date asked for (slots from, a booking's start) this far from today is no booking: it is refused
# by name before any date arithmetic could overflow (year 1 or 9999)
HORIZON = timedelta(days=2 * 366)
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
    _throttle(store, link, services.clock.now())
    if link.spent_at is not None and not _unfinished(services, link):
        raise LinkGone("this link was already used to book")
    if services.clock.now() >= link.expires_at:
        raise LinkGone("this link has expired")
    return _Context(link, patient, settings, store)


def _throttle(store: BookingStore, link: BookingLink, now: datetime) -> None:
    """Per-token limit (per-IP limits are the WAF's): one link's page makes a few requests a minute
    (types, a week of slots, paging, one booking); a link hammered harder is refused with 429."""
    window = now.astimezone(UTC).strftime("%Y%m%d%H%M")
    if store.count_request(link.token, window, now + timedelta(minutes=10)) > REQUESTS_PER_LINK_PER_MINUTE:
        raise TooManyRequests()


def _unfinished(services: Services, link: BookingLink) -> bool:
    """A link spent by a booking that crashed before its appointment was stored: a retry of the
    same link finishes that booking (same appointment id) instead of answering 410."""
    booked = link.booked_appointment_id
    return bool(booked) and services.records.get_appointment(booked or "") is None


def _is_new_patient(services: Services, patient: Patient) -> bool:
    return not any(a.status != "cancelled" for a in services.records.appointments_for_patient(patient.id))


def _bookable(services: Services, ctx: _Context) -> list[AppointmentType]:
    new = _is_new_patient(services, ctx.patient)
    return [t for t in ctx.settings.types if t.online and (t.new_patients or not new)]


def type_for_visit(services: Services, patient: Patient, visit_type: str | None) -> AppointmentType | None:
    """The booking type an appointment of `visit_type` is (an online type whose visit type or id it
    is), else the first type the patient may book; None when self-scheduling is off."""
    settings = services.practice.booking
    if settings is None:
        return None
    same = next((t for t in settings.types if t.online and visit_type and (t.visit_type or t.id) == visit_type), None)
    if same is not None:
        return same
    new = _is_new_patient(services, patient)
    return next((t for t in settings.types if t.online and (t.new_patients or not new)), None)


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
          ignore: frozenset[str] = frozenset()) -> list[Busy]:
    """Booked and pending appointments (EHR or Careloop) plus claims and holds overlapping [start, end),
    except those of the appointments in `ignore` (the one being moved, the booking being finished)."""
    ids = _provider_ids(services)
    busy = [Busy(ids.get(a.provider, a.provider), a.start, a.end) for a in services.records.appointments_between(start, end)
            if a.provider and a.status in UPCOMING_STATUSES and a.id not in ignore and a.start < end and a.end > start]
    busy += [Busy(c.provider, c.start, c.end) for c in store.claims_between(start - timedelta(days=1), end)
             if c.appointment_id not in ignore]
    return busy


def _open_slots(services: Services, settings: BookingSettings, store: BookingStore, kind: AppointmentType,
                first_day: date, days: int, *, ignore: frozenset[str] = frozenset(), provider: str | None = None,
                with_busy: bool = True) -> list[Slot]:
    zones = [zone_for(services, h.location) for h in settings.hours] or [services.practice.zone]
    window_start = min(datetime.combine(first_day, datetime.min.time(), z) for z in zones).astimezone(UTC)
    window_end = window_start + timedelta(days=days + 2)
    busy = _busy(services, store, window_start, window_end, ignore) if with_busy else []
    # the EHR's free Slots win for each provider it sent a Schedule for (every booking path: a
    # link, a text reply, a gap offer, a call)
    ehr_free = ehr_free_between(services.records, window_start, window_end, kind.providers)
    return open_slots(settings, type_id=kind.id, first_day=first_day, days=days, now=services.clock.now(),
                      busy=busy, zone_of=lambda loc: zone_for(services, loc), provider=provider,
                      ehr_free=ehr_free)


def search_slots(services: Services, kind: AppointmentType, first_day: date, days: int, *,
                 ignore: frozenset[str] = frozenset(), provider: str | None = None) -> list[Slot]:
    """Open slots of `kind` on local days [first_day, first_day + days), earliest first, for a
    caller that holds no link (the voice agent); `ignore`: appointments whose time counts as free
    (the one being moved)."""
    settings, store = services.practice.booking, services.booking
    if settings is None or store is None:
        return []
    return _open_slots(services, settings, store, kind, first_day, days, ignore=ignore, provider=provider)


def _ignored(ctx: _Context) -> frozenset[str]:
    """The link's own appointments: the one a reschedule moves, and the one its spend named."""
    ids = {appointment_id_for(ctx.link.token)}  # a try that crashed past its claim
    if ctx.link.purpose == "reschedule" and ctx.link.appointment_id:
        ids.add(ctx.link.appointment_id)
    if ctx.link.booked_appointment_id:
        ids.add(ctx.link.booked_appointment_id)
    return frozenset(ids)


def _slots(services: Services, ctx: _Context, kind: AppointmentType, first_day: date, days: int,
           provider: str | None = None, with_busy: bool = True) -> list[Slot]:
    return _open_slots(services, ctx.settings, ctx.store, kind, first_day, days, ignore=_ignored(ctx),
                       provider=provider, with_busy=with_busy)


def _day(value: object, today: date) -> date:
    try:
        day = date.fromisoformat(str(value))
    except ValueError as exc:
        raise BookingInputError("from", "is not a date YYYY-MM-DD") from exc
    if abs(day - today) > HORIZON:
        raise BookingInputError("from", f"is more than {HORIZON.days} days from today")
    return day


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
    today = services.clock.now().astimezone(services.practice.zone).date()
    day = _day(first_day, today) if first_day not in (None, "") else today
    slots = _slots(services, ctx, kind, day, _days(days if days not in (None, "") else 7))
    zone = zone_for(services, slots[0].location) if slots else services.practice.zone
    return {"timezone": zone.key, "slots": [slot_json(s) for s in slots]}


def _start(value: object, now: datetime) -> datetime:
    try:
        start = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise BookingInputError("start", "is not an ISO 8601 date and time") from exc
    if start.tzinfo is None:
        raise BookingInputError("start", "needs a UTC offset")
    try:
        far = abs(start - now) > HORIZON
    except OverflowError:  # within a day of year 1 or 9999, its offset applied
        far = True
    if far:
        raise BookingInputError("start", f"is more than {HORIZON.days} days from now")
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
    at = _start(start, services.clock.now())
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
    moves = ctx.link.appointment_id if ctx.link.purpose == "reschedule" else None
    return book_for_patient(services, ctx.patient, kind, matching[0], moves=moves, ref=ctx.link.token,
                            settings=ctx.settings, link=ctx.link)


def _own_claim(store: BookingStore, slot: Slot, appointment_id: str) -> bool:
    """The slot's claim is this booking's own (a retry after a crash past the claim)."""
    return any(c.provider == slot.provider and c.start == slot.start and c.appointment_id == appointment_id
               for c in store.claims_between(slot.start, slot.start + timedelta(seconds=1)))


def book_for_patient(services: Services, patient: Patient, kind: AppointmentType, slot: Slot, *,
                     moves: str | None, ref: str, settings: BookingSettings | None = None,
                     link: BookingLink | None = None, channel: str = "text") -> Booked:
    """Book `slot` for `patient`, the one path every booking takes (a link, a text reply, a gap
    offer): without a `link` (whose path just found it open) check `slot` is still open, claim it
    with the conditional write (SlotTaken with the next open slots when it is not, or another
    booking has it), spend `link` if there is one, store the `source: careloop`
    appointment, cancel the appointment it `moves` and tell the EHR, send the one confirmation
    text, then the FHIR create (instant) or the front desk's task (request). `ref` names the
    booking: the same ref is the same appointment, so a retry after a crash finishes it and
    does nothing twice."""
    store, settings = services.booking, settings or services.practice.booking
    if store is None or settings is None:
        raise ValueError("booking needs services.booking and the profile's booking section")
    request_mode = settings.mode == "request"
    appointment_id = link.booked_appointment_id if link is not None and link.booked_appointment_id \
        else appointment_id_for(ref)
    if link is None and not _still_open(services, settings, store, kind, slot, {moves, appointment_id}):
        # offered a while ago (a text, a gap offer): staff may have filled it in the EHR since, or
        # it is now inside the lead time; the link path found it open a moment ago
        raise SlotTaken([slot_json(s) for s in _next_open(services, settings, store, kind, slot.start, moves)])
    claim = SlotClaim(provider=slot.provider, start=slot.start, end=slot.end, appointment_id=appointment_id,
                      kind="hold" if request_mode else "booked", expires_at=slot.end + timedelta(days=HOLD_DAYS))
    if not store.claim_slot(claim) and not _own_claim(store, slot, appointment_id):
        raise SlotTaken([slot_json(s) for s in _next_open(services, settings, store, kind, slot.start, moves)])
    now = services.clock.now()
    if link is not None and link.spent_at is None and not store.spend_link(link.token, appointment_id, now):
        store.release_slot(slot.provider, slot.start)  # the link's other request booked first
        raise LinkGone("this link was already used to book")
    if link is not None and link.spent_at is not None:
        _release_stale_claims(services, store, appointment_id, slot)
    existing = services.records.get_appointment(appointment_id)
    appointment = Appointment(
        id=appointment_id, patient_id=patient.id, start=slot.start.astimezone(UTC), minutes=kind.minutes,
        status="pending" if request_mode else "booked", provider=slot.provider, location=slot.location,
        visit_type=kind.visit_type or kind.id, source="careloop", updated_at=now,
        replaces=moves if request_mode else None,
    )
    appointment = with_change(appointment, "requested" if request_mode else "booked", now, "patient",
                              "booking link" if link is not None else channel,
                              "a reschedule of an earlier visit" if moves else "")
    if existing is None:
        services.records.put_appointment(appointment)  # the records stream plans its reminders
    if moves and not request_mode:
        # (request mode: the old visit stays until the front desk confirms the new one)
        cancel_moved(services, store, moves, now)
    _after_booking(services, patient, appointment, kind, slot, request_mode, now, first=existing is None)
    return Booked(existing or appointment, "requested" if request_mode else "booked", slot.location, kind.id)


def _still_open(services: Services, settings: BookingSettings, store: BookingStore, kind: AppointmentType,
                slot: Slot, own: set[str | None]) -> bool:
    """`slot` is still an open slot of `kind` (hours, lead time, every appointment and claim but
    the booking's `own`: the appointment it moves, and itself on a retry)."""
    day = slot.start.astimezone(zone_for(services, slot.location)).date() - timedelta(days=1)
    ignore = frozenset(i for i in own if i)
    return any(s.start == slot.start and s.provider == slot.provider
               for s in _open_slots(services, settings, store, kind, day, 3, ignore=ignore, provider=slot.provider))


def _release_stale_claims(services: Services, store: BookingStore, appointment_id: str, slot: Slot) -> None:
    """A finished-after-crash booking on another slot than the first try: that try's claim goes."""
    now = services.clock.now()
    for c in store.claims_between(now - timedelta(days=1), now + timedelta(days=400)):
        if c.appointment_id == appointment_id and (c.provider, c.start) != (slot.provider, slot.start):
            store.release_slot(c.provider, c.start)


def _next_open(services: Services, settings: BookingSettings, store: BookingStore, kind: AppointmentType,
               after: datetime, moves: str | None) -> list[Slot]:
    day = after.astimezone(services.practice.zone).date()
    ignore = frozenset({moves}) if moves else frozenset()
    later = [s for s in _open_slots(services, settings, store, kind, day, 14, ignore=ignore) if s.start > after]
    return later[:ALTERNATIVES]


def cancel_moved(services: Services, store: BookingStore, appointment_id: str, now: datetime) -> None:
    """The appointment a booking moved is cancelled, its claim released, and the EHR told."""
    from careloop.ehr import writeback

    old = services.records.get_appointment(appointment_id)
    if old is None or old.status not in UPCOMING_STATUSES:
        return
    services.records.put_appointment(with_change(old.model_copy(update={"status": "cancelled", "updated_at": now}),
                                                 "cancelled", now, "patient", detail="rescheduled"))
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


def _after_booking(services: Services, patient: Patient, appointment: Appointment, kind: AppointmentType,
                   slot: Slot, request_mode: bool, now: datetime, *, first: bool = True) -> None:
    """One confirmation text at once (a direct answer: not held by quiet hours or caps), then the
    EHR create (instant) or the front desk's task (request). `first`: the appointment was just
    stored (a finished retry does not queue the EHR create again; text and task have their own keys)."""
    from careloop.ehr import writeback

    practice = services.practice
    lang = patient.language if patient.language in ("en", "es") else "en"
    zone = zone_for(services, slot.location)
    local = slot.start.astimezone(zone)
    provider = next((p.name for p in practice.providers if p.id == slot.provider), slot.provider)
    status = "requested" if request_mode else "booked"
    from careloop.templates import _pretty_phone  # one way of writing the practice's number

    body = _CONFIRM[status][lang].format(
        practice=practice.name, first_name=patient.first_name, what=kind.name[lang],
        when=format_date_time(local, lang), zone=named_zone(local), provider=provider,
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
                            f"({named_zone(local)}) with {provider}. Enter it in the schedule, then confirm it.")
        if services.messages.put_message(task):
            services.notifier.notify(task)
        return
    if first:
        writeback.record(practice, services.writeback, writeback.WritebackEvent(
            kind="appointment_created", patient_id=patient.id, appointment_id=appointment.id, at=now))


# ---- the slot search of a text conversation ------------------------------------------------------


PARTS_OF_DAY = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}  # local hours [from, to)
WIDEN_DAYS = 14  # no open slot in the window asked for: look this many days past it


def slots_near(services: Services, patient: Patient, kind: AppointmentType, when: When | None, *,
               after: datetime | None, limit: int = ALTERNATIVES, ignore: str | None = None) -> list[Slot]:
    """Up to `limit` open slots of `kind` nearest what the patient asked for, at distinct times,
    earliest first: inside the window asked (its part of the day, closest to its time of day),
    filled up from the following days (their times in that part of the day first); no window (None, or
    "later"): the earliest from `after` on. `after`: no slot starting before it (a "later" ask:
    after the current appointment). `ignore`: an appointment whose time does not count as busy
    (the one being moved)."""
    store, settings = services.booking, services.practice.booking
    if store is None or settings is None or limit <= 0:
        return []
    today = services.clock.now().astimezone(services.practice.zone).date()
    floor = after
    if when is None or when.later:
        start_day = max(today, floor.astimezone(services.practice.zone).date()) if floor else today
        first_day, days = start_day, WIDEN_DAYS
    else:
        first_day = max(when.first_day, today)
        days = max((when.last_day - first_day).days + 1, 1)
    skip = frozenset({ignore}) if ignore else frozenset()
    found = _open_slots(services, settings, store, kind, first_day, days + WIDEN_DAYS, ignore=skip)
    if floor is not None:
        found = [s for s in found if s.start > floor]
    window_end = first_day + timedelta(days=days)

    def local(s: Slot) -> datetime:
        return s.start.astimezone(zone_for(services, s.location))

    part = PARTS_OF_DAY.get(when.part_of_day or "") if when is not None else None
    at = when.time if when is not None else None
    from_time = at is not None and when is not None and when.after_time  # "after 3": a bound, not a target

    def fits(s: Slot) -> bool:
        t = local(s)
        if from_time and at is not None and t.time() < at:
            return False
        return part is None or part[0] <= t.hour < part[1]

    inside = [s for s in found if local(s).date() < window_end]
    beyond = [s for s in found if local(s).date() >= window_end]
    picked: list[Slot] = []
    for candidates in ([s for s in inside if fits(s)], [s for s in beyond if fits(s)], beyond):
        taken = {s.start for s in picked}
        picked += _nearest([s for s in candidates if s.start not in taken], None if from_time else at, local,
                           limit - len(picked))
        if len(picked) >= limit:
            break
    return sorted(picked, key=lambda s: s.start)


def _nearest(candidates: list[Slot], at: time | None, local: Callable[[Slot], datetime], limit: int) -> list[Slot]:
    """One slot per start time (the first provider), the `limit` closest to the time of day `at`
    when one was asked (earlier days first among equals), else the earliest; shown earliest first."""
    distinct: dict[datetime, Slot] = {}
    for s in candidates:
        distinct.setdefault(s.start, s)
    slots = list(distinct.values())
    if at is not None:
        def distance(s: Slot) -> tuple[int, datetime]:
            t = local(s)
            return abs((t.hour * 60 + t.minute) - (at.hour * 60 + at.minute)), s.start
        slots.sort(key=distance)  # "at 3" over a week: 3 PM on the first days that have it
    return sorted(slots[:limit], key=lambda s: s.start)
