"""The voice Lambda (functions/voice/handler.py) driven with Lex V2 events of AWS's own sample shape,
against the moto tables: a known caller books and gets the confirmation text, a retried turn
books once, an unknown caller hears nothing about anyone, and bad events get a polite Close."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from careloop.models import Appointment, Patient
from careloop.records import ingest
from careloop.voice import calls
from careloop_local.events import LambdaContext
from tests.unit.test_voice_hook import SAMPLE, lex_event, slot

CALLER, STRANGER = "+16175550141", "+16175550142"


@pytest.fixture(scope="module")
def voice(stack):
    return stack.handler("voice")


@pytest.fixture(scope="module")
def caller(stack):
    from careloop.adapters.aws import services

    ports, now = services(), stack.clock.now()
    ingest(ports.records, ports.consent,
           [Patient(id="vc1", first_name="Marta", last_name="Solis", phone=CALLER, birth_date=date(1980, 4, 3))],
           [Appointment(id="vcA", patient_id="vc1", start=now + timedelta(days=20), provider="lee", location="main",
                        visit_type="exam")], now)
    stack.drain()
    return "vc1"


def _next_monday(stack) -> date:
    today = stack.clock.now().date()
    return today + timedelta(days=7 - today.weekday() + 7)  # the Monday after next: inside the horizon, past the lead time


def turn(voice, intent, transcript, slots=None, **kw):
    return voice(lex_event(intent, transcript, slots, **kw), LambdaContext("voice"))


def test_a_known_caller_books_through_the_handler_and_gets_one_confirmation_text(stack, ports, voice, caller):
    monday = _next_monday(stack).isoformat()
    slots = {"VisitType": slot("cleaning"), "Date": slot(monday)}
    offer = turn(voice, "BookAppointment", "I need a cleaning", slots, caller=CALLER, contact="it-voice-1")
    assert offer["sessionState"]["dialogAction"] == {"type": "ConfirmIntent"}
    attrs = offer["sessionState"]["sessionAttributes"]
    assert {"callerNumber", "practiceNumber", "contactId", "careloopOffer"} <= set(attrs)
    yes = lex_event("BookAppointment", "yes", offer["sessionState"]["intent"]["slots"], confirmation="Confirmed",
                    attrs=attrs, caller=CALLER, contact="it-voice-1")
    done = voice(yes, LambdaContext("voice"))
    again = voice(json.loads(json.dumps(yes)), LambdaContext("voice"))  # Lex retried the turn
    for answer in (done, again):
        assert answer["sessionState"]["dialogAction"]["type"] == "Close"
        assert answer["sessionState"]["sessionAttributes"]["careloopOutcome"] == "booked"
    booked = [a for a in ports.records.appointments_for_patient(caller) if a.source == "careloop"]
    offered = datetime.fromisoformat(json.loads(attrs["careloopOffer"])["start"])
    assert len(booked) == 1 and booked[0].start == offered and offered.date().isoformat() == monday
    stack.drain()
    texts = [m for m in stack.standin.outbox() if m["destination"] == CALLER]
    assert len(texts) == 1 and "you're booked" in texts[0]["body"]
    # and the call's one inbox entry, on Marta's thread, read back from DynamoDB with its turns
    entry = calls.finish_call(ports, contact_id="it-voice-1", caller_phone=CALLER, outcome=None, reached_agent=False,
                              started_at=None, ended_at=datetime.now().astimezone())
    from careloop import inbox

    (call,) = [m for m in inbox.thread(ports, caller)["messages"] if m["kind"] == "call"]
    assert call["message_id"] == entry.message_id and call["call"]["outcome"] == "booked"
    assert [t["caller"] for t in call["call"]["turns"]] == ["I need a cleaning", "yes", "yes"]


def test_an_unknown_caller_is_asked_who_they_are_and_hears_nothing_about_anyone(stack, voice, caller):
    answer = turn(voice, "ConfirmAppointment", "when is my appointment", caller=STRANGER, contact="it-voice-2",
                  locale="es_US")
    assert answer["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "FirstName"}
    said = answer["messages"][0]["content"]
    assert "privacidad" in said and "Marta" not in said and "examen" not in said


def test_the_aws_sample_event_as_it_is_gets_a_standard_lex_answer(voice, caller):
    # an intent this bot does not have, the sample's session attributes: the fallback's handling
    answer = voice(json.loads(json.dumps(SAMPLE)), LambdaContext("voice"))
    assert answer["sessionState"]["dialogAction"]["type"] in ("Close", "ElicitIntent")
    assert answer["messages"][0]["contentType"] in ("PlainText", "SSML")
    assert answer["sessionState"]["sessionAttributes"]["sessionattribute1"] == "sessionvalue1"  # kept


@pytest.mark.parametrize("event", ["not json", {"sessionState": {"intent": {}}}, {"messageVersion": "1.0"}])
def test_a_bad_event_gets_a_polite_close_and_a_warning_without_phi(voice, caplog, event):
    answer = voice(event, LambdaContext("voice"))
    assert answer["sessionState"]["dialogAction"] == {"type": "Close"}
    assert "Sorry" in answer["messages"][0]["content"]
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert warning.getMessage() == "unreadable Lex event" and warning.reason  # names the field


def _logged(caplog) -> str:
    return " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)


def test_a_failing_turn_is_an_apology_to_lex_and_the_log_names_only_the_error_type(voice, ports, caplog, monkeypatch):
    def broken(*_a, **_kw):
        raise RuntimeError("Marta Solis +16175550141")  # what an error message might carry

    monkeypatch.setattr(ports.records, "patients_by_phone", broken)
    answer = turn(voice, "ConfirmAppointment", "confirm my appointment for Marta", caller=CALLER, contact="it-voice-3")
    assert answer["sessionState"]["dialogAction"] == {"type": "Close"}
    logged = _logged(caplog)
    assert "RuntimeError" in logged and "Marta" not in logged and CALLER not in logged
