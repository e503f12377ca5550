"""Integration fixtures: the local AWS emulation (moto's server + the SMS stand-in) with every
resource the wiring table declares, and helpers that build events from the shared samples."""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import DATA


@pytest.fixture(scope="module")
def stack():
    from moto.moto_api._internal.models import moto_api_backend

    from careloop_local.runtime import LocalStack

    # moto's state is per process: start each module from an empty account
    moto_api_backend.reset()
    s = LocalStack().start(ticker=False)
    yield s
    s.stop()
    moto_api_backend.reset()


@pytest.fixture(scope="module")
def served(stack):
    """The local HTTP front (LocalHttp) on a free port, over the module's stack."""
    from werkzeug.serving import make_server

    from careloop_local.http import LocalHttp

    server = make_server("127.0.0.1", 0, LocalHttp(stack), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def ports(stack):
    """The deployed wiring's Services (DynamoDB adapters on moto), read through its ports."""
    from careloop.adapters.aws import services

    return services()


# The booking tests' practice: one provider bookable every day 09:00-17:00 on the hour
BOOKING = {
    "types": [{"id": "cleaning", "name": {"en": "Cleaning", "es": "Limpieza"}, "minutes": 60,
               "providers": ["lee"], "new_patients": True}],
    "hours": [{"provider": "lee", "location": "main", "weekday": d, "hours": {"start": "09:00", "end": "17:00"}}
              for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")],
    "step_minutes": 60,
}


@contextmanager
def booking_stack(tmp_path_factory, booking: dict | None = None) -> Iterator:
    """The local stack (moto) on the demo practice with `booking` (default BOOKING) as its
    self-scheduling section, for a module's booking tests."""
    from moto.moto_api._internal.models import moto_api_backend

    from careloop_local.runtime import ROOT, LocalStack

    profile = json.loads((ROOT / "practices" / "demo.json").read_text()) | {"booking": booking or BOOKING}
    path = tmp_path_factory.mktemp("practice") / "booking.json"
    path.write_text(json.dumps(profile))
    moto_api_backend.reset()
    s = LocalStack(practice_file=path).start(ticker=False)
    try:
        yield s
    finally:
        s.stop()
        moto_api_backend.reset()


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
