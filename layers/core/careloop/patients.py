"""The patient page: one patient's timeline (texts, calls, appointments, consent, delivery) and what
staff do from it (confirm, cancel, no-show, fulfilled; a consent change with a note), each recorded.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from careloop import consent, roles
from careloop.errors import Conflict, NotFound, PayloadError
from careloop.models import Appointment, AppointmentChange, Message, MessageStatus, Patient
from careloop.records import with_change

if TYPE_CHECKING:
    from careloop.ports import Services

Action = Literal["confirm", "cancel", "noshow", "fulfilled"]
ACTIONS: tuple[Action, ...] = ("confirm", "cancel", "noshow", "fulfilled")
# the EHR's word for each action's outcome, and the write-back event that tells it
_WRITEBACK = {"confirm": "appointment_confirmed", "cancel": "appointment_cancelled",
              "noshow": "appointment_noshow", "fulfilled": "appointment_fulfilled"}
_CHANGE = {"confirm": "confirmed", "cancel": "cancelled", "noshow": "noshow", "fulfilled": "fulfilled"}
_DONE_LABEL = {"confirm": "Appointment confirmed by staff", "cancel": "Appointment cancelled by staff",
               "noshow": "Marked as a no-show by staff", "fulfilled": "Marked as attended by staff"}
# a visit in one of these is over: nothing on the page changes it (the EHR can)
CLOSED = frozenset({"cancelled", "noshow", "fulfilled", "entered-in-error"})
# close-out (no-show, fulfilled) is for visits staff could have seen happen
CLOSABLE = frozenset({"booked", "arrived", "checked-in"})
STAFF_STEP_PREFIX = "appointment_"  # task messages that record a staff action on an appointment
MAX_NOTE = 500


# ---- the timeline ------------------------------------------------------------------------------


def _patient(s: Services, patient_id: str) -> Patient:
    patient = s.records.get_patient(patient_id) if patient_id else None
    if patient is None:
        raise NotFound(f"patient {patient_id[:40]} not found")
    return patient


def _message_entry(m: Message) -> dict[str, Any]:
    kind = {"sms_out": "text_out", "sms_in": "text_in", "call": "call", "staff_alert": "alert",
            "note": "note"}.get(m.kind, "task")
    if m.kind == "task" and (m.step or "").startswith(STAFF_STEP_PREFIX):
        kind = "staff_action"
    entry: dict[str, Any] = {"kind": kind, "at": m.at.isoformat(), "id": m.message_id, "body": m.body,
                             "status": str(m.status), "workflow": m.workflow, "step": m.step,
                             "appointment_id": m.appointment_id, "reason": m.reason, "intent": m.intent,
                             "team": m.team}
    if m.kind == "sms_out":  # the delivery outcome (delivered, failed, suppressed) and why
        entry["delivery"] = {"status": str(m.status), "detail": m.status_detail, "parts": m.parts}
    if m.kind == "call":
        entry["call"] = {"outcome": m.outcome, "reached_agent": bool(m.reached_agent),
                         "turns": len(m.turns),
                         "ended_at": m.ended_at.isoformat() if m.ended_at else None}
    return entry


def appointment_view(a: Appointment) -> dict[str, Any]:
    return {"id": a.id, "start": a.start.isoformat(), "minutes": a.minutes, "status": a.status,
            "provider": a.provider, "location": a.location, "visit_type": a.visit_type,
            "confirmed": a.confirmed, "declined": a.declined, "replaces": a.replaces, "source": a.source,
            "history": [_change_view(c) for c in a.history]}


def _change_view(c: AppointmentChange) -> dict[str, Any]:
    return {"at": c.at.isoformat(), "event": c.event, "source": c.source, "by": c.by, "detail": c.detail}


def _appointment_entries(a: Appointment, by_id: dict[str, Appointment]) -> list[dict[str, Any]]:
    """What happened to a visit: each change its history keeps (who, how, why); for a record from
    before the history was kept, its current state when it last changed, a reschedule when it
    replaces another visit, and the confirmation when the patient or staff gave one."""
    view = appointment_view(a)
    if a.history:
        out = []
        for i, c in enumerate(a.history):
            # the booking reads as "created" (the page's word and the sort's tie-break) or a reschedule
            event = "created" if c.event == "booked" and i == 0 else c.event
            if a.replaces and i == 0 and c.event in ("booked", "requested"):
                old = by_id.get(a.replaces)
                event = "rescheduled" if c.event == "booked" else "requested"
                view = view | {"rescheduled_from": old.start.isoformat() if old else None}
            out.append({"kind": "appointment", "event": event, "at": c.at.isoformat(), "id": f"{a.id}#{i}",
                        "appointment": view} | {k: v for k, v in _change_view(c).items() if k in ("source", "by", "detail")})
        return out
    changed = a.updated_at or a.start
    if a.replaces:
        old = by_id.get(a.replaces)
        event = "rescheduled"
        view["rescheduled_from"] = old.start.isoformat() if old else None
    else:
        event = {"cancelled": "cancelled", "noshow": "noshow", "fulfilled": "fulfilled"}.get(a.status, "created")
    out = [{"kind": "appointment", "event": event, "at": changed.isoformat(), "id": f"{a.id}#{event}",
            "appointment": view}]
    if a.confirmed and a.confirmed_at:
        out.append({"kind": "appointment", "event": "confirmed", "at": a.confirmed_at.isoformat(),
                    "id": f"{a.id}#confirmed", "appointment": view})
    return out


def _consent_entry(e: consent.ConsentEntry) -> dict[str, Any]:
    return {"kind": "consent", "at": e.at.isoformat(), "id": e.key, "action": e.action, "source": e.source,
            "words": e.words, "by": e.by, "note": e.text if e.source == "staff" else "",
            "text": e.text if e.source == "sms" else "", "changed": e.changed}


def findings(s: Services, patient: Patient) -> list[dict[str, Any]]:
    """The data-quality audit's rows about this patient or their appointments (careloop.audit)."""
    from careloop.audit import audit

    report = audit(s.records, s.clock.now(), region=s.practice.sms.country)
    return [{"severity": r.severity, "problem": r.problem, "detail": r.detail, "action": r.action,
             "record": r.record, "appointment_id": r.appointment_id}
            for r in report.rows if r.patient_id == patient.id]


def timeline(s: Services, patient_id: str, viewer_roles: frozenset[str] | None = None) -> dict[str, Any]:
    """Everything that happened with this patient, newest first, and their appointments; for a
    viewer's roles (None: the core's own callers, everything), what those roles may see and do."""
    patient = _patient(s, patient_id)
    appointments = s.records.appointments_for_patient(patient.id)
    by_id = {a.id: a for a in appointments}
    thread = [m for m in s.inbox.thread(patient.id) if m.kind != "call_log"]
    entries: list[dict[str, Any]] = [_message_entry(m) for m in thread]
    all_words, opens_conversation = (True, True) if viewer_roles is None else _conversation_seen(thread, viewer_roles)
    if viewer_roles is not None and not all_words:
        entries = _withhold_words(entries, viewer_roles)
    for a in appointments:
        entries.extend(_appointment_entries(a, by_id))
    if patient.phone:
        entries.extend(_consent_entry(e) for e in consent.entries(s.consent, patient.phone))
    # newest first; at one instant a booking reads as before what followed it, then a stable order
    entries.sort(key=lambda e: (datetime.fromisoformat(e["at"]), e.get("event") != "created", e["id"]), reverse=True)
    now = s.clock.now()
    acts = viewer_roles is None or roles.may(viewer_roles, "POST /appointments/<appointment_id>/<action>")
    moves = viewer_roles is None or roles.may(viewer_roles, "POST /patients/<patient_id>/reschedule-link")
    return {
        "may": {"act_on_appointments": acts,
                "change_consent": viewer_roles is None or roles.may(viewer_roles, "POST /patients/<patient_id>/consent"),
                "open_conversation": opens_conversation, "all_words": all_words},
        "patient": {"id": patient.id, "first_name": patient.first_name, "last_name": patient.last_name,
                    "phone": patient.phone, "language": patient.language, "opted_out": patient.opted_out,
                    "undeliverable": patient.undeliverable},
        "now": now.isoformat(),
        "appointments": [appointment_view(a) | {"actions": available_actions(a, now) if acts else [],
                                                "reschedule": moves and reschedule_offered(s, a, patient, now)}
                         for a in sorted(appointments, key=lambda a: a.start, reverse=True)],
        "entries": entries,
        "findings": findings(s, patient),
    }


# what a conversation says, beyond its being there: withheld from a role that is not the patient's carer
_WORDS = ("body", "reason", "intent")
_CONVERSATION_WORKFLOWS = frozenset({"sms-agent", "staff", "voice"})


def _conversation_seen(thread: list[Message], mine: frozenset[str]) -> tuple[bool, bool]:
    """(sees every word on the page, may open the conversation) for these roles: the same team
    rule as the inbox (careloop.roles.sees_conversation), the caring roles seeing all words."""
    from careloop import inbox

    urgent = any(m.priority == "urgent" and m.kind in inbox.STAFF_ITEM_KINDS and str(m.status) != "done" for m in thread)
    team = inbox.conversation_team(thread)
    return (roles.sees_patient_words(mine, team, urgent=urgent),
            roles.sees_conversation(mine, team, unknown_number=False, urgent=urgent))


def _withhold_words(entries: list[dict[str, Any]], mine: frozenset[str]) -> list[dict[str, Any]]:
    """The timeline for a role that does not see this conversation (billing, another team's): each
    entry keeps its date and delivery, not its words (what the patient texted or said, the
    answers, alerts and tasks), except an alert or task for that role's own team."""
    seen = roles.teams_seen(mine)
    out = []
    for e in entries:
        words = e["kind"] in ("text_in", "call", "alert", "task", "note") or (
            e["kind"] == "text_out" and e.get("workflow") in _CONVERSATION_WORKFLOWS)
        if words and e.get("team") not in seen:
            e = e | {k: "" for k in _WORDS} | {"withheld": True}
            e.pop("call", None)
        out.append(e)
    return out


# ---- appointment actions -----------------------------------------------------------------------


def available_actions(a: Appointment, now: datetime) -> list[str]:
    if a.status in CLOSED:
        return []
    if a.start > now:
        return [x for x in ("confirm", "cancel") if not (x == "confirm" and a.confirmed)]
    return ["noshow", "fulfilled"] if a.status in CLOSABLE else []


def appointment_action(s: Services, appointment_id: str, action: str, staff: str) -> dict[str, Any]:
    """Staff confirm, cancel, or close out (no-show, fulfilled) a visit. The change is stored (the
    planner then reacts: a no-show starts no-show recovery, a cancellation stops reminders), the
    EHR is told where the profile turns write-back on, and a task on the thread records who did it."""
    if action not in ACTIONS:
        raise NotFound(f"no appointment action {action[:40]!r}: one of {', '.join(ACTIONS)}")
    appt = s.records.get_appointment(appointment_id) if appointment_id else None
    if appt is None:
        raise NotFound(f"appointment {appointment_id[:40]} not found")
    now = s.clock.now()
    if action not in available_actions(appt, now):
        if action == "confirm" and appt.confirmed and appt.status not in CLOSED:
            return {"appointment": appointment_view(appt), "changed": False}
        raise Conflict(_why_not(appt, action, now))
    if action == "confirm":
        # updated_at is when the visit itself last changed (booked, moved, closed): a confirmation is not that
        updated = appt.model_copy(update={"confirmed": True, "confirmed_at": now, "declined": False})
    elif action == "cancel":
        updated = appt.model_copy(update={"status": "cancelled", "confirmed": False, "declined": True, "updated_at": now})
    else:
        updated = appt.model_copy(update={"status": action, "updated_at": now})
    updated = with_change(updated, _CHANGE[action], now, "staff", staff)
    s.records.put_appointment(updated)  # the planner follows (the records stream / the fakes' hook)
    from careloop.ehr import writeback

    told = writeback.record(s.practice, s.writeback, writeback.WritebackEvent(
        kind=_WRITEBACK[action], patient_id=appt.patient_id, appointment_id=appt.id, at=now, reason="staff"))
    patient = s.records.get_patient(appt.patient_id)
    mid = "pa-" + hashlib.sha256(f"{appt.id}|{action}|{now.isoformat()}".encode()).hexdigest()[:20]
    s.messages.put_message(Message(
        message_id=mid, kind="task", patient_id=appt.patient_id, appointment_id=appt.id,
        phone=patient.phone if patient else None, at=now, status=MessageStatus.DONE, body=_DONE_LABEL[action],
        workflow="staff", step=STAFF_STEP_PREFIX + action, reason=f"by {staff[:80]}", automated=False))
    return {"appointment": appointment_view(updated), "changed": True, "ehr_told": told}


def _why_not(a: Appointment, action: str, now: datetime) -> str:
    if a.status in CLOSED:
        return f"appointment is already {a.status}: change it in the EHR"
    if action in ("noshow", "fulfilled") and a.start > now:
        return "the visit has not started yet: it cannot be marked a no-show or attended"
    if action in ("noshow", "fulfilled"):
        return f"a {a.status} appointment cannot be closed out"
    return "the visit has already started: mark it a no-show or attended instead"


# ---- consent, changed by staff -----------------------------------------------------------------


def staff_consent(s: Services, patient_id: str, body: dict, staff: str) -> dict[str, Any]:
    """Staff record a consent change the patient made another way (a call, a signed form): always
    with a note saying how; an opt-in only when the patient's consent is documented."""
    from careloop import inbox

    opted_out = body.get("opted_out")
    if not isinstance(opted_out, bool):
        raise PayloadError("opted_out: true or false is required")
    note = body.get("note")
    if not isinstance(note, str) or not note.strip():
        raise PayloadError("note: say how the patient asked (a call, a signed form), it is kept as proof")
    if len(note) > MAX_NOTE:
        raise PayloadError(f"note: at most {MAX_NOTE} characters")
    if not opted_out and body.get("documented_consent") is not True:
        raise PayloadError("documented_consent: texting again needs the patient's documented consent (true)")
    patient = _patient(s, patient_id)
    if not opted_out and patient.opted_out and patient.phone and s.sms is not None:
        # off the carrier's opt-out list first: when it refuses (Conflict), the ledger is not
        # told the patient can be texted while the carrier still blocks every text
        s.sms.opt_in(patient.phone)
    changed = inbox.staff_consent(s, patient_id, opted_out, staff, " ".join(note.split()))
    return {"changed": changed, "opted_out": consent.is_opted_out(s.consent, _patient(s, patient_id).phone)}


# ---- rescheduling from the patient page: the patient's own link to pick a new time ------------------

_RESCHEDULE_TEXT = {
    "en": "Hi {first_name}, to move your {what} on {when} ({zone}), pick a new time here: {url} "
          "Your visit stays booked until you choose. {practice}",
    "es": "Hola {first_name}, para cambiar su {what} del {when} ({zone}), elija otro horario aquí: {url} "
          "Su cita sigue reservada hasta que elija. {practice}",
}


def reschedule_offered(s: Services, a: Appointment, patient: Patient, now: datetime) -> bool:
    """Whether staff can text this visit's patient a link to move it: an upcoming visit, online
    booking on (links point somewhere), and a patient who can be texted."""
    from careloop.booking.links import base_url
    from careloop.models import UPCOMING_STATUSES

    return (a.status in UPCOMING_STATUSES and a.start > now and s.booking is not None
            and s.practice.booking is not None and bool(base_url(s)) and bool(patient.phone) and not patient.opted_out)


def send_reschedule_link(s: Services, patient_id: str, appointment_id: str, staff: str, request_id: str) -> dict[str, Any]:
    """Staff text the patient their own link to move a visit (the link books the new time and
    cancels this one, the EHR told as for any booking); the text goes out as a staff reply, so
    the same gates hold (opt-out, a textable phone) and it shows in the thread."""
    from careloop import inbox
    from careloop.booking.links import booking_url_for
    from careloop.booking.service import zone_for
    from careloop.templates import format_date_time, named_zone

    patient = _patient(s, patient_id)
    appt = s.records.get_appointment(appointment_id) if appointment_id else None
    if appt is None or appt.patient_id != patient.id:
        raise NotFound(f"appointment {appointment_id[:40]} not found for this patient")
    now = s.clock.now()
    if not reschedule_offered(s, appt, patient, now):
        if appt.status in CLOSED or appt.start <= now:
            raise Conflict("only an upcoming visit can be moved: this one is over or cancelled")
        if patient.opted_out or not patient.phone:
            raise PayloadError("this patient cannot be texted: call them to move the visit")
        raise Conflict("online booking is not set up for this practice: call the patient to move the visit")
    lang = patient.language if patient.language in ("en", "es") else "en"
    local = appt.start.astimezone(zone_for(s, appt.location or ""))
    kind = next((t for t in s.practice.booking.types if (t.visit_type or t.id) == appt.visit_type), None) \
        if s.practice.booking else None
    what = kind.name[lang] if kind else (appt.visit_type or ("cita" if lang == "es" else "visit")).replace("_", " ")
    url = booking_url_for(s, patient, "reschedule", ref=f"staff-reschedule:{appt.id}:{request_id}",
                          appointment_id=appt.id)
    body = _RESCHEDULE_TEXT[lang].format(first_name=patient.first_name, what=what, when=format_date_time(local, lang),
                                         zone=named_zone(local), url=url, practice=s.practice.name)
    sent = inbox.staff_reply(s, patient.id, body, staff, request_id)
    return {"message_id": sent.message_id, "appointment_id": appt.id}
