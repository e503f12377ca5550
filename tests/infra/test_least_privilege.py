"""Least privilege and hygiene in the template: who may send texts, which log groups may use the
PHI key, and a throttle per route so one caller cannot use up another's share."""

from __future__ import annotations

import pytest

from careloop import wiring
from infra.api import BOOKING_THROTTLE, EHR_THROTTLE, STAFF_THROTTLE

pytestmark = pytest.mark.infra

LOGS_SID = "CloudWatchLogsEncryptsOurLogGroups"


def _statements(synth, logical_id: str) -> list[dict]:
    return synth.resources[logical_id]["Properties"]["PolicyDocument"]["Statement"]


def _actions(statement: dict) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_only_the_sms_sender_holds_send_text_message(synth):
    # Given every function policy, When we look for SendTextMessage,
    # Then only sms_sender has it: sms_inbound and inbox_api reply through the send queue
    policies = synth.build.stack.policies
    holders = {
        name
        for name, policy in policies.items()
        if any("sms-voice:SendTextMessage" in _actions(s) for s in _statements(synth, synth.logical_id(policy)))
    }
    assert holders == {"sms_sender"}
    # and those that keep the carrier opt-out list in step with consent still may
    for name in ("sms_inbound", "inbox_api"):
        statements = {s.get("Sid"): s for s in _statements(synth, synth.logical_id(policies[name]))}
        assert {"sms-voice:PutOptedOutNumber", "sms-voice:DeleteOptedOutNumber"} <= set(
            _actions(statements["ManageOptOuts"])
        )
        queue_ref = {"Fn::GetAtt": [synth.logical_id(synth.build.stack.queues["send"]), "Arn"]}
        assert queue_ref in statements["SendToQueues"]["Resource"]


def _log_group_arns(synth) -> list:
    key = synth.resources[synth.logical_id(synth.build.stack.key)]
    (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == LOGS_SID]
    assert set(statement["Condition"]) == {"ArnEquals"}  # exact ARNs, no pattern
    return statement["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]


def _joined(value) -> str:
    """A Fn::Join of strings and refs as one readable string (refs as <Ref>)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(_joined(part) for part in value["Fn::Join"][1])
    if "Ref" in value:
        return f"<{value['Ref']}>"
    raise AssertionError(value)


def test_the_logs_service_may_use_the_phi_key_for_this_stacks_log_groups_only(synth):
    arns = {_joined(a) for a in _log_group_arns(synth)}
    prefix = "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
    assert all(a.startswith(prefix) and "*" not in a for a in arns)
    names = {a.removeprefix(prefix) for a in arns}
    # Then every log group the stack creates (and nothing else) is named
    created = {_joined(g["Properties"]["LogGroupName"]) for g in synth.of_type("AWS::Logs::LogGroup").values()}
    assert names == created
    stack = synth.build.stack
    assert {f"/aws/lambda/careloop-demo-{spec.name.replace('_', '-')}" for spec in wiring.FUNCTIONS} <= names
    api_id = synth.logical_id(stack.api)
    assert f"API-Gateway-Execution-Logs_<{api_id}>/v1" in names


def _method_settings(synth) -> dict[tuple[str, str], dict]:
    stage = synth.resources[synth.logical_id(synth.build.stack.api.deployment_stage)]["Properties"]
    return {(m["ResourcePath"], m["HttpMethod"]): m for m in stage["MethodSettings"]}


def test_every_route_has_its_own_throttle(synth):
    settings = _method_settings(synth)
    for spec in wiring.FUNCTIONS:
        if not isinstance(spec.source, wiring.ApiSource):
            continue
        expected = {"hmac": EHR_THROTTLE, "cognito": STAFF_THROTTLE, "public": BOOKING_THROTTLE}[spec.source.auth]
        for route in spec.source.routes:
            entry = settings[("/" + route.path.replace("/", "~1"), route.method)]
            assert (entry["ThrottlingRateLimit"], entry["ThrottlingBurstLimit"]) == (expected.rate, expected.burst)
            assert entry["DataTraceEnabled"] is False and entry["LoggingLevel"] == "ERROR"
    # /ehr and /api are different buckets: a 401 flood on the webhook leaves the staff app its 25 rps
    assert settings[("/~1ehr~1fhir", "POST")] is not settings[("/~1api~1{proxy+}", "ANY")]
