"""Fault-suite fixtures: the integration stack (moto's server + the stand-ins, real handlers fed by
the event pump), the process's fault plan cleared around each test, and the flows and ledgers the
tests drive and check: bookings -> reminders, inbound texts -> replies, against the stand-in's
outbox and the tables."""

from __future__ import annotations

import itertools
import json
import time as _time
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest

from careloop.models import ActionStatus, Appointment, MessageStatus, Patient
from careloop.records import ingest
from tests.conftest import NY
from tests.integration.conftest import ports, stack  # noqa: F401 - the same fixtures, reused

_numbers = itertools.count(200)
REMINDER = "reminder-48h"
SENT_STATES = {MessageStatus.SENT, MessageStatus.DELIVERED}


@pytest.fixture
def faults(stack):  # noqa: F811 - the imported fixture
    """The fault plan, empty before and after each test; botocore's retry pauses shortened (its
    attempts stay three: the test sees the same calls, not the same waits)."""
    from botocore.retries import standard

    plan = stack.faults
    plan.clear()
    original = standard.ExponentialBackoff.delay_amount
    standard.ExponentialBackoff.delay_amount = lambda self, context: 0.01  # type: ignore[method-assign]
    try:
        yield plan
    finally:
        standard.ExponentialBackoff.delay_amount = original  # type: ignore[method-assign]
        plan.clear()
        stack.crashes.clear()


def daytime(stack) -> datetime:  # noqa: F811
    """The stack's clock moved to the next 12:00 in the practice's zone (outside quiet hours)."""
    local = stack.clock.now().astimezone(NY)
    noon = datetime.combine(local.date() + timedelta(days=1), time(12), tzinfo=NY)
    stack.clock.advance(noon - stack.clock.now())
    return stack.clock.now()


@dataclass
class Booked:
    patients: list[Patient]
    appointments: list[Appointment]

    @property
    def phones(self) -> list[str]:
        return [p.phone for p in self.patients if p.phone]


def book(stack, ports, n: int, tag: str, hours_ahead: float = 30) -> Booked:  # noqa: F811
    """`n` patients each booked `hours_ahead` from a daytime now (their 48 h reminder is due at once),
    written through the EHR import's core (the records table's stream feeds the planner)."""
    daytime(stack)
    # what earlier tests left due by a little after now (their nudges, due the minute after noon)
    # goes first, before any fault is armed
    stack.clock.advance(timedelta(minutes=10))
    settle(stack)
    now = stack.clock.now()
    patients = [Patient(id=f"{tag}-p{i}", first_name="Ana", last_name="Reyes", phone=f"+1617555{next(_numbers):04d}",
                        phone_kind="mobile") for i in range(n)]
    appts = [Appointment(id=f"{tag}-a{i}", patient_id=p.id, start=now + timedelta(hours=hours_ahead))
             for i, p in enumerate(patients)]
    ingest(ports.records, ports.consent, patients, appts, now)
    return Booked(patients, appts)


IN_FLIGHT_WAIT_S = 120.0  # at most this long for failed records to come back, over a whole settle


def settle(stack, rounds: int = 6) -> None:  # noqa: F811
    """Pump, tick and move past the claim lease until nothing is due, queued or in flight: what a
    few minutes of the real schedule do after a fault."""
    from careloop.adapters.aws import services
    from careloop.engine.dispatcher import CLAIM_LEASE

    done = 0
    deadline = _time.monotonic() + IN_FLIGHT_WAIT_S
    while done < rounds:
        stack.drain()
        stack.dispatch()
        stack.drain()
        if in_flight(stack) and _time.monotonic() < deadline:
            # a record the handler failed comes back after the visibility timeout: waiting for it
            # is not a round (on a loaded machine the wait can outlast a fixed count of them)
            _time.sleep(1.0)
            continue
        done += 1
        if not services().actions.due_actions(stack.clock.now(), limit=1):
            return
        stack.clock.advance(CLAIM_LEASE + timedelta(seconds=1))


def in_flight(stack) -> int:  # noqa: F811
    """Messages received from the wired queues and not yet deleted (invisible for now)."""
    import boto3

    sqs = boto3.client("sqs")
    return sum(int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
                   ["Attributes"]["ApproximateNumberOfMessagesNotVisible"]) for url in stack.res.queues.values())


def sent_to(stack, phone: str, step: str | None = None) -> list[dict]:  # noqa: F811
    """What the carrier (the stand-in) took for `phone`, of one workflow step if named."""
    return [m for m in stack.standin.outbox()
            if m["destination"] == phone and (step is None or m["context"].get("step") == step)]


def assert_reminded_once(stack, ports, booked: Booked) -> None:  # noqa: F811
    """Nothing lost, nothing twice: each patient's reminder went to the carrier once, its message
    is sent (or delivered) with the carrier's id, its action is done (never left claimed)."""
    for patient, appt in zip(booked.patients, booked.appointments, strict=True):
        assert len(sent_to(stack, patient.phone, REMINDER)) == 1, patient.id
        texts = [m for m in ports.messages.messages_for_patient(patient.id) if m.step == REMINDER]
        assert len(texts) == 1 and texts[0].status in SENT_STATES, (patient.id, [t.status for t in texts])
        assert texts[0].provider_message_id == sent_to(stack, patient.phone, REMINDER)[0]["message_id"]
        actions = [a for a in ports.actions.actions_for_subject(f"APT#{appt.id}") if a.step == REMINDER]
        assert [a.status for a in actions] == [ActionStatus.SENT], patient.id


def dlq_depths(stack) -> dict[str, int]:  # noqa: F811
    """Messages kept in each dead-letter queue (kept, replayable: not lost)."""
    import boto3

    sqs = boto3.client("sqs")
    return {name: int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                      ["Attributes"]["ApproximateNumberOfMessages"]) for name, url in stack.res.dlqs.items()}


def text_in(stack, phone: str, body: str) -> str:  # noqa: F811
    """A patient texts the practice's number: the stand-in publishes it to the two-way SNS topic."""
    return stack.standin.receive(phone, stack.res.phone_number, body)


def staff_thread(stack, patient_id: str) -> dict:  # noqa: F811
    """The staff API's thread view of a patient (GET /api/patients/<id>/messages), as an admin."""
    from careloop_local.events import api_event

    claims = {"email": "staff@maple.test", "cognito:username": "staff", "cognito:groups": ["admin"]}
    proxy = f"patients/{patient_id}/messages"
    event = api_event("GET", f"/api/{proxy}", "/api/{proxy+}", {}, {}, b"", {"proxy": proxy}, claims)
    event["path"] = f"/api/{proxy}"
    out = stack.invoke("inbox_api", event)
    assert out["statusCode"] == 200, out
    return json.loads(out["body"])
