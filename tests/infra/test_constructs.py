"""The stack is composed of small constructs that mirror the wiring table, and becoming
constructs changed no logical id: a deployed stack updates in place, nothing stateful is replaced."""

from __future__ import annotations

from pathlib import Path

import pytest
from constructs import Construct

from infra import common

pytestmark = pytest.mark.infra

INFRA = Path(common.__file__).parent

# Logical ids of the stateful resources as the flat stack (before issue 11) had them.
FLAT_IDS = {
    "AWS::KMS::Key": {"DataKey17AFBB84", "WebKey7707EFB6"},
    "AWS::DynamoDB::Table": {
        "RecordsTableF6A7F330", "ActionsTable402DF2D7", "MessagesTable05B58A27",
        "BookingTable7E9C9410",  # new in issue 12 (self-scheduling), named as the flat stack would
    },
    "AWS::S3::Bucket": {"AccessLogsBucket83982689", "EhrBucket4F80FDB4", "WebBucket12880F5B"},
    "AWS::SMSVOICE::PhoneNumber": {"SmsPhoneNumber"},
    "AWS::SMSVOICE::OptOutList": {"SmsOptOutList"},
    "AWS::Cognito::UserPool": {"StaffUserPool2EF92F57"},
    "AWS::SQS::Queue": {
        "SendQueue1F034DCA", "SendDlq391D60CA", "InboundQueueF8D91047", "InboundDlq70A3935D",
        "SmsEventsQueue908D2421", "SmsEventsDlq6EFB7FFF", "EhrWritebackQueueC2E6F38C",
        "EhrWritebackDlq031B5064", "PlannerDlqD184D6F0", "DispatcherDlqE30A8399",
        "VoiceEventsDlq10BD0014",  # new in issue 13 (the contact-event rule's), named as the flat stack would
        "EhrImportQueue8F797983", "EhrImportDlq90256EAC",  # new in issue 15 (large EHR payloads' worker)
    },
    # a replaced stream mapping would start again at TRIM_HORIZON and re-read a day of changes
    "AWS::Lambda::EventSourceMapping": {
        "PlannerFunctionDynamoDBEventSourceCareloopdemoRecordsTable7FEF85C5CB87C666",
        "SmsSenderFunctionSqsEventSourceCareloopdemoSendQueue6BED51F54F716D6F",
        "SmsInboundFunctionSqsEventSourceCareloopdemoInboundQueueA1759E21156E5B58",
        "SmsEventsFunctionSqsEventSourceCareloopdemoSmsEventsQueue7CD0F5A28FAFB1B7",
        "EhrWritebackFunctionSqsEventSourceCareloopdemoEhrWritebackQueue9BFBFD1A369F23ED",
        "EhrImportFunctionSqsEventSourceCareloopdemoEhrImportQueue8CB65929921F305C",  # new in issue 15
    },
}


@pytest.mark.parametrize("cfn_type", sorted(FLAT_IDS))
def test_stateful_resources_keep_their_logical_ids(synth, cfn_type):
    assert set(synth.of_type(cfn_type)) == FLAT_IDS[cfn_type]


def test_the_stack_composes_one_construct_per_part(synth):
    stack = synth.build.stack
    children = {c.node.id: c for c in stack.node.children if isinstance(c, Construct)}
    assert set(common.PARTS) <= set(children)
    # the resources live in their part, not loose in the stack
    assert stack.key.node.scopes[-2].node.id == "Data"
    assert stack.queues["send"].node.scopes[-2].node.id == "Messaging"
    assert stack.functions["planner"].node.scopes[-2].node.id == "Functions"
    assert stack.ops_alarms[0].node.scopes[-2].node.id == "Monitoring"


def test_flat_logical_id_is_cdks_algorithm():
    # CDK's own ids for a top-level L2 (`Resource` hidden from the human part) and an L1
    assert common.flat_logical_id(["DataKey", "Resource"]) == "DataKey17AFBB84"
    assert common.flat_logical_id(["SmsPhoneNumber"]) == "SmsPhoneNumber"
    assert common.flat_logical_id(["StaffUserPool", "Resource"]) == "StaffUserPool2EF92F57"


def test_every_infra_module_reads_at_once():
    long = {p.name: n for p in INFRA.glob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
