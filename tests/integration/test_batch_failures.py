"""Queue and stream consumers on the local stack: a record that fails is logged once at WARNING
with its ids and exception class (careloop.batch), never with the name, phone or text it carries."""

from __future__ import annotations

import io
import json

from careloop_local.events import stream_event
from tests.integration.conftest import sqs_records_from_sample

PHI = ("Ana Reyes", "+16175550111", "my chest hurts")


def run_capturing_log(stack, function: str, event: dict) -> tuple[dict, list[dict], str]:
    stack.handler(function)
    logger = stack.handler_module(function).logger  # this stack's copy (another stack may have imported its own)
    buf = io.StringIO()
    previous = logger.registered_handler.setStream(buf)
    try:
        result = stack.invoke(function, event)
    finally:
        logger.registered_handler.setStream(previous)
    return result, [json.loads(x) for x in buf.getvalue().splitlines() if x.strip()], buf.getvalue()


def test_a_failing_delivery_event_logs_one_warning_with_its_message_id_and_no_phi(stack):
    # Given an SQS record whose SNS message is broken and quotes a patient's name, phone and text
    body = json.dumps({"Type": "Notification", "Message": "{" + " ".join(PHI)})
    event = sqs_records_from_sample([body], stack.res.queue_arns["sms_events"])
    message_id = event["Records"][0]["messageId"]
    # When sms_events processes it
    result, lines, raw = run_capturing_log(stack, "sms_events", event)
    # Then it goes back to the queue, with one "batch record failed" WARNING: its id, the class
    assert result == {"batchItemFailures": [{"itemIdentifier": message_id}]}
    failed = [x for x in lines if x["message"] == "batch record failed"]
    assert len(failed) == 1 and failed[0]["level"] == "WARNING"
    assert failed[0]["message_id"] == message_id and failed[0]["error"] == "PayloadError"
    assert not any(p in raw for p in PHI), raw


def test_a_failing_stream_record_logs_its_sequence_number_and_no_phi(stack):
    # Given a records-table stream record of an appointment the planner cannot read (PHI in it)
    record = {"eventID": "evt-broken-1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
              "awsRegion": "us-east-1",
              "dynamodb": {"Keys": {"pk": {"S": "APT#broken"}, "sk": {"S": "A"}}, "SequenceNumber": "4242",
                           "NewImage": {"pk": {"S": "APT#broken"}, "sk": {"S": "A"}, "id": {"S": "broken"},
                                        "notes": {"S": " ".join(PHI)}, "start": {"S": "not a time"}},
                           "StreamViewType": "NEW_AND_OLD_IMAGES"}}
    event = stream_event([record], stack.res.streams["records"])
    # When the planner processes it
    result, lines, raw = run_capturing_log(stack, "planner", event)
    # Then the sequence number is reported back and logged once at WARNING, ids only
    assert result == {"batchItemFailures": [{"itemIdentifier": "4242"}]}
    failed = [x for x in lines if x["message"] == "batch record failed"]
    assert len(failed) == 1 and failed[0]["level"] == "WARNING"
    assert failed[0]["sequence_number"] == "4242" and failed[0]["event_id"] == "evt-broken-1"
    assert failed[0]["error"] == "ValidationError"
    assert not any(p in raw for p in PHI), raw
