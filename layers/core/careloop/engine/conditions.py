"""Evaluates workflow conditions against the current state of a patient and appointment.

Used at planning time and again at fire time, so a changed world stops a planned message.
"""

from __future__ import annotations

from datetime import datetime

from careloop.models import ACTIVE_STATUSES, Appointment, Patient
from careloop.ports import Services
from careloop.workflows import Condition

BOOKED_OR_KEPT = ACTIVE_STATUSES | {"fulfilled"}


class Facts:
    """Lazily computed facts for one (patient, appointment) at one moment."""

    def __init__(
        self,
        services: Services,
        patient: Patient,
        appointment: Appointment | None,
        now: datetime,
        trigger_at: datetime | None,
    ) -> None:
        self.s, self.patient, self.appointment = services, patient, appointment
        self.now, self.trigger_at = now, trigger_at or now
        self._messages = None
        self._appointments = None

    def messages(self):
        if self._messages is None:
            self._messages = self.s.messages.messages_for_patient(self.patient.id)
        return self._messages

    def _patient_appointments(self):
        if self._appointments is None:
            self._appointments = self.s.records.appointments_for_patient(self.patient.id)
        return self._appointments

    def value(self, field: str):
        a, p = self.appointment, self.patient
        match field:
            case "appointment.status":
                return a.status if a else None
            case "appointment.confirmed":
                return bool(a and a.confirmed)
            case "appointment.visit_type":
                return (a.visit_type or "").lower() if a else None
            case "appointment.provider":
                return a.provider if a else None
            case "appointment.location":
                return a.location if a else None
            case "appointment.starts_in_minutes":
                return (a.start - self.now).total_seconds() / 60 if a else None
            case "patient.tags":
                return p.tags
            case "patient.language":
                return p.language
            case "patient.has_future_appointment":
                return any(
                    x.start > self.now and x.status in ACTIVE_STATUSES and (a is None or x.id != a.id)
                    for x in self._patient_appointments()
                )
            case "patient.booked_since_trigger":
                # a visit booked after the trigger and already attended counts too: the patient
                # rebooked (no "call to rebook" task) and came (a recall starts from that visit)
                return any(
                    (a is None or x.id != a.id)
                    and x.status in BOOKED_OR_KEPT
                    and x.start > self.trigger_at
                    and (x.updated_at is None or x.updated_at >= self.trigger_at)
                    for x in self._patient_appointments()
                )
            case "patient.replied_since_trigger":
                return any(
                    m.kind == "sms_in" and m.at >= self.trigger_at for m in self.messages()
                )
            case "patient.minutes_since_last_inbound":
                return self._minutes_since(("sms_in",))
            case "patient.minutes_since_last_contact":
                return self._minutes_since(("sms_in", "sms_out"))
        raise KeyError(field)

    def _minutes_since(self, kinds: tuple[str, ...]) -> float:
        times = [m.at for m in self.messages() if m.kind in kinds and m.at <= self.now]
        if not times:
            return float("inf")
        return (self.now - max(times)).total_seconds() / 60


def holds(cond: Condition, facts: Facts) -> bool:
    v = facts.value(cond.field)
    want = cond.value
    match cond.op:
        case "eq":
            return _norm(v) == _norm(want)
        case "ne":
            return _norm(v) != _norm(want)
        case "in":
            return _norm(v) in [_norm(x) for x in want]
        case "not_in":
            return _norm(v) not in [_norm(x) for x in want]
        case "contains":
            return v is not None and _norm(want) in [_norm(x) for x in v]
        case "gt":
            return v is not None and v > want
        case "gte":
            return v is not None and v >= want
        case "lt":
            return v is not None and v < want
        case "lte":
            return v is not None and v <= want
        case "is_true":
            return bool(v)
        case "is_false":
            return not v
    raise ValueError(cond.op)


def _norm(v):
    return v.lower() if isinstance(v, str) else v


def first_failing(conditions, facts: Facts) -> Condition | None:
    for cond in conditions:
        if not holds(cond, facts):
            return cond
    return None
