"""The Amazon Connect and Lex V2 runtime stand-ins, driven by real boto3 clients and checked against
botocore's service models; the Lex stand-in's code hook here is a scripted double of the voice Lambda."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from careloop.clock import FixedClock
from careloop.practice import demo_profile
from careloop_local import connect_standin, lex_standin
from tests.conftest import DATA

REGION = "us-east-1"
CALLER = "+16175550101"
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # Tuesday 09:00 in New York


def _client(service: str, url: str):
    return boto3.client(service, region_name=REGION, endpoint_url=url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _checked(service: str, client, method: str, **params):
    """Call the stand-in, then replay the same request and answer through a Stubber: it refuses
    any request or answer that does not fit botocore's model."""
    response = getattr(client, method)(**params)
    response.pop("ResponseMetadata")
    stubbed = boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(stubbed) as stubber:
        stubber.add_response(method, response, params)
        assert getattr(stubbed, method)(**params) == response
    return response


# ---------------------------------------------------------------- Connect
@pytest.fixture(scope="module")
def connect():
    events: list[dict] = []
    server, thread, url = connect_standin.serve(clock=FixedClock(NOW), sink=events.append)
    server.standin.sunk = events
    yield server.standin, _client("connect", url)
    server.shutdown()


def test_describe_contact_follows_the_connect_model(connect):
    standin, client = connect
    # Given a call the flow took, whose outcome the flow copied into the contact attributes
    standin.start_call("c-model", CALLER, "+16175550100", {"careloopLocale": "es_US"})
    _checked("connect", client, "update_contact_attributes", InstanceId=standin.instance_id,
             InitialContactId="c-model", Attributes={"careloopOutcome": "callback"})
    # When DescribeContact asks for it
    contact = _checked("connect", client, "describe_contact", InstanceId=standin.instance_id, ContactId="c-model")["Contact"]
    # Then it has what contact events lack: the caller's number and the attributes
    assert contact["CustomerEndpoint"]["Address"] == CALLER and contact["InitiationMethod"] == "INBOUND"
    assert contact["Attributes"] == {"careloopLocale": "es_US", "careloopOutcome": "callback"}
    assert contact["InitiationTimestamp"] == NOW


def test_an_unknown_contact_is_resource_not_found(connect):
    standin, client = connect
    with pytest.raises(ClientError) as err:
        client.describe_contact(InstanceId=standin.instance_id, ContactId="nobody")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_hanging_up_emits_a_disconnected_event_in_the_published_shape(connect):
    standin, _ = connect
    standin.start_call("c-end", CALLER, "+16175550100")
    event = standin.hang_up("c-end")
    published = json.loads(
        "".join((DATA / "aws-docs-connect" / "contact-event-disconnected.as-published.txt").read_text().split())
        .replace(",}", "}"))
    # The event has the sample's top-level keys and the detail keys a missed call keeps
    assert set(published) == set(event)
    assert {"eventType", "contactId", "initialContactId", "channel", "instanceArn", "initiationMethod",
            "initiationTimestamp", "disconnectTimestamp"} <= set(event["detail"])
    assert event["detail"]["eventType"] == "DISCONNECTED" and "agentInfo" not in event["detail"]
    assert standin.sunk[-1] == event


def test_a_contact_that_does_not_fit_the_model_is_refused_naming_the_field(connect):
    standin, _ = connect
    with pytest.raises(ValueError, match="Contact.CustomerEndpoint.Address"):
        standin.put_contact({"Id": "c-bad", "CustomerEndpoint": {"Address": 5}})


# ---------------------------------------------------------------- Lex V2 runtime
class ScriptedHook:
    """Answers the stand-in's code-hook events from a script, keeping every event it was sent."""

    def __init__(self, answers):
        self.answers, self.events = list(answers), []

    def __call__(self, event: dict) -> dict:
        self.events.append(event)
        dialog_action, messages = self.answers.pop(0)
        state = {**event["sessionState"], "dialogAction": dialog_action}
        return {"sessionState": state, "messages": [{"contentType": "PlainText", "content": m} for m in messages]}


@pytest.fixture
def lex():
    hook = ScriptedHook([])
    standin = lex_standin.LexStandin(code_hook=hook, practice=demo_profile(), clock=FixedClock(NOW))
    server, thread, url = lex_standin.serve(standin)
    yield standin, hook, _client("lexv2-runtime", url)
    server.shutdown()


def _say(standin, client, text, session="c-1", locale="en_US", **extra):
    return _checked("lexv2-runtime", client, "recognize_text", botId=standin.bot_id, botAliasId=standin.alias_id,
                    localeId=locale, sessionId=session, text=text, **extra)


def test_recognize_text_follows_the_lex_model_and_sends_real_code_hook_events(lex):
    standin, hook, client = lex
    hook.answers = [({"type": "ElicitSlot", "slotToElicit": "Time"}, ["What time works?"])]
    attrs = {"callerNumber": CALLER, "practiceNumber": "+16175550100", "contactId": "c-1"}
    # When a caller asks for a cleaning next Tuesday
    answer = _say(standin, client, "I'd like to book a cleaning next tuesday", sessionState={"sessionAttributes": attrs})
    # Then the code hook got a Lex V2 event with the sample's keys, the flow's attributes and the slots filled
    (event,) = hook.events
    sample = json.loads((DATA / "aws-lambda-dotnet-events" / "lexv2-event.json").read_text(encoding="utf-8-sig"))
    assert set(sample) - {"proposedNextState"} <= set(event)
    assert event["invocationSource"] == "DialogCodeHook" and event["bot"]["localeId"] == "en_US"
    intent = event["sessionState"]["intent"]
    assert intent["name"] == "BookAppointment"
    assert intent["slots"]["VisitType"]["value"]["interpretedValue"] == "cleaning"
    assert intent["slots"]["Date"]["value"]["interpretedValue"] == "2026-12-08"
    assert intent["slots"]["Time"] is None
    assert event["sessionState"]["sessionAttributes"] == attrs
    # And the RecognizeText answer carries the hook's words and dialog action
    assert answer["messages"] == [{"contentType": "PlainText", "content": "What time works?"}]
    assert answer["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "Time"}
    assert answer["interpretations"][0]["intent"]["name"] == "BookAppointment"


def test_the_session_is_kept_per_call_and_the_elicited_slot_is_filled(lex):
    standin, hook, client = lex
    hook.answers = [({"type": "ElicitSlot", "slotToElicit": "Time"}, ["What time?"]),
                    ({"type": "ConfirmIntent"}, ["Tuesday at 10, shall I book it?"]),
                    ({"type": "Close"}, ["Booked."])]
    _say(standin, client, "book a cleaning next tuesday")
    # When the caller answers the time, then says yes
    _say(standin, client, "in the morning please")
    done = _say(standin, client, "yes please")
    # Then the second event kept the day and read the time, the third carries the yes
    second, third = hook.events[1]["sessionState"]["intent"], hook.events[2]["sessionState"]["intent"]
    assert second["slots"]["Date"]["value"]["interpretedValue"] == "2026-12-08"
    assert second["slots"]["Time"]["value"]["interpretedValue"] == "MO"
    assert third["confirmationState"] == "Confirmed" and third["name"] == "BookAppointment"
    assert done["sessionState"]["dialogAction"]["type"] == "Close" and standin.session("c-1").ended


def test_a_denied_offer_carries_the_new_day_and_urgency_wins_in_any_turn(lex):
    standin, hook, client = lex
    hook.answers = [({"type": "ConfirmIntent"}, ["Tuesday at 10?"]), ({"type": "ConfirmIntent"}, ["Thursday?"]),
                    ({"type": "Close"}, ["Call 911."])]
    _say(standin, client, "book an exam next tuesday at 10")
    _say(standin, client, "no, thursday instead")
    denied = hook.events[1]["sessionState"]["intent"]
    assert denied["confirmationState"] == "Denied" and denied["slots"]["Date"]["value"]["interpretedValue"] == "2026-12-03"
    _say(standin, client, "actually I have chest pain and can't breathe")
    assert hook.events[2]["sessionState"]["intent"]["name"] == "UrgentHelp"


def test_identity_slots_are_read_only_when_elicited_in_either_language(lex):
    standin, hook, client = lex
    hook.answers = [({"type": "ElicitSlot", "slotToElicit": "FirstName"}, ["¿Nombre?"]),
                    ({"type": "ElicitSlot", "slotToElicit": "BirthDate"}, ["¿Fecha?"]),
                    ({"type": "Close"}, ["Listo."])]
    _say(standin, client, "quiero confirmar mi cita", session="es-1", locale="es_US")
    assert hook.events[0]["sessionState"]["intent"]["slots"]["FirstName"] is None
    _say(standin, client, "me llamo Ana", session="es-1", locale="es_US")
    _say(standin, client, "el 14 de marzo de 1985", session="es-1", locale="es_US")
    slots = hook.events[2]["sessionState"]["intent"]["slots"]
    assert hook.events[0]["sessionState"]["intent"]["name"] == "ConfirmAppointment"
    assert slots["FirstName"]["value"]["interpretedValue"] == "Ana"
    assert slots["BirthDate"]["value"]["interpretedValue"] == "1985-03-14"


def test_delegate_elicits_a_required_slot_then_fulfils(lex):
    standin, hook, client = lex
    hook.answers = [({"type": "Delegate"}, []), ({"type": "Delegate"}, []), ({"type": "Close"}, ["Refill noted."])]
    # When the hook delegates a refill with no medication named
    first = _say(standin, client, "I need a refill")
    # Then Lex asks for the required Medication slot with the bot's prompt, without the hook
    assert first["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "Medication"}
    assert "medication" in first["messages"][0]["content"].lower() and len(hook.events) == 1
    # And once it is given, the hook's Delegate leads to the fulfillment code hook
    done = _say(standin, client, "lisinopril 10 mg")
    assert [e["invocationSource"] for e in hook.events] == ["DialogCodeHook", "DialogCodeHook", "FulfillmentCodeHook"]
    assert hook.events[2]["sessionState"]["intent"]["slots"]["Medication"]["value"]["originalValue"] == "lisinopril 10 mg"
    assert done["messages"][0]["content"] == "Refill noted."


def test_bad_requests_are_refused_the_way_lex_refuses_them(lex):
    standin, _, client = lex
    with pytest.raises(ClientError) as err:
        client.recognize_text(botId="OTHERBOT00", botAliasId=standin.alias_id, localeId="en_US", sessionId="s1", text="hi")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        client.recognize_text(botId=standin.bot_id, botAliasId=standin.alias_id, localeId="fr_FR", sessionId="s1", text="hi")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_idle_session_is_forgotten_after_the_bots_time_to_live(lex):
    from datetime import timedelta

    standin, hook, client = lex
    hook.answers = [({"type": "ElicitSlot", "slotToElicit": "Time"}, ["What time?"]),
                    ({"type": "ElicitIntent"}, ["How can I help?"])]
    _say(standin, client, "book a cleaning next tuesday")
    # When the caller says the time only after the bot's idle time-to-live has passed
    standin._clock.set(NOW + timedelta(seconds=standin.bot.idle_session_ttl_seconds + 1))
    _say(standin, client, "in the morning")
    # Then Lex began a new session: the booking and its day are gone
    second = hook.events[1]["sessionState"]["intent"]
    assert second["name"] != "BookAppointment" and "Date" not in {k for k, v in second["slots"].items() if v}


@pytest.mark.parametrize(("said", "date_value", "time_value"), [
    ("next tuesday", "2026-12-08", None),
    ("tomorrow morning", "2026-12-02", "MO"),
    ("el viernes a las 3", "2026-12-04", "15:00"),
    ("in the afternoon", None, "AF"),
    ("at 10:30", None, "10:30"),
    ("later", None, None),
])
def test_date_and_time_slots_take_lexs_formats(said, date_value, time_value):
    from careloop.voice.bot import bot_definition

    locale = bot_definition(demo_profile()).locale("es_US" if "viernes" in said else "en_US")
    today = NOW.astimezone(demo_profile().zone).date()
    got_date = lex_standin.fill_slot("Date", said, today, locale)
    got_time = lex_standin.fill_slot("Time", said, today, locale)
    assert (got_date["value"]["interpretedValue"] if got_date else None) == date_value
    assert (got_time["value"]["interpretedValue"] if got_time else None) == time_value
