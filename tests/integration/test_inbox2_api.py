"""The rest of the inbox through the inbox_api handler on moto: assign and unassign, team views,
an internal note that never reaches the SMS stand-in, unread per staff user, saved replies."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from careloop.models import Patient
from careloop.records import ingest
from tests.integration.conftest import sample, sns_envelope, sqs_records_from_sample

DESK = {"email": "desk@maple.test", "cognito:username": "desk", "cognito:groups": ["front_desk"]}
NURSE = {"email": "nurse@maple.test", "cognito:username": "nurse", "cognito:groups": ["front_desk"]}  # a second desk user
PHONE, LUIS = "+16175550171", "+16175550172"


def staff_api(stack, method: str, proxy: str, body: dict | None = None, query: dict | None = None,
              who: dict = DESK) -> tuple[int, dict]:
    """The inbox_api handler with the API Gateway event the Cognito-authorised route delivers."""
    from careloop_local.events import api_event

    event = api_event(method, f"/api/{proxy}", "/api/{proxy+}", {"Content-Type": "application/json"},
                      {k: [v] for k, v in (query or {}).items()}, json.dumps(body).encode() if body is not None else b"",
                      {"proxy": proxy}, who)
    out = stack.invoke("inbox_api", event)
    return out["statusCode"], json.loads(out["body"])


def text_in(stack, phone: str, words: str) -> None:
    payload = sample("aws-docs-end-user-messaging/two-way-sms-inbound-payload.json") | {
        "originationNumber": phone, "destinationNumber": stack.res.phone_number, "messageBody": words,
        "inboundMessageId": str(uuid.uuid4())}
    event = sqs_records_from_sample([sns_envelope(payload, stack.res.topics["sms_inbound"])],
                                    stack.res.queue_arns["inbound"])
    assert stack.invoke("sms_inbound", event) == {"batchItemFailures": []}


def listed(stack, view: str = "all", who: dict = DESK) -> dict[str, dict]:
    status, answer = staff_api(stack, "GET", "inbox", query={"view": view}, who=who)
    assert status == 200
    return {c["patient_id"]: c for c in answer["conversations"]}


def test_assign_view_note_unread_and_saved_replies_through_the_api(stack, ports):
    now = stack.clock.now()
    ingest(ports.records, ports.consent,
           [Patient(id="ib1", first_name="Maya", last_name="Chen", phone=PHONE, phone_kind="mobile"),
            Patient(id="ib2", first_name="Luis", last_name="Soto", phone=LUIS, phone_kind="mobile", language="es")],
           [], now)
    text_in(stack, PHONE, "Can I bring my daughter to the visit?")
    text_in(stack, LUIS, "I have crushing chest pain and can't breathe")
    stack.drain()

    # the assignable staff include the signed-in user
    status, staff = staff_api(stack, "GET", "assignees")
    assert status == 200 and staff["me"] == "desk@maple.test" and "desk@maple.test" in staff["staff"]
    # assign Maya's conversation to the desk user: it shows in their "Mine", not in "Unassigned"
    assert staff_api(stack, "POST", "patients/ib1/assign", {"assignee": "desk@maple.test"}) == (
        200, {"patient_id": "ib1", "assignee": "desk@maple.test"})
    assert "ib1" in listed(stack, "mine") and "ib1" not in listed(stack, "unassigned")
    assert "ib1" not in listed(stack, "mine", who=NURSE)
    assert staff_api(stack, "GET", "patients/ib1/messages")[1]["assignee"] == "desk@maple.test"
    # a stranger cannot be assigned, and a bad view or body is a 400 naming the problem
    status, answer = staff_api(stack, "POST", "patients/ib1/assign", {"assignee": "someone@else.test"})
    assert status == 400 and answer["message"].startswith("assignee")
    assert staff_api(stack, "POST", "patients/ib1/assign", {"assignee": 7})[0] == 400
    status, answer = staff_api(stack, "GET", "inbox", query={"view": "nope"})
    assert status == 400 and answer["message"].startswith("view: one of")
    # Luis's urgent symptom is clinical and urgent
    assert "ib2" in listed(stack, "urgent") and "ib2" in listed(stack, "clinical") and "ib1" not in listed(stack, "urgent")

    # a note: in the thread with its author, never sent
    before = len(stack.standin.outbox())
    status, answer = staff_api(stack, "POST", "patients/ib1/notes", {"body": "Daughter is 6, fine to bring"})
    assert status == 201
    stack.drain()
    assert [m for m in stack.standin.outbox()[before:] if m["destination"] == PHONE] == []
    notes = [m for m in staff_api(stack, "GET", "patients/ib1/messages")[1]["messages"] if m["kind"] == "note"]
    assert [(n["body"], n["author"]) for n in notes] == [("Daughter is 6, fine to bring", "desk@maple.test")]
    assert staff_api(stack, "POST", "patients/ib1/notes", {"body": " "})[0] == 400

    # unread: per staff user, until the patient writes again
    assert listed(stack)["ib1"]["unread"] and listed(stack, who=NURSE)["ib1"]["unread"]
    stack.clock.advance(timedelta(minutes=1))
    assert staff_api(stack, "POST", "patients/ib1/read", {})[0] == 200
    assert not listed(stack)["ib1"]["unread"] and listed(stack, who=NURSE)["ib1"]["unread"]
    stack.clock.advance(timedelta(minutes=1))
    text_in(stack, PHONE, "Great, thanks!")
    assert listed(stack)["ib1"]["unread"]

    # saved replies in the patient's language
    status, replies = staff_api(stack, "GET", "patients/ib2/saved-replies")
    assert status == 200 and replies["language"] == "es" and replies["replies"][0]["body"].startswith("Hola Luis")
    assert staff_api(stack, "GET", "patients/nobody/saved-replies")[0] == 404

    # unassign
    assert staff_api(stack, "POST", "patients/ib1/assign", {"assignee": None})[1]["assignee"] is None
    assert "ib1" in listed(stack, "unassigned")
