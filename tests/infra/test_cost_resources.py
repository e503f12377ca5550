"""The fixed parts `careloop cost` prices (careloop_local.cost.STACK_RESOURCES) are the stack's:
counted in the synthesized template, so an added alarm or rule shows up in the bill."""

from __future__ import annotations

from careloop import wiring
from careloop_local.cost import POLLED_QUEUES, STACK_RESOURCES


def test_the_priced_resources_are_the_templates(synth):
    def count(cfn_type: str) -> int:
        return len(synth.of_type(cfn_type))

    acls = synth.of_type("AWS::WAFv2::WebACL")
    found = {
        "alarms": count("AWS::CloudWatch::Alarm"), "dashboards": count("AWS::CloudWatch::Dashboard"),
        "kms_keys": count("AWS::KMS::Key"), "web_acls": len(acls),
        "waf_rules": sum(len(acl["Properties"]["Rules"]) for acl in acls.values()),
        "queues": count("AWS::SQS::Queue"), "topics": count("AWS::SNS::Topic"),
        "tables": count("AWS::DynamoDB::Table"), "log_groups": count("AWS::Logs::LogGroup"),
    }
    assert found == STACK_RESOURCES, "update careloop_local.cost.STACK_RESOURCES to the stack's counts"
    # the queues Lambda polls are the wiring's event sources, one mapping each
    assert POLLED_QUEUES == len(wiring.queues()) == sum(
        1 for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if "Queue" in str(m["Properties"]["EventSourceArn"]))
