"""The agent yields to staff, end to end on moto: a staff reply through the inbox_api handler, the
patient's YES through the real sms_inbound handler (left to staff), the hand-back, the agent again;
and an unknown number's thread answered, linked to a patient, and found by phone search."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from careloop.models import Appointment, Patient
from careloop.records import ingest
from tests.integration.conftest import sample, sns_envelope, sqs_records_from_sample

STAFF = {"email": "desk@maple.test", "cognito:username": "desk", "cognito:groups": ["front_desk"]}
PHONE, STRANGER = "+16175550181", "+16175550189"


def staff_api(stack, method: str, proxy: str, body: dict | None = None, query: dict | None = None) -> tuple[int, dict]:
    """The inbox_api handler with the API Gateway event the Cognito-authorised route delivers."""
    from careloop_local.events import api_event

    event = api_event(method, f"/api/{proxy}", "/api/{proxy+}", {"Content-Type": "application/json"},
                      {k: [v] for k, v in (query or {}).items()}, json.dumps(body).encode() if body is not None else b"",
                      {"proxy": proxy}, STAFF)
    out = stack.invoke("inbox_api", event)
    return out["statusCode"], json.loads(out["body"])


def text_in(stack, phone: str, words: str) -> None:
    payload = sample("aws-docs-end-user-messaging/two-way-sms-inbound-payload.json") | {
        "originationNumber": phone, "destinationNumber": stack.res.phone_number, "messageBody": words,
        "inboundMessageId": str(uuid.uuid4())}  # each text its own carrier id
    event = sqs_records_from_sample([sns_envelope(payload, stack.res.topics["sms_inbound"])],
                                    stack.res.queue_arns["inbound"])
    assert stack.invoke("sms_inbound", event) == {"batchItemFailures": []}


def agent_replies(ports, patient_id: str) -> list[str]:
    return [m.body for m in ports.messages.messages_for_patient(patient_id) if m.kind == "sms_out" and m.workflow == "sms-agent"]


def conversation(stack, key: str) -> dict:
    status, answer = staff_api(stack, "GET", "inbox")
    assert status == 200
    return next(c for c in answer["conversations"] if c["patient_id"] == key)


def test_the_agent_leaves_a_staff_conversation_until_handed_back(stack, ports):
    now = stack.clock.now()
    ingest(ports.records, ports.consent,
           [Patient(id="sc1", first_name="James", last_name="Carter", phone=PHONE, phone_kind="mobile")],
           [Appointment(id="sca1", patient_id="sc1", start=now + timedelta(days=2))], now)
    # Given the front desk offered 4 pm by text
    status, _ = staff_api(stack, "POST", "patients/sc1/messages", {"body": "We have 4 pm today instead. Does that work?"})
    assert status == 201
    stack.clock.advance(timedelta(minutes=10))
    # When James answers YES
    text_in(stack, PHONE, "YES")
    # Then the agent says nothing and confirms nothing; the thread waits for the front desk
    assert agent_replies(ports, "sc1") == []
    assert ports.records.get_appointment("sca1").confirmed is False
    conv = conversation(stack, "sc1")
    assert conv["needs_attention"] and conv["last_body"] == "YES"
    assert conv["reason"].startswith("patient replied while staff are in the conversation")
    status, thread = staff_api(stack, "GET", "patients/sc1/messages")
    assert thread["staff_in_conversation"]["by"] == "desk@maple.test"
    # When staff hand it back, the agent answers the next text
    assert staff_api(stack, "POST", "patients/sc1/hand-back", {}) == (200, {"handed_back": True})
    text_in(stack, PHONE, "yes I'll be there")
    assert ports.records.get_appointment("sca1").confirmed is True
    assert agent_replies(ports, "sc1")[-1].startswith("Thanks James, you're confirmed")


def test_an_unknown_number_is_answered_linked_and_found(stack, ports):
    key = f"phone:{STRANGER}"
    text_in(stack, STRANGER, "Hi, can I get a cleaning next week?")
    conv = conversation(stack, key)
    assert conv["needs_attention"] and conv["last_body"] == "Hi, can I get a cleaning next week?"
    status, answer = staff_api(stack, "POST", f"patients/{key}/messages", {"body": "Sure! Who are we speaking with?"})
    assert status == 201, answer
    status, thread = staff_api(stack, "GET", f"patients/{key}/messages")
    assert status == 200 and thread["messages"][-1]["body"] == "Sure! Who are we speaking with?"
    assert [m["kind"] for m in thread["messages"]][:2] == ["sms_in", "staff_alert"]  # the alert after its text
    bodies = [m["body"] for m in thread["messages"] if m["kind"] == "sms_out"]
    assert not any("there." in b for b in bodies)  # the agent's answer reads well without a name
    # Given the patient's record, found by the number in any form
    ports.records.put_patient(Patient(id="sc2", first_name="Rosa", last_name="Diaz", phone="+16175550182"))
    for q in ("(617) 555-0182", "+1 617 555 0182", "6175550182", "0182"):
        assert [p["id"] for p in staff_api(stack, "GET", "patients", query={"q": q})[1]["patients"]] == ["sc2"], q
    # When staff link the number's conversation to her
    assert staff_api(stack, "POST", f"patients/{key}/link", {"patient_id": "sc2"})[1]["patient_id"] == "sc2"
    status, thread = staff_api(stack, "GET", "patients/sc2/messages")
    assert "Hi, can I get a cleaning next week?" in [m["body"] for m in thread["messages"]]
    assert staff_api(stack, "GET", f"patients/{key}/messages")[0] == 404
    assert staff_api(stack, "POST", f"patients/{key}/link", {})[0] == 400
