"""Request-mode bookings after the patient's tap: the front desk confirms or declines them, and
the EHR's own copy of one (entered by staff under its own id) supersedes Careloop's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from careloop.booking.links import SlotClaim, booking_url_for
from careloop.errors import Conflict, NotFound
from careloop.models import UPCOMING_STATUSES, Appointment, Message, MessageStatus, Patient
from careloop.ports import Services
from careloop.records import with_change
from careloop.templates import _pretty_phone, format_date_time, named_zone

HOLD_DAYS = 7  # as booking.service: a claim is kept this long after the visit, then forgotten

_TEXTS = {
    "confirmed": {
        "en": "{practice}: you're booked, {first_name}. Our front desk confirmed {what} on {when} ({zone}) "
              "with {provider}. To change it, reply R or call {phone}.",
        "es": "{practice}: su cita está reservada, {first_name}. Recepción confirmó {what} el {when} ({zone}) "
              "con {provider}. Para cambiarla, responda R o llame al {phone}.",
    },
    "declined": {
        "en": "{practice}: sorry, {first_name}, we can't offer {what} on {when} ({zone}). "
              "Please pick another time: {url}",
        "es": "{practice}: lo sentimos, {first_name}, no podemos ofrecerle {what} el {when} ({zone}). "
              "Elija otra hora: {url}",
    },
}


_KEPT = {"en": "Your current appointment stays as it is.", "es": "Su cita actual sigue igual."}


def request_task_id(appointment_id: str) -> str:
    """The front desk's task a request-mode booking raised (booking.service names it so)."""
    return f"t-booked-{appointment_id}"


def _pending_request(services: Services, appointment_id: str) -> tuple[Appointment, Patient]:
    appointment = services.records.get_appointment(appointment_id)
    patient = services.records.get_patient(appointment.patient_id) if appointment else None
    if appointment is None or patient is None or appointment.source != "careloop":
        raise NotFound(f"no online booking {appointment_id}")
    if appointment.superseded_by:
        raise Conflict(f"already entered in the EHR as Appointment/{appointment.superseded_by}")
    return appointment, patient


def confirm(services: Services, appointment_id: str, staff: str) -> Appointment:
    """The front desk entered a pending online booking: it is booked (its reminders follow from the
    records stream), the hold becomes the booked claim, the patient is told, the task closes.
    Idempotent: confirming a booked one again changes and sends nothing."""
    appointment, patient = _pending_request(services, appointment_id)
    if appointment.status == "booked":
        return appointment
    if appointment.status != "pending":
        raise Conflict(f"online booking {appointment_id} is {appointment.status}, not pending")
    now = services.clock.now()
    booked = with_change(appointment.model_copy(update={"status": "booked", "updated_at": now}), "booked", now,
                         "staff", staff, "online request confirmed")
    _hold_to_booked(services, booked)
    services.records.put_appointment(booked)
    _replace_old(services, booked, now)
    _text(services, patient, booked, "confirmed", now)
    _close_task(services, booked, f"confirmed by {staff}")
    return booked


def decline(services: Services, appointment_id: str, staff: str) -> Appointment:
    """The front desk cannot take a pending online booking: it is cancelled, the hold released, and
    the patient gets their personal link to pick another time; the task closes. Idempotent."""
    appointment, patient = _pending_request(services, appointment_id)
    if appointment.status == "cancelled":
        return appointment
    if appointment.status != "pending":
        raise Conflict(f"online booking {appointment_id} is {appointment.status}, not pending")
    now = services.clock.now()
    cancelled = with_change(appointment.model_copy(update={"status": "cancelled", "updated_at": now}), "cancelled",
                            now, "staff", staff, "online request declined")
    services.records.put_appointment(cancelled)
    if services.booking is not None and cancelled.provider:
        services.booking.release_slot(cancelled.provider, cancelled.start)
    _text(services, patient, cancelled, "declined", now)
    _close_task(services, cancelled, f"declined by {staff}")
    return cancelled


def _replace_old(services: Services, appointment: Appointment, now: datetime) -> None:
    """A confirmed reschedule request: the visit it replaces is cancelled now (and the EHR told)."""
    from careloop.booking.service import cancel_moved

    if appointment.replaces and services.booking is not None:
        cancel_moved(services, services.booking, appointment.replaces, now)


def _hold_to_booked(services: Services, appointment: Appointment) -> None:
    """The hold on (provider, start) becomes a booked claim. Released, then claimed again: the
    booked appointment itself keeps the time busy for every slot search in between."""
    store = services.booking
    if store is None or not appointment.provider:
        return
    held = [c for c in store.claims_between(appointment.start, appointment.start + timedelta(seconds=1))
            if c.provider == appointment.provider and c.appointment_id == appointment.id]
    if held and held[0].kind == "booked":
        return
    if held:
        store.release_slot(appointment.provider, appointment.start)
    store.claim_slot(SlotClaim(provider=appointment.provider, start=appointment.start, end=appointment.end,
                               appointment_id=appointment.id, kind="booked",
                               expires_at=appointment.end + timedelta(days=HOLD_DAYS)))


def _text(services: Services, patient: Patient, appointment: Appointment, outcome: str, now: datetime) -> None:
    """One text, at once (a direct answer to the patient's own request: not held by quiet hours)."""
    from careloop.booking.service import zone_for

    if not patient.phone or patient.opted_out:
        return
    practice = services.practice
    lang = patient.language if patient.language in ("en", "es") else "en"
    zone = zone_for(services, appointment.location or "")
    local = appointment.start.astimezone(zone)
    kind = next((t for t in practice.booking.types if (t.visit_type or t.id) == appointment.visit_type), None) \
        if practice.booking else None
    what = kind.name[lang] if kind else (appointment.visit_type or ("la cita" if lang == "es" else "the visit"))
    provider = next((p.name for p in practice.providers if p.id == appointment.provider), appointment.provider or "")
    url = ""
    if outcome == "declined":
        url = booking_url_for(services, patient, "book", ref=f"declined-{appointment.id}")
    body = _TEXTS[outcome][lang].format(
        practice=practice.name, first_name=patient.first_name, what=what, when=format_date_time(local, lang),
        zone=named_zone(local), provider=provider, phone=_pretty_phone(practice.phone), url=url)
    if outcome == "declined" and appointment.replaces:  # a reschedule request: nothing was lost
        body += " " + _KEPT[lang]
    text = Message(message_id=f"m-{outcome}-{appointment.id}", kind="sms_out", patient_id=patient.id,
                   appointment_id=appointment.id, phone=patient.phone, body=body, at=now,
                   workflow="booking", step=outcome, automated=False)
    if services.messages.put_message(text):
        services.outbox.enqueue(text)


def _close_task(services: Services, appointment: Appointment, why: str) -> None:
    services.messages.transition_message(request_task_id(appointment.id), MessageStatus.OPEN, MessageStatus.DONE,
                                         status_detail=why)


# ---- the EHR's copy of a Careloop booking -----------------------------------------------------


def _provider_key(services: Services, provider: str | None) -> str:
    """A provider as the EHR or Careloop writes it (an id or a display name) -> one comparable key."""
    wanted = (provider or "").strip().casefold()
    for p in services.practice.providers:
        if wanted in (p.id.casefold(), p.name.casefold()):
            return p.id
    return wanted


def supersede(services: Services, ehr_appointments: Iterable[Appointment]) -> list[str]:
    """Each upcoming EHR appointment that is a Careloop booking entered by staff (same patient, same
    start, same provider; any id) takes over from it: Careloop's is cancelled with `superseded_by`
    (its reminders and hold go with it, confirmation carries over, its open task closes), so the
    visit has one set of reminders. -> the ids superseded."""
    done: list[str] = []
    for ehr in ehr_appointments:
        if ehr.source == "careloop" or ehr.status not in UPCOMING_STATUSES:
            continue
        key = _provider_key(services, ehr.provider)
        for ours in services.records.appointments_for_patient(ehr.patient_id):
            if (ours.id == ehr.id or ours.source != "careloop" or ours.status not in UPCOMING_STATUSES
                    or ours.start != ehr.start or _provider_key(services, ours.provider) != key):
                continue
            now = services.clock.now()
            services.records.put_appointment(with_change(ours.model_copy(update={
                "status": "cancelled", "superseded_by": ehr.id, "updated_at": now}), "cancelled", now, "agent",
                detail="entered in the EHR by the front desk"))
            if services.booking is not None and ours.provider:
                services.booking.release_slot(ours.provider, ours.start)  # the EHR's appointment is busy now
            if ours.confirmed and not ehr.confirmed:
                services.records.put_appointment(with_change(ehr.model_copy(update={
                    "confirmed": True, "confirmed_at": ours.confirmed_at, "updated_at": now}), "confirmed", now,
                    "agent", detail="carried over from the online booking"))
            if ours.replaces and ours.replaces != ehr.id:  # staff entered it new, not by moving the old one
                _replace_old(services, ours, now)
            _close_task(services, ours, f"entered in the EHR as Appointment/{ehr.id}")
            done.append(ours.id)
    return done
