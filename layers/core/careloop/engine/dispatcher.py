"""The dispatcher: due actions are claimed, re-checked, gated, rendered and handed to the
send queue (or the staff inbox) exactly once. Runs every minute; safe to run concurrently."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from careloop import templates
from careloop.engine import gates
from careloop.engine.conditions import facts_for, first_failing
from careloop.engine.planner import plan_after_step
from careloop.models import ActionStatus, Message, MessageStatus, PlannedAction
from careloop.ports import Services

CLAIM_LEASE = timedelta(minutes=5)


@dataclass
class TickResult:
    sent: list[str] = field(default_factory=list)  # action ids handed over
    skipped: dict[str, str] = field(default_factory=dict)  # action id -> reason
    deferred: dict[str, datetime] = field(default_factory=dict)
    lost: int = 0  # claimed by another dispatcher


def message_id_for(action_id: str) -> str:
    return "m-" + hashlib.sha256(action_id.encode()).hexdigest()[:20]


def tick(services: Services, now: datetime | None = None, limit: int = 500) -> TickResult:
    now = now or services.clock.now()
    result = TickResult()
    due = services.store.due_actions(now, limit)
    # nearer appointment first, then workflow priority: the winner of a same-day conflict
    due.sort(key=lambda a: (_appointment_start(services, a) or now + timedelta(days=3650), _priority(services, a), a.due_at))
    for action in due:
        if action.status == ActionStatus.CLAIMED:
            if action.claimed_at and now - action.claimed_at < CLAIM_LEASE:
                continue
            services.store.transition_action(action.action_id, ActionStatus.CLAIMED, ActionStatus.PENDING)
        if not services.store.transition_action(
            action.action_id, ActionStatus.PENDING, ActionStatus.CLAIMED, claimed_at=now
        ):
            result.lost += 1
            continue
        _fire(services, action, now, result)
    return result


def _appointment_start(services: Services, action: PlannedAction):
    if not action.appointment_id:
        return None
    appt = services.store.get_appointment(action.appointment_id)
    return appt.start if appt else None


def _priority(services: Services, action: PlannedAction) -> int:
    wf = services.workflow(action.workflow)
    return wf.priority if wf else 99


def _finish(services: Services, action: PlannedAction, status: ActionStatus, **fields) -> None:
    services.store.transition_action(action.action_id, ActionStatus.CLAIMED, status, **fields)


def _fire(services: Services, action: PlannedAction, now: datetime, result: TickResult) -> None:
    def skip(reason: str) -> None:
        _finish(services, action, ActionStatus.SKIPPED, reason=reason)
        result.skipped[action.action_id] = reason

    wf = services.workflow(action.workflow)
    if wf is None or not wf.enabled:
        return skip("workflow is off")
    try:
        step = wf.step(action.step)
    except KeyError:
        return skip("step no longer exists")
    facts = facts_for(services, action, now)
    if facts is None:
        return skip("patient unknown")
    failing = first_failing(step.conditions, facts)
    if failing is not None:
        return skip(f"condition {failing.field} {failing.op} no longer holds")
    if step.only_if_no_response and facts.value("patient.replied_since_trigger"):
        return skip("patient replied")

    patient, appt = facts.patient, facts.appointment
    if step.action.type == "enter_workflow":
        _finish(services, action, ActionStatus.SENT)
        result.sent.append(action.action_id)
        return

    if step.action.type == "sms":
        verdict = gates.check(
            services.practice, patient, appt,
            [m for m in facts._patient_messages() if m.kind == "sms_out"], now,
            pre_appointment=step.timing.anchor == "start" or action.generation.startswith("start="),
        )
        if verdict.action == "drop":
            return skip(verdict.reason)
        if verdict.action == "defer":
            _finish(services, action, ActionStatus.PENDING, due_at=verdict.until, reason=verdict.reason)
            result.deferred[action.action_id] = verdict.until
            return

    language = patient.language if patient.language in step.action.template else "en"
    body = templates.render(
        step.action.template[language], templates.context_for(services.practice, patient, appt)
    )
    message = Message(
        message_id=message_id_for(action.action_id),
        kind="sms_out" if step.action.type == "sms" else step.action.type,
        patient_id=patient.id,
        appointment_id=appt.id if appt else None,
        phone=patient.phone,
        body=body,
        at=now,
        status=MessageStatus.QUEUED if step.action.type == "sms" else MessageStatus.OPEN,
        workflow=action.workflow,
        step=action.step,
        priority=None if step.action.type == "sms" else step.action.priority,
        automated=True,
    )
    # put is conditional: a crash after it and a retry reuse the same message (same id)
    services.store.put_message(message)
    if message.kind == "sms_out":
        services.outbox.enqueue(message)
    else:
        services.notifier.notify(message)
    _finish(services, action, ActionStatus.SENT, message_id=message.message_id)
    result.sent.append(action.action_id)
    plan_after_step(services, action, now)
