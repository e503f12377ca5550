"""The dispatcher: due actions are claimed, re-checked, gated, rendered and handed to the
send queue (or the staff inbox) exactly once. Runs every minute; safe to run concurrently."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from careloop import templates
from careloop.engine import gates
from careloop.engine.conditions import Facts, first_failing
from careloop.engine.planner import plan_after_step, plan_entered
from careloop.models import (
    UPCOMING_STATUSES,
    ActionStatus,
    Appointment,
    Message,
    MessageStatus,
    Patient,
    PlannedAction,
)
from careloop.ports import Services

CLAIM_LEASE = timedelta(minutes=5)
GIVEN_BACK = "given back after an error"  # the action's reason: it may have fired in part


@dataclass
class TickResult:
    sent: list[str] = field(default_factory=list)  # action ids handed over
    skipped: dict[str, str] = field(default_factory=dict)  # action id -> reason
    deferred: dict[str, datetime] = field(default_factory=dict)
    lost: int = 0  # claimed by another dispatcher
    errors: dict[str, str] = field(default_factory=dict)  # action id -> the error (given back for the next tick)
    oldest_due_s: float = 0.0  # how late the oldest due action was at the start (the lag alarm)


def _booking_url(services: Services, patient: Patient, appt: Appointment | None, message_id: str) -> str:
    """The patient's own link, minted once per message (a redelivered action reuses it): to move
    a visit still to come, to rebook a missed or cancelled one, or to book."""
    from careloop.booking.links import booking_url_for

    if appt is not None and appt.status in UPCOMING_STATUSES:
        return booking_url_for(services, patient, "reschedule", ref=message_id, appointment_id=appt.id)
    return booking_url_for(services, patient, "rebook" if appt is not None else "book", ref=message_id,
                           appointment_id=appt.id if appt else None)


def message_id_for(action_id: str) -> str:
    return "m-" + hashlib.sha256(action_id.encode()).hexdigest()[:20]


def tick(
    services: Services,
    now: datetime | None = None,
    limit: int = 500,
    workers: int = 1,
    deadline: float | None = None,
) -> TickResult:
    """Dispatch what is due. Patients are independent, so with `workers` > 1 they are handled
    in parallel (I/O bound); one patient's actions always run in order, nearer appointment
    first, so the caps' winner is deterministic. Stops taking patients after `deadline`
    (time.monotonic()), leaving the rest for the next tick."""
    now = now or services.clock.now()
    result = TickResult()
    due = services.actions.due_actions(now, limit)
    result.oldest_due_s = max(((now - a.due_at).total_seconds() for a in due), default=0.0)
    appointments: dict[str, Appointment | None] = {}
    for action in due:
        if action.appointment_id and action.appointment_id not in appointments:
            appointments[action.appointment_id] = services.records.get_appointment(action.appointment_id)
    far = now + timedelta(days=3650)

    def order(a: PlannedAction):
        appt = appointments.get(a.appointment_id) if a.appointment_id else None
        return (appt.start if appt else far, _priority(services, a), a.due_at, a.action_id)

    groups: dict[str, list[PlannedAction]] = {}
    for action in sorted(due, key=order):
        groups.setdefault(action.patient_id, []).append(action)
    lock = threading.Lock()

    def run(group: list[PlannedAction]) -> None:
        if deadline is not None and time.monotonic() > deadline:
            return
        local = TickResult()
        for action in group:
            if not _claim_and_fire(services, action, now, local, appointments):
                break  # the patient's later actions wait for the next tick, in order
        with lock:
            result.sent += local.sent
            result.skipped |= local.skipped
            result.deferred |= local.deferred
            result.lost += local.lost
            result.errors |= local.errors

    if workers > 1 and len(groups) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, groups.values()))
    else:
        for group in groups.values():
            run(group)
    return result


def _claim_and_fire(services, action, now, result, appointments) -> bool:
    """Claim one action and fire it -> False when it failed (its claim given back, or left to
    the lease when even that failed: a throttled table, a dying process)."""
    if action.status == ActionStatus.CLAIMED and action.claimed_at and now - action.claimed_at < CLAIM_LEASE:
        return True  # another dispatcher is on it
    try:
        if not _claim(services, action, now):
            result.lost += 1
            return True
        # read again after the claim: the prefetch only ordered the work, the check must be fresh
        appt = services.records.get_appointment(action.appointment_id) if action.appointment_id else None
        _fire(services, action, now, result, appt)
    except Exception as exc:  # noqa: BLE001 - one action's error must not stop the other patients
        result.errors[action.action_id] = type(exc).__name__
        with contextlib.suppress(Exception):  # failing too, the lease gives it back (CLAIM_LEASE)
            services.actions.transition_action(action.action_id, ActionStatus.CLAIMED, ActionStatus.PENDING,
                                               reason=GIVEN_BACK)
        return False
    return True


def _claim(services: Services, action: PlannedAction, now: datetime) -> bool:
    """A pending action is claimed with one conditional write. A claim older than the lease (its
    dispatcher died mid-tick) is taken over with one conditional write on the claim's own time,
    so two dispatchers that both saw it stale agree on one."""
    if action.status == ActionStatus.CLAIMED:
        return services.actions.reclaim_action(action.action_id, action.claimed_at, now)
    return services.actions.transition_action(
        action.action_id, ActionStatus.PENDING, ActionStatus.CLAIMED, claimed_at=now
    )


def _priority(services: Services, action: PlannedAction) -> int:
    wf = services.workflow(action.workflow)
    return wf.priority if wf else 99


def _finish(services: Services, action: PlannedAction, status: ActionStatus, **fields) -> None:
    services.actions.transition_action(action.action_id, ActionStatus.CLAIMED, status, **fields)


def _fire(
    services: Services, action: PlannedAction, now: datetime, result: TickResult, appt: Appointment | None
) -> None:
    def skip(reason: str) -> None:
        _finish(services, action, ActionStatus.SKIPPED, reason=reason)
        result.skipped[action.action_id] = reason

    if action.workflow == "gap-fill":  # an offer of a freed slot (careloop.booking.gaps), gated there
        from careloop.booking.gaps import fire_offer

        verdict = fire_offer(services, action, now)
        if verdict.action == "drop":
            return skip(verdict.reason)
        if verdict.action == "defer" and verdict.until is not None:
            _finish(services, action, ActionStatus.PENDING, due_at=verdict.until, reason=verdict.reason)
            result.deferred[action.action_id] = verdict.until
            return
        sent = message_id_for(action.action_id) if action.step == "offer" else None  # a wave sends nothing itself
        _finish(services, action, ActionStatus.SENT, message_id=sent)
        result.sent.append(action.action_id)
        return
    wf = services.workflow(action.workflow)
    if wf is None or not wf.enabled:
        return skip("workflow is off")
    try:
        step = wf.step(action.step)
    except KeyError:
        return skip("step no longer exists")
    # the appointment names its patient now (an EHR merge may have moved it since planning)
    patient = services.records.get_patient(appt.patient_id if appt else action.patient_id)
    if patient is None:
        return skip("patient unknown")
    facts = Facts(services, patient, appt, now, action.trigger_at)
    failing = first_failing(step.conditions, facts)
    if failing is not None:
        return skip(f"condition {failing.field} {failing.op} no longer holds")
    if step.only_if_no_response and facts.value("patient.replied_since_trigger"):
        return skip("patient replied")

    patient, appt = facts.patient, facts.appointment
    if _resumed(action):
        # a fire that died (or failed) after its message was stored: the gates would count that
        # message against itself, so the hand-over is finished as it began
        earlier = services.messages.get_message(message_id_for(action.action_id))
        if earlier is not None:
            return _hand_over(services, action, earlier, now, result, patient, appt)
    if step.action.type == "enter_workflow":
        target = services.workflow(step.action.workflow or "")
        if target is None or not target.enabled or target.trigger.on != "entered":
            return skip(f"workflow {step.action.workflow} is off, unknown or not enterable")
        plan_entered(services, target, action, now, patient, appt)
        _finish(services, action, ActionStatus.SENT)
        result.sent.append(action.action_id)
        plan_after_step(services, action, now, patient, appt)
        return

    if step.action.type == "sms":
        verdict = gates.check(
            services.practice, patient, appt,
            [m for m in facts.messages() if m.kind == "sms_out"], now,
            pre_appointment=step.timing.anchor == "start" or action.generation.startswith("start="),
        )
        if verdict.action == "drop":
            return skip(verdict.reason)
        if verdict.action == "defer":
            if verdict.until is None:  # gates always say until when; without it the action would be lost
                raise ValueError(f"gate deferred {action.action_id} without a time")
            _finish(services, action, ActionStatus.PENDING, due_at=verdict.until, reason=verdict.reason)
            result.deferred[action.action_id] = verdict.until
            return

    language = patient.language if patient.language in step.action.template else "en"
    source = step.action.template[language]
    ctx = templates.context_for(services.practice, patient, appt, now)
    if "booking_url" in source:
        ctx["booking_url"] = _booking_url(services, patient, appt, message_id_for(action.action_id))
    body = templates.render(source, ctx)
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
        workflow_version=wf.version,  # the definition whose template this text is (it may be newer than the plan)
        step=action.step,
        priority=None if step.action.type == "sms" else step.action.priority,
        automated=True,
    )
    # put is conditional: a crash after it and a retry reuse the same message (same id)
    if not services.messages.put_message(message):
        message = services.messages.get_message(message.message_id) or message
    _hand_over(services, action, message, now, result, patient, appt)


def _resumed(action: PlannedAction) -> bool:
    """Claimed before (a stale claim taken over) or given back after an error: it may have fired."""
    return action.status == ActionStatus.CLAIMED or action.reason == GIVEN_BACK


def _hand_over(services: Services, action: PlannedAction, message: Message, now: datetime, result: TickResult,
               patient: Patient, appt: Appointment | None) -> None:
    """Finish what a fire (or a crash in one) left: queued again while still queued (the sender
    sends it once), the staff page sent unless it went out already, the action marked sent."""
    if message.kind == "sms_out":
        if message.status == MessageStatus.QUEUED:
            services.outbox.enqueue(message)
    elif not message.effects_done:
        services.notifier.notify(message)
        services.messages.update_message(message.message_id, effects_done=True)
    _finish(services, action, ActionStatus.SENT, message_id=message.message_id)
    result.sent.append(action.action_id)
    plan_after_step(services, action, now, patient, appt)
