"""The SMS agent through the real sms_inbound handler, over moto and the SMS stand-in: the
reply a patient gets per intent, and the staff notification (SNS, no PHI) for what needs a person."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest

from careloop.models import Appointment, Patient
from careloop.records import ingest

PHONE = "+16175550177"


@pytest.fixture(scope="module")
def alerts_queue(stack):
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName="test-staff-alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stack.res.topics["staff_alerts"], Protocol="sqs", Endpoint=arn)
    return url


@pytest.fixture(scope="module")
def patient(stack):
    from careloop.adapters.aws import services

    now = stack.clock.now()
    ingest(services().records, services().consent, [Patient(id="ag1", first_name="Rosa", last_name="Diaz", phone=PHONE)],
           [Appointment(id="agA", patient_id="ag1", start=now + timedelta(days=3), provider="Dr. Lee")], now)
    stack.drain()
    return "ag1"


def text(stack, body, phone=PHONE):
    before = len(stack.standin.outbox())
    stack.standin.receive(phone, stack.res.phone_number, body)
    stack.drain()
    return [m["body"] for m in stack.standin.outbox()[before:] if m["destination"] == phone]


def notifications(url):
    """What the alerts topic delivered since the last call: received and deleted, so a message seen
    once cannot come back when its visibility timeout ends (a slow, loaded run took over 30 s)."""
    sqs = boto3.client("sqs")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    for m in got.get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_urgent_text_gets_911_reply_and_an_urgent_page_without_phi(stack, patient, alerts_queue):
    replies = text(stack, "my face is really swollen since the extraction and I have a fever")
    assert len(replies) == 1 and "911" in replies[0]
    sent = notifications(alerts_queue)
    assert len(sent) == 1
    envelope = sent[0]
    assert envelope["MessageAttributes"]["priority"]["Value"] == "urgent"
    assert envelope["MessageAttributes"]["team"]["Value"] == "clinical"
    blob = json.dumps(envelope)
    assert "Rosa" not in blob and "swollen" not in blob and PHONE not in blob


def test_hours_question_is_answered_from_the_profile_without_staff(stack, patient, alerts_queue):
    replies = text(stack, "what time do you open tomorrow?")
    # the practice's own knowledge entry, in its own words
    assert replies == ["We're open Mon-Fri 8am-5pm, closed weekends and major holidays. Questions? Call (617) 555-0100."]
    assert notifications(alerts_queue) == []


def test_billing_question_goes_to_billing(stack, patient, alerts_queue):
    replies = text(stack, "why is my balance $240? I thought insurance covered the cleaning")
    assert "billing team" in replies[0]
    sent = notifications(alerts_queue)
    assert [n["MessageAttributes"]["team"]["Value"] for n in sent] == ["billing"]


def test_spanish_confirmation(stack, patient):
    from careloop.adapters.aws import services

    replies = text(stack, "sí, ahí estaré")
    assert services().records.get_appointment("agA").confirmed
    assert replies and replies[0].startswith("Thanks Rosa")  # the patient's language is English


def carrier_opt_outs(stack) -> list[str]:
    listed = boto3.client("pinpoint-sms-voice-v2").describe_opted_out_numbers(OptOutListName=stack.res.opt_out_list)
    return [n["OptedOutNumber"] for n in listed["OptedOutNumbers"]]


def test_free_text_opt_out_is_honoured_once(stack, patient):
    first = text(stack, "please stop texting me, I'll call when I need you")
    again = text(stack, "STOP")
    assert len(first) == 1 and "no longer receive" in first[0] and again == []
    assert PHONE in carrier_opt_outs(stack)


def test_no_phi_reaches_the_handlers_log_lines(stack, patient):
    import io
    import sys

    # Given the inbound handler logging at INFO (as in AWS), its JSON lines captured
    stack.handler("sms_inbound")
    logger = sys.modules["careloop_fn_sms_inbound"].logger
    buf = io.StringIO()
    previous = logger.registered_handler.setStream(buf)
    logger.setLevel("INFO")
    try:
        # When a patient texts something personal
        text(stack, "this is Rosa Diaz, my kid swallowed 3 pills of my oxycodone what do I do")
    finally:
        logger.setLevel("WARNING")
        logger.registered_handler.setStream(previous)
    logged = buf.getvalue()
    # Then the log has the event (ids and the intent) but none of the words, name or number
    records = [json.loads(line) for line in logged.splitlines() if line.strip()]
    assert any(r["message"] == "inbound" and r["intent"] == "urgent" for r in records)
    for secret in ("Rosa", "Diaz", "oxycodone", "swallowed", PHONE, PHONE[2:]):
        assert secret not in logged


@pytest.mark.parametrize("farewell", [
    "I gave my dog to my neighbour and left letters for my kids. Thank you for being so kind to me all these years. Please cancel Friday.",
    # no word of the safety lexicon at all: the urgent model's doubt decides
    "díganle a la doctora que siempre la aprecié. ya no voy a ocupar más citas, ya no voy a estar por aquí",
])
def test_indirect_self_harm_at_3am_gets_988_and_an_urgent_page(stack, patient, alerts_queue, farewell):
    # Given it is 3 a.m. at the practice (quiet hours, office closed)
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    local = stack.clock.now().astimezone(zone)
    three = datetime.combine(local.date() + timedelta(days=1), time(3, 0), zone)
    stack.clock.advance_to(three)
    notifications(alerts_queue)  # drain earlier notifications
    from careloop.adapters.aws import services

    phone = "+16175550178"
    ingest(services().records, services().consent, [Patient(id="ag2", first_name="Tom", last_name="Hale", phone=phone)],
           [Appointment(id="agB", patient_id="ag2", start=three + timedelta(days=2), provider="Dr. Lee")], three)
    stack.drain()
    # When the patient texts a farewell that never says suicide, kill or die
    replies = text(stack, farewell, phone)
    # Then the 988 safety reply goes out at once, and the clinical team is paged urgently
    assert len(replies) == 1 and "988" in replies[0] and "911" in replies[0]
    sent = notifications(alerts_queue)
    assert len(sent) == 1
    assert sent[0]["MessageAttributes"]["priority"]["Value"] == "urgent"
    assert sent[0]["MessageAttributes"]["team"]["Value"] == "clinical"
    assert max(farewell.split(), key=len) not in json.dumps(sent[0]) and "Tom" not in json.dumps(sent[0]) and phone not in json.dumps(sent[0])


def test_stop_beside_an_emergency_gets_the_safety_reply_and_is_honoured(stack, alerts_queue):
    # Given a patient with a visit and reminders to come
    from careloop.adapters.aws import services
    from careloop.consent import is_opted_out

    phone = "+16175550191"
    now = stack.clock.now()
    ingest(services().records, services().consent, [Patient(id="ag9", first_name="Ana", last_name="Ruiz", phone=phone)],
           [Appointment(id="agS", patient_id="ag9", start=now + timedelta(days=3), provider="Dr. Lee")], now)
    stack.drain()
    notifications(alerts_queue)
    # When they text STOP together with an emergency
    replies = text(stack, "STOP texting me. also my chest is tight and my left arm is numb", phone)
    # Then the 911 safety reply goes out, the team is paged, and the opt-out is recorded too
    assert len(replies) == 1 and "911" in replies[0]
    assert [n["MessageAttributes"]["priority"]["Value"] for n in notifications(alerts_queue)] == ["urgent"]
    assert is_opted_out(services().consent, phone)
    assert phone in carrier_opt_outs(stack)  # and the carrier layer refuses anything more


def test_an_opted_out_patient_in_crisis_still_gets_the_988_reply(stack, alerts_queue):
    # Given a number that opted out earlier
    phone = "+16175550192"
    text(stack, "STOP", phone)
    notifications(alerts_queue)
    # When it later texts a self-harm statement
    replies = text(stack, "i took all of my sleeping pills on purpose", phone)
    # Then the safety reply is not suppressed by the opt-out, and staff are paged
    assert len(replies) == 1 and "988" in replies[0]
    assert [n["MessageAttributes"]["priority"]["Value"] for n in notifications(alerts_queue)] == ["urgent"]
    # and the number is back on the carrier's opt-out list, lifted only for that reply
    assert phone in carrier_opt_outs(stack)
    assert text(stack, "thanks", phone) == []


def test_a_follow_up_to_a_crisis_keeps_its_988_reply_and_pages_again(stack, alerts_queue):
    # Given a patient who texted a self-harm statement (stored on DynamoDB as urgent, self-harm)
    from careloop.adapters.aws import services

    phone = "+16175550193"
    ingest(services().records, services().consent, [Patient(id="ag10", first_name="Eli", last_name="Ward", phone=phone)],
           [], stack.clock.now())
    stack.drain()
    assert "988" in text(stack, "i dont want to be here anymore, i have my dads pills", phone)[0]
    notifications(alerts_queue)
    # When they write again, words that alone name no emergency
    replies = text(stack, "its getting worse", phone)
    # Then it is the same crisis: the 988 reply again, and the clinical team paged again
    assert len(replies) == 1 and "988" in replies[0]
    assert [n["MessageAttributes"]["priority"]["Value"] for n in notifications(alerts_queue)] == ["urgent"]
