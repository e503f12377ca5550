"""Missed-call text-back through the local stack as in AWS: Connect stand-in -> EventBridge rule
(moto) -> voice_events handler -> send queue -> SMS stand-in; and the /dev/connect, /dev/voice routes."""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request

import pytest

from careloop.consent import ConsentEntry, record
from careloop.models import Patient
from careloop.records import ingest
from careloop.voice import calls
from tests.conftest import DATA
from tests.connect_samples import missed_call_event, published_event

ANA, BO, STRANGER, STOPPED = "+16175550161", "+16175550162", "+16175550163", "+16175550164"


def _post(base: str, path: str, body) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def people(stack):
    from careloop.adapters.aws import services

    svc = services()
    ingest(svc.records, svc.consent, [
        Patient(id="p-ana", first_name="Ana", last_name="Reyes", phone=ANA, phone_kind="mobile", language="es"),
        Patient(id="p-bo", first_name="Bo", last_name="Lee", phone=BO, phone_kind="mobile"),
        Patient(id="p-st", first_name="Stan", last_name="Opt", phone=STOPPED, phone_kind="mobile"),
    ], [], svc.clock.now())
    record(svc.consent, svc.records, ConsentEntry(phone=STOPPED, action="opt_out", at=svc.clock.now(), source="sms",
                                                  words="STOP"))
    stack.drain()
    return svc


def _texts_to(stack, phone):
    return [m for m in stack.standin.outbox() if m["destination"] == phone]


def test_a_missed_call_is_texted_back_once_through_the_send_queue(stack, served, people):
    # Given Ana's call reached the flow and she hung up before anything was done
    stack.connect.start_call("it-c1", ANA, "+16175550100", {"careloopLocale": "es_US"})
    # When she hangs up (and EventBridge delivers the event twice)
    status, ended = _post(served, "/dev/voice/hangup", {"call": "it-c1"})
    stack.put_contact_event(stack.connect.events[-1])
    stack.drain()
    # Then one Spanish text with her personal link reached the SMS stand-in, and the call is on her thread
    assert status == 200 and ended["outcome"] == "missed" and ended["eventType"] == "DISCONNECTED"
    (text,) = _texts_to(stack, ANA)
    assert text["body"].startswith("Sentimos no haber atendido su llamada") and "/b/" in text["body"]
    entry = people.messages.get_message(calls.entry_id("it-c1"))
    assert entry.patient_id == "p-ana" and entry.outcome == "missed"
    # And a second missed call the same day sends nothing
    stack.connect.start_call("it-c2", ANA, "+16175550100")
    _post(served, "/dev/voice/hangup", {"call": "it-c2"})
    assert len(_texts_to(stack, ANA)) == 1 and stack.dead_letters == []


def test_an_opted_out_caller_gets_no_text(stack, served, people):
    stack.connect.start_call("it-c3", STOPPED, "+16175550100")
    status, ended = _post(served, "/dev/voice/hangup", {"call": "it-c3"})
    assert status == 200 and ended["outcome"] == "missed" and _texts_to(stack, STOPPED) == []


def test_a_call_a_person_answered_gets_no_text(stack, served, people):
    stack.connect.start_call("it-c4", BO, "+16175550100")
    stack.connect.connect_agent("it-c4")
    _, ended = _post(served, "/dev/voice/hangup", {"call": "it-c4"})
    assert ended["outcome"] == "transferred" and _texts_to(stack, BO) == []


def test_the_published_sample_and_its_contact_go_through_dev_connect_event(stack, served, people):
    # Given AWS's own sample, as published (not strict JSON: sent as it is), and its contact
    contact = {"Id": "11111111-1111-1111-1111-111111111111", "Channel": "VOICE", "InitiationMethod": "OUTBOUND",
               "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": BO},
               "AgentInfo": {"Id": "agent-1", "ConnectedToAgentTimestamp": "2021-08-04T17:29:09Z"},
               "InitiationTimestamp": "2021-08-04T17:17:53Z", "DisconnectTimestamp": "2021-08-04T17:18:37Z"}
    status, body = _post(served, "/dev/connect/event", {"event": published_event(), "contact": contact})
    # Then the call is recorded on Bo's thread and nobody is texted (a person took it, and we called)
    assert status == 202 and body == {"contactId": contact["Id"], "eventType": "DISCONNECTED"}
    entry = people.messages.get_message(calls.entry_id(contact["Id"]))
    assert entry.patient_id == "p-bo" and entry.reached_agent and _texts_to(stack, BO) == []


def test_an_unknown_caller_via_dev_connect_event_gets_the_practices_link(stack, served, people):
    instance = stack.connect.instance_id
    event = missed_call_event("it-c5", instance)
    contact = {"Id": "it-c5", "Channel": "VOICE", "InitiationMethod": "INBOUND",
               "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": STRANGER},
               "Attributes": {"careloopOutcome": "callback"}}
    status, _ = _post(served, "/dev/connect/event", {"event": event, "contact": contact})
    (text,) = _texts_to(stack, STRANGER)
    assert status == 202 and text["body"].startswith("Sorry we missed your call")
    assert people.messages.get_message(calls.entry_id("it-c5")).outcome == "callback"


def test_a_bad_event_is_a_warning_and_a_dead_letter_not_lost(stack, people, caplog):
    # Given an event whose contact DescribeContact does not know
    event = missed_call_event("it-nobody", stack.connect.instance_id)
    # When EventBridge delivers it
    stack.put_contact_event(event)
    stack.drain()
    # Then it is kept (the dead letters stand for the rule's DLQ) after the retries, and no PHI was logged
    assert stack.dead_letters[-1]["function"] == "voice_events"
    assert ANA not in caplog.text


@pytest.mark.parametrize(("path", "body", "problem"), [
    ("/dev/connect/event", b"not json", "expected JSON"),
    ("/dev/connect/event", {"event": {}, "contact": {"Id": "x"}}, "event: the contact event has no detail"),
    ("/dev/connect/event", {"event": "DISCONNECTED", "contact": {}}, "expected JSON"),
    ("/dev/voice/hangup", {"call": "never-started"}, "no such call"),
    ("/dev/voice/hangup", {}, "call: expected a call id"),
    ("/dev/voice/say", {"call": "c-x", "from": "not a number", "text": "hi"}, "from:"),
    ("/dev/voice/say", {"call": "c-x", "from": ANA, "text": ""}, "text:"),
    ("/dev/voice/say", {"call": "c-x", "from": ANA, "text": "hi", "locale": "fr_FR"}, "locale:"),
    ("/dev/voice/say", [1, 2], "expected JSON"),
    ("/dev/voice/lex", {"hello": 1}, "Lex V2 code-hook event"),
])
def test_bad_bodies_are_refused_naming_the_problem(served, people, path, body, problem):
    status, answer = _post(served, path, body)
    assert status in (400, 404) and problem in answer["message"]


def test_a_contact_that_is_not_the_events_is_refused(served, people, stack):
    event = copy.deepcopy(missed_call_event("it-c6", stack.connect.instance_id))
    status, answer = _post(served, "/dev/connect/event", {"event": event, "contact": {"Id": "other"}})
    assert status == 400 and "contact.Id" in answer["message"]


def test_dev_voice_lex_answers_exactly_what_the_voice_function_returns(stack, served, people):
    # Given the Lex V2 sample event, as a caller's turn on Bo's call
    event = json.loads((DATA / "aws-lambda-dotnet-events" / "lexv2-event.json").read_text(encoding="utf-8-sig"))
    event["sessionState"]["sessionAttributes"] = {"callerNumber": BO, "practiceNumber": "+16175550100",
                                                  "contactId": "it-lex-1"}
    event["sessionState"]["intent"] = {"name": "OfficeHours", "slots": {}, "state": "InProgress",
                                       "confirmationState": "None"}
    event["inputTranscript"] = "what are your hours"
    # When it is posted to the sandbox
    status, answer = _post(served, "/dev/voice/lex", event)
    # Then the answer is a Lex V2 response from the code hook
    assert status == 200 and answer["sessionState"]["dialogAction"]["type"] == "Close"
    assert answer["sessionState"]["sessionAttributes"]["careloopOutcome"] == "answered"
    assert answer["messages"] and answer["messages"][0]["contentType"] in ("PlainText", "SSML")


def test_careloop_call_is_a_text_console_to_the_agent(served, people, monkeypatch, capsys):
    import io

    from careloop_local.cli import main

    # Given a person typing what a caller says
    monkeypatch.setattr("sys.stdin", io.StringIO("what are your hours?\n"))
    # When they run `careloop call` against the running stack
    assert main(["call", "--from", BO, "--endpoint", served]) == 0
    # Then the agent's reply is printed, and the call ends with its outcome
    out = capsys.readouterr().out
    assert "agent> " in out and "(call ended: answered)" in out


def test_the_handler_warns_with_ids_only_and_raises_so_lambda_retries_then_the_dlq(stack, people):
    import logging

    from careloop.voice.contact import ContactEventError

    class Keep(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    kept = Keep()
    powertools = logging.getLogger("careloop")  # the functions' Logger (POWERTOOLS_SERVICE_NAME)
    powertools.addHandler(kept)
    try:
        # Given an event whose contact DescribeContact does not know
        event = missed_call_event("it-unknown-2", stack.connect.instance_id)
        # When the function is invoked with it (EventBridge's asynchronous invoke)
        with pytest.raises(ContactEventError):
            stack.invoke("voice_events", event)
    finally:
        powertools.removeHandler(kept)
    # Then one WARNING names the event and the reason, and nothing about the caller
    (warning,) = [r for r in kept.records if r.getMessage() == "unreadable contact event"]
    assert warning.levelname == "WARNING" and warning.event_id == event["id"] and "no such contact" in warning.reason
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in kept.records)
    assert not any(phone in logged for phone in (ANA, BO, STRANGER, STOPPED))


def test_the_wiring_tables_rule_passes_only_disconnected_events_on(stack, people, monkeypatch):
    from careloop import wiring

    # Given the rule the stack declares (the wiring table's contact-event source)
    assert wiring.by_name("voice_events").source.event_types == ("DISCONNECTED",)
    invoked: list[str] = []
    real = stack.invoke

    def counting(name, event):
        if name == "voice_events":
            invoked.append(event["detail"]["eventType"])
        return real(name, event)

    monkeypatch.setattr(stack, "invoke", counting)
    # When a call starts (INITIATED, CONNECTED_TO_SYSTEM) and ends (DISCONNECTED)
    stack.connect.start_call("it-rule", BO, "+16175550100")
    stack.drain()
    assert invoked == []
    stack.connect.hang_up("it-rule")
    stack.drain()
    # Then only the end reached the function
    assert invoked == ["DISCONNECTED"]


def test_dev_connect_event_takes_the_sample_as_published_trailing_comma_and_all(stack, served, people):
    from tests.connect_samples import SAMPLE

    # Given a body that embeds AWS's sample text as published (not strict JSON)
    contact = {"Id": "11111111-1111-1111-1111-111111111111", "InitiationMethod": "OUTBOUND",
               "CustomerEndpoint": {"Address": BO}, "AgentInfo": {"Id": "agent-1"}}
    body = '{"event": ' + SAMPLE.read_text(encoding="utf-8") + ', "contact": ' + json.dumps(contact) + "}"
    # When it is posted
    status, answer = _post(served, "/dev/connect/event", body.encode())
    # Then it is read and delivered
    assert status == 202 and answer["eventType"] == "DISCONNECTED"


def test_dev_connect_event_reads_the_contacts_keys_in_any_case(stack, served, people):
    # Given a contact written with the keys in lower case ("id", as AWS's samples mix cases)
    instance = stack.connect.instance_id
    event = missed_call_event("it-lower", instance)
    contact = {"id": "it-lower", "channel": "VOICE", "initiationMethod": "INBOUND",
               "customerEndpoint": {"type": "TELEPHONE_NUMBER", "address": STRANGER},
               "attributes": {"careloopOutcome": "unresolved"}}
    # When it goes through /dev/connect/event
    status, body = _post(served, "/dev/connect/event", {"event": event, "contact": contact})
    # Then it is the event's contact, read as DescribeContact spells it: the caller is texted back
    assert status == 202 and body == {"contactId": "it-lower", "eventType": "DISCONNECTED"}
    (text,) = _texts_to(stack, STRANGER)
    assert text["body"].startswith("Sorry we missed your call")
    assert people.messages.get_message(calls.entry_id("it-lower")).outcome == "unresolved"
