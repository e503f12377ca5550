"""What the staff console's workflow editor needs beyond save: a live preview of each step's text
with its SMS part count, field-level diffs between versions, undo, and a test send."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from careloop import templates
from careloop.booking.links import WORST_CASE_URL
from careloop.errors import (
    ConfigError,
    Conflict,
    InvalidPhone,
    NotFound,
    PayloadError,
    TemplateError,
)
from careloop.models import UPCOMING_STATUSES, Appointment, Message, MessageStatus, Patient
from careloop.phones import to_e164
from careloop.sms.parts import parts_and_encoding
from careloop.workflows import registry
from careloop.workflows.model import (
    LANGUAGES,
    MAX_PARTS,
    Workflow,
    load_workflows,
    worst_case_parts,
)

if TYPE_CHECKING:
    from careloop.ports import ConfigStore, Services

# a step's text over this many parts is flagged in the editor: each part is billed, and a long
# text is split or truncated on some phones; saving refuses only over MAX_PARTS (model.py)
PART_BUDGET = 2
TEST_SEND_WORKFLOW = "test-send"  # what a test text is filed under, so per-workflow figures never count it
# the sample patient a preview is rendered for when no patient is named: no real person's PHI
SAMPLE_PATIENT = {"first_name": "Maria", "last_name": "Gonzalez"}
_BOOKKEEPING = ("version", "history")


def workflow_of(definition: Any, workflow_id: str) -> Workflow:
    """The posted definition validated by the workflow model; ConfigError names the field."""
    if not isinstance(definition, dict):
        raise PayloadError("definition: a workflow definition object is required")
    if definition.get("id") != workflow_id:
        raise PayloadError("definition.id: must match the workflow in the URL")
    return load_workflows([definition], "definition")[0]


# ---------------------------------------------------------------------------- live preview


def sample_visit(practice, now: datetime) -> tuple[Patient, Appointment]:
    """A made-up patient and a visit two days ahead at 10:00 with the practice's first provider
    and location: what a preview shows when no real patient is picked."""
    start = datetime.combine((now.astimezone(practice.zone) + timedelta(days=2)).date(), time(10), tzinfo=practice.zone)
    patient = Patient(id="sample", phone=practice.phone, **SAMPLE_PATIENT)
    appt = Appointment(id="sample", patient_id="sample", start=start, minutes=30,
                       provider=practice.providers[0].id if practice.providers else None,
                       location=practice.locations[0].id if practice.locations else None, visit_type="cleaning")
    return patient, appt


def preview_subject(s: Services, patient_id: str | None, now: datetime) -> tuple[Patient, Appointment | None]:
    """The patient a preview is rendered for (their next visit, else their latest), or the sample."""
    if not patient_id:
        return sample_visit(s.practice, now)
    patient = s.records.get_patient(patient_id)
    if patient is None:
        raise NotFound(f"patient {patient_id[:40]} not found")
    appts = sorted(s.records.appointments_for_patient(patient.id), key=lambda a: a.start)
    ahead = [a for a in appts if a.status in UPCOMING_STATUSES and a.start > now]
    return patient, (ahead[0] if ahead else (appts[-1] if appts else None))


def render_step_text(s: Services, source: str, patient: Patient, appt: Appointment | None, language: str,
                     now: datetime) -> str:
    """The text the dispatcher would send, by the same renderer and context; a personal booking
    link (minted only when a text is really sent) is shown at its longest."""
    ctx = templates.context_for(s.practice, patient.model_copy(update={"language": language}), appt, now)
    if "booking_url" in source and s.practice.booking is not None:
        ctx["booking_url"] = WORST_CASE_URL
    return templates.render(source, ctx)


def _text_preview(s: Services, source: Any, patient: Patient, appt: Appointment | None, language: str,
                  now: datetime, is_sms: bool) -> dict:
    if not isinstance(source, str) or not source.strip():
        return {"language": language, "error": f"template.{language}: the text is empty"}
    try:
        templates.check_template(source)
        text = render_step_text(s, source, patient, appt, language, now)
        worst = worst_case_parts(source)
    except TemplateError as exc:
        return {"language": language, "error": f"template.{language}: {exc}"}
    parts, encoding = parts_and_encoding(text)
    out: dict[str, Any] = {"language": language, "text": text, "characters": len(text), "parts": parts,
                           "encoding": "GSM-7" if encoding == "GSM" else "UCS-2", "worst_case_parts": worst,
                           "budget": PART_BUDGET if is_sms else None, "warning": None}
    if is_sms and worst > MAX_PARTS:
        out["warning"] = f"up to {worst} parts with long names and links: over the limit of {MAX_PARTS}, it cannot be saved"
    elif is_sms and parts > PART_BUDGET:
        out["warning"] = f"{parts} parts: over this step's budget of {PART_BUDGET}"
    elif is_sms and encoding == "UCS2":
        out["warning"] = "a character outside GSM-7 makes every part hold 67 characters instead of 153"
    return out


def preview(s: Services, workflow_id: str, definition: Any, patient_id: str | None, now: datetime) -> dict:
    """Each step's text rendered for a sample (or named) patient in en and es, with its parts,
    encoding and any warning; a step whose template is broken says so and the rest still render,
    so the editor previews while a text is half typed. `valid`/`error`: whether it can be saved."""
    if not isinstance(definition, dict):
        raise PayloadError("definition: a workflow definition object is required")
    steps = definition.get("steps")
    if not isinstance(steps, list):
        raise PayloadError("definition.steps: a list of steps is required")
    patient, appt = preview_subject(s, patient_id, now)
    try:
        workflow_of(definition, workflow_id)
        error = None
    except (ConfigError, PayloadError) as exc:  # shown; the preview itself still answers
        error = str(exc)
    out = []
    for i, step in enumerate(steps[:20]):
        step = step if isinstance(step, dict) else {}
        action: dict[str, Any] = step["action"] if isinstance(step.get("action"), dict) else {}
        kind = action.get("type", "sms")
        texts: dict[str, Any] = action["template"] if isinstance(action.get("template"), dict) else {}
        languages = LANGUAGES if kind == "sms" else tuple(lang for lang in LANGUAGES if lang in texts)
        out.append({"index": i, "id": step.get("id", ""), "type": kind,
                    "texts": [] if kind == "enter_workflow" else
                    [_text_preview(s, texts.get(lang), patient, appt, lang, now, kind == "sms") for lang in languages]})
    who = "sample" if not patient_id else "patient"
    return {"valid": error is None, "error": error, "patient": {"kind": who, "name": display_name(patient)},
            "appointment": appt.start.isoformat() if appt else None, "steps": out}


def display_name(patient: Patient) -> str:
    """How staff lists name a patient: first name and last initial."""
    last = (patient.last_name or "").strip()
    return f"{patient.first_name} {last[:1] + '.' if last else ''}".strip() or patient.id


# ---------------------------------------------------------------------------- diffs and history


def _flat(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            _flat(value[key], f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list) and path.endswith("conditions"):
        out[path] = [_condition_text(c) for c in value] if value else []
    else:
        out[path] = value


def _condition_text(c: Any) -> str:
    if not isinstance(c, dict):
        return str(c)
    value = "" if c.get("value") is None else " " + json.dumps(c["value"], ensure_ascii=False)
    return f"{c.get('field')} {c.get('op')}{value}"


def _step_map(definition: dict) -> dict[str, dict]:
    return {str(st.get("id")): st for st in definition.get("steps", []) if isinstance(st, dict)}


def diff(old: dict, new: dict) -> list[dict]:
    """Field-level changes from `old` to `new` (stored definitions): which setting, which step's
    timing, condition or template, old -> new. Version and history bookkeeping are not changes."""
    changes: list[dict] = []
    top_old = {k: v for k, v in old.items() if k not in (*_BOOKKEEPING, "steps")}
    top_new = {k: v for k, v in new.items() if k not in (*_BOOKKEEPING, "steps")}
    flat_old: dict[str, Any] = {}
    flat_new: dict[str, Any] = {}
    _flat(top_old, "", flat_old)
    _flat(top_new, "", flat_new)
    for key in sorted(flat_old.keys() | flat_new.keys()):
        if flat_old.get(key) != flat_new.get(key):
            changes.append({"field": key, "step": None, "old": flat_old.get(key), "new": flat_new.get(key)})
    steps_old, steps_new = _step_map(old), _step_map(new)
    for step_id in [*steps_old, *(i for i in steps_new if i not in steps_old)]:
        if step_id not in steps_new:
            changes.append({"field": "step removed", "step": step_id, "old": step_id, "new": None})
            continue
        if step_id not in steps_old:
            changes.append({"field": "step added", "step": step_id, "old": None, "new": step_id})
            continue
        a: dict[str, Any] = {}
        b: dict[str, Any] = {}
        _flat({k: v for k, v in steps_old[step_id].items() if k != "id"}, "", a)
        _flat({k: v for k, v in steps_new[step_id].items() if k != "id"}, "", b)
        for key in sorted(a.keys() | b.keys()):
            if a.get(key) != b.get(key):
                changes.append({"field": key, "step": step_id, "old": a.get(key), "new": b.get(key)})
    common = [i for i in steps_old if i in steps_new]
    if common != [i for i in steps_new if i in steps_old]:
        changes.append({"field": "step order", "step": None, "old": common, "new": [i for i in steps_new if i in steps_old]})
    return changes


def history_with_diffs(configs: ConfigStore, workflow_id: str) -> list[dict]:
    """Every version, newest first: who, when and why it was made, and what changed from the one
    before (the first version: nothing to compare with)."""
    versions = registry.history(configs, workflow_id)
    out = []
    for i, version in enumerate(versions):
        made = next((h for h in reversed(version.get("history", [])) if h.get("version") == version["version"]), None)
        older = versions[i + 1] if i + 1 < len(versions) else None
        out.append({"version": version["version"], "enabled": version.get("enabled", True),
                    "at": made["at"] if made else None, "by": made["by"] if made else "default library",
                    "why": made["why"] if made else "the default library",
                    "changes": diff(older, version) if older is not None else []})
    return out


# ---------------------------------------------------------------------------- undo


def undo(configs: ConfigStore, workflow_id: str, expected_version: int | None, by: str, at: datetime) -> Workflow:
    """The version before the latest becomes the latest again (its switch state too), itself a new
    version whose reason is "undo of vN"; refused when someone has changed it since (409)."""
    versions = registry.history(configs, workflow_id)
    latest = versions[0]
    if expected_version is not None and latest["version"] != expected_version:
        raise Conflict(f"v{expected_version} is no longer the latest version (v{latest['version']} is); reload")
    if len(versions) < 2:
        raise Conflict(f"v{latest['version']} is the first version: there is nothing to undo")
    restored = {k: v for k, v in versions[1].items() if k not in _BOOKKEEPING}
    return registry.save(configs, restored, by, f"undo of v{latest['version']}", at)


# ---------------------------------------------------------------------------- test send


def test_contact(s: Services, phone: Any) -> str:
    """The number a test text may go to: only one on the profile's `test_contacts` list, so a
    typed number can never text a patient (or a stranger) an unfinished template."""
    if not isinstance(phone, str) or not phone.strip():
        raise PayloadError("phone: a test contact's number is required")
    try:
        number = to_e164(phone, s.practice.sms.country)
    except InvalidPhone as exc:
        raise PayloadError(f"phone: {exc}") from exc
    allowed = set(s.practice.test_contacts)
    if number not in allowed:
        listed = "none are set" if not allowed else f"{len(allowed)} listed"
        raise PayloadError(f"phone: not one of the practice's test contacts (profile test_contacts; {listed})")
    return number


def test_send(s: Services, workflow_id: str, definition: Any, step_id: Any, language: Any, phone: Any, by: str,
              request_id: str, now: datetime) -> Message:
    """Render one step (of the posted definition, else the stored one) for the sample patient and
    queue it to a test contact through the real send path (queue, sender, consent re-check), filed
    as a test so analytics and the inbox leave it out."""
    number = test_contact(s, phone)
    if language not in LANGUAGES:
        raise PayloadError(f"language: one of {', '.join(LANGUAGES)}")
    wf = workflow_of(definition, workflow_id) if definition is not None else s.workflow(workflow_id)
    if wf is None:
        raise NotFound(f"workflow {workflow_id} not found")
    try:
        step = wf.step(str(step_id))
    except KeyError as exc:
        raise PayloadError(f"step: {str(step_id)[:40]!r} is not a step of {wf.id}") from exc
    if step.action.type != "sms":
        raise PayloadError(f"step: {step.id} is a {step.action.type}, not a text; only texts are test-sent")
    patient, appt = sample_visit(s.practice, now)
    body = render_step_text(s, step.action.template[language], patient, appt, language, now)
    key = f"{wf.id}/{step.id}/{language}/{number}/{request_id}"
    message = Message(
        message_id="t-" + hashlib.sha256(key.encode()).hexdigest()[:20], kind="sms_out", patient_id=None,
        phone=number, body=body, at=now, status=MessageStatus.QUEUED, workflow=TEST_SEND_WORKFLOW,
        step=f"{wf.id}/{step.id}", automated=False, test=True, reason=f"test send by {by}",
    )
    if s.messages.put_message(message):  # a retried request reuses the same message, sent once
        s.outbox.enqueue(message)
    return message
