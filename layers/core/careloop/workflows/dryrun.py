"""A workflow version's dry run on the real schedule: the core planner and dispatcher on a virtual
clock over a read-only copy of the practice's appointments; nothing is sent, no table is written.

The planned actions and the texts "sent" live in scratch stores for the run; records and past
messages are only read, so the gates (consent, quiet hours, caps) see the practice as it is.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from careloop import templates
from careloop.engine.dispatcher import message_id_for, tick
from careloop.engine.planner import DEFAULT_GRACE, plan_switched_on
from careloop.errors import PayloadError
from careloop.models import ActionStatus, Appointment, Message, Patient, PlannedAction
from careloop.workflows.editor import display_name, workflow_of
from careloop.workflows.model import Workflow

if TYPE_CHECKING:
    from careloop.ports import ActionStore, MessageStore, RecordStore, Services

MAX_DAYS = 14
MAX_ROWS = 500  # rows returned; the counts still cover every one
MAX_APPOINTMENTS = 5000  # a copy bigger than this is refused rather than run for minutes in a Lambda
MAX_TICKS = 20000


# ---------------------------------------------------------------------------- scratch stores


class ScratchActions:
    """The run's planned actions (an ActionStore in memory), found by due time through a heap."""

    def __init__(self) -> None:
        self.actions: dict[str, PlannedAction] = {}
        self._by_subject: dict[str, set[str]] = {}
        self._due: list[tuple[datetime, str]] = []

    def put_action_if_absent(self, action: PlannedAction) -> bool:
        if action.action_id in self.actions:
            return False
        self.actions[action.action_id] = action.model_copy()
        self._by_subject.setdefault(action.subject, set()).add(action.action_id)
        heapq.heappush(self._due, (action.due_at, action.action_id))
        return True

    def get_action(self, action_id: str) -> PlannedAction | None:
        found = self.actions.get(action_id)
        return found.model_copy() if found else None

    def actions_for_subject(self, subject: str) -> list[PlannedAction]:
        return sorted((self.actions[i].model_copy() for i in self._by_subject.get(subject, ())), key=lambda a: a.due_at)

    def _open(self, entry: tuple[datetime, str]) -> bool:
        action = self.actions[entry[1]]
        return action.status in (ActionStatus.PENDING, ActionStatus.CLAIMED) and action.due_at == entry[0]

    def next_due(self) -> datetime | None:
        while self._due and not self._open(self._due[0]):
            heapq.heappop(self._due)
        return self._due[0][0] if self._due else None

    def due_actions(self, until: datetime, limit: int = 500) -> list[PlannedAction]:
        return sorted((a.model_copy() for a in self.actions.values()
                       if a.status in (ActionStatus.PENDING, ActionStatus.CLAIMED) and a.due_at <= until),
                      key=lambda a: (a.due_at, a.action_id))[:limit]

    def transition_action(self, action_id: str, expected: ActionStatus, new: ActionStatus, **fields: object) -> bool:
        current = self.actions.get(action_id)
        if current is None or current.status != expected:
            return False
        updated = PlannedAction.model_validate(current.model_copy(update={"status": new, **fields}).model_dump())
        self.actions[action_id] = updated
        if updated.due_at != current.due_at:
            heapq.heappush(self._due, (updated.due_at, action_id))
        return True

    def reclaim_action(self, action_id: str, claimed_at: datetime | None, now: datetime) -> bool:
        current = self.actions.get(action_id)
        if current is None or current.status != ActionStatus.CLAIMED or current.claimed_at != claimed_at:
            return False
        self.actions[action_id] = current.model_copy(update={"claimed_at": now})
        return True


class ScratchMessages:
    """The practice's messages as read, plus the run's own "sent" ones, which stay in memory."""

    def __init__(self, real: MessageStore) -> None:
        self.real = real
        self.made: dict[str, Message] = {}
        self._read: dict[str, list[Message]] = {}

    def put_message(self, message: Message) -> bool:
        if message.message_id in self.made:
            return False
        self.made[message.message_id] = message
        return True

    def get_message(self, message_id: str) -> Message | None:
        return self.made.get(message_id) or self.real.get_message(message_id)

    def update_message(self, message_id: str, **fields: object) -> None:
        if message_id in self.made:
            self.made[message_id] = self.made[message_id].model_copy(update=fields)

    def transition_message(self, message_id: str, expected: str, new: str, **fields: object) -> bool:
        found = self.made.get(message_id)
        if found is None or str(found.status) != str(expected):
            return False
        self.made[message_id] = found.model_copy(update={"status": new, **fields})
        return True

    def claim_repeat(self, phone: str, digest: str, message_id: str, at: datetime, window: timedelta) -> str:
        return message_id  # a dry run answers each text it is given, and writes no claim

    def message_by_provider_id(self, provider_message_id: str) -> Message | None:
        return self.real.message_by_provider_id(provider_message_id)

    def messages_for_patient(self, patient_id: str) -> list[Message]:
        if patient_id not in self._read:
            self._read[patient_id] = self.real.messages_for_patient(patient_id)
        mine = [m for m in self.made.values() if m.patient_id == patient_id]
        return sorted(self._read[patient_id] + mine, key=lambda m: (m.at, m.message_id))

    def messages_of_kind(self, kind: str, since: datetime | None = None) -> list[Message]:
        mine = [m for m in self.made.values() if m.kind == kind and (since is None or m.at >= since)]
        return sorted(self.real.messages_of_kind(kind, since) + mine, key=lambda m: (m.at, m.message_id))


class ReadOnlyRecords:
    """The practice's patients and the appointments in the run's scope, read once and kept: the
    copy the run plans over. Anything that would write a record is refused."""

    def __init__(self, real: RecordStore, appointments: list[Appointment]) -> None:
        self.real = real
        self.appointments = {a.id: a for a in appointments}
        self._patients: dict[str, Patient | None] = {}
        self._of_patient: dict[str, list[Appointment]] = {}

    def get_patient(self, patient_id: str) -> Patient | None:
        if patient_id not in self._patients:
            self._patients[patient_id] = self.real.get_patient(patient_id)
        return self._patients[patient_id]

    def get_patients(self, patient_ids) -> dict[str, Patient]:
        return {i: p for i in patient_ids if (p := self.get_patient(i)) is not None}

    def get_appointment(self, appointment_id: str) -> Appointment | None:
        return self.appointments.get(appointment_id) or self.real.get_appointment(appointment_id)

    def get_appointments(self, appointment_ids) -> dict[str, Appointment]:
        return {i: a for i in appointment_ids if (a := self.get_appointment(i)) is not None}

    def appointments_for_patient(self, patient_id: str) -> list[Appointment]:
        if patient_id not in self._of_patient:
            self._of_patient[patient_id] = self.real.appointments_for_patient(patient_id)
        return self._of_patient[patient_id]

    def all_appointments(self) -> list[Appointment]:
        return list(self.appointments.values())

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("put_", "claim_")):
            raise RuntimeError(f"a dry run writes no records ({name})")
        return getattr(self.real, name)


class _Discard:
    """Outbox and notifier of a dry run: what would be queued or notified stays in scratch."""

    def enqueue(self, message: Message) -> None:
        return None

    def notify(self, message: Message) -> None:
        return None


# ---------------------------------------------------------------------------- scope


def _roots(wf: Workflow, known: dict[str, Workflow]) -> list[Workflow]:
    """The workflows the planner starts for `wf` to run: itself when an appointment triggers it,
    else what chains into it (a step sent, or an `enter_workflow` naming it), one level up."""
    if wf.trigger.on in ("appointment_booked", "appointment_status"):
        return [wf]
    if wf.trigger.on == "step_sent":
        up = known.get(wf.trigger.workflow or "")
        return [up] if up is not None and up.trigger.on in ("appointment_booked", "appointment_status") else []
    return [w for w in known.values() if w.trigger.on in ("appointment_booked", "appointment_status")
            and any(s.action.type == "enter_workflow" and s.action.workflow == wf.id for s in w.steps)]


def _in_scope(wf: Workflow, appt: Appointment, now: datetime, end: datetime) -> bool:
    """Whether any step of `wf` could come due in [now, end] for this appointment."""
    for step in wf.steps:
        offset = timedelta(minutes=step.timing.offset_minutes)
        if wf.trigger.on == "appointment_booked":
            if appt.status != "booked" or appt.start <= now:
                continue
            due = appt.start + offset if step.timing.anchor == "start" else now + offset
            if due <= end:  # a later step chained from it still falls in the window
                return True
        elif appt.status == wf.trigger.status:
            anchor = appt.start if step.timing.anchor == "start" else min(now, appt.end)
            grace = DEFAULT_GRACE if step.timing.grace_minutes is None else timedelta(minutes=step.timing.grace_minutes)
            if now - grace <= anchor + offset <= end:
                return True
    return False


# ---------------------------------------------------------------------------- the run


@dataclass
class _Fate:
    action: PlannedAction
    first_due: datetime
    outcome: str = "pending"  # send | held
    at: datetime | None = None
    gate: str | None = None
    reason: str | None = None
    deferred_by: list[str] = field(default_factory=list)


def _gate(reason: str) -> str:
    text = reason.lower()
    if "opted out" in text or "consent" in text:
        return "consent"
    if "quiet hours" in text:
        return "quiet hours"
    if "frequency cap" in text:
        return "frequency cap"
    if "condition" in text or "replied" in text:
        return "condition"
    return "other"


def _when(at: datetime, zone) -> str:
    local = at.astimezone(zone)
    return f"{templates.format_date_time(local, 'en')} {templates.zone_label(local)}"


def dry_run(s: Services, workflow_id: str, definition: Any, days: Any, now: datetime) -> dict:
    """Who would get what from `definition` (switched on) in the next `days`, the practice's other
    real pending texts competing under the same caps: counts per step and per day, and one row
    per planned step with its send time (the patient's clock) and text, or the gate that holds it."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise PayloadError(f"days: a whole number from 1 to {MAX_DAYS}")
    edited = workflow_of(definition, workflow_id).model_copy(update={"enabled": True})
    end = now + timedelta(days=days)
    known = {w.id: w for w in s.workflows if w.id != edited.id} | {edited.id: edited}
    roots = _roots(edited, known)
    appointments = [a for a in s.records.all_appointments() if any(_in_scope(w, a, now, end) for w in roots)]
    if len(appointments) > MAX_APPOINTMENTS:
        raise PayloadError(f"days: {len(appointments)} appointments in {days} days is more than a dry run takes "
                           f"({MAX_APPOINTMENTS}); try fewer days")
    scratch = ScratchActions()
    # what is really planned already: a step sent (or skipped) before is not planned again, and
    # what is pending goes out as it would, under this version's definition
    for appt in appointments:
        for action in s.actions.actions_for_subject(f"APT#{appt.id}"):
            scratch.put_action_if_absent(action)
    for action in s.actions.due_actions(end, limit=2000):
        if action.workflow in known and action.workflow != "gap-fill":
            scratch.put_action_if_absent(action)
    run = replace(
        s, records=cast("RecordStore", ReadOnlyRecords(s.records, appointments)), actions=cast("ActionStore", scratch),
        messages=cast("MessageStore", ScratchMessages(s.messages)), outbox=_Discard(), notifier=_Discard(),
        workflow_source=tuple(known.values()), booking=None, writeback=None, sms=None, llm=None,
        access_log=None, staff=None,
    )
    planned_before = set(scratch.actions)
    for wf in roots:
        plan_switched_on(run, wf, now)
    fates: dict[str, _Fate] = {}
    for action_id, action in scratch.actions.items():
        if action.workflow != edited.id:
            continue
        if action_id not in planned_before and action.status == ActionStatus.SKIPPED and now <= action.due_at <= end:
            fates[action_id] = _Fate(action, action.due_at, "held", action.due_at, _gate(action.reason or ""), action.reason)

    for _ in range(MAX_TICKS):
        due = scratch.next_due()
        if due is None or due > end:
            break
        at = max(now, due)
        result = tick(run, now=at)
        for action_id in result.sent + list(result.skipped) + list(result.deferred):
            action = scratch.actions[action_id]
            if action.workflow != edited.id:
                continue
            fate = fates.setdefault(action_id, _Fate(action, at))
            if action_id in result.sent:
                fate.outcome, fate.at, fate.action = "send", at, action
            elif action_id in result.skipped:
                reason = result.skipped[action_id]
                fate.outcome, fate.at, fate.gate, fate.reason = "held", at, _gate(reason), reason
            else:
                fate.deferred_by.append(action.reason or "deferred")
                fate.outcome, fate.at, fate.gate = "held", result.deferred[action_id], _gate(action.reason or "")
                fate.reason = f"{action.reason or 'deferred'} until after the {days}-day window"
    return _report(run, edited, fates, now, days)


def _report(run: Services, wf: Workflow, fates: dict[str, _Fate], now: datetime, days: int) -> dict:
    made = cast(ScratchMessages, run.messages).made
    rows: list[dict[str, Any]] = []
    per_step: Counter[str] = Counter()
    per_day: Counter[str] = Counter()
    held: Counter[str] = Counter()
    zone = run.practice.zone
    for fate in sorted(fates.values(), key=lambda f: (f.at or f.first_due, f.action.action_id)):
        a = fate.action
        patient = run.records.get_patient(a.patient_id)
        appt = run.records.get_appointment(a.appointment_id) if a.appointment_id else None
        reader = templates.reader_zone(run.practice, patient) if patient else zone
        message = made.get(message_id_for(a.action_id)) if fate.outcome == "send" else None
        at = fate.at or fate.first_due
        if fate.outcome == "send":
            per_step[a.step] += 1
            per_day[at.astimezone(zone).date().isoformat()] += 1
        else:
            held[fate.gate or "other"] += 1
        rows.append({
            "patient_id": a.patient_id, "patient": display_name(patient) if patient else a.patient_id,
            "appointment_id": a.appointment_id,
            "appointment": _when(appt.start, templates.location_zone(run.practice, appt.location)) if appt else None,
            "step": a.step, "kind": a.kind, "outcome": fate.outcome,
            "at": at.isoformat(), "at_text": _when(at, reader),
            "text": message.body if message else None, "gate": None if fate.outcome == "send" else fate.gate,
            "reason": fate.reason if fate.outcome != "send" else
            (f"moved by {', '.join(dict.fromkeys(fate.deferred_by))}" if fate.deferred_by else None),
        })
    return {
        "workflow": wf.id, "version": wf.version, "from": now.isoformat(), "to": (now + timedelta(days=days)).isoformat(),
        "days": days, "total": len(rows), "would_send": sum(per_step.values()),
        "per_step": [{"step": st.id, "count": per_step.get(st.id, 0)} for st in wf.steps],
        "per_day": [{"day": d, "count": n} for d, n in sorted(per_day.items())],
        "held": [{"gate": g, "count": n} for g, n in sorted(held.items())],
        "rows": rows[:MAX_ROWS], "truncated": len(rows) > MAX_ROWS, "max_rows": MAX_ROWS,
    }
