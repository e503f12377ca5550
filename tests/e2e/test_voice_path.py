"""The voice agent over HTTP against `careloop local` (issue 13, "Done when"): a known caller
confirms; a caller books a cleaning next week and is texted a confirmation; an unknown caller hears
nothing about anyone's appointment; an urgent caller hears 911; a Spanish caller hears Spanish; a
missed call gets one text, a second the same day none, an opted-out caller none."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.connect_samples import missed_call_event
from tests.e2e.conftest import running_local
from tests.e2e.test_reminder_path import call

pytestmark = pytest.mark.e2e
# the demo practice's patients (careloop_local.demo): James and Sam have a number of their own,
# Ana speaks Spanish, Olivia is the missed caller, Maria and Leo share a number
JAMES, SAM, ANA, OLIVIA, SHARED = "+16175550102", "+16175550105", "+16175550101", "+16175550104", "+16175550103"
STRANGER = "+16175550188"


class Stack:
    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture(scope="module")
def voice_stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("voice-stack")
    with running_local(folder) as (url, _proc):
        yield Stack(url)


def say(stack, call_id: str, caller: str, text: str, locale: str | None = None) -> dict:
    body = {"call": call_id, "from": caller, "text": text} | ({"locale": locale} if locale else {})
    status, answer, _ = call(stack, "POST", "/dev/voice/say", body, {"Content-Type": "application/json"})
    assert status == 200, answer
    reply = json.loads(answer)
    assert set(reply) >= {"reply", "intent", "dialogAction", "ended"}
    return reply


def hang_up(stack, call_id: str) -> dict:
    status, answer, _ = call(stack, "POST", "/dev/voice/hangup", {"call": call_id}, {"Content-Type": "application/json"})
    assert status == 200, answer
    return json.loads(answer)


def outbox(stack, phone: str) -> list[dict]:
    status, body, _ = call(stack, "GET", "/dev/sms/outbox")
    assert status == 200
    return [m for m in json.loads(body) if m["to"] == phone]


def appointments(stack) -> list[dict]:
    return json.loads(call(stack, "GET", "/dev/appointments")[1])


def new_call() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def test_a_known_caller_confirms_their_appointment(voice_stack):
    # Given James, whose number is his alone, has a checkup booked
    before = next(a for a in appointments(voice_stack) if a["patient"] == "demo-james")
    assert not before["confirmed"]
    # When he calls and says he is confirming
    c = new_call()
    answer = say(voice_stack, c, JAMES, "Hi, I'm calling to confirm my appointment")
    # Then the agent confirms it out loud and in the record, and the call is on his thread
    assert answer["intent"] == "ConfirmAppointment" and answer["ended"] and "confirmed" in answer["reply"].lower()
    assert next(a for a in appointments(voice_stack) if a["id"] == before["id"])["confirmed"]
    assert hang_up(voice_stack, c)["outcome"] == "confirmed"


def test_a_caller_books_a_cleaning_next_week_and_gets_a_confirmation_text(voice_stack):
    texts_before = len(outbox(voice_stack, SAM))
    c = new_call()
    # When Sam asks for a cleaning next week, hears an offer and says yes
    offer = say(voice_stack, c, SAM, "I'd like to book a cleaning next week")
    assert offer["dialogAction"] == "ConfirmIntent" and "cleaning" in offer["reply"].lower()
    booked = say(voice_stack, c, SAM, "yes please")
    # Then the visit is booked, and a confirmation text went to his number
    assert booked["ended"] and booked["intent"] == "BookAppointment" and booked.get("outcome") == "booked"
    mine = [a for a in appointments(voice_stack) if a["patient"] == "demo-sam" and a["visit_type"] == "cleaning"]
    assert any(a["source"] == "careloop" and a["status"] in ("booked", "pending") for a in mine)
    texts = outbox(voice_stack, SAM)[texts_before:]
    assert texts and any("booked" in t["body"].lower() or "cleaning" in t["body"].lower() for t in texts)
    assert hang_up(voice_stack, c)["outcome"] == "booked"


def test_an_unknown_caller_hears_nothing_about_anyones_appointment(voice_stack):
    c = new_call()
    replies = [say(voice_stack, c, STRANGER, "I want to confirm my appointment")["reply"],
               say(voice_stack, c, STRANGER, "Ana")["reply"],
               say(voice_stack, c, STRANGER, "January 1 1990")["reply"]]
    # Then every reply asks who they are; none names a patient, a provider, a visit or a time
    heard = " ".join(replies)
    assert "first name" in replies[0].lower()
    for secret in ("Reyes", "Dr.", "cleaning", "checkup", "confirmed"):
        assert secret.lower() not in heard.lower()
    assert not re.search(r"\b\d{1,2}(:\d{2})? ?(AM|PM)\b|\b\d{1,2}/\d{1,2}\b", heard)
    hang_up(voice_stack, c)


def test_an_urgent_caller_hears_911(voice_stack):
    c = new_call()
    answer = say(voice_stack, c, STRANGER, "I have chest pain and I can't breathe")
    assert "911" in answer["reply"] and answer["intent"] == "UrgentHelp"
    assert hang_up(voice_stack, c)["outcome"] == "urgent"


def test_a_spanish_caller_gets_spanish_answers(voice_stack):
    c = new_call()
    hours = say(voice_stack, c, ANA, "¿A qué hora abren?", locale="es_US")
    assert hours["intent"] == "OfficeHours" and "lunes" in hours["reply"].lower() and "monday" not in hours["reply"].lower()
    c2 = new_call()
    confirmed = say(voice_stack, c2, ANA, "Confirmo mi cita", locale="es_US")
    assert confirmed["intent"] == "ConfirmAppointment" and "confirmada" in confirmed["reply"].lower()
    hang_up(voice_stack, c)
    hang_up(voice_stack, c2)


def _missed(stack, caller: str) -> None:
    """A call that rang out: the contact event and its contact, through /dev/connect/event."""
    contact_id = new_call()
    instance = "00000000-0000-4000-8000-000000000001"
    event = missed_call_event(contact_id, instance)
    event["detail"].pop("disconnectTimestamp", None)  # the sample's 2021 date: the call is now
    contact = {"Id": contact_id, "Channel": "VOICE", "InitiationMethod": "INBOUND",
               "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": caller},
               "SystemEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": "+16175550100"}}
    status, body, _ = call(stack, "POST", "/dev/connect/event", {"event": event, "contact": contact},
                           {"Content-Type": "application/json"})
    assert status == 202, body


def _text_backs(stack, phone: str) -> list[dict]:
    return [m for m in outbox(stack, phone) if m["body"].startswith(("Sorry we missed", "Sentimos no haber"))]


def test_a_missed_call_gets_one_text_and_a_second_the_same_day_none(voice_stack):
    _missed(voice_stack, OLIVIA)
    (text,) = _text_backs(voice_stack, OLIVIA)
    assert "/b/" in text["body"]  # her own booking link
    _missed(voice_stack, OLIVIA)
    assert len(_text_backs(voice_stack, OLIVIA)) == 1


def test_an_opted_out_caller_gets_no_text_back(voice_stack):
    # Given the shared family number texted STOP
    status, _, _ = call(voice_stack, "POST", "/dev/sms/inbound", {"from": SHARED, "body": "STOP"},
                        {"Content-Type": "application/json"})
    assert status == 202
    # When a call from it is missed
    _missed(voice_stack, SHARED)
    # Then no text-back goes to it
    assert _text_backs(voice_stack, SHARED) == []
