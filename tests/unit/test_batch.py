"""careloop.batch: every failed record of a queue or stream batch is logged once at WARNING with
its ids and exception class, never its body; and every consumer uses it."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from pathlib import Path

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response

from careloop.batch import partial_batch_processor, record_ids
from tests.conftest import ROOT

PHI = ("Ana Reyes", "+16175550111", "my chest hurts")


@pytest.fixture
def log_lines():
    """A Powertools logger writing JSON lines to a buffer (as CloudWatch would receive them)."""
    buf = io.StringIO()
    # a service of its own: Powertools reuses an already configured logger of the same service
    logger = Logger(service=f"batch-test-{uuid.uuid4().hex}", logger_handler=logging.StreamHandler(buf))
    return logger, lambda: [json.loads(x) for x in buf.getvalue().splitlines() if x.strip()], buf


def sqs_record(message_id: str, body: str) -> dict:
    return {"messageId": message_id, "receiptHandle": "rh", "body": body, "attributes": {},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}


def stream_record(event_id: str, sequence: str, name: str) -> dict:
    return {"eventID": event_id, "eventName": "INSERT", "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"pk": {"S": "APT#a1"}}, "SequenceNumber": sequence,
                         "NewImage": {"pk": {"S": "APT#a1"}, "name": {"S": name}}}}


def fail_with_phi(record) -> None:
    if "fail" in (record.raw_event.get("messageId") or record.raw_event.get("eventID")):
        # exception text quoting the payload, as pydantic's and json's errors do
        raise ValueError(f"bad record for {PHI[0]} at {PHI[1]}: {PHI[2]}")


def test_a_failed_sqs_record_logs_one_warning_with_its_id_and_no_phi(log_lines):
    logger, lines, buf = log_lines
    # Given a batch of one good and one failing record whose body and error text carry PHI
    event = {"Records": [sqs_record("ok-1", json.dumps({"n": PHI[0]})),
                         sqs_record("fail-1", json.dumps({"n": PHI[0], "p": PHI[1], "t": PHI[2]}))]}
    # When the consumer processes it
    result = process_partial_response(event, fail_with_phi, partial_batch_processor(EventType.SQS, logger), None)
    # Then only the failing record goes back, with one WARNING line: its id and the exception class
    assert result == {"batchItemFailures": [{"itemIdentifier": "fail-1"}]}
    warnings = [x for x in lines() if x["level"] == "WARNING"]
    assert len(warnings) == 1, warnings
    assert warnings[0]["message"] == "batch record failed"
    assert warnings[0]["message_id"] == "fail-1" and warnings[0]["error"] == "ValueError"
    assert not any(p in buf.getvalue() for p in PHI), buf.getvalue()


def test_a_failed_stream_record_logs_its_event_id_and_sequence_number(log_lines):
    logger, lines, buf = log_lines
    event = {"Records": [stream_record("fail-e1", "111", PHI[0]), stream_record("ok-e2", "112", PHI[0])]}
    result = process_partial_response(event, fail_with_phi,
                                      partial_batch_processor(EventType.DynamoDBStreams, logger), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "111"}]}
    (warning,) = [x for x in lines() if x["level"] == "WARNING"]
    assert warning["event_id"] == "fail-e1" and warning["sequence_number"] == "111"
    assert warning["event_source"] == "aws:dynamodb" and warning["error"] == "ValueError"
    assert not any(p in buf.getvalue() for p in PHI)


def test_a_whole_failed_batch_is_reported_not_raised(log_lines):
    logger, lines, _ = log_lines
    event = {"Records": [sqs_record("fail-a", "x"), sqs_record("fail-b", "y")]}
    result = process_partial_response(event, fail_with_phi, partial_batch_processor(EventType.SQS, logger), None)
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == ["fail-a", "fail-b"]
    assert [x["message_id"] for x in lines() if x["level"] == "WARNING"] == ["fail-a", "fail-b"]


def test_record_ids_take_ids_only_even_from_a_raw_record():
    raw = sqs_record("m-1", json.dumps({"n": PHI[0]}))
    assert record_ids(raw) == {"message_id": "m-1", "event_source": "aws:sqs"}
    assert record_ids(object()) == {}


def test_every_batch_consumer_uses_the_logging_processor():
    # Given every Lambda handler
    handlers = sorted((ROOT / "functions").glob("*/handler.py"))
    consumers = [p for p in handlers if "process_partial_response" in p.read_text()]
    # Then each partial-batch consumer builds its processor with careloop.batch, none by hand
    assert {p.parent.name for p in consumers} >= {"sms_events", "ehr_writeback", "planner", "sms_sender", "sms_inbound"}
    for path in handlers:
        text = Path(path).read_text()
        assert not re.search(r"\bBatchProcessor\(", text), path
        assert "batchItemFailures" not in text, f"{path}: hand-written partial batch loop"
    for path in consumers:
        assert "partial_batch_processor(" in path.read_text(), path
