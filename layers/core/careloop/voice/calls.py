"""Every phone call in the staff inbox: the voice agent's turns while the call lasts (a `call_log`)
and, when it ends, the call's one entry (`call`) on the patient's or the unknown number's thread.

The log is never indexed by patient (the caller may prove who they are halfway through), so the
entry is written once, at the end, with who the caller turned out to be. Lex calls the hook one
turn at a time per contact, so a read-modify-write of the log is not raced.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from careloop.models import CallTurn, Message, MessageStatus
from careloop.ports import Services

# careloopOutcome values (voice.md) plus "missed": nobody, agent or person, handled the call
OUTCOMES = ("booked", "confirmed", "cancelled", "rescheduled", "answered", "transferred", "callback", "urgent",
            "unresolved")
MISSED = "missed"
_OUTCOME_TEXT = {
    "booked": "booked an appointment", "confirmed": "confirmed their appointment",
    "cancelled": "cancelled their appointment", "rescheduled": "rescheduled their appointment",
    "answered": "question answered", "transferred": "transferred to the front desk",
    "callback": "asked for a call back", "urgent": "urgent: told to call 911 / 988, staff paged",
    "unresolved": "the agent could not help", MISSED: "missed call",
}


def _key(contact_id: str) -> str:
    return hashlib.sha256(contact_id.encode()).hexdigest()[:20]


def log_id(contact_id: str) -> str:
    return "cl-" + _key(contact_id)


def entry_id(contact_id: str) -> str:
    return "call-" + _key(contact_id)


def _check_outcome(outcome: str | None) -> None:
    if outcome is not None and outcome not in OUTCOMES and outcome != MISSED:
        raise ValueError(f"outcome: {outcome!r} is not one of {', '.join(OUTCOMES)} or {MISSED}")


def record_turn(services: Services, *, contact_id: str, caller_phone: str | None, patient_id: str | None,
                locale: str, caller_text: str, agent_text: str, intent: str | None, at: datetime,
                outcome: str | None = None) -> None:
    """Append one turn to the call's log (created by its first turn); `outcome`, when the turn
    finished the caller's business, is what `call_outcome` answers from then on."""
    if not contact_id:
        raise ValueError("contact_id: a call turn needs the Connect contact id")
    _check_outcome(outcome)
    turn = CallTurn(at=at, caller=caller_text, agent=agent_text, intent=intent, patient_id=patient_id, locale=locale)
    mid = log_id(contact_id)
    log = services.messages.get_message(mid)
    if log is None:
        log = Message(message_id=mid, kind="call_log", phone=caller_phone, at=at, status=MessageStatus.RECEIVED,
                      contact_id=contact_id, started_at=at, turns=[turn], outcome=outcome, automated=True)
        if services.messages.put_message(log):
            return
        log = services.messages.get_message(mid) or log  # written between our read and put
    turns = [t.model_dump(mode="json") for t in [*log.turns, turn]]
    fields: dict[str, object] = {"turns": turns}
    if outcome is not None:
        fields["outcome"] = outcome
    if caller_phone and not log.phone:
        fields["phone"] = caller_phone
    services.messages.update_message(mid, **fields)


def call_outcome(services: Services, contact_id: str) -> str | None:
    """The careloopOutcome the hook recorded for this call, if any."""
    log = services.messages.get_message(log_id(contact_id)) if contact_id else None
    return log.outcome if log else None


def _caller(services: Services, log: Message | None, caller_phone: str | None) -> str | None:
    """Whose thread the call goes on: who the agent knew the caller to be last, else the one
    patient the number belongs to; None (the unknown number's thread) for a shared or new number."""
    for turn in reversed(log.turns if log else []):
        if turn.patient_id:
            return turn.patient_id
    if caller_phone:
        patients = services.records.patients_by_phone(caller_phone)
        if len(patients) == 1:
            return patients[0].id
    return None


def _duration(started_at: datetime | None, ended_at: datetime) -> str:
    if started_at is None:
        return ""
    seconds = max(0, int((ended_at - started_at).total_seconds()))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def summary_line(outcome: str, turns: list[CallTurn], reached_agent: bool, started_at: datetime | None,
                 ended_at: datetime) -> str:
    """The one line staff read first: how the call ended, how long, how many turns."""
    parts = ["Phone call: " + _OUTCOME_TEXT.get(outcome, outcome)]
    if reached_agent and outcome != "transferred":
        parts.append("a person answered")
    length = _duration(started_at, ended_at)
    if length:
        parts.append(length)
    if turns:
        parts.append(f"{len(turns)} turn{'s' if len(turns) != 1 else ''} with the voice agent")
    return " · ".join(parts)


def finish_call(services: Services, *, contact_id: str, caller_phone: str | None, outcome: str | None,
                reached_agent: bool, started_at: datetime | None, ended_at: datetime) -> Message:
    """The call's one inbox entry (idempotent: a redelivered end returns the stored entry): when,
    the outcome (given, else the hook's, else `transferred` if a person answered, `unresolved` if
    the agent talked but finished nothing, `missed` otherwise), the turns and a one-line summary."""
    if not contact_id:
        raise ValueError("contact_id: a call needs the Connect contact id")
    _check_outcome(outcome)
    mid = entry_id(contact_id)
    existing = services.messages.get_message(mid)
    if existing is not None:
        return existing
    log = services.messages.get_message(log_id(contact_id))
    turns = list(log.turns) if log else []
    final = outcome or (log.outcome if log else None) or (
        "transferred" if reached_agent else "unresolved" if turns else MISSED)
    started = started_at or (log.started_at if log else None) or (turns[0].at if turns else None)
    phone = caller_phone or (log.phone if log else None)
    entry = Message(
        message_id=mid, kind="call", patient_id=_caller(services, log, phone), phone=phone,
        body=summary_line(final, turns, reached_agent, started, ended_at), at=started or ended_at,
        status=MessageStatus.RECEIVED, automated=False, intent=turns[-1].intent if turns else None,
        contact_id=contact_id, turns=turns, outcome=final, reached_agent=reached_agent, started_at=started,
        ended_at=ended_at, workflow="voice", step=final,
    )
    if not services.messages.put_message(entry):
        return services.messages.get_message(mid) or entry
    return entry


def callback_task(services: Services, entry: Message) -> Message:
    """The front desk's task to call back the caller of a call that ended in `callback` without
    the agent's own task (the flow's after-hours or no-one-free branch): one per contact id, so a
    redelivered contact event adds none."""
    if not entry.contact_id:
        raise ValueError("contact_id: a call back needs the Connect contact id")
    when = f"{entry.at.astimezone(services.practice.zone):%a %b %d %H:%M}"
    reason = f"call back: called {when}, the office was closed or nobody was free"
    task = Message(
        message_id="t-voice-" + _key(entry.contact_id + "|callback"), kind="task", patient_id=entry.patient_id,
        phone=entry.phone, at=entry.ended_at or entry.at, status=MessageStatus.OPEN, workflow="voice",
        step="callback", priority="normal", team="front_desk", reason=reason, automated=False,
        intent=entry.intent, contact_id=entry.contact_id, body=f"Phone call: {reason}",
    )
    if services.messages.put_message(task):
        services.notifier.notify(task)
        return task
    return services.messages.get_message(task.message_id) or task
