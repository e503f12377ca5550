"""The voice agent in the stack (issue 13): Connect instance, hours, queue, number and the generated
flow; the Lex V2 bot from careloop.voice.bot with its version and alias; the two functions' wiring,
grants and alarms; and nothing of it when the profile leaves voice off."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from careloop import wiring
from careloop.voice.bot import FALLBACK_INTENT, bot_definition
from infra.application import PRACTICES_DIR, build_app
from infra.voice_flow import FINISHED_OUTCOMES, SESSION_ATTRIBUTES

from .conftest import functions_dir_for_tests

pytestmark = pytest.mark.infra

VOICE_TYPES = {
    "AWS::Connect::Instance": 1, "AWS::Connect::HoursOfOperation": 1, "AWS::Connect::Queue": 1,
    "AWS::Connect::PhoneNumber": 1, "AWS::Connect::ContactFlow": 1, "AWS::Connect::IntegrationAssociation": 1,
    "AWS::Lex::Bot": 1, "AWS::Lex::BotVersion": 1, "AWS::Lex::BotAlias": 1,
    "Custom::ConnectPhoneNumberContactFlow": 1,
}
INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/0f2b1a3c-1111-2222-3333-444455556666"
NUMBER = "arn:aws:connect:us-east-1:123456789012:phone-number/aaaaaaaa-1111-2222-3333-444455556666"


def _one(synth, cfn_type: str) -> tuple[str, dict]:
    found = synth.of_type(cfn_type)
    assert len(found) == 1, (cfn_type, list(found))
    name, resource = next(iter(found.items()))
    return name, resource["Properties"]


def _arn(synth, construct) -> dict:
    return {"Fn::GetAtt": [synth.logical_id(construct), "Arn"]}


def _function_arn(synth, name: str) -> dict:
    return _arn(synth, synth.build.stack.functions[name])


def _rendered(value) -> str:
    """A template string value with its references written out as <Ref> / <Id.Attr>."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_rendered(p) for p in parts)
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if "Fn::Select" in value and "Fn::Split" in value["Fn::Select"][1]:
        index, (sep, whole) = value["Fn::Select"][0], value["Fn::Select"][1]["Fn::Split"]
        return f"<part {index} of {_rendered(whole)} by {sep}>"
    raise AssertionError(f"unexpected intrinsic {value}")


def _flow(synth) -> dict:
    _, props = _one(synth, "AWS::Connect::ContactFlow")
    return json.loads(_rendered(props["Content"]))


def _synth_variant(tmp_path, practice_id: str, voice: dict) -> dict:
    data = json.loads((PRACTICES_DIR / "demo.json").read_text())
    data.update(id=practice_id, voice=voice)
    folder = tmp_path / "practices"
    folder.mkdir()
    (folder / f"{practice_id}.json").write_text(json.dumps(data))
    build = build_app(practice_id, bundle=False, outdir=str(tmp_path / "cdk.out"), practices_dir=folder,
                      functions_dir=functions_dir_for_tests(tmp_path / "functions"), web_dist=None)
    return build.app.synth().get_stack_by_name(build.stack.stack_name).template  # nag-gated


# --- Connect ------------------------------------------------------------------------------------


def test_the_demo_stack_has_the_whole_phone_line(synth):
    counts = Counter(r["Type"] for r in synth.resources.values())
    assert {t: counts[t] for t in VOICE_TYPES} == VOICE_TYPES
    _, instance = _one(synth, "AWS::Connect::Instance")
    assert instance["IdentityManagementType"] == "CONNECT_MANAGED" and instance["InstanceAlias"] == "careloop-demo"
    assert instance["Attributes"]["InboundCalls"] is True
    assert instance["Attributes"]["ContactflowLogs"] is False  # flow logs would copy callers' words


def test_hours_come_from_the_profile_with_its_closed_days(synth):
    _, hours = _one(synth, "AWS::Connect::HoursOfOperation")
    assert hours["TimeZone"] == "America/New_York"
    assert hours["InstanceArn"] == _arn(synth, synth.build.stack.voice.instance)
    assert [d["Day"] for d in hours["Config"]] == ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
    assert all(d["StartTime"] == {"Hours": 8, "Minutes": 0} and d["EndTime"] == {"Hours": 17, "Minutes": 0}
               for d in hours["Config"])
    closed = {o["EffectiveFrom"]: o for o in hours["HoursOfOperationOverrides"]}
    assert {"2026-11-26", "2026-12-25", "2027-01-01"} <= set(closed)
    assert "2026-12-28" not in closed  # only Dr. Patel is away that day: the office is open
    assert closed["2026-12-25"]["OverrideType"] == "CLOSED" and closed["2026-12-25"]["OverrideConfig"][0]["Day"] == "FRIDAY"


def test_the_front_desk_queue_keeps_office_hours_and_the_number_is_claimed(synth):
    voice = synth.build.stack.voice
    _, queue = _one(synth, "AWS::Connect::Queue")
    assert queue["Name"] == "Front desk"
    assert queue["HoursOfOperationArn"] == {"Fn::GetAtt": [synth.logical_id(voice.hours), "HoursOfOperationArn"]}
    _, number = _one(synth, "AWS::Connect::PhoneNumber")
    assert number["TargetArn"] == _arn(synth, voice.instance)
    assert (number["CountryCode"], number["Type"], number["Prefix"]) == ("US", "DID", "+1617")


def test_the_lex_integration_and_the_number_point_at_the_bot_and_the_flow(synth):
    voice = synth.build.stack.voice
    _, association = _one(synth, "AWS::Connect::IntegrationAssociation")
    assert association["IntegrationType"] == "LEX_BOT"
    assert association["IntegrationArn"] == _arn(synth, voice.alias)
    name, custom = _one(synth, "Custom::ConnectPhoneNumberContactFlow")
    create = _rendered(custom["Create"])
    assert "associatePhoneNumberContactFlow" in create and synth.logical_id(voice.flow) in create
    assert "disassociatePhoneNumberContactFlow" in _rendered(custom["Delete"])
    # the custom resource may point this number at this flow, nothing more
    policy = next(r["Properties"] for r in synth.of_type("AWS::IAM::Policy").values()
                  if "connect:AssociatePhoneNumberContactFlow" in json.dumps(r))
    [statement] = policy["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["connect:AssociatePhoneNumberContactFlow",
                                           "connect:DisassociatePhoneNumberContactFlow"]
    assert sorted(map(json.dumps, statement["Resource"])) == sorted(map(json.dumps, [
        {"Fn::GetAtt": [synth.logical_id(voice.phone_number), "PhoneNumberArn"]},
        {"Fn::GetAtt": [synth.logical_id(voice.flow), "ContactFlowArn"]}]))


# --- the flow ---------------------------------------------------------------------------------------


def test_the_flow_is_flow_language_json_whose_transitions_all_land(synth):
    flow = _flow(synth)
    assert flow["Version"] == "2019-10-30"
    ids = [a["Identifier"] for a in flow["Actions"]]
    assert len(ids) == len(set(ids)) and flow["StartAction"] in ids
    for action in flow["Actions"]:
        transitions = action["Transitions"]
        targets = [transitions.get("NextAction")] + [t["NextAction"] for t in transitions.get("Errors", [])]
        targets += [t["NextAction"] for t in transitions.get("Conditions", [])]
        assert all(t in ids for t in targets if t is not None), action["Identifier"]
    assert any(a["Type"] == "DisconnectParticipant" for a in flow["Actions"])


def test_the_flow_greets_as_an_assistant_and_lets_the_caller_choose_spanish(synth):
    flow = _flow(synth)
    actions = {a["Identifier"]: a for a in flow["Actions"]}
    greeting = actions[flow["StartAction"]]
    assert greeting["Type"] == "GetParticipantInput"
    assert "automated assistant" in greeting["Parameters"]["SSML"] and "Maple Family Dental" in greeting["Parameters"]["SSML"]
    choice = {c["Condition"]["Operands"][0]: c["NextAction"] for c in greeting["Transitions"]["Conditions"]}
    assert set(choice) == {"1", "2"}
    languages = {actions[actions[choice[k]]["Transitions"]["NextAction"]]["Parameters"]["LanguageCode"] for k in choice}
    assert languages == {"en-US", "es-US"}
    voices = {actions[choice[k]]["Parameters"]["TextToSpeechVoice"] for k in choice}
    assert voices == {"Joanna", "Lupe"}


def test_the_flow_starts_the_bot_with_the_spec_session_attributes_and_copies_the_outcome(synth):
    flow = _flow(synth)
    alias = f"<{synth.logical_id(synth.build.stack.voice.alias)}.Arn>"
    bots = [a for a in flow["Actions"] if a["Type"] == "ConnectParticipantWithLexBot"]
    assert len(bots) == 2  # one per language
    for bot in bots:
        assert bot["Parameters"]["LexV2Bot"] == {"AliasArn": alias}
        assert bot["Parameters"]["LexSessionAttributes"] == {
            "callerNumber": "$.CustomerEndpoint.Address", "practiceNumber": "$.SystemEndpoint.Address",
            "contactId": "$.ContactId"} == SESSION_ATTRIBUTES
    copies = [a for a in flow["Actions"] if a["Type"] == "UpdateContactAttributes"
              and a["Parameters"]["Attributes"].get("careloopOutcome") == "$.Lex.SessionAttributes.careloopOutcome"]
    assert len(copies) == 2
    for copy in copies:  # every way out of the bot reaches the copy
        bot = next(b for b in bots if b["Transitions"]["NextAction"] == copy["Identifier"])
        assert {e["NextAction"] for e in bot["Transitions"]["Errors"]} == {copy["Identifier"]}


def test_unfinished_calls_go_to_the_queue_in_office_hours_and_to_a_callback_after(synth):
    flow = _flow(synth)
    actions = {a["Identifier"]: a for a in flow["Actions"]}
    voice = synth.build.stack.voice
    queue_arn = f"<{synth.logical_id(voice.queue)}.QueueArn>"
    hours_arn = f"<{synth.logical_id(voice.hours)}.HoursOfOperationArn>"
    for lang in ("en", "es"):
        route = actions[f"{lang}-route"]
        assert route["Parameters"]["ComparisonValue"] == "$.Attributes.careloopOutcome"
        finished = {c["Condition"]["Operands"][0]: c["NextAction"] for c in route["Transitions"]["Conditions"]}
        assert set(finished) == set(FINISHED_OUTCOMES) and set(finished.values()) == {"disconnect"}
        # transferred, unresolved and no outcome at all: a person, if the office is open
        to_queue = actions[route["Transitions"]["NextAction"]]
        assert to_queue["Type"] == "UpdateContactTargetQueue" and to_queue["Parameters"]["QueueId"] == queue_arn
        check = actions[to_queue["Transitions"]["NextAction"]]
        assert check["Type"] == "CheckHoursOfOperation" and check["Parameters"]["HoursOfOperationId"] == hours_arn
        branch = {c["Condition"]["Operands"][0]: c["NextAction"] for c in check["Transitions"]["Conditions"]}
        connecting = actions[branch["True"]]
        assert actions[connecting["Transitions"]["NextAction"]]["Type"] == "TransferContactToQueue"
        after = actions[branch["False"]]
        assert after["Parameters"]["Attributes"] == {"careloopOutcome": "callback"}
        goodbye = actions[after["Transitions"]["NextAction"]]
        assert goodbye["Type"] == "MessageParticipant" and goodbye["Transitions"]["NextAction"] == "disconnect"
    assert "llamada" in actions["es-callback"]["Parameters"]["Text"]


# --- Lex ---------------------------------------------------------------------------------------------


def test_the_bot_has_both_locales_and_the_utterances_of_bot_py(synth):
    _, bot = _one(synth, "AWS::Lex::Bot")
    definition = bot_definition(synth.build.profile)
    assert bot["Name"] == "careloop-demo" and bot["DataPrivacy"] == {"ChildDirected": False}
    assert bot["AutoBuildBotLocales"] is True
    locales = {loc["LocaleId"]: loc for loc in bot["BotLocales"]}
    assert set(locales) == {"en_US", "es_US"}
    for expected in definition.locales:
        locale = locales[expected.locale_id]
        assert locale["VoiceSettings"] == {"VoiceId": expected.voice_id, "Engine": "neural"}
        intents = {i["Name"]: i for i in locale["Intents"]}
        assert list(intents) == [i.name for i in expected.intents]
        assert intents[FALLBACK_INTENT]["ParentIntentSignature"] == "AMAZON.FallbackIntent"
        for intent in expected.intents:
            said = [u["Utterance"] for u in intents[intent.name].get("SampleUtterances", [])]
            assert said == list(intent.utterances), (expected.locale_id, intent.name)
            assert [s["Name"] for s in intents[intent.name].get("Slots", [])] == [s.name for s in intent.slots]
        [visit] = locale["SlotTypes"]
        assert [v["SampleValue"]["Value"] for v in visit["SlotTypeValues"]] == [
            v.value for v in expected.slot_type("VisitType").values]  # type: ignore[union-attr]
        assert visit["ValueSelectionSetting"] == {"ResolutionStrategy": "TOP_RESOLUTION"}
    refill = {i["Name"]: i for i in locales["es_US"]["Intents"]}["RefillRequest"]
    assert refill["Slots"][0]["SlotTypeName"] == "AMAZON.FreeFormInput"
    assert refill["Slots"][0]["ValueElicitationSetting"]["PromptSpecification"]["MessageGroupsList"][0][
        "Message"]["PlainTextMessage"]["Value"].startswith("¿Qué medicamento")
    role = synth.resources[bot["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lexv2.amazonaws.com"}


def test_the_version_and_the_alias_with_the_code_hook_for_both_locales(synth):
    voice = synth.build.stack.voice
    _, version = _one(synth, "AWS::Lex::BotVersion")
    assert version["BotId"] == {"Fn::GetAtt": [synth.logical_id(voice.bot), "Id"]}
    assert {(s["LocaleId"], s["BotVersionLocaleDetails"]["SourceBotVersion"])
            for s in version["BotVersionLocaleSpecification"]} == {("en_US", "DRAFT"), ("es_US", "DRAFT")}
    _, alias = _one(synth, "AWS::Lex::BotAlias")
    assert alias["BotVersion"] == {"Fn::GetAtt": [synth.logical_id(voice.bot_version), "BotVersion"]}
    hooks = {s["LocaleId"]: s["BotAliasLocaleSetting"] for s in alias["BotAliasLocaleSettings"]}
    assert set(hooks) == {"en_US", "es_US"}
    for setting in hooks.values():
        assert setting["Enabled"] is True
        assert setting["CodeHookSpecification"]["LambdaCodeHook"] == {
            "LambdaArn": _function_arn(synth, "voice"), "CodeHookInterfaceVersion": "1.0"}
    assert "ConversationLogSettings" not in alias  # transcripts stay in the encrypted inbox only


def test_lex_may_invoke_the_code_hook_through_this_alias_only(synth):
    voice = synth.build.stack.voice
    permissions = [r["Properties"] for r in synth.of_type("AWS::Lambda::Permission").values()
                   if r["Properties"]["Principal"] == "lexv2.amazonaws.com"]
    assert permissions == [{"Action": "lambda:InvokeFunction", "FunctionName": _function_arn(synth, "voice"),
                            "Principal": "lexv2.amazonaws.com", "SourceArn": _arn(synth, voice.alias),
                            "SourceAccount": {"Ref": "AWS::AccountId"}}]


# --- the functions -----------------------------------------------------------------------------------


def test_contact_events_reach_voice_events_with_retries_and_a_dlq(synth):
    stack = synth.build.stack
    rules = [r["Properties"] for r in synth.of_type("AWS::Events::Rule").values()
             if r["Properties"].get("EventPattern", {}).get("source") == ["aws.connect"]]
    [rule] = rules
    assert rule["EventPattern"] == {"source": ["aws.connect"], "detail-type": ["Amazon Connect Contact Event"],
                                    "detail": {"eventType": ["DISCONNECTED"],
                                               "instanceArn": [_arn(synth, stack.voice.instance)]}}
    [target] = rule["Targets"]
    dlq = _arn(synth, stack.function_dlqs["voice_events"])
    assert target["Arn"] == _function_arn(synth, "voice_events")
    assert target["DeadLetterConfig"] == {"Arn": dlq}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 900}
    function = synth.resources[synth.logical_id(stack.functions["voice_events"])]["Properties"]
    assert function["DeadLetterConfig"] == {"TargetArn": dlq}
    [invoke_config] = [r["Properties"] for r in synth.of_type("AWS::Lambda::EventInvokeConfig").values()
                       if r["Properties"]["FunctionName"] == {"Ref": synth.logical_id(stack.functions["voice_events"])}]
    assert invoke_config["MaximumRetryAttempts"] == 2


def test_describe_contact_is_granted_to_voice_events_on_this_instances_contacts_only(synth):
    stack = synth.build.stack
    for spec in wiring.FUNCTIONS:
        document = synth.resources[synth.logical_id(stack.policies[spec.name])]["Properties"]["PolicyDocument"]
        connect = [s for s in document["Statement"] if "connect:" in json.dumps(s.get("Action"))]
        if spec.name != "voice_events":
            assert connect == [], spec.name
            continue
        assert connect == [{"Sid": "DescribeOwnContacts", "Effect": "Allow", "Action": "connect:DescribeContact",
                            "Resource": {"Fn::Join": ["", [_arn(synth, stack.voice.instance), "/contact/*"]]}}]
    env = synth.resources[synth.logical_id(stack.functions["voice_events"])]["Properties"]["Environment"]["Variables"]
    assert env["CARELOOP_CONNECT_INSTANCE_ARN"] == _arn(synth, stack.voice.instance)


def test_both_voice_functions_and_the_dlq_are_alarmed(synth):
    stack = synth.build.stack
    alarms = {r["Properties"]["AlarmName"]: r["Properties"] for r in synth.of_type("AWS::CloudWatch::Alarm").values()}
    for name in ("voice", "voice-events"):
        for metric in ("errors", "throttles"):
            alarm = alarms[f"careloop-demo-{name}-{metric}"]
            assert alarm["Dimensions"][0]["Value"] == {"Ref": synth.logical_id(stack.functions[name.replace("-", "_")])}
    depth = alarms["careloop-demo-voice-events-dlq-depth"]
    assert depth["Dimensions"][0]["Value"] == {"Fn::GetAtt": [synth.logical_id(stack.function_dlqs["voice_events"]),
                                                             "QueueName"]}


def test_nag_is_clean_with_voice_on(synth):
    assert synth.cdk_warnings == []
    acknowledged = {(a.path, a.rule) for a in synth.build.acknowledgements}
    assert any(p.endswith("/Voice/BotPolicy") for p, _ in acknowledged)


# --- voice off, or the practice's own Connect ------------------------------------------------------


def test_voice_off_builds_none_of_it(tmp_path):
    template = _synth_variant(tmp_path, "novoice", {"enabled": False})
    types = Counter(r["Type"] for r in template["Resources"].values())
    assert not {t for t in types if t.startswith(("AWS::Connect::", "AWS::Lex::", "Custom::Connect"))}
    names = {r["Properties"].get("FunctionName") for r in template["Resources"].values()
             if r["Type"] == "AWS::Lambda::Function"}
    assert "careloop-novoice-sms-inbound" in names
    assert not {n for n in names if isinstance(n, str) and n.endswith(("-voice", "-voice-events"))}
    assert len(names) == len(wiring.FUNCTIONS) - 2  # every function but the voice agent's two
    assert "connect:" not in json.dumps(template["Resources"])
    assert not [o for o in template["Outputs"] if o.startswith(("Voice", "Connect"))]


def test_an_existing_instance_and_number_are_used_as_they_are(tmp_path):
    template = _synth_variant(tmp_path, "ownconnect", {"enabled": True, "connect_instance_arn": INSTANCE,
                                                       "phone_number_arn": NUMBER})
    types = Counter(r["Type"] for r in template["Resources"].values())
    assert types["AWS::Connect::Instance"] == 0 and types["AWS::Connect::PhoneNumber"] == 0
    assert types["AWS::Connect::ContactFlow"] == 1 and types["AWS::Lex::Bot"] == 1
    hours = next(r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Connect::HoursOfOperation")
    assert hours["InstanceArn"] == INSTANCE
    text = json.dumps(template["Resources"])
    assert f"{INSTANCE}/contact/*" in text and NUMBER in text


def test_a_fulfilled_close_with_no_outcome_hangs_up_and_after_hours_claims_no_number(synth):
    from careloop.voice.hook import CLOSED
    from infra.voice_flow import CLOSED_ATTRIBUTE

    flow = _flow(synth)
    actions = {a["Identifier"]: a for a in flow["Actions"]}
    assert CLOSED_ATTRIBUTE == CLOSED == "careloopClosed"
    for lang in ("en", "es"):
        # the copy of the outcome goes first to the check of a fulfilled Close, which hangs up
        copy_ = actions[f"{lang}-outcome"]
        closed = actions[copy_["Transitions"]["NextAction"]]
        assert closed["Type"] == "Compare"
        assert closed["Parameters"]["ComparisonValue"] == "$.Lex.SessionAttributes.careloopClosed"
        conditions = {c["Condition"]["Operands"][0]: c["NextAction"] for c in closed["Transitions"]["Conditions"]}
        assert conditions == {"Fulfilled": "disconnect"}
        # anything else goes on to the outcome's route, as before
        assert closed["Transitions"]["NextAction"] == f"{lang}-route"
        assert {e["NextAction"] for e in closed["Transitions"]["Errors"]} == {f"{lang}-route"}
    # the caller's number may be withheld: the after-hours words do not claim we have it
    english, spanish = actions["en-callback"]["Parameters"]["Text"], actions["es-callback"]["Parameters"]["Text"]
    assert "We have your number" not in english and "If your number came through" in english
    assert "Tenemos su número" not in spanish and "Si su número apareció" in spanish
