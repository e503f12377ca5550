"""The staff side: the shared inbox, patient threads, staff replies, patient and appointment
lists, workflow listing and the analytics summary (what the staff API and web app show)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from careloop import consent
from careloop.analytics import build as build_analytics
from careloop.analytics import tables as analytics_tables
from careloop.errors import Conflict, NotFound, PayloadError
from careloop.models import Message, MessageStatus, Patient
from careloop.phones import mask, try_e164
from careloop.ports import STAFF_ITEM_KINDS, AnalyticsSource, Services, needs_staff
from careloop.practice import PracticeProfile
from careloop.workflows.model import Condition, Step, Trigger, Workflow


def _name(p: Patient | None) -> str:
    return f"{p.first_name} {p.last_name}".strip() if p else "Unknown sender"


INBOX_DAYS = 30  # the inbox lists conversations active in the last month


TEXT_KINDS = ("sms_in", "sms_out", "call")  # what a person said or was sent: what a preview shows


def conversations(s: Services, recent: dict[str, list[Message]] | None = None) -> list[dict]:
    """The inbox list; `recent` is the month's conversations when the caller already read them."""
    if recent is None:
        recent = s.inbox.conversations_since(s.clock.now() - timedelta(days=INBOX_DAYS))
    rows: list[tuple[tuple[bool, bool, float], dict]] = []  # (order, row): attention, urgent, newest first
    for key, msgs in recent.items():
        if all(m.test for m in msgs):
            continue  # a workflow editor's test send to a test contact is no conversation
        last = msgs[-1]
        # the preview is the patient's last words, or the last text sent after them (by staff or a
        # workflow), never an alert or a task; the agent's own answer does not hide what was asked
        said = [m for m in msgs if m.kind in TEXT_KINDS and not (m.kind == "sms_out" and m.workflow == "sms-agent")] \
            or [m for m in msgs if m.kind in TEXT_KINDS]
        shown = said[-1] if said else last
        open_items = [m for m in msgs if needs_staff(m)]
        patient = s.records.get_patient(last.patient_id) if last.patient_id else None
        flagged = open_items[-1] if open_items else None
        priority = ("urgent" if any(m.priority == "urgent" for m in open_items) else "normal") if open_items else None
        rows.append(((not open_items, priority != "urgent", -last.at.timestamp()), {
            "patient_id": last.patient_id or key,
            "patient_name": _name(patient),
            "phone_masked": mask(patient.phone if patient else last.phone),
            "last_body": shown.body,
            "last_at": last.at.isoformat(),
            "last_direction": "in" if shown.kind in ("sms_in", "call") else "out",
            "needs_attention": bool(open_items),
            "reason": flagged.reason or (flagged.body if flagged and flagged.kind != "sms_in" else None) if flagged else None,
            "intent": flagged.intent if flagged else None,
            "priority": priority,
            "team": flagged.team if flagged else None,  # whose it is: the roles see their team's (roles.py)
        }))
    rows.sort(key=lambda r: r[0])
    return [row for _, row in rows]


def _message_view(m: Message) -> dict:
    view: dict[str, Any] = {"message_id": m.message_id, "kind": m.kind, "body": m.body, "at": m.at.isoformat(),
            "status": str(m.status), "workflow": m.workflow, "step": m.step, "priority": m.priority,
            "intent": m.intent, "needs_attention": m.needs_attention, "team": m.team, "reason": m.reason}
    if m.kind == "sms_out" and m.status_detail:  # why a text failed or was held back (a code, no PHI)
        view["status_detail"] = m.status_detail
    if m.kind == "note":  # staff-only: who wrote it (never sent, so no delivery status)
        view["author"] = (m.reason or "").removeprefix("note by ")
    if m.kind == "call":  # a phone call: how it ended and what was said, turn by turn
        view["call"] = {
            "outcome": m.outcome, "reached_agent": bool(m.reached_agent),
            "started_at": m.started_at.isoformat() if m.started_at else None,
            "ended_at": m.ended_at.isoformat() if m.ended_at else None,
            "turns": [{"at": t.at.isoformat(), "caller": t.caller, "agent": t.agent, "intent": t.intent}
                      for t in m.turns],
        }
    return view


UNKNOWN_PREFIX = "phone:"  # the conversation key of a number no patient record matches
# at one instant, what the patient said comes first, then the alert it raised, then the answer
_SAME_TIME_ORDER = {"sms_in": 0, "call": 0, "staff_alert": 1, "task": 2, "sms_out": 3, "note": 4}


def _in_order(msgs: list[Message]) -> list[Message]:
    return sorted(msgs, key=lambda m: (m.at, _SAME_TIME_ORDER.get(m.kind, 4)))


def _unknown_messages(s: Services, key: str) -> list[Message]:
    """The messages of an unknown number's conversation (texts and calls from it, staff replies
    and alerts), oldest first; NotFound when it has none in the inbox's month."""
    if not key.startswith(UNKNOWN_PREFIX):
        raise NotFound(f"{key[:40]!r} is not an unknown number's conversation")
    msgs = s.inbox.conversations_since(s.clock.now() - timedelta(days=INBOX_DAYS)).get(key, [])
    if not msgs:
        raise NotFound("no conversation with this number")
    return msgs


def _conversation_messages(s: Services, key: str) -> list[Message]:
    if key.startswith(UNKNOWN_PREFIX):
        return _unknown_messages(s, key)
    return s.inbox.thread(key)


def _staff_view(s: Services, patient_id: str | None, phone: str | None) -> dict | None:
    """Who on staff is in this conversation, while the agent leaves it to them (hand back ends it)."""
    from careloop.agent.inbound import staff_in_conversation

    now = s.clock.now()
    staff = staff_in_conversation(s, patient_id, phone or "", now) if (patient_id or phone) else None
    if staff is None:
        return None
    until = staff.at + timedelta(hours=s.practice.agent.staff_window_hours)
    return {"by": (staff.reason or "").removeprefix("sent by "), "since": staff.at.isoformat(), "until": until.isoformat()}


def thread(s: Services, patient_id: str) -> dict:
    if patient_id.startswith(UNKNOWN_PREFIX):  # an unknown number's thread (texts and calls from it)
        msgs = _unknown_messages(s, patient_id)
        phone = patient_id[len(UNKNOWN_PREFIX):]
        return {"patient": None, "phone_masked": mask(phone), "opted_out": consent.is_opted_out(s.consent, phone),
                "staff_in_conversation": _staff_view(s, None, phone),
                "assignee": (assignments(s).get(patient_id) or {}).get("assignee"),
                "messages": [_message_view(m) for m in _in_order(msgs + _unknown_notes(s, phone)) if m.kind != "call_log"]}
    patient = s.records.get_patient(patient_id)
    if patient is None:
        raise NotFound(f"patient {patient_id} not found")
    return {
        "patient": {"id": patient.id, "first_name": patient.first_name, "last_name": patient.last_name,
                    "phone": patient.phone, "language": patient.language, "opted_out": patient.opted_out,
                    "undeliverable": patient.undeliverable},
        "staff_in_conversation": _staff_view(s, patient.id, patient.phone),
        "assignee": (assignments(s).get(patient_id) or {}).get("assignee"),
        "messages": [_message_view(m) for m in _in_order(s.inbox.thread(patient_id)) if m.kind != "call_log"],
    }


def staff_reply(s: Services, patient_id: str, body: str, staff: str, request_id: str) -> Message:
    text = " ".join((body or "").split())
    if not text:
        raise PayloadError("body: a reply cannot be empty")
    if len(text) > 1000:
        raise PayloadError("body: a reply is limited to 1000 characters")
    if patient_id.startswith(UNKNOWN_PREFIX):  # an unknown number: the same gates, on the number
        _unknown_messages(s, patient_id)
        owner, phone = None, patient_id[len(UNKNOWN_PREFIX):]
        if consent.is_opted_out(s.consent, phone):
            raise PayloadError("this number opted out of texts: call instead")
    else:
        patient = s.records.get_patient(patient_id)
        if patient is None:
            raise NotFound(f"patient {patient_id} not found")
        if patient.opted_out:
            raise PayloadError("patient opted out of texts: call instead")
        if not patient.phone:
            raise PayloadError("patient has no SMS-capable phone")
        owner, phone = patient_id, patient.phone
    mid = "s-" + hashlib.sha256(f"{patient_id}|{request_id}".encode()).hexdigest()[:20]
    msg = Message(message_id=mid, kind="sms_out", patient_id=owner, phone=phone, body=text,
                  at=s.clock.now(), status=MessageStatus.QUEUED, workflow="staff", step="reply", reason=f"sent by {staff[:80]}",
                  automated=False)
    if s.inbox.record_staff_reply(msg):
        s.outbox.enqueue(msg)
    _settle_after_reply(s, patient_id)
    return msg


def _settle_after_reply(s: Services, key: str) -> int:
    """A staff reply answers what the patient asked: flagged texts and open items are settled,
    but an urgent alert stays open until someone closes it on purpose (Mark resolved)."""
    n = 0
    for m in _conversation_messages(s, key):
        if not needs_staff(m) or (m.kind in STAFF_ITEM_KINDS and m.priority == "urgent"):
            continue
        _settle(s, m)
        n += 1
    return n


def _settle(s: Services, m: Message) -> None:
    if m.needs_attention:  # a flagged text is unflagged; an open task or alert is done
        s.messages.update_message(m.message_id, needs_attention=False)
    else:
        s.messages.update_message(m.message_id, status=MessageStatus.DONE)


def hand_back(s: Services, key: str, staff: str) -> dict:
    """Staff hand the conversation back to the agent before the window ends: a done task on the
    thread says who and when, and the agent answers the next text. Nothing to hand back: no-op."""
    if key.startswith(UNKNOWN_PREFIX):
        _unknown_messages(s, key)
        owner, phone = None, key[len(UNKNOWN_PREFIX):]
    else:
        patient = s.records.get_patient(key)
        if patient is None:
            raise NotFound(f"patient {key} not found")
        owner, phone = patient.id, patient.phone or ""
    from careloop.agent.inbound import HAND_BACK_STEP, staff_in_conversation

    now = s.clock.now()
    held = staff_in_conversation(s, owner, phone, now)
    if held is None:
        return {"handed_back": False}
    mid = "h-" + hashlib.sha256(f"{key}|{held.message_id}".encode()).hexdigest()[:20]  # once per staff reply
    s.messages.put_message(Message(
        message_id=mid, kind="task", patient_id=owner, phone=phone, at=now, status=MessageStatus.DONE,
        body="Handed back to the automated assistant", workflow="staff", step=HAND_BACK_STEP,
        reason=f"by {staff[:80]}", automated=False))
    return {"handed_back": True}


def link_to_patient(s: Services, key: str, patient_id: str) -> dict:
    """An unknown number's conversation belongs to this patient: its messages move to the
    patient's thread (nothing is dropped; the patient record's phone is the EHR's to change)."""
    msgs = _unknown_messages(s, key)
    patient = s.records.get_patient(patient_id) if patient_id else None
    if patient is None:
        raise NotFound(f"patient {patient_id[:40]} not found")
    notes = _unknown_notes(s, key[len(UNKNOWN_PREFIX):])  # the staff's notes on the number go with it
    for m in msgs + notes:
        s.messages.update_message(m.message_id, patient_id=patient.id)
    def move_assignment(doc: dict) -> None:  # whoever had the number's conversation has the patient's
        if key in doc:
            doc[patient.id] = doc.pop(key)

    if key in assignments(s):
        _update_doc(s, ASSIGNMENTS_DOC, move_assignment)
    return {"patient_id": patient.id, "moved": len(msgs) + len(notes)}


def staff_consent(s: Services, patient_id: str, opted_out: bool, staff: str, note: str) -> bool:
    patient = s.records.get_patient(patient_id)
    if patient is None:
        raise NotFound(f"patient {patient_id} not found")
    if not patient.phone:
        raise PayloadError("patient has no phone number to record consent for")
    action = "opt_out" if opted_out else "opt_in"
    changed = consent.record(s.consent, s.records, consent.ConsentEntry(
        phone=patient.phone, action=action, at=s.clock.now(), source="staff", words="recorded by staff",
        text=note, by=staff))
    if changed and s.sms is not None:
        (s.sms.opt_out if opted_out else s.sms.opt_in)(patient.phone)
    if changed:
        from careloop.ehr import writeback

        for pid in {p.id for p in s.records.patients_by_phone(patient.phone)}:
            writeback.record(s.practice, s.writeback, writeback.WritebackEvent(
                kind="patient_opted_out" if opted_out else "patient_opted_in", patient_id=pid, at=s.clock.now()))
    return changed


def resolve(s: Services, patient_id: str) -> int:
    """Staff close the conversation on purpose: everything open in it, urgent alerts included."""
    if patient_id.startswith(UNKNOWN_PREFIX):
        open_items = [m for m in _unknown_messages(s, patient_id) if needs_staff(m)]
        for m in open_items:
            _settle(s, m)
        return len(open_items)
    return s.inbox.resolve_conversation(patient_id)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def patient_matches(p: Patient, query: str, region: str = "US") -> bool:
    """Search by name ("carter", "james c", "carter james") or any form of the phone number:
    "+1 617 555 0101", "(617) 555-0101", "6175550101", or its last 4 digits."""
    q = " ".join(query.lower().split())
    if not q:
        return True
    first, last = p.first_name.lower(), p.last_name.lower()
    if any(q in name for name in (f"{first} {last}", f"{last} {first}", f"{last}, {first}")):
        return True
    digits = _digits(q)
    if len(digits) < 4 or not p.phone or any(ch.isalpha() for ch in q):
        return False
    phone = _digits(p.phone)  # E.164 without the +
    if len(digits) == 4:
        return phone.endswith(digits)
    wanted = try_e164(query, region)  # a whole number in any form; else a partial run of digits
    return phone == _digits(wanted) if wanted else phone.endswith(digits)


def patients(s: Services, query: str = "") -> list[dict]:
    upcoming = s.inbox.next_appointments(s.clock.now())
    out = []
    region = s.practice.sms.country
    for p in sorted(s.inbox.patients(), key=lambda p: (p.last_name, p.first_name)):
        if query and not patient_matches(p, query, region):
            continue
        nxt = upcoming.get(p.id)
        out.append({
            "id": p.id, "first_name": p.first_name, "last_name": p.last_name, "phone_masked": mask(p.phone),
            "language": p.language, "opted_out": p.opted_out, "undeliverable": p.undeliverable,
            "next_appointment": None if nxt is None else {
                "id": nxt.id, "start": nxt.start.isoformat(), "status": nxt.status, "confirmed": nxt.confirmed,
                "provider": nxt.provider, "visit_type": nxt.visit_type},
        })
    return out


def appointments(s: Services, start: datetime | None, end: datetime | None) -> list[dict]:
    start = start or s.clock.now() - timedelta(days=1)
    end = end or start + timedelta(days=30)
    names = {p.id: _name(p) for p in s.inbox.patients()}
    return [
        {"id": a.id, "patient_id": a.patient_id, "patient_name": names.get(a.patient_id, "Unknown"),
         "start": a.start.isoformat(), "minutes": a.minutes, "status": a.status, "confirmed": a.confirmed,
         "provider": a.provider, "location": a.location, "visit_type": a.visit_type}
        for a in s.inbox.appointments_starting(start, end)
    ]


def workflow_view(w: Workflow, others: tuple[Workflow, ...] = ()) -> dict:
    """A workflow's card: names people say ("Reminder 2 days before", "2 days before a visit",
    the text's first words), the ids only as secondary text."""
    return {"id": w.id, "name": w.name, "description": w.description, "enabled": w.enabled, "version": w.version,
            "trigger": _trigger_text(w.trigger, others), "starts": _starts(w, others),
            "steps": [{"id": st.id, "name": st.name or _step_title(st), "type": st.action.type,
                       "summary": _summary(w, st), "first_words": _first_words(st)} for st in w.steps],
            "history": [h.model_dump() for h in w.history]}


def workflows(s: Services) -> list[dict]:
    every = s.workflows
    return [workflow_view(w, every) for w in every]


def _step_title(step: Step) -> str:
    return step.id.replace("-", " ").capitalize()


def _first_words(step: Step, words: int = 8) -> str:
    """The English text's opening, its fields as staff read them ("Hi [first name], this is …")."""
    import re

    source = step.action.template.get("en", "")
    plain = re.sub(r"\{%.*?%\}", "", source)
    plain = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: f"[{m.group(1).replace('_', ' ')}]", plain)
    cut = plain.split()
    return " ".join(cut[:words]) + (" …" if len(cut) > words else "")


def _starts(w: Workflow, others: tuple[Workflow, ...]) -> str:
    """When the workflow's first step happens, as a person says it: "2 days before a visit"."""
    first = min(w.steps, key=lambda st: st.timing.offset_minutes)
    minutes = first.timing.offset_minutes
    if w.trigger.on == "appointment_booked" and first.timing.anchor == "start":
        return f"{_duration(minutes)} {'before' if minutes < 0 else 'after'} a visit" if minutes else "at the visit"
    event = {"appointment_booked": "a visit is booked", "entered": "another workflow hands over"}.get(w.trigger.on) \
        or (f"a visit is marked {_STATUS_TEXT.get(w.trigger.status or '', w.trigger.status)}"
            if w.trigger.on == "appointment_status" else _trigger_text(w.trigger, others))
    return f"when {event}" if minutes == 0 else f"{_duration(minutes)} after {event}"


_STATUS_TEXT = {"noshow": "no-show", "fulfilled": "done (the patient came)", "cancelled": "cancelled"}


def _trigger_text(t: Trigger, others: tuple[Workflow, ...] = ()) -> str:
    if t.on == "step_sent":
        source = next((w for w in others if w.id == t.workflow), None)
        step = next((st for st in source.steps if st.id == t.step), None) if source else None
        if source is not None and step is not None:
            return f"“{step.name or _step_title(step)}” of {source.name} was sent"
    return {
        "appointment_booked": "an appointment is booked or moved",
        "appointment_status": f"an appointment becomes {_STATUS_TEXT.get(t.status or '', t.status)}",
        "step_sent": f"{t.workflow} / {t.step} was sent",
        "entered": "another workflow hands over",
    }[t.on]


_CONDITION_TEXT = {
    ("appointment.status", "eq"): "the appointment is still {value}",
    ("appointment.confirmed", "is_false"): "the patient has not confirmed",
    ("appointment.confirmed", "is_true"): "the patient confirmed",
    ("appointment.starts_in_minutes", "gt"): "the appointment is still ahead",
    ("patient.has_future_appointment", "is_false"): "no future appointment is booked",
    ("patient.booked_since_trigger", "is_false"): "nothing new was booked",
    ("patient.replied_since_trigger", "is_false"): "the patient has not replied",
    ("appointment.visit_type", "in"): "the visit was a {value}",
    ("patient.minutes_since_last_inbound", "gt"): "the patient has not texted for {value}",
}


def _duration(minutes: int) -> str:
    m = abs(minutes)
    if m and m % 1440 == 0:
        days = m // 1440
        return f"{days} day{'s' if days > 1 else ''}"
    if m and m % 60 == 0:
        return f"{m // 60} h"
    return f"{m} min"


def _value_text(c: Condition) -> object:
    """A condition's value as staff read it: a list of visit types, a number of minutes as a time."""
    if isinstance(c.value, list) and c.value:
        *rest, last = map(str, c.value)
        return f"{', '.join(rest)} or {last}" if rest else last
    if c.field.startswith("patient.minutes_since") and isinstance(c.value, int):
        return _duration(c.value)
    return c.value


def _summary(workflow: Workflow, step: Step) -> str:
    verb = {"sms": "Text the patient", "task": "Create a staff task", "staff_alert": "Alert staff",
            "enter_workflow": "Hand over to another workflow"}[step.action.type]
    minutes = step.timing.offset_minutes
    if step.timing.anchor == "start":
        when = f"{_duration(minutes)} {'before' if minutes < 0 else 'after'} the appointment"
    elif minutes == 0:
        when = "right away"
    else:
        when = f"{_duration(minutes)} after {'the status change' if workflow.trigger.on == 'appointment_status' else 'the trigger'}"
    conditions = [_CONDITION_TEXT.get((c.field, c.op), f"{c.field} {c.op} {c.value}").format(value=_value_text(c))
                  for c in step.conditions]
    return f"{verb} {when}" + (f", if {' and '.join(conditions)}" if conditions else "")


def analytics(s: Services, start: datetime | None, end: datetime | None, bucket: str = "day") -> dict:
    """The summary the staff API shows: the last 30 days (and tomorrow) unless told otherwise;
    the figures are careloop.analytics'; the workflows' names are added for the page."""
    now = s.clock.now()
    if bucket not in ("day", "week"):
        raise PayloadError(f"bucket: {bucket[:20]!r} is not day or week")
    start, end = start or now - timedelta(days=30), end or now + timedelta(days=1)
    if end <= start:
        raise PayloadError("to: the period's end must be after its start")
    if end - start > MAX_ANALYTICS_PERIOD:
        raise PayloadError(f"from/to: a period is at most {MAX_ANALYTICS_PERIOD.days} days")
    out = build_analytics(s.analytics, s.practice, now, start, end, "week" if bucket == "week" else "day")
    return out | {"workflow_names": {w.id: w.name for w in s.workflows}}


MAX_ANALYTICS_PERIOD = timedelta(days=400)  # a year and a little: one read stays bounded


def summary(source: AnalyticsSource, practice: PracticeProfile, now: datetime, start: datetime, end: datetime) -> dict:
    """Delivery, response, confirmation, no-show and recovery over [start, end) (careloop.analytics)."""
    return build_analytics(source, practice, now, start, end)


def analytics_csv(summary: dict, table: str | None = None) -> str:
    """Every table of the summary as CSV (or the one named), with the definitions of its columns."""
    try:
        return analytics_tables.to_csv(summary, table)
    except KeyError as exc:
        raise PayloadError(f"table: {str(table)[:40]!r} is not one of {', '.join(analytics_tables.table_names())}") from exc


# ---- inbox2: assignment, team views, internal notes, saved replies, unread markers ------------------
# Assignments and each staff user's "last opened" times are small documents in the ConfigStore
# (compare-and-set on a revision); notes are Message records of kind `note`, never enqueued.

ASSIGNMENTS_DOC = "inbox-assignments"
READS_DOC_PREFIX = "inbox-read:"  # + the staff user: when they last opened each conversation
PATIENT_WORDS = ("sms_in", "call")  # what makes a conversation unread: the patient wrote or called
TEAMS = ("front_desk", "billing", "clinical")
VIEWS = ("all", "attention", "urgent", *TEAMS, "mine", "unassigned")
_CAS_ATTEMPTS = 5

DEFAULT_SAVED_REPLIES: tuple[dict[str, str], ...] = (
    {"title": "We'll call you",
     "en": "Hi {first_name}, thanks for your message. Someone from {practice} will call you today.",
     "es": "Hola {first_name}, gracias por su mensaje. Alguien de {practice} le llamará hoy."},
    {"title": "Book online",
     "en": "Hi {first_name}, you can pick a time that suits you here: {booking_url}",
     "es": "Hola {first_name}, puede elegir el horario que le convenga aquí: {booking_url}"},
    {"title": "Call the office",
     "en": "Hi {first_name}, please call us at {practice_phone} so we can help.",
     "es": "Hola {first_name}, llámenos al {practice_phone} para que podamos ayudarle."},
    {"title": "Insurance card",
     "en": "Hi {first_name}, please bring your insurance card and a photo ID to your visit.",
     "es": "Hola {first_name}, traiga su tarjeta de seguro y una identificación con foto a su cita."},
    {"title": "Running late is OK",
     "en": "Thanks for letting us know, {first_name}. We'll see you soon.",
     "es": "Gracias por avisarnos, {first_name}. Le esperamos pronto."},
)


def staff_users(s: Services, viewer: str) -> list[str]:
    """Who a conversation can be assigned to: the staff directory's enabled accounts that hold a
    role (Cognito in AWS), the profile's staff_emails only where the directory has no accounts
    (or there is none), and the viewer themself."""
    accounts = _directory_accounts(s)
    if accounts:
        listed = [a["email"] or a["username"] for a in accounts if a.get("enabled", True) and a.get("roles")]
    else:
        listed = list(s.practice.staff_emails)
    return sorted({*listed, *([viewer] if viewer else [])})


def _directory_accounts(s: Services) -> list[dict]:
    if s.staff is None:
        return []
    try:
        return s.staff.list_staff()
    except PayloadError:  # no user pool configured here: the profile's list is all there is
        return []


def _update_doc(s: Services, name: str, change: Callable[[dict], None]) -> dict:
    for _ in range(_CAS_ATTEMPTS):  # another staff member may write the same document at once
        doc, revision = s.configs.load_config(name)
        doc = dict(doc or {})
        change(doc)
        if s.configs.save_config(name, doc, revision):
            return doc
    raise Conflict(f"{name}: changed by someone else at the same time, try again")


def _check_conversation(s: Services, key: str) -> None:
    if key.startswith(UNKNOWN_PREFIX):
        _unknown_messages(s, key)
    elif s.records.get_patient(key) is None:
        raise NotFound(f"patient {key[:40]} not found")


def assignments(s: Services) -> dict[str, dict]:
    doc, _ = s.configs.load_config(ASSIGNMENTS_DOC)
    return dict(doc or {})


def assign(s: Services, key: str, assignee: str | None, by: str) -> dict:
    """Assign a conversation to a staff user (or unassign with None); returns who has it now."""
    _check_conversation(s, key)
    if assignee is not None:
        assignee = assignee.strip()
        if assignee not in staff_users(s, by):
            raise PayloadError("assignee: not a staff user of this practice")
    entry = {"assignee": assignee, "by": by[:80], "at": s.clock.now().isoformat()} if assignee else None

    def change(doc: dict) -> None:
        if entry is None:
            doc.pop(key, None)
        else:
            doc[key] = entry

    _update_doc(s, ASSIGNMENTS_DOC, change)
    return {"patient_id": key, "assignee": assignee}


def mark_read(s: Services, key: str, viewer: str) -> dict:
    """The viewer opened this conversation now: what the patient said until now is read (for them)."""
    _check_conversation(s, key)
    # read up to the newest words seen (not "now"): a text stamped by its arrival is unread when
    # it comes after them, even where the clock (a local stack moved ahead) runs apart from arrivals
    said = [m.at for m in s.inbox.thread(key) if m.kind in PATIENT_WORDS]
    at = (max(said) if said else s.clock.now()).isoformat()
    _update_doc(s, READS_DOC_PREFIX + viewer[:80], lambda doc: doc.__setitem__(key, at))
    return {"patient_id": key, "read_at": at}


def last_reads(s: Services, viewer: str) -> dict[str, datetime]:
    doc, _ = s.configs.load_config(READS_DOC_PREFIX + viewer[:80])
    return {k: datetime.fromisoformat(v) for k, v in (doc or {}).items()}


def is_unread(msgs: list[Message], read_at: datetime | None) -> bool:
    """Unread: the patient wrote or called after the viewer last opened the conversation."""
    said = [m.at for m in msgs if m.kind in PATIENT_WORDS]
    return bool(said) and (read_at is None or max(said) > read_at)


def conversation_team(msgs: list[Message]) -> str | None:
    """The team the agent routed the conversation to: the newest open alert or task's `team`,
    else the newest alert or task that named one."""
    items = [m for m in msgs if m.kind in STAFF_ITEM_KINDS or m.needs_attention]
    for pool in ([m for m in items if needs_staff(m)], items):
        for m in reversed(pool):
            if m.team:
                return m.team
    return None


def matches_view(row: dict, view: str, viewer: str) -> bool:
    """Whether a conversation row (from `conversations`) belongs in an inbox view (VIEWS)."""
    if view not in VIEWS:
        raise PayloadError(f"view: one of {', '.join(VIEWS)}")
    if view == "attention":
        return bool(row["needs_attention"])
    if view == "urgent":
        return bool(row["needs_attention"]) and row["priority"] == "urgent"
    if view in TEAMS:
        return row.get("team") == view
    if view == "mine":
        return bool(viewer) and row.get("assignee") == viewer
    if view == "unassigned":
        return not row.get("assignee")
    return True


def inbox_view(s: Services, viewer: str, view: str = "all") -> list[dict]:
    """The inbox list for one staff user: each conversation with its team, assignee and whether it
    is unread for this viewer, narrowed to one view (VIEWS)."""
    if view not in VIEWS:
        raise PayloadError(f"view: one of {', '.join(VIEWS)}")
    by_key = s.inbox.conversations_since(s.clock.now() - timedelta(days=INBOX_DAYS))
    rows = conversations(s, by_key)  # one read of the month's conversations for both
    owners = assignments(s)
    reads = last_reads(s, viewer) if viewer else {}
    for row in rows:
        key = row["patient_id"]
        msgs = by_key.get(key, [])
        row["team"] = conversation_team(msgs)
        row["assignee"] = (owners.get(key) or {}).get("assignee")
        row["unread"] = is_unread(msgs, reads.get(key))
    return [row for row in rows if matches_view(row, view, viewer)]


def _unknown_notes(s: Services, phone: str) -> list[Message]:
    since = s.clock.now() - timedelta(days=INBOX_DAYS)
    return [m for m in s.messages.messages_of_kind("note", since) if m.patient_id is None and m.phone == phone]


def add_note(s: Services, key: str, body: str, by: str, request_id: str) -> Message:
    """A staff-only note on a conversation: stored with the thread, shown to staff, never sent."""
    text = (body or "").strip()
    if not text:
        raise PayloadError("body: a note cannot be empty")
    if len(text) > 2000:
        raise PayloadError("body: a note is limited to 2000 characters")
    _check_conversation(s, key)
    owner, phone = (None, key[len(UNKNOWN_PREFIX):]) if key.startswith(UNKNOWN_PREFIX) else (key, None)
    mid = "n-" + hashlib.sha256(f"{key}|{request_id}".encode()).hexdigest()[:20]
    note = Message(message_id=mid, kind="note", patient_id=owner, phone=phone, body=text, at=s.clock.now(),
                   status=MessageStatus.DONE, workflow="staff", step="note", reason=f"note by {by[:80]}",
                   automated=False)
    s.messages.put_message(note)  # a redelivered request writes nothing twice (same id); nothing is enqueued
    return note


def saved_replies(s: Services, key: str) -> dict:
    """The practice's saved replies (or the default set) filled in for this conversation, in the
    patient's language (Spanish falls back to English where a reply has no Spanish text)."""
    _check_conversation(s, key)
    patient = None if key.startswith(UNKNOWN_PREFIX) else s.records.get_patient(key)
    language = "es" if patient is not None and patient.language == "es" else "en"
    p = s.practice
    values = {"first_name": patient.first_name if patient else "there", "practice": p.name,
              "practice_phone": p.phone, "booking_url": p.booking_url or p.phone}
    source = [r.model_dump() for r in p.saved_replies] if p.saved_replies is not None else DEFAULT_SAVED_REPLIES
    out = []
    for i, r in enumerate(source):
        text = (r.get("es") or r["en"]) if language == "es" else r["en"]
        for name, value in values.items():  # plain replacement: a stray brace in the text stays as it is
            text = text.replace("{" + name + "}", value)
        out.append({"id": f"r{i + 1}", "title": r["title"], "body": text, "language": language})
    return {"language": language, "replies": out}
