"""The workflow editor's staff API on moto: the definition, a live preview, a save and a switch
that must say why, the diff in history, undo, a dry run that writes nothing, and a test send that
goes through the SQS send queue and the SMS stand-in to a test contact only; admin only."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

from careloop.models import Appointment, Patient
from careloop.records import ingest

ADMIN = {"email": "admin@maple.test", "cognito:username": "admin", "cognito:groups": ["admin"]}
DESK = {"email": "desk@maple.test", "cognito:username": "desk", "cognito:groups": ["front_desk"]}
TEST_CONTACT = "+16175550909"  # the demo profile's test_contacts
WF = "appointment-reminder"


def staff_api(stack, method: str, proxy: str, body: object = None, claims: dict = ADMIN) -> tuple[int, dict]:
    from careloop_local.events import api_event

    payload = json.dumps(body).encode() if body is not None else b""
    event = api_event(method, f"/api/{proxy}", "/api/{proxy+}", {"Content-Type": "application/json"}, {}, payload,
                      {"proxy": proxy}, claims)
    out = stack.invoke("inbox_api", event)
    return out["statusCode"], json.loads(out["body"])


def _table_counts(ports) -> tuple[int, int]:
    return len(ports.records.all_appointments()), len(ports.messages.messages_of_kind("sms_out"))


def test_admin_edits_previews_saves_with_a_reason_sees_the_diff_and_undoes(stack, ports):
    # Given the stored reminder, as the editor loads it
    status, loaded = staff_api(stack, "GET", f"workflows/{WF}")
    assert status == 200, loaded
    assert loaded["workflow"]["name"] and "first_name" in loaded["template_fields"]
    assert TEST_CONTACT in loaded["test_contacts"] and "is_false" in loaded["condition_ops"]
    definition = copy.deepcopy(loaded["definition"])
    version = definition["version"]

    # When the English text is edited: the preview renders it for the sample patient with its parts
    definition["steps"][0]["action"]["template"]["en"] = "Hi {{ first_name }}, {{ practice_name }} on {{ date_time }}."
    status, shown = staff_api(stack, "POST", f"workflows/{WF}/preview", {"definition": definition})
    assert status == 200 and shown["valid"], shown
    en = next(t for t in shown["steps"][0]["texts"] if t["language"] == "en")
    assert en["text"].startswith("Hi Maria, Maple Family Dental on ") and en["parts"] == 1 and en["encoding"] == "GSM-7"

    # a broken field is named, in the preview and on save (422), and nothing is stored
    broken = copy.deepcopy(definition)
    broken["steps"][0]["timing"]["offset_minutes"] = "soon"
    status, shown = staff_api(stack, "POST", f"workflows/{WF}/preview", {"definition": broken})
    assert status == 200 and not shown["valid"] and "steps.0.timing.offset_minutes" in shown["error"]
    status, answer = staff_api(stack, "PUT", f"workflows/{WF}", {"workflow": broken, "why": "try"})
    assert status == 422 and "steps.0.timing.offset_minutes" in answer["message"]

    # a save without a reason is refused; with one it is a new version
    status, answer = staff_api(stack, "PUT", f"workflows/{WF}", {"workflow": definition})
    assert status == 400 and "why" in answer["message"]
    status, saved = staff_api(stack, "PUT", f"workflows/{WF}", {"workflow": definition, "why": "shorter reminder"})
    assert status == 200 and saved["version"] == version + 1, saved

    # Then history shows who, why and the field that changed
    status, changes = staff_api(stack, "GET", f"workflows/{WF}/changes")
    assert status == 200
    latest = changes["versions"][0]
    assert (latest["version"], latest["by"], latest["why"]) == (version + 1, "admin@maple.test", "shorter reminder")
    assert [(c["step"], c["field"]) for c in latest["changes"]] == [("reminder-48h", "action.template.en")]
    assert latest["changes"][0]["new"] == definition["steps"][0]["action"]["template"]["en"]

    # the switch too asks why, and can be undone
    status, answer = staff_api(stack, "POST", f"workflows/{WF}/enabled", {"enabled": False})
    assert status == 400 and "why" in answer["message"]
    status, off = staff_api(stack, "POST", f"workflows/{WF}/enabled", {"enabled": False, "why": "holiday pause"})
    assert status == 200 and off["enabled"] is False and off["version"] == version + 2
    status, undone = staff_api(stack, "POST", f"workflows/{WF}/undo", {"version": version + 2})
    assert status == 200 and undone["enabled"] is True and undone["version"] == version + 3
    assert undone["history"][-1]["why"] == f"undo of v{version + 2}"
    status, answer = staff_api(stack, "POST", f"workflows/{WF}/undo", {"version": version + 2})
    assert status == 409 and "no longer the latest" in answer["message"]

    # a front-desk user reads the workflow and its history, and may not preview, undo or save
    assert staff_api(stack, "GET", f"workflows/{WF}", claims=DESK)[0] == 200
    assert staff_api(stack, "GET", f"workflows/{WF}/changes", claims=DESK)[0] == 200
    for method, proxy, body in (("POST", f"workflows/{WF}/preview", {"definition": definition}),
                                ("POST", f"workflows/{WF}/undo", {}),
                                ("POST", f"workflows/{WF}/dry-run", {"definition": definition}),
                                ("POST", f"workflows/{WF}/test-send", {"step": "reminder-48h", "phone": TEST_CONTACT})):
        status, answer = staff_api(stack, method, proxy, body, claims=DESK)
        assert status == 403 and "admin" in answer["message"], (proxy, answer)


def test_the_dry_run_lists_tomorrows_texts_and_writes_nothing(stack, ports):
    # Given visits in the coming days (one patient opted out)
    now = stack.clock.now()
    ingest(ports.records, ports.consent,
           [Patient(id="dr1", first_name="Dana", last_name="Reyes", phone="+16175550931", phone_kind="mobile"),
            Patient(id="dr2", first_name="Omar", last_name="Said", phone="+16175550932", phone_kind="mobile",
                    opted_out=True)],
           [Appointment(id="dra1", patient_id="dr1", start=now + timedelta(days=3)),
            Appointment(id="dra2", patient_id="dr2", start=now + timedelta(days=4))], now)
    stack.drain()
    actions_before = {a.action_id: a.status for a in ports.actions.due_actions(now + timedelta(days=30), 2000)}
    counts_before = _table_counts(ports)
    _, loaded = staff_api(stack, "GET", f"workflows/{WF}")
    definition = loaded["definition"]
    definition["steps"][0]["action"]["template"]["en"] = "DRY RUN {{ first_name }} {{ date_time }}"

    # When the edited reminder is dry-run for a week
    status, report = staff_api(stack, "POST", f"workflows/{WF}/dry-run", {"definition": definition, "days": 7})

    # Then Dana gets the edited text and Omar is held by consent
    assert status == 200, report
    rows = {r["appointment_id"]: r for r in report["rows"]}
    assert rows["dra1"]["outcome"] == "send" and rows["dra1"]["text"].startswith("DRY RUN Dana")
    assert rows["dra1"]["patient"] == "Dana R."
    assert (rows["dra2"]["outcome"], rows["dra2"]["gate"]) == ("held", "consent")
    assert report["would_send"] >= 1 and sum(d["count"] for d in report["per_day"]) == report["would_send"]
    # and no table was written: the planned actions and messages are as they were, nothing was queued
    stack.drain()
    assert {a.action_id: a.status for a in ports.actions.due_actions(now + timedelta(days=30), 2000)} == actions_before
    assert _table_counts(ports) == counts_before
    assert not [m for m in stack.standin.outbox() if "DRY RUN" in m["body"]]
    # over the bound is a clear 400
    status, answer = staff_api(stack, "POST", f"workflows/{WF}/dry-run", {"definition": definition, "days": 30})
    assert status == 400 and "days" in answer["message"] and "14" in answer["message"]
    status, answer = staff_api(stack, "POST", f"workflows/{WF}/dry-run", {"definition": "x"})
    assert status == 400 and answer["message"].startswith("definition")


def test_a_test_send_reaches_a_test_contact_through_the_send_queue_and_only_there(stack, ports):
    # When an admin test-sends the Spanish reminder to the practice's test contact
    status, sent = staff_api(stack, "POST", f"workflows/{WF}/test-send",
                             {"step": "reminder-48h", "language": "es", "phone": TEST_CONTACT})
    assert status == 202, sent
    stack.drain()
    # Then the SMS stand-in delivered it there, through the real sender, and it is filed as a test
    delivered = [m for m in stack.standin.outbox() if m["destination"] == TEST_CONTACT]
    assert len(delivered) == 1
    stored = ports.messages.get_message(sent["message_id"])
    assert stored.test is True and stored.status in ("sent", "delivered") and "Maria" in stored.body
    # the inbox does not show it as a conversation, and analytics do not count it
    _, box = staff_api(stack, "GET", "inbox")
    assert not [c for c in box["conversations"] if TEST_CONTACT[-4:] in (c.get("phone_masked") or "")]
    _, summary = staff_api(stack, "GET", "analytics/summary")
    assert "test-send" not in json.dumps(summary)
    # a number not on the list is refused, and nothing goes out
    status, answer = staff_api(stack, "POST", f"workflows/{WF}/test-send",
                               {"step": "reminder-48h", "language": "en", "phone": "+16175550931"})
    assert status == 400 and "test contacts" in answer["message"]
    status, answer = staff_api(stack, "POST", f"workflows/{WF}/test-send", {"step": "reminder-48h", "languge": "en",
                                                                              "phone": TEST_CONTACT})
    assert status == 400 and "languge" in answer["message"]
    stack.drain()
    assert len([m for m in stack.standin.outbox() if m["destination"] == TEST_CONTACT]) == 1
