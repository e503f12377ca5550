"""Integration fixtures: the local AWS emulation (moto's server + the SMS stand-in) with every
resource the wiring table declares, and helpers that build events from the shared samples."""

from __future__ import annotations

import copy
import json
import uuid

import pytest

from tests.conftest import DATA


@pytest.fixture(scope="module")
def stack():
    from careloop.local.runtime import LocalStack

    s = LocalStack().start(ticker=False)
    yield s
    s.stop()


@pytest.fixture
def store(stack):
    from careloop.adapters.aws import services

    return services().store


def sample(rel: str) -> dict:
    return json.loads((DATA / rel).read_text())


def sqs_records_from_sample(bodies: list[str], queue_arn: str) -> dict:
    """The powertools SNS->SQS sample, one record per body (ids made unique)."""
    template = sample("aws-powertools-python-events/snsSqsEvent.json")["Records"][0]
    records = []
    for body in bodies:
        r = copy.deepcopy(template)
        r["messageId"] = str(uuid.uuid4())
        r["body"] = body
        r["eventSourceARN"] = queue_arn
        r["awsRegion"] = "us-east-1"
        records.append(r)
    return {"Records": records}


def sns_envelope(message: dict, topic_arn: str) -> str:
    """The real SNS envelope of the sample, carrying `message`."""
    envelope = json.loads(sample("aws-powertools-python-events/snsSqsEvent.json")["Records"][0]["body"])
    envelope["Message"] = json.dumps(message)
    envelope["TopicArn"] = topic_arn
    envelope["MessageId"] = str(uuid.uuid4())
    return json.dumps(envelope)
