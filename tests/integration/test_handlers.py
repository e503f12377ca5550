"""Each handler with real event JSON (shared AWS samples) against moto and the SMS stand-in,
including redelivery: running a handler twice never does anything twice."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from careloop import tables
from careloop.models import Appointment, Message, MessageStatus, Patient
from careloop.records import ingest
from careloop_local.events import LambdaContext, stream_event
from tests.integration.conftest import sample, sns_envelope, sqs_records_from_sample


def _patient(pid: str, phone: str, **kw) -> Patient:
    return Patient(id=pid, first_name="Ana", last_name="Reyes", phone=phone, phone_kind="mobile", **kw)


def _stream_records(stack):
    import boto3

    ds = boto3.client("dynamodbstreams")
    records = []
    for i, it in enumerate(stack._stream_iterators("records")):
        got = ds.get_records(ShardIterator=it)
        stack._iterators["records"][i] = got.get("NextShardIterator") or it
        records += got["Records"]
    return records


def test_planner_plans_from_stream_and_ignores_redelivery(stack, ports):
    # Given an appointment written to the records table (a real stream record follows)
    now = stack.clock.now()
    ingest(ports.records, ports.consent, [_patient("ip1", "+16175550111")],
           [Appointment(id="ia1", patient_id="ip1", start=now + timedelta(days=4))], now)
    event = stream_event(_stream_records(stack), stack.res.streams["records"])
    assert any(r["dynamodb"]["Keys"]["pk"]["S"] == "APT#ia1" for r in event["Records"])
    # When the planner gets the batch twice (a redelivery)
    first = stack.invoke("planner", event)
    second = stack.invoke("planner", event)
    # Then one reminder is planned, once
    assert first == {"batchItemFailures": []} and second == {"batchItemFailures": []}
    actions = ports.actions.actions_for_subject("APT#ia1")
    assert [a.step for a in actions] == ["reminder-48h"]


def _daytime(stack):
    """Move the local clock forward to the next 12:00 in the practice's zone (outside quiet hours)."""
    from datetime import datetime, time

    from tests.conftest import NY

    local = stack.clock.now().astimezone(NY)
    noon = datetime.combine(local.date() + timedelta(days=1), time(12), tzinfo=NY)
    stack.clock.advance(noon - stack.clock.now())
    return stack.clock.now()


def test_dispatcher_two_concurrent_ticks_enqueue_once(stack, ports):
    # Given a due reminder, in the daytime
    now = _daytime(stack)
    ingest(ports.records, ports.consent, [_patient("ip2", "+16175550112")],
           [Appointment(id="ia2", patient_id="ip2", start=now + timedelta(hours=30))], now)
    stack.drain()
    event = sample("aws-powertools-python-events/eventBridgeEvent.json") | {
        "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    # When two dispatcher invocations race (the schedule fired twice)
    results = []
    threads = [threading.Thread(target=lambda: results.append(stack.handler("dispatcher")(event, LambdaContext("dispatcher"))))
               for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    # Then exactly one message was queued for the sender
    assert sorted(r["sent"] for r in results) == [0, 1]
    stack.drain()
    outbox = [m for m in stack.standin.outbox() if m["destination"] == "+16175550112"]
    assert len(outbox) == 1 and outbox[0]["context"]["step"] == "reminder-48h"


def _queued(ports, mid: str, phone: str, automated=True, patient_id=None) -> Message:
    msg = Message(message_id=mid, kind="sms_out", patient_id=patient_id, phone=phone, body="Hello from the test",
                  at=__import__("careloop.clock", fromlist=["now"]).now(), status=MessageStatus.QUEUED,
                  automated=automated, workflow="test", step="t")
    ports.messages.put_message(msg)
    return msg


def test_sender_sends_once_even_when_redelivered(stack, ports):
    _queued(ports, "it-send-1", "+16175550113")
    event = sqs_records_from_sample([json.dumps({"message_id": "it-send-1"})], stack.res.queue_arns["send"])
    assert stack.invoke("sms_sender", event) == {"batchItemFailures": []}
    assert stack.invoke("sms_sender", event) == {"batchItemFailures": []}
    sent = [m for m in stack.standin.outbox() if m["destination"] == "+16175550113"]
    assert len(sent) == 1 and sent[0]["context"]["message_id"] == "it-send-1"
    assert ports.messages.get_message("it-send-1").status == MessageStatus.SENT


def test_sender_transient_error_is_retried_permanent_is_recorded(stack, ports):
    _queued(ports, "it-send-2", "+16175550114")
    # one request per attempt (the queue retries, not botocore): each throttle fails one delivery
    stack.standin.fail_next_sends(3, "ThrottlingException")
    event = sqs_records_from_sample([json.dumps({"message_id": "it-send-2"})], stack.res.queue_arns["send"])
    for _ in range(3):
        failed = stack.invoke("sms_sender", event)["batchItemFailures"]
        assert len(failed) == 1 and ports.messages.get_message("it-send-2").status == MessageStatus.QUEUED
    assert stack.invoke("sms_sender", event) == {"batchItemFailures": []}
    assert ports.messages.get_message("it-send-2").status == MessageStatus.SENT
    # a number on the carrier opt-out list: permanent, recorded, not retried
    import boto3

    boto3.client("pinpoint-sms-voice-v2").put_opted_out_number(
        OptOutListName=stack.res.opt_out_list, OptedOutNumber="+16175550115")
    _queued(ports, "it-send-3", "+16175550115")
    event = sqs_records_from_sample([json.dumps({"message_id": "it-send-3"})], stack.res.queue_arns["send"])
    assert stack.invoke("sms_sender", event) == {"batchItemFailures": []}
    msg = ports.messages.get_message("it-send-3")
    assert msg.status == MessageStatus.FAILED and "OPTED_OUT" in (msg.status_detail or "")


def test_delivery_event_marks_message_delivered(stack, ports):
    _queued(ports, "it-send-4", "+16175550116")
    stack.invoke("sms_sender", sqs_records_from_sample([json.dumps({"message_id": "it-send-4"})], stack.res.queue_arns["send"]))
    provider_id = ports.messages.get_message("it-send-4").provider_message_id
    event_payload = sample("aws-docs-end-user-messaging/sms-event-text-successful.json") | {
        "messageId": provider_id, "eventType": "TEXT_DELIVERED", "destinationPhoneNumber": "+16175550116"}
    body = sns_envelope(event_payload, stack.res.topics["sms_events"])
    event = sqs_records_from_sample([body, body], stack.res.queue_arns["sms_events"])
    assert stack.invoke("sms_events", event) == {"batchItemFailures": []}
    assert ports.messages.get_message("it-send-4").status == MessageStatus.DELIVERED


def test_inbound_confirm_from_sample_payload_replies_once(stack, ports):
    now = stack.clock.now()
    ingest(ports.records, ports.consent, [_patient("ip5", "+16175550117")],
           [Appointment(id="ia5", patient_id="ip5", start=now + timedelta(days=2))], now)
    payload = sample("aws-docs-end-user-messaging/two-way-sms-inbound-payload.json") | {
        "originationNumber": "+16175550117", "destinationNumber": stack.res.phone_number, "messageBody": "Yes"}
    body = sns_envelope(payload, stack.res.topics["sms_inbound"])
    event = sqs_records_from_sample([body], stack.res.queue_arns["inbound"])
    # When the same inbound text is delivered twice
    assert stack.invoke("sms_inbound", event) == {"batchItemFailures": []}
    assert stack.invoke("sms_inbound", event) == {"batchItemFailures": []}
    # Then the appointment is confirmed and exactly one reply is queued
    assert ports.records.get_appointment("ia5").confirmed is True
    replies = [m for m in ports.messages.messages_for_patient("ip5") if m.kind == "sms_out"]
    assert len(replies) == 1 and "confirmed" in replies[0].body


def test_inbound_garbage_payload_fails_the_record_for_the_dlq(stack):
    event = sqs_records_from_sample(["not json at all"], stack.res.queue_arns["inbound"])
    failed = stack.invoke("sms_inbound", event)["batchItemFailures"]
    assert len(failed) == 1


def test_every_wired_queue_has_a_dead_letter_queue(stack):
    import boto3

    sqs = boto3.client("sqs")
    for name, url in stack.res.queues.items():
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
        assert json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"].endswith(f"-{name}-dlq")
    assert set(stack.res.tables) == {t.logical for t in tables.ALL_TABLES}


# --- faults of the SMS API (issue #10, item 6) -------------------------------------------------
@pytest.mark.parametrize("fault", ["BadGateway", "ServiceUnavailable"])
def test_a_gateway_5xx_is_transient_retried_and_sent_once(stack, ports, fault):
    # Given a gateway in front of the service answers 502 / 503 (an HTML page, no AWS error shape)
    mid, phone = f"it-5xx-{fault}", "+1617555012" + ("1" if fault == "BadGateway" else "2")
    _queued(ports, mid, phone)
    stack.standin.fail_next_sends(1, fault)
    event = sqs_records_from_sample([json.dumps({"message_id": mid})], stack.res.queue_arns["send"])
    # When the sender tries / Then it fails the record for the queue to retry, and keeps the text queued
    assert len(stack.invoke("sms_sender", event)["batchItemFailures"]) == 1
    assert ports.messages.get_message(mid).status == MessageStatus.QUEUED
    # and the retry sends it, once
    assert stack.invoke("sms_sender", event) == {"batchItemFailures": []}
    assert ports.messages.get_message(mid).status == MessageStatus.SENT
    assert len([m for m in stack.standin.outbox() if m["destination"] == phone]) == 1


def test_a_read_timeout_is_one_request_per_attempt(stack, ports, monkeypatch):
    from careloop.adapters import aws
    from careloop.settings import reset_settings

    monkeypatch.setenv("CARELOOP_SMS_READ_TIMEOUT_S", "0.5")
    reset_settings()
    aws.sms_channel.cache_clear()
    try:
        _queued(ports, "it-slow", "+16175550123")
        stack.standin.fail_next_sends(1, "slow")
        before = stack.standin.send_attempts
        event = sqs_records_from_sample([json.dumps({"message_id": "it-slow"})], stack.res.queue_arns["send"])
        assert len(stack.invoke("sms_sender", event)["batchItemFailures"]) == 1
        # one request, not three (botocore's own retries are off for this client)
        assert stack.standin.send_attempts - before == 1
        assert ports.messages.get_message("it-slow").status == MessageStatus.QUEUED
    finally:
        monkeypatch.delenv("CARELOOP_SMS_READ_TIMEOUT_S")
        reset_settings()
        aws.sms_channel.cache_clear()


def test_a_spend_limit_is_recorded_and_pages_operators(stack, ports):
    _queued(ports, "it-quota", "+16175550124")
    stack.standin.fail_next_sends(1, "quota")
    event = sqs_records_from_sample([json.dumps({"message_id": "it-quota"})], stack.res.queue_arns["send"])
    assert stack.invoke("sms_sender", event) == {"batchItemFailures": []}  # not retried: permanent
    msg = ports.messages.get_message("it-quota")
    assert msg.status == MessageStatus.FAILED and msg.status_detail.startswith("quota: MONTHLY_SPEND_LIMIT")
    alerts = [m for m in ports.messages.messages_of_kind("staff_alert") if m.team == "ops"]
    assert len(alerts) == 1 and alerts[0].priority == "urgent"


@pytest.mark.parametrize(("function", "body", "reason"), [
    ("sms_inbound", "{not json", "not JSON"),
    ("sms_inbound", json.dumps({"Type": "Notification", "Message": json.dumps({"messageBody": "hi"})}),
     "missing originationNumber"),
    ("sms_inbound", json.dumps({"originationNumber": "12", "messageBody": "my pills", "inboundMessageId": "x"}),
     "originationNumber: not a phone number"),
    ("sms_events", json.dumps({"Type": "Notification", "Message": "{broken"}), "SNS Message is not JSON"),
])
def test_unreadable_payloads_are_logged_counted_and_kept_for_the_dlq(stack, function, body, reason):
    import io

    # Given the handler's JSON log captured (as CloudWatch would)
    stack.handler(function)
    logger = stack.handler_module(function).logger  # this stack's copy (another stack may have imported its own)
    buf = io.StringIO()
    previous = logger.registered_handler.setStream(buf)
    try:
        # When a malformed SNS / SQS message arrives (issue #10, item 10)
        event = sqs_records_from_sample([body], stack.res.queue_arns["inbound" if function == "sms_inbound" else "sms_events"])
        failed = stack.invoke(function, event)["batchItemFailures"]
    finally:
        logger.registered_handler.setStream(previous)
    # Then the record goes back to the queue (and, after its retries, to the DLQ), with one warning
    # line naming why, ids only
    assert len(failed) == 1
    lines = [json.loads(x) for x in buf.getvalue().splitlines() if x.strip()]
    warning = [x for x in lines if x["message"] == "unreadable payload"]
    assert len(warning) == 1 and reason in warning[0]["reason"] and warning[0]["sqs_message_id"]
    assert "my pills" not in buf.getvalue()
