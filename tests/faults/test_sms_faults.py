"""Faults of End User Messaging (the stand-in answers them for real: 5xx, a gateway's 502/503,
throttling, a read timeout, the spend limit) on the booking -> reminder flow, through the send
queue: transient ones retried with a growing back-off and sent once, permanent ones recorded on
the message, shown to staff, and a spend limit pages the ops topic once."""

from __future__ import annotations

import json

from careloop.models import MessageStatus
from tests.faults.conftest import (
    REMINDER,
    assert_reminded_once,
    book,
    dlq_depths,
    sent_to,
    settle,
    staff_thread,
)


def test_transient_sms_errors_are_retried_with_backoff_and_each_reminder_goes_once(stack, ports, faults):
    # Given four reminders due, and the SMS API failing the next six sends in every transient way
    booked = book(stack, ports, 4, "sms5xx")
    for i, code in enumerate(("InternalServerException", "ThrottlingException", "BadGateway", "ServiceUnavailable",
                              "ThrottlingException", "InternalServerException")):
        stack.standin.fail_next_sends(1, code, to=booked.phones[i % 4])
    faults.compress_backoff()  # the back-off asked for is recorded; the test does not wait it out
    # When the schedule runs and the queue retries
    settle(stack)
    # Then each patient got their reminder once, and nothing went to a DLQ
    assert_reminded_once(stack, ports, booked)
    assert sum(faults.attempts_to(phone) for phone in booked.phones) == 4 + 6  # one request per attempt
    assert sum(dlq_depths(stack).values()) == 0
    # and each retry of one text waited longer than the one before (10 s, 20 s, 40 s ...)
    assert faults.backoffs and set(faults.backoffs) <= {10, 20, 40, 80, 160}
    assert max(faults.backoffs) >= 20


def test_a_read_timeout_is_retried_as_one_request_per_attempt(stack, ports, faults, monkeypatch):
    from careloop.adapters import aws
    from careloop.settings import reset_settings

    monkeypatch.setenv("CARELOOP_SMS_READ_TIMEOUT_S", "1.0")  # the stand-in's slow answer takes 2 s
    reset_settings()
    aws.reset()  # the sender's SMS client is made again with the short timeout
    try:
        # Given a reminder due, and the SMS API answering slower than the read timeout once
        booked = book(stack, ports, 1, "smsslow")
        stack.standin.fail_next_sends(1, "slow", to=booked.phones[0])
        faults.compress_backoff()
        settle(stack)
        # Then the timed-out request was not repeated by botocore; the queue's retry (after a
        # minute: no answer means it may have gone out) sent it once
        assert faults.attempts_to(booked.phones[0]) == 2
        assert faults.backoffs == [60]
        assert_reminded_once(stack, ports, booked)
    finally:
        monkeypatch.delenv("CARELOOP_SMS_READ_TIMEOUT_S")
        reset_settings()
        aws.reset()


def test_a_spend_limit_is_recorded_shown_to_staff_and_pages_ops_once(stack, ports, faults):
    import boto3

    sqs = boto3.client("sqs")
    ops = sqs.create_queue(QueueName="faults-ops-page")["QueueUrl"]
    ops_arn = sqs.get_queue_attributes(QueueUrl=ops, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=stack.res.topics["staff_alerts"], Protocol="sqs", Endpoint=ops_arn)
    # Given three reminders due and the account's monthly spend limit reached
    booked = book(stack, ports, 3, "smsquota")
    for phone in booked.phones:
        stack.standin.fail_next_sends(1, "quota", to=phone)
    settle(stack)
    # Then no text went out, none is retried, each is failed with the reason on it
    for patient in booked.patients:
        assert sent_to(stack, patient.phone) == []
        text = next(m for m in ports.messages.messages_for_patient(patient.id) if m.step == REMINDER)
        assert text.status == MessageStatus.FAILED and text.status_detail.startswith("quota: MONTHLY_SPEND_LIMIT")
        # and the staff's thread view shows the failure and why
        shown = next(m for m in staff_thread(stack, patient.id)["messages"] if m["message_id"] == text.message_id)
        assert shown["status"] == "failed" and "MONTHLY_SPEND_LIMIT" in shown["status_detail"]
    # and the ops topic was paged once for the limit, not once per text
    alerts = [m for m in ports.messages.messages_of_kind("staff_alert") if m.team == "ops"]
    assert len(alerts) == 1 and alerts[0].priority == "urgent"
    got = sqs.receive_message(QueueUrl=ops, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    pages = [json.loads(json.loads(m["Body"])["Message"]) for m in got]
    assert [p["message_id"] for p in pages if p.get("team") == "ops"] == [alerts[0].message_id]


def test_an_answer_lost_after_the_carrier_took_the_text_is_not_sent_again(stack, ports, faults):
    # Given two reminders due, and the SMS API's answer to the first send lost on the way back
    # (it went out; the sender's read times out, so for it the outcome is unknown)
    booked = book(stack, ports, 2, "smslost")
    faults.lose_response("pinpoint-sms-voice-v2", "SendTextMessage", function="sms_sender")
    faults.compress_backoff(scale=0.02)  # the minute an unconfirmed send waits: 1 s here
    stack.drain()
    stack.dispatch()
    stack.drain()  # the carrier's events arrive while the retry waits
    import time

    time.sleep(1.2)
    settle(stack)
    # Then the retry found it sent (the carrier's event said so) and did not send it again
    assert faults.injected[("pinpoint-sms-voice-v2", "SendTextMessage", "ReadTimeout")] == 1
    assert faults.backoffs == [60]
    assert_reminded_once(stack, ports, booked)
