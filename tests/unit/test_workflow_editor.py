"""The workflow editor's core: the live preview and its part count, field-level diffs, undo, the
dry run on the practice's schedule (core planner and dispatcher, scratch stores) and test sends."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest

from careloop.errors import ConfigError, Conflict, PayloadError
from careloop.models import Appointment, Patient
from careloop.records import ingest
from careloop.workflows import editor, registry
from careloop.workflows.dryrun import MAX_DAYS, dry_run
from tests.conftest import NY

AT = datetime(2026, 12, 1, 9, tzinfo=NY)


def _reminder(svc) -> dict:
    return copy.deepcopy(svc.workflow("appointment-reminder").model_dump(mode="json"))


# ---------------------------------------------------------------------------- preview


def test_preview_renders_both_languages_with_parts_and_changes_with_the_text(svc):
    # Given the stored reminder
    definition = _reminder(svc)
    # When previewed for the sample patient
    out = editor.preview(svc, "appointment-reminder", definition, None, AT)
    # Then each language is rendered by the dispatcher's renderer, with a GSM-7 part count
    assert out["valid"] is True and out["patient"] == {"kind": "sample", "name": "Maria G."}
    texts = {t["language"]: t for t in out["steps"][0]["texts"]}
    assert set(texts) == {"en", "es"}
    assert "Maria" in texts["en"]["text"] and "{{" not in texts["en"]["text"]
    assert texts["en"]["encoding"] == "GSM-7" and texts["en"]["parts"] >= 1
    # When the English text becomes long and carries an emoji
    definition["steps"][0]["action"]["template"]["en"] = "Hi {{ first_name }} 🦷 " + "see you soon, " * 12
    out = editor.preview(svc, "appointment-reminder", definition, None, AT)
    en = next(t for t in out["steps"][0]["texts"] if t["language"] == "en")
    # Then the count follows UCS-2 and the step's budget is flagged
    assert en["encoding"] == "UCS-2" and en["parts"] > editor.PART_BUDGET
    assert en["warning"] and str(en["parts"]) in en["warning"]


def test_preview_of_a_broken_template_names_the_field_and_still_renders_the_rest(svc):
    definition = _reminder(svc)
    definition["steps"][0]["action"]["template"]["es"] = "Hola {{ frist_name }}"
    out = editor.preview(svc, "appointment-reminder", definition, None, AT)
    assert out["valid"] is False and "frist_name" in out["error"] and "template" in out["error"]
    texts = {t["language"]: t for t in out["steps"][0]["texts"]}
    assert "text" in texts["en"] and "frist_name" in texts["es"]["error"]


def test_preview_for_a_named_patient_uses_their_next_visit(svc):
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", last_name="Lopez", phone="+16175550101")],
           [Appointment(id="a1", patient_id="p1", start=AT + timedelta(days=3))], AT)
    out = editor.preview(svc, "appointment-reminder", _reminder(svc), "p1", AT)
    en = next(t for t in out["steps"][0]["texts"] if t["language"] == "en")
    assert out["patient"]["name"] == "Ana L." and "Ana" in en["text"]
    assert out["appointment"] == (AT + timedelta(days=3)).isoformat()


# ---------------------------------------------------------------------------- diff, history, undo


def test_diff_names_the_step_template_and_timing_that_changed():
    old = {"id": "w", "name": "W", "version": 1, "history": [], "enabled": True, "trigger": {"on": "appointment_booked"},
           "steps": [{"id": "s1", "timing": {"anchor": "start", "offset_minutes": -2880},
                      "action": {"type": "sms", "template": {"en": "old", "es": "viejo"}}}]}
    new = copy.deepcopy(old) | {"version": 2, "history": [{"version": 2}]}
    new["steps"][0]["timing"]["offset_minutes"] = -1440
    new["steps"][0]["action"]["template"]["es"] = "nuevo"
    new["steps"].append({"id": "s2", "timing": {"anchor": "trigger", "offset_minutes": 0},
                         "action": {"type": "task", "template": {"en": "call"}}})
    new["enabled"] = False
    changes = editor.diff(old, new)
    assert {"field": "timing.offset_minutes", "step": "s1", "old": -2880, "new": -1440} in changes
    assert {"field": "action.template.es", "step": "s1", "old": "viejo", "new": "nuevo"} in changes
    assert {"field": "step added", "step": "s2", "old": None, "new": "s2"} in changes
    assert {"field": "enabled", "step": None, "old": True, "new": False} in changes
    assert not any(c["field"] in ("version", "history") for c in changes)
    assert editor.diff(old, old) == []


def test_history_shows_who_when_why_and_the_diff_and_undo_restores_the_previous_version(svc):
    definition = _reminder(svc)
    definition["steps"][0]["action"]["template"]["en"] = "Hi {{ first_name }}, see you {{ date_time }}."
    registry.save(svc.configs, definition, "admin@x.test", "shorter", AT)
    registry.set_enabled(svc.configs, "appointment-reminder", False, "admin@x.test", "pause for the holidays", AT)
    versions = editor.history_with_diffs(svc.configs, "appointment-reminder")
    assert [(v["version"], v["by"], v["why"]) for v in versions[:2]] == [
        (3, "admin@x.test", "pause for the holidays"), (2, "admin@x.test", "shorter")]
    assert versions[0]["changes"] == [{"field": "enabled", "step": None, "old": True, "new": False}]
    assert [(c["field"], c["step"], c["new"]) for c in versions[1]["changes"]] == [
        ("action.template.en", "reminder-48h", "Hi {{ first_name }}, see you {{ date_time }}.")]
    assert versions[-1]["changes"] == [] and versions[-1]["version"] == 1
    # When the switch-off is undone
    restored = editor.undo(svc.configs, "appointment-reminder", 3, "admin@x.test", AT)
    # Then v4 is v2 again, itself recorded with its reason
    assert (restored.version, restored.enabled, restored.history[-1].why) == (4, True, "undo of v3")
    assert restored.steps[0].action.template["en"] == "Hi {{ first_name }}, see you {{ date_time }}."
    # and undoing a version that is no longer the latest is refused
    with pytest.raises(Conflict, match="v3 is no longer the latest"):
        editor.undo(svc.configs, "appointment-reminder", 3, "admin@x.test", AT)


def test_the_first_version_has_nothing_to_undo(svc):
    with pytest.raises(Conflict, match="nothing to undo"):
        editor.undo(svc.configs, "appointment-reminder", None, "admin@x.test", AT)


# ---------------------------------------------------------------------------- dry run


def _schedule(svc):
    patients = [Patient(id="p1", first_name="Ana", last_name="Lopez", phone="+16175550101"),
                Patient(id="p2", first_name="Ben", last_name="Ng", phone="+16175550102", language="es"),
                Patient(id="p3", first_name="Cy", last_name="Out", phone="+16175550103", opted_out=True)]
    appts = [Appointment(id="a1", patient_id="p1", start=AT + timedelta(days=3, hours=1)),
             Appointment(id="a2", patient_id="p2", start=AT + timedelta(days=5)),
             Appointment(id="a3", patient_id="p3", start=AT + timedelta(days=4)),
             Appointment(id="a4", patient_id="p1", start=AT + timedelta(days=30))]
    ingest(svc.records, svc.consent, patients, appts, AT)


def test_dry_run_lists_who_gets_what_and_what_holds_it_without_writing(svc):
    # Given upcoming visits (one patient opted out, one visit beyond the window)
    _schedule(svc)
    actions_before = dict(svc.actions.actions)
    messages_before = dict(svc.messages.messages)
    definition = _reminder(svc)
    definition["steps"][0]["action"]["template"]["en"] = "DRY {{ first_name }}: {{ date_time }}"
    # When the edited reminder is dry-run for 7 days
    report = dry_run(svc, "appointment-reminder", definition, 7, AT)
    # Then Ana and Ben get the edited text in their language, Cy is held by consent, a4 is not there
    rows = {r["appointment_id"]: r for r in report["rows"]}
    assert set(rows) == {"a1", "a2", "a3"}
    assert rows["a1"]["outcome"] == "send" and rows["a1"]["text"].startswith("DRY Ana:")
    assert rows["a1"]["patient"] == "Ana L." and rows["a1"]["at_text"].endswith("ET")
    assert rows["a2"]["outcome"] == "send" and "DRY" not in rows["a2"]["text"]  # Spanish template unchanged
    assert (rows["a3"]["outcome"], rows["a3"]["gate"]) == ("held", "consent")
    assert report["per_step"] == [{"step": "reminder-48h", "count": 2}] and report["would_send"] == 2
    assert sum(d["count"] for d in report["per_day"]) == 2 and report["held"] == [{"gate": "consent", "count": 1}]
    # and nothing was sent, planned or stored
    assert svc.outbox.sent == []
    assert dict(svc.actions.actions) == actions_before and dict(svc.messages.messages) == messages_before


def test_dry_run_holds_a_text_due_in_quiet_hours_until_morning(svc):
    # a visit at 08:00 two days out: its 48-hour reminder falls due at 08:00, inside the window
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", phone="+16175550101")],
           [Appointment(id="a1", patient_id="p1", start=AT.replace(hour=6) + timedelta(days=4))], AT)
    report = dry_run(svc, "appointment-reminder", _reminder(svc), 7, AT)
    (row,) = report["rows"]
    assert row["outcome"] == "send" and row["reason"] == "moved by quiet hours"
    assert datetime.fromisoformat(row["at"]).astimezone(NY).hour == svc.practice.quiet_hours.opens.hour


def test_dry_run_of_a_chained_step_runs_its_trigger_first(svc):
    _schedule(svc)
    nudge = copy.deepcopy(svc.workflow("confirmation-nudge").model_dump(mode="json"))
    report = dry_run(svc, "confirmation-nudge", nudge, 7, AT)
    sent = [r for r in report["rows"] if r["outcome"] == "send"]
    assert {r["appointment_id"] for r in sent} == {"a1", "a2"} and all(r["step"] == "nudge-24h" for r in sent)


def test_dry_run_is_bounded_and_validates_the_definition(svc):
    with pytest.raises(PayloadError, match=f"1 to {MAX_DAYS}"):
        dry_run(svc, "appointment-reminder", _reminder(svc), MAX_DAYS + 1, AT)
    broken = _reminder(svc)
    broken["steps"][0]["timing"]["anchor"] = "later"
    with pytest.raises(ConfigError, match=r"steps\.0\.timing\.anchor"):
        dry_run(svc, "appointment-reminder", broken, 7, AT)


# ---------------------------------------------------------------------------- test send


def test_a_test_send_goes_only_to_a_test_contact_and_is_marked(svc):
    svc.practice = svc.practice.model_copy(update={"test_contacts": ("+16175550909",)})
    with pytest.raises(PayloadError, match="test contacts"):
        editor.test_send(svc, "appointment-reminder", None, "reminder-48h", "en", "+16175550101", "a", "r1", AT)
    msg = editor.test_send(svc, "appointment-reminder", None, "reminder-48h", "es", "(617) 555-0909", "a", "r1", AT)
    assert (msg.phone, msg.test, msg.workflow, msg.step) == (
        "+16175550909", True, editor.TEST_SEND_WORKFLOW, "appointment-reminder/reminder-48h")
    assert "Maria" in msg.body and svc.outbox.sent == [msg]
    # a retried request is one text
    editor.test_send(svc, "appointment-reminder", None, "reminder-48h", "es", "+16175550909", "a", "r1", AT)
    assert len(svc.outbox.sent) == 1
    with pytest.raises(PayloadError, match="^phone: "):
        editor.test_send(svc, "appointment-reminder", None, "reminder-48h", "en", "call me", "a", "r3", AT)
    with pytest.raises(PayloadError, match="not a step"):
        editor.test_send(svc, "appointment-reminder", None, "nope", "en", "+16175550909", "a", "r2", AT)


# ---------------------------------------------------------------------------- cards in words


def test_cards_name_steps_and_when_they_start_not_ids(svc):
    from careloop import inbox

    cards = {c["id"]: c for c in inbox.workflows(svc)}
    reminder, nudge = cards["appointment-reminder"], cards["confirmation-nudge"]
    assert reminder["starts"] == "2 days before a visit"
    assert reminder["steps"][0]["name"] == "Reminder 2 days before"
    assert reminder["steps"][0]["first_words"].startswith("Hi [first name], this is [practice name].")
    assert "{{" not in reminder["steps"][0]["first_words"]
    # a chained trigger is told by the names of what it follows, not workflow/step ids
    assert nudge["trigger"] == "“Reminder 2 days before” of Appointment reminder was sent"
    assert "reminder-48h" not in nudge["trigger"] and "reminder-48h" not in nudge["starts"]
    assert cards["no-show-recovery"]["starts"] == "1 h after a visit is marked no-show"
