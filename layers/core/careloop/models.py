"""Domain records: patients, appointments, planned actions, messages.

Times are aware datetimes in the core and UTC ISO strings in storage (`careloop.clock.iso`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

AppointmentStatus = Literal[
    "proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
    "checked-in", "entered-in-error", "waitlist",
]  # FHIR R4 AppointmentStatus
APPOINTMENT_STATUSES: tuple[AppointmentStatus, ...] = get_args(AppointmentStatus)
# The one definition of which statuses count as what; every module that asks reads these.
# Still to come: what a reminder, the SMS agent and the inbox talk about.
UPCOMING_STATUSES: frozenset[AppointmentStatus] = frozenset({"booked", "pending"})
# The visit is on: still to come, or the patient is there now (not over, not called off).
ACTIVE_STATUSES: frozenset[AppointmentStatus] = UPCOMING_STATUSES | {"arrived", "checked-in"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)


def aware(v: datetime | None) -> datetime | None:
    """A model validator: a datetime must carry its UTC offset (every stored time is an instant)."""
    if v is not None and v.tzinfo is None:
        raise ValueError("datetime needs a UTC offset")
    return v


_aware = aware


class Patient(_Model):
    id: str
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None  # E.164, SMS-capable if known
    phone_kind: Literal["mobile", "landline", "unknown"] = "unknown"
    language: Literal["en", "es"] = "en"
    timezone: str | None = None  # None: the practice's
    tags: list[str] = Field(default_factory=list)
    identifiers: list[str] = Field(default_factory=list)  # "system|value"
    opted_out: bool = False
    undeliverable: bool = False
    birth_date: date | None = None  # FHIR Patient.birthDate / HL7 PID-7: what a caller proves who they are with
    source: Literal["ehr", "careloop"] | None = None  # None: from the EHR; careloop: made by a voice booking
    source_version: str = ""  # EHR version marker; an older one never overwrites a newer
    updated_at: datetime | None = None

    _aware = field_validator("updated_at")(lambda cls, v: _aware(v))


# How far back a window query of appointments looks for one still running at its start: a
# visit is shorter than a day (a longer EHR block starting earlier is not seen by the slot search)
MAX_APPOINTMENT_LENGTH = timedelta(days=1)


ChangeSource = Literal["ehr", "patient", "staff", "agent"]


class AppointmentChange(_Model):
    """One change of a visit's state as it happened (booked, confirmed, cancelled, moved...), kept
    in order on the appointment: who made it (the EHR, the patient, staff, the agent) and how."""

    at: datetime
    event: str  # booked | requested | confirmed | declined | cancelled | noshow | fulfilled | moved | <EHR status>
    source: ChangeSource
    by: str = ""  # the staff user; for the patient, how: "text", "call", "booking link"
    detail: str = ""  # a reason, or what it moved from

    _aware = field_validator("at")(lambda cls, v: _aware(v))


class Appointment(_Model):
    id: str
    patient_id: str
    start: datetime
    minutes: int = 30
    status: AppointmentStatus = "booked"
    provider: str | None = None
    location: str | None = None
    visit_type: str | None = None
    confirmed: bool = False  # Careloop owns confirmation
    confirmed_at: datetime | None = None
    declined: bool = False  # the patient said they will not come (Careloop-owned, like confirmed)
    source: Literal["ehr", "careloop"] | None = None  # None: from the EHR; careloop: booked through a link
    # a Careloop booking the EHR later sent as its own appointment (same patient, start, provider):
    # cancelled for that one (its id here), so the visit has one set of reminders
    superseded_by: str | None = None
    # a request-mode reschedule: the appointment this pending one replaces once staff confirm it
    # (until then the patient keeps the visit they have)
    replaces: str | None = None
    source_version: str = ""
    updated_at: datetime | None = None
    # what happened to it, oldest first; appended where the state changes (careloop.records.with_change)
    history: list[AppointmentChange] = Field(default_factory=list)

    _aware = field_validator("start", "confirmed_at", "updated_at")(lambda cls, v: _aware(v))

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


TERMINAL = ("sent", "skipped", "cancelled")


class ActionStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # a dispatcher owns it; re-checks happen now
    SENT = "sent"  # handed to the send queue / inbox exactly once
    SKIPPED = "skipped"  # a gate or a condition said no at fire time
    CANCELLED = "cancelled"  # the plan changed (reschedule, cancel)


class PlannedAction(_Model):
    action_id: str  # deterministic dedupe key
    workflow: str
    workflow_version: int = 1
    step: str
    kind: Literal["sms", "task", "staff_alert", "enter_workflow"] = "sms"
    subject: str  # "APT#<id>" or "PAT#<id>"
    patient_id: str
    appointment_id: str | None = None
    due_at: datetime
    status: ActionStatus = ActionStatus.PENDING
    reason: str | None = None
    planned_at: datetime | None = None
    message_id: str | None = None
    generation: str = ""  # which plan this belongs to (e.g. the start it was planned for)
    trigger_at: datetime | None = None  # when the workflow was triggered (chain anchor)
    claimed_at: datetime | None = None

    _aware = field_validator("due_at", "planned_at", "trigger_at", "claimed_at")(lambda cls, v: _aware(v))


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # handed to the carrier API; never sent again from this state
    SUPPRESSED = "suppressed"  # stopped at send time (opted out since it was queued)
    SENT = "sent"  # accepted by End User Messaging
    DELIVERED = "delivered"
    FAILED = "failed"
    RECEIVED = "received"  # inbound
    OPEN = "open"  # staff task / alert not yet handled
    DONE = "done"


class CallTurn(_Model):
    """One exchange of a phone call with the voice agent: what the caller said, what it answered."""

    at: datetime
    caller: str = ""
    agent: str = ""
    intent: str | None = None
    patient_id: str | None = None  # who the agent knew the caller to be at this turn
    locale: str = "en_US"

    _aware = field_validator("at")(lambda cls, v: _aware(v))


class Message(_Model):
    message_id: str
    # call: a phone call's one inbox entry; call_log: its turns while it lasts (careloop.voice.calls);
    # note: a staff-only internal note on a thread, never sent (careloop.inbox.add_note)
    kind: Literal["sms_out", "sms_in", "staff_alert", "task", "call", "call_log", "note"]
    patient_id: str | None = None
    appointment_id: str | None = None
    phone: str | None = None  # the patient's E.164 number (to or from)
    body: str = ""
    at: datetime
    status: MessageStatus = MessageStatus.QUEUED
    workflow: str | None = None
    workflow_version: int | None = None  # the version of `workflow` that sent it (analytics compares versions)
    step: str | None = None
    priority: Literal["urgent", "normal"] | None = None
    automated: bool = True  # False for direct answers to a patient who just wrote
    provider_message_id: str | None = None
    status_detail: str | None = None
    parts: int | None = None
    needs_attention: bool = False  # inbound texts a person must look at (the shared inbox)
    intent: str | None = None
    # an urgent inbound text: what kind of emergency it was read as (a follow-up such as "its getting
    # worse" inherits it, so the patient keeps getting the 988 or the 911 reply that fits)
    urgent_kind: Literal["self_harm", "medical"] | None = None
    reason: str | None = None
    team: str | None = None  # staff alerts: front_desk | billing | clinical
    # inbound: every effect of handling it happened; staff alert: its notification went out.
    # Marked only after the effect, so a redelivery after a crash finishes what was left.
    effects_done: bool = False
    # calls (kind call / call_log): the Connect contact, its turns and how it ended
    contact_id: str | None = None
    turns: list[CallTurn] = Field(default_factory=list)
    outcome: str | None = None  # careloopOutcome (voice.md), or "missed"
    reached_agent: bool | None = None  # a person at the practice answered
    started_at: datetime | None = None
    ended_at: datetime | None = None
    test: bool = False  # a workflow editor's test send (careloop.workflows.editor): analytics skip it
    repeat_of: str | None = None  # inbound: the identical text a minute before that answered it (agent.inbound)

    _aware = field_validator("at", "started_at", "ended_at")(lambda cls, v: _aware(v))
