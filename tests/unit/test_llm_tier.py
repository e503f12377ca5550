"""The SMS agent's optional LLM tier (issue 5, item 5): Bedrock's Converse API through botocore's
Stubber on a real bedrock-runtime client (requests and responses checked against the service
model), the fallback to staff on every failure, PHI minimisation, and the agent end to end."""

from __future__ import annotations

import itertools
import subprocess
import sys
from dataclasses import replace
from datetime import datetime

import botocore.session
import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from botocore.stub import ANY, Stubber

from careloop.agent import inbound, llm
from careloop.agent.classifier import CONFIDENCE_THRESHOLD, LABELS, Prediction, classify
from careloop.models import Appointment, Patient
from careloop.ports import LLM_URGENT_REASON
from careloop.practice import AgentSettings, demo_profile
from careloop.records import ingest
from tests.conftest import NY

PHONE = "+16175550101"
ON = AgentSettings(llm_enabled=True)
UNSURE = Prediction("other", 0.31, "en", True, reason="model", details={"cues": []})
ANY_REQUEST = None  # Stubber: expected_params=None checks nothing (the exact shape is pinned below)

SCHEMA = {
    "type": "object",
    "properties": {
        "intent": {"type": "string", "enum": list(LABELS)},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "language": {"type": "string", "enum": ["en", "es"]},
        "details": {
            "type": "object",
            "properties": {
                "requested_day": {"type": "string", "minLength": 1, "maxLength": 40},
                "requested_time": {"type": "string", "minLength": 1, "maxLength": 40},
            },
            "additionalProperties": False,
        },
    },
    "required": ["intent", "confidence", "language"],
    "additionalProperties": False,
}


def expected_request(sms: str, model_id: str = ON.llm_model_id) -> dict:
    """The whole Converse request, written out: what leaves the practice's account."""
    return {
        "modelId": model_id,
        "system": [{"text": llm.SYSTEM_PROMPT}],
        "messages": [{"role": "user", "content": [{"text": f"<sms>\n{sms}\n</sms>"}]}],
        "inferenceConfig": {"maxTokens": 200, "temperature": 0.0},
        "toolConfig": {
            "tools": [{"toolSpec": {"name": "record_intent", "description": ANY, "inputSchema": {"json": SCHEMA}}}],
            "toolChoice": {"tool": {"name": "record_intent"}},
        },
    }


def tool_use(answer, stop: str = "tool_use", name: str = "record_intent") -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "tooluse_1", "name": name, "input": answer}}]}},
        "stopReason": stop,
        "usage": {"inputTokens": 700, "outputTokens": 40, "totalTokens": 740},
        "metrics": {"latencyMs": 420},
    }


@pytest.fixture
def bedrock():
    """A real bedrock-runtime client (service model, parameter validation) behind a Stubber."""
    client = botocore.session.get_session().create_client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


@pytest.fixture
def tier(bedrock):
    return llm.BedrockIntentTier(ON, client=bedrock[0])


class Recorder:
    """A client that must not be called (or records that it was)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls, self.error = [], error

    def converse(self, **request):
        self.calls.append(request)
        if self.error:
            raise self.error
        return tool_use({"intent": "hours", "confidence": 0.9, "language": "en"})


# --- the request -----------------------------------------------------------------------------


def test_the_request_shape_is_exactly_this_and_valid_for_the_service(bedrock):
    client, stub = bedrock
    # Given a text with a name, a date of birth and a phone number in it
    text = "hi its Ana Reyes dob 03/14/1988, call me 617-555-0199 about the thing for tue 3pm"
    sms = "hi its [NAME] [NAME] dob [DATE], call me [PHONE] about the thing for tue 3pm"
    stub.add_response("converse", tool_use({"intent": "human", "confidence": 0.9, "language": "en"}),
                      expected_request(sms))

    # When the request is built and sent (botocore validates it against the bedrock-runtime model)
    response = client.converse(**llm.converse_request(ON.llm_model_id, llm.minimise(text, ["Ana", "Reyes"])))

    # Then it matched the expected shape to the letter, and the answer parses
    assert llm.tool_answer(response).intent == "human"


def test_the_system_prompt_defines_every_label_and_the_schema_allows_only_them():
    assert tuple(llm.DEFINITIONS) == LABELS
    for label in LABELS:
        assert f"- {label}: " in llm.SYSTEM_PROMPT
    assert llm.TOOL_CONFIG["tools"][0]["toolSpec"]["inputSchema"]["json"] == SCHEMA


def test_the_tier_has_its_own_client_one_attempt_and_the_profile_timeout(monkeypatch):
    # Given the profile's timeout / When the tier creates its client
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = llm.make_client(AgentSettings(llm_enabled=True, llm_timeout_s=2.5))

    # Then: bedrock-runtime, 2.5 s to connect and to read, a single attempt (no retry)
    assert client.meta.service_model.service_name == "bedrock-runtime"
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2.5, 2.5)
    assert config.retries["total_max_attempts"] == 1
    from careloop.adapters.clients import RETRY

    assert config is not RETRY  # not the shared, retrying configuration


# --- answers ---------------------------------------------------------------------------------


def test_a_good_tool_answer_becomes_the_prediction(tier, bedrock):
    # Given the classifier was unsure and the model answers through the tool
    bedrock[1].add_response("converse", tool_use({
        "intent": "reschedule", "confidence": 0.88, "language": "es",
        "details": {"requested_day": "el martes", "requested_time": "en la tarde"}}), expected_request(
        "puedo pasar lo mio para el martes en la tarde?"))

    # When the tier labels it
    got = tier.label("puedo pasar lo mio para el martes en la tarde?", UNSURE, ref="in-1")

    # Then the agent acts on the LLM's label like on any prediction, with the details merged
    assert (got.intent, got.confidence, got.language, got.reason) == ("reschedule", 0.88, "es", "llm")
    assert got.escalate is False  # reschedule offers the link; the agent decides what else
    assert got.details == {"cues": [], "requested_day": "el martes", "requested_time": "en la tarde",
                           "llm": "used", "local_intent": "other"}


def test_a_staff_label_from_the_llm_still_escalates(tier, bedrock):
    # Given the LLM reads a billing question / Then the agent hands it to staff as for any billing text
    bedrock[1].add_response("converse", tool_use({"intent": "billing", "confidence": 0.95, "language": "en"}), ANY_REQUEST)
    got = tier.label("why is this 40 again", UNSURE)
    assert got.intent == "billing" and got.escalate


@pytest.mark.parametrize("answer", [
    {"intent": "book", "confidence": 0.9},  # no language
    {"intent": "appointment", "confidence": 0.9, "language": "en"},  # not a label
    {"intent": "book", "confidence": 1.5, "language": "en"},  # out of range
    {"intent": "book", "confidence": "high", "language": "en"},  # not a number
    {"intent": "book", "confidence": True, "language": "en"},  # not a number either
    {"intent": "book", "confidence": 0.9, "language": "fr"},
    {"intent": "book", "confidence": 0.9, "language": "en", "reply": "Sure! Come Tuesday."},  # free text
    {"intent": "book", "confidence": 0.9, "language": "en", "details": {"note": "call her"}},
    {"intent": "book", "confidence": 0.9, "language": "en", "details": {"requested_day": "x" * 41}},
    ["book"],
])
def test_an_off_schema_tool_input_falls_back(tier, bedrock, answer):
    # Given a tool input that breaks the schema / When labelled / Then the local prediction stands
    bedrock[1].add_response("converse", tool_use(answer), ANY_REQUEST)
    got = tier.label("something odd", UNSURE)
    assert got == replace(UNSURE, details={"cues": [], "llm": "invalid"})


@pytest.mark.parametrize(("code", "status"), [
    ("ThrottlingException", 429), ("ModelTimeoutException", 408), ("ServiceUnavailableException", 503),
    ("AccessDeniedException", 403), ("ValidationException", 400), ("ModelNotReadyException", 429),
])
def test_a_service_error_falls_back_to_staff(tier, bedrock, code, status, caplog):
    # Given Bedrock answers with an error
    bedrock[1].add_client_error("converse", service_error_code=code, service_message="nope", http_status_code=status)

    # When labelled
    with caplog.at_level("INFO", logger="careloop.agent.llm"):
        got = tier.label("Ana here, something about the thing", UNSURE, names=["Ana"], ref="in-9")

    # Then the local prediction stands (to staff), and the log has the id and the code, no text
    assert (got.intent, got.confidence, got.escalate, got.details["llm"]) == ("other", 0.31, True, "error")
    (record,) = caplog.records
    assert (record.message_id, record.llm_outcome, record.llm_error) == ("in-9", "error", code)
    assert "Ana" not in str(record.__dict__) and "thing" not in str(record.__dict__)


@pytest.mark.parametrize("error", [
    ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"),
    ConnectTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"),
    RuntimeError("anything else"),
])
def test_a_timeout_or_any_failure_falls_back(error):
    client = Recorder(error)
    got = llm.BedrockIntentTier(ON, client=client).label("hmm", UNSURE)
    assert len(client.calls) == 1 and got.intent == "other" and got.details["llm"] == "error"


@pytest.mark.parametrize("response", [
    {"output": {"message": {"role": "assistant", "content": [{"text": "This looks like a booking request."}]}},
     "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}},
    tool_use({"intent": "book", "confidence": 0.9, "language": "en"}, stop="max_tokens"),
    tool_use({"intent": "book", "confidence": 0.9, "language": "en"}, stop="guardrail_intervened"),
    tool_use({"intent": "book", "confidence": 0.9, "language": "en"}, name="something_else"),
])
def test_an_answer_without_the_tool_falls_back(tier, bedrock, response):
    bedrock[1].add_response("converse", response, ANY_REQUEST)
    assert tier.label("hmm", UNSURE).details["llm"] == "invalid"


def test_a_doubtful_llm_falls_back(tier, bedrock):
    # Given the LLM is below the practice's minimum confidence (0.7)
    bedrock[1].add_response("converse", tool_use({"intent": "book", "confidence": 0.69, "language": "en"}), ANY_REQUEST)
    got = tier.label("hmm", UNSURE)
    assert (got.intent, got.details["llm"]) == ("other", "low_confidence")


@pytest.mark.parametrize("label", ["opt_out", "opt_in"])
def test_consent_labels_stay_with_the_rules(tier, bedrock, label):
    # Given the LLM says the text is about consent, which only the rule layer decides
    bedrock[1].add_response("converse", tool_use({"intent": label, "confidence": 0.99, "language": "en"}), ANY_REQUEST)
    got = tier.label("pls no more of these", UNSURE)
    assert (got.intent, got.details["llm"]) == ("other", "rule_label")


def test_llm_urgency_keeps_the_local_label_but_escalates_urgently(tier, bedrock):
    # Given the LLM reads possible urgency the rules did not
    bedrock[1].add_response("converse", tool_use({"intent": "urgent", "confidence": 0.6, "language": "en"}), ANY_REQUEST)
    got = tier.label("it's getting kind of bad again", UNSURE)
    # Then urgent is not adopted as a label, but the text is marked for a person, urgently
    assert (got.intent, got.confidence, got.escalate, got.reason) == ("other", 0.31, True, LLM_URGENT_REASON)


@pytest.mark.parametrize(("local", "text"), [
    (Prediction("urgent", 0.5, "en", True, "medical", "model: possibly urgent"), "my jaw is bad"),
    (Prediction("opt_out", 0.5, "en", True, reason="model: possibly asks to stop texts"), "no more pls"),
    (Prediction("hours", CONFIDENCE_THRESHOLD, "en", False, reason="model"), "when r u open"),
    (Prediction("other", 0.3, "en", True, reason="empty message"), "   "),
])
def test_rule_decisions_sure_predictions_and_empty_texts_are_never_sent(local, text):
    client = Recorder()
    assert llm.BedrockIntentTier(ON, client=client).label(text, local) is local
    assert client.calls == []


# --- PHI minimisation ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "minimised"), [
    ("call me at 617-555-0199 or (617) 555 0100", "call me at [PHONE] or [PHONE]"),
    ("my cell is +16175550101", "my cell is [PHONE]"),
    ("email ana.reyes@gmail.com please", "email [EMAIL] please"),
    ("form at https://forms.example.com/x?id=4 or www.clinic.org", "form at [URL] or [URL]"),
    ("dob 03/14/1988", "dob [DATE]"),
    ("born march 3, 1985", "born [DATE]"),
    ("naci el 3 de marzo de 1985", "naci el [DATE]"),
    ("DOB: 1985", "[DATE]"),
    ("member id 123456789, ssn 123-45-6789", "member id [NUMBER], ssn [NUMBER]"),
    ("I moved to 42 Elm Street", "I moved to [ADDRESS]"),
    ("this is ANA reyes, ana's mom", "this is [NAME] [NAME], [NAME]'s mom"),
    ("my mrn is MRN-00042", "my mrn is [ID]"),
    # what the label depends on stays: days, times, appointment dates without a year, words
    ("can I come tue 12/5 at 10:30 or after 3pm instead", "can I come tue 12/5 at 10:30 or after 3pm instead"),
    ("anabel said bananas", "anabel said bananas"),  # names only as whole words
])
def test_phi_is_minimised(text, minimised):
    assert llm.minimise(text, names=["Ana", "Reyes"], ids=["MRN-00042", "p1"]) == minimised


def test_the_prompt_carries_no_patient_id_or_name(tier, bedrock):
    # Given a patient whose name, record number and internal id appear in the text
    text = "Ana Reyes here (p-88 / MRN-00042) re the form"
    bedrock[1].add_response("converse", tool_use({"intent": "other", "confidence": 0.9, "language": "en"}),
                            expected_request("[NAME] [NAME] here ([ID] / [ID]) re the form"))
    # When labelled / Then the stubbed request matched: only placeholders left the account
    assert tier.label(text, UNSURE, names=["Ana", "Reyes"], ids=["p-88", "MRN-00042"]).reason == "llm"


# --- off by default, light at cold start -----------------------------------------------------


def test_on_by_default_but_only_where_the_stack_says_the_region_offers_it():
    assert AgentSettings().llm_enabled is True and demo_profile().agent.llm_enabled is True
    assert "us-east-1" in AgentSettings().llm_regions
    from careloop.settings import Settings

    assert Settings().llm_available is False  # local mode, the simulator and tests: off unless told
    assert AgentSettings().bedrock_model() == ("us", "anthropic.claude-haiku-4-5-20251001-v1:0")
    assert AgentSettings(llm_model_id="amazon.nova-micro-v1:0").bedrock_model() == (None, "amazon.nova-micro-v1:0")
    assert AgentSettings(llm_model_id="global.anthropic.claude-haiku-4-5-20251001-v1:0").bedrock_model()[0] == "global"


@pytest.fixture
def created_clients(monkeypatch):
    """Service names of every botocore client created from here on."""
    from careloop.adapters import aws

    made = []
    original = botocore.session.Session.create_client

    def create_client(self, service_name, *args, **kwargs):
        made.append(service_name)
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    aws.reset()
    yield made
    aws.reset()


def _settings_for(monkeypatch, tmp_path, practice, available=False):
    from careloop.adapters import aws
    from careloop.settings import Settings

    path = tmp_path / f"{practice.id}.json"
    path.write_text(practice.model_dump_json())
    monkeypatch.setattr(aws, "get_settings", lambda: Settings(practice_file=path, llm_available=available))
    return aws


def test_demo_services_have_no_llm_and_create_no_bedrock_client(created_clients, monkeypatch, tmp_path):
    # Given the demo practice (tier on) where the stack did not say the region offers the model
    # (local mode; a region without it) / When the Lambda wires its services
    aws = _settings_for(monkeypatch, tmp_path, demo_profile())
    services = aws.services()
    # Then there is no LLM tier and no bedrock-runtime client was ever created
    assert services.llm is None
    assert "bedrock-runtime" not in created_clients and created_clients  # (the others were)


def test_enabled_services_build_the_tier_and_its_client_only_on_first_use(created_clients, monkeypatch, tmp_path):
    practice = demo_profile().model_copy(update={"id": "llm-on", "agent": ON})
    aws = _settings_for(monkeypatch, tmp_path, practice, available=True)
    services = aws.services()
    assert isinstance(services.llm, llm.BedrockIntentTier) and services.llm.settings == ON
    assert "bedrock-runtime" not in created_clients  # cold start pays nothing for it
    assert services.llm.client.meta.config.retries["total_max_attempts"] == 1
    assert created_clients.count("bedrock-runtime") == 1


def test_cold_start_imports():
    # the agent does not import the tier, and the tier does not import botocore until it calls
    code = ("import sys, careloop.agent.inbound, careloop.ports; a = 'careloop.agent.llm' in sys.modules; "
            "import careloop.agent.llm; print(a, 'botocore' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# --- through the agent -----------------------------------------------------------------------


@pytest.fixture
def agent(svc, monkeypatch):
    """Ana Reyes (p1, MRN-00042) with an appointment; classify() returns a fixed, unsure prediction."""
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", last_name="Reyes", phone=PHONE, identifiers=["urn:mrn|MRN-00042"])],
           [Appointment(id="a1", patient_id="p1", start=datetime(2026, 12, 5, 10, tzinfo=NY))], svc.clock.now())
    monkeypatch.setattr(inbound, "classify", lambda text: UNSURE)

    ids = itertools.count(1)

    def say(body):
        return inbound.handle_inbound(svc, PHONE, body, f"in-{next(ids)}")

    return say


def _turn_on(svc, client):
    svc.practice = svc.practice.model_copy(update={"agent": ON})
    svc.llm = llm.BedrockIntentTier(ON, client=client)


def test_enabled_an_unsure_text_gets_the_llm_label_and_the_agents_own_reply(agent, svc, bedrock):
    # Given the practice turned the tier on and the model reads the text as a question about hours
    _turn_on(svc, bedrock[0])
    bedrock[1].add_response("converse", tool_use({"intent": "hours", "confidence": 0.93, "language": "en"}),
                            expected_request("[NAME] here, u guys around saturdays or nah"))

    # When the text arrives
    out = agent("Ana here, u guys around saturdays or nah")

    # Then the agent answers from the profile's facts with its canned reply, no staff needed
    assert out.intent == "hours" and not out.needs_attention and svc.notifier.notified == []
    hours = next(e for e in svc.practice.knowledge if e.id == "hours").answer["en"]
    assert out.replies[0].body == f"{hours} Questions? Call (617) 555-0100."
    assert svc.messages.get_message(out.message_id).intent == "hours"


def test_disabled_the_same_text_goes_to_staff_and_bedrock_is_never_called(agent, svc):
    # Given the practice turned the tier off, even with a client wired
    client = Recorder()
    svc.practice = svc.practice.model_copy(update={"agent": AgentSettings(llm_enabled=False)})
    svc.llm = llm.BedrockIntentTier(ON, client=client)

    # When the unsure text arrives
    out = agent("Ana here, u guys around saturdays or nah")

    # Then it goes to the front desk as before, and nothing was sent to Bedrock
    assert out.needs_attention and out.reason == "the agent was not sure what this text is about"
    assert svc.notifier.notified[0].team == "front_desk" and client.calls == []
    assert "get back to you" in out.replies[0].body


def test_enabled_but_failing_goes_to_staff_as_if_off(agent, svc, bedrock):
    _turn_on(svc, bedrock[0])
    bedrock[1].add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    out = agent("Ana here, u guys around saturdays or nah")
    assert out.intent == "other" and out.reason == "the agent was not sure what this text is about"
    assert svc.notifier.notified[0].team == "front_desk"


def test_enabled_llm_urgency_alerts_the_clinical_team_urgently(agent, svc, bedrock):
    # Given the model reads possible urgency the rule layer did not
    _turn_on(svc, bedrock[0])
    bedrock[1].add_response("converse", tool_use({"intent": "urgent", "confidence": 0.8, "language": "en"}), ANY_REQUEST)

    # When the text arrives
    out = agent("it's getting kind of bad again since tuesday")

    # Then the local label is kept, the patient gets the canned safety reply, staff an urgent alert
    assert out.intent == "other" and out.reason == LLM_URGENT_REASON
    assert "911" in out.replies[0].body
    alert = svc.notifier.notified[0]
    assert (alert.priority, alert.team, alert.reason) == ("urgent", "clinical", LLM_URGENT_REASON)


def test_enabled_with_the_real_classifier(svc, bedrock, monkeypatch):
    # Given a text the shipped classifier is unsure about
    text = "idk whatever works"
    assert classify(text).confidence < CONFIDENCE_THRESHOLD
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", last_name="Reyes", phone=PHONE)],
           [Appointment(id="a1", patient_id="p1", start=datetime(2026, 12, 5, 10, tzinfo=NY))], svc.clock.now())
    _turn_on(svc, bedrock[0])
    bedrock[1].add_response("converse", tool_use({
        "intent": "reschedule", "confidence": 0.8, "language": "en", "details": {"requested_day": "the other one"}}),
        expected_request(text))

    # When it arrives
    out = inbound.handle_inbound(svc, PHONE, text, "real-1")

    # Then the LLM's label drives the agent: the booking link, and the front desk is told
    assert out.intent == "reschedule" and "book.example.test" in out.replies[0].body
    assert out.reason == "wants to reschedule"


# --- the urgency screen (issue 9, item 5): every text the local layers did not call urgent -------
SCREEN_SCHEMA = {
    "type": "object",
    "properties": {"urgent": {"type": "boolean"}, "kind": {"type": "string", "enum": ["self_harm", "medical", "none"]}},
    "required": ["urgent", "kind"],
    "additionalProperties": False,
}


def expected_screen(sms: str) -> dict:
    return {
        "modelId": ON.llm_model_id,
        "system": [{"text": llm.SCREEN_PROMPT}],
        "messages": [{"role": "user", "content": [{"text": f"<sms>\n{sms}\n</sms>"}]}],
        "inferenceConfig": {"maxTokens": 60, "temperature": 0.0},
        "toolConfig": {
            "tools": [{"toolSpec": {"name": "record_urgency", "description": ANY, "inputSchema": {"json": SCREEN_SCHEMA}}}],
            "toolChoice": {"tool": {"name": "record_urgency"}},
        },
    }


@pytest.fixture
def patient(svc):
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", last_name="Reyes", phone=PHONE)],
           [Appointment(id="a1", patient_id="p1", start=datetime(2026, 12, 5, 10, tzinfo=NY))], svc.clock.now())


def test_a_sure_text_is_screened_and_urgency_from_the_llm_wins(svc, bedrock, patient):
    # Given the tier is on and a text the local layers read, sure of themselves, as thanks
    text = "See you Thursday, thanks!"
    local = classify(text)
    assert local.intent != "urgent" and local.confidence >= CONFIDENCE_THRESHOLD
    _turn_on(svc, bedrock[0])
    bedrock[1].add_response("converse", tool_use({"urgent": True, "kind": "self_harm"}, name="record_urgency"),
                            expected_screen(text))

    # When it arrives
    out = inbound.handle_inbound(svc, PHONE, text, "screen-1")

    # Then the patient gets the 988 safety reply and the clinical team an urgent page
    assert out.reason == LLM_URGENT_REASON and "988" in out.replies[0].body
    alert = svc.notifier.notified[0]
    assert (alert.priority, alert.team) == ("urgent", "clinical")
    bedrock[1].assert_no_pending_responses()


def test_a_clear_screen_changes_nothing(svc, bedrock, patient):
    text = "Yes, see you Thursday at 2"
    _turn_on(svc, bedrock[0])
    bedrock[1].add_response("converse", tool_use({"urgent": False, "kind": "none"}, name="record_urgency"),
                            expected_screen(text))
    out = inbound.handle_inbound(svc, PHONE, text, "screen-2")
    assert out.intent == "confirm" and not out.needs_attention and svc.notifier.notified == []


@pytest.mark.parametrize("error", [ReadTimeoutError(endpoint_url="https://bedrock"), RuntimeError("boom")])
def test_a_failing_screen_leaves_the_local_answer(svc, patient, error):
    svc.practice = svc.practice.model_copy(update={"agent": ON})
    svc.llm = llm.BedrockIntentTier(ON, client=Recorder(error))
    out = inbound.handle_inbound(svc, PHONE, "Yes, see you Thursday at 2", "screen-3")
    assert out.intent == "confirm" and not out.needs_attention and len(svc.llm.client.calls) == 1


def test_urgent_texts_are_not_screened_again_and_the_screen_can_be_turned_off(svc, patient):
    client = Recorder()
    off = AgentSettings(llm_enabled=True, llm_screen=False)
    svc.practice = svc.practice.model_copy(update={"agent": ON})
    svc.llm = llm.BedrockIntentTier(ON, client=client)
    inbound.handle_inbound(svc, PHONE, "I'm having chest pain", "screen-4")
    assert client.calls == []  # already urgent locally: no call
    svc.practice = svc.practice.model_copy(update={"agent": off})
    inbound.handle_inbound(svc, PHONE, "Yes, see you Thursday at 2", "screen-5")
    assert client.calls == []  # the profile turned the screen off
