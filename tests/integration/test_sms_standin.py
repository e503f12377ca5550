"""The End User Messaging SMS stand-in, driven by real boto3 clients, with moto's server for SNS and SQS.

Fixtures stay in this module on purpose: they start their own moto server and stand-in.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

from careloop.clock import FixedClock
from careloop.sms.parts import parts_and_encoding as count_parts
from careloop_local.sms_standin import serve, stop

REGION = "us-east-1"
PATIENT = "+16175550101"
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
# Keys of the AWS samples (tests/data/aws-docs-end-user-messaging/*.json)
SAMPLE_EVENT_KEYS = {
    "eventType",
    "eventVersion",
    "eventTimestamp",
    "isFinal",
    "originationPhoneNumber",
    "destinationPhoneNumber",
    "isInternationalSend",
    "mcc",
    "mnc",
    "messageId",
    "messageRequestTimestamp",
    "messageEncoding",
    "messageType",
    "messageStatus",
    "messageStatusDescription",
    "context",
    "totalMessageParts",
    "totalMessagePrice",
    "totalCarrierFee",
}
SAMPLE_TWO_WAY_KEYS = {
    "originationNumber",
    "destinationNumber",
    "messageKeyword",
    "messageBody",
    "inboundMessageId",
    "previousPublishedMessageId",
}


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def moto_url():
    env = pytest.MonkeyPatch()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        env.setenv(key, value)
    for key in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SNS",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2",
    ):
        env.delenv(key, raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    env.undo()


@pytest.fixture(scope="module")
def aws(moto_url):
    return SimpleNamespace(
        sns=boto3.client("sns", region_name=REGION, endpoint_url=moto_url),
        sqs=boto3.client("sqs", region_name=REGION, endpoint_url=moto_url),
    )


def start_standin(moto_url: str, **kwargs):
    def sns_for(region: str):
        return boto3.client("sns", region_name=region, endpoint_url=moto_url)

    return serve(sns_client_factory=sns_for, **kwargs)


def sms_client(url: str, config: Config = NO_RETRY):
    return boto3.client(
        "pinpoint-sms-voice-v2", region_name=REGION, endpoint_url=url, config=config
    )


@pytest.fixture(scope="module")
def standin_server(moto_url):
    server, thread, url = start_standin(moto_url)
    yield server, url
    stop(server, thread)


@pytest.fixture
def standin(standin_server):
    server, _ = standin_server
    server.standin.reset()
    return server.standin


@pytest.fixture
def url(standin_server):
    return standin_server[1]


@pytest.fixture
def sms(url):
    return sms_client(url)


def subscribed_queue(aws, topic_arn: str) -> str:
    queue_url = aws.sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    queue_arn = aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


def set_up_practice(sms, aws) -> SimpleNamespace:
    """What the CDK stack creates: config set -> SNS events, opt-out list, a two-way 10DLC number."""
    events_topic = aws.sns.create_topic(Name=f"sms-events-{uuid.uuid4().hex[:8]}")["TopicArn"]
    inbound_topic = aws.sns.create_topic(Name=f"sms-inbound-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sms.create_configuration_set(ConfigurationSetName="careloop")
    sms.create_event_destination(
        ConfigurationSetName="careloop",
        EventDestinationName="to-sns",
        MatchingEventTypes=["TEXT_ALL"],
        SnsDestination={"TopicArn": events_topic},
    )
    sms.create_opt_out_list(OptOutListName="careloop-patients")
    phone = sms.request_phone_number(
        IsoCountryCode="US",
        MessageType="TRANSACTIONAL",
        NumberCapabilities=["SMS"],
        NumberType="TEN_DLC",
        OptOutListName="careloop-patients",
    )
    sms.update_phone_number(
        PhoneNumberId=phone["PhoneNumberId"], TwoWayEnabled=True, TwoWayChannelArn=inbound_topic
    )
    return SimpleNamespace(
        events_topic=events_topic,
        inbound_topic=inbound_topic,
        phone_id=phone["PhoneNumberId"],
        number=phone["PhoneNumber"],
        events=subscribed_queue(aws, events_topic),
        inbound=subscribed_queue(aws, inbound_topic),
    )


@pytest.fixture
def practice(standin, sms, aws):
    return set_up_practice(sms, aws)


def arrived(aws, standin, queue_url: str) -> list[dict]:
    """SNS envelopes that reached the queue (Message parsed); moto delivers SNS -> SQS during publish."""
    assert standin.drain(timeout=5)
    envelopes = []
    while True:
        batch = aws.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        if not batch.get("Messages"):
            return envelopes
        for message in batch["Messages"]:
            envelope = json.loads(message["Body"])
            envelope["Message"] = json.loads(envelope["Message"])
            envelopes.append(envelope)
            aws.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def send(sms, practice, body="Your appointment is tomorrow at 9:00. Reply C to confirm.", **extra):
    return sms.send_text_message(
        DestinationPhoneNumber=PATIENT,
        OriginationIdentity=practice.phone_id,
        MessageBody=body,
        ConfigurationSetName="careloop",
        **extra,
    )["MessageId"]


def error_of(excinfo) -> dict:
    return {"Code": excinfo.value.response["Error"]["Code"], **excinfo.value.response}


# ---------------------------------------------------------------- sending
def test_send_publishes_successful_then_delivered_events_shaped_like_aws(
    standin, sms, aws, practice
):
    # Given a practice number with an SNS event destination
    # When a reminder is sent with context tags
    message_id = send(sms, practice, Context={"workflow": "reminder-48h", "appointment_id": "a-1"})
    # Then two SNS notifications arrive: TEXT_SUCCESSFUL (not final), then TEXT_DELIVERED (final)
    envelopes = arrived(aws, standin, practice.events)
    assert [e["Type"] for e in envelopes] == ["Notification"] * 2
    assert {e["TopicArn"] for e in envelopes} == {practice.events_topic}
    events = [e["Message"] for e in envelopes]
    assert [(e["eventType"], e["isFinal"], e["messageStatus"]) for e in events] == [
        ("TEXT_SUCCESSFUL", False, "SUCCESSFUL"),
        ("TEXT_DELIVERED", True, "DELIVERED"),
    ]
    for event in events:
        assert set(event) == SAMPLE_EVENT_KEYS
        assert event["messageId"] == message_id
        assert event["context"] == {"workflow": "reminder-48h", "appointment_id": "a-1"}
        assert (event["originationPhoneNumber"], event["destinationPhoneNumber"]) == (
            practice.number,
            PATIENT,
        )
        assert (event["messageEncoding"], event["totalMessageParts"], event["messageType"]) == (
            "GSM",
            1,
            "TRANSACTIONAL",
        )
        assert event["isInternationalSend"] is False and event["eventVersion"] == "1.0"
    # And the outbox holds the message, delivered
    [entry] = standin.outbox()
    assert (entry["message_id"], entry["destination"], entry["status"]) == (
        message_id,
        PATIENT,
        "DELIVERED",
    )
    assert (
        entry["configuration_set"] == "careloop" and entry["context"]["workflow"] == "reminder-48h"
    )


def test_opted_out_destination_is_refused_like_aws(standin, sms, aws, practice):
    # Given the patient is on the number's opt-out list
    sms.put_opted_out_number(OptOutListName="careloop-patients", OptedOutNumber=PATIENT)
    # When the practice texts them
    with pytest.raises(ClientError) as excinfo:
        send(sms, practice)
    # Then AWS's ConflictException comes back and nothing is sent
    error = error_of(excinfo)
    assert (error["Code"], error["Reason"], error["ResourceType"]) == (
        "ConflictException",
        "DESTINATION_PHONE_NUMBER_OPTED_OUT",
        "opted-out-number",
    )
    assert standin.outbox() == [] and arrived(aws, standin, practice.events) == []


@pytest.mark.parametrize("destination", ["6175550101", "617-555-0101", "+1555010"])
def test_destination_not_in_e164_is_a_validation_error(standin, sms, practice, destination):
    with pytest.raises(ClientError) as excinfo:
        sms.send_text_message(
            DestinationPhoneNumber=destination,
            OriginationIdentity=practice.phone_id,
            MessageBody="hello",
        )
    error = error_of(excinfo)
    assert error["Code"] == "ValidationException"
    assert [f["Name"] for f in error["Fields"]] == ["DestinationPhoneNumber"]


def test_missing_required_parameter_is_named(standin, url, practice):
    # Given a client that skips boto3's own checks, so the stand-in has to catch it
    unchecked = sms_client(url, NO_RETRY.merge(Config(parameter_validation=False)))
    with pytest.raises(ClientError) as excinfo:
        unchecked.send_text_message(OriginationIdentity=practice.phone_id, MessageBody="hello")
    error = error_of(excinfo)
    assert (error["Code"], error["Reason"]) == ("ValidationException", "MISSING_PARAMETER")
    assert [f["Name"] for f in error["Fields"]] == ["DestinationPhoneNumber"]
    assert "DestinationPhoneNumber" in error["Error"]["Message"]
    # And an enum outside the model is refused too
    with pytest.raises(ClientError) as excinfo:
        unchecked.send_text_message(
            DestinationPhoneNumber=PATIENT, MessageBody="hi", MessageType="MARKETING"
        )
    assert [f["Name"] for f in error_of(excinfo)["Fields"]] == ["MessageType"]


def test_unknown_origination_and_configuration_set_are_not_found(standin, sms, practice):
    with pytest.raises(ClientError) as excinfo:
        sms.send_text_message(
            DestinationPhoneNumber=PATIENT, OriginationIdentity="phone-nope", MessageBody="hi"
        )
    assert (error_of(excinfo)["Code"], error_of(excinfo)["ResourceType"]) == (
        "ResourceNotFoundException",
        "phone-number",
    )
    with pytest.raises(ClientError) as excinfo:
        sms.send_text_message(
            DestinationPhoneNumber=PATIENT,
            OriginationIdentity=practice.number,
            MessageBody="hi",
            ConfigurationSetName="nope",
        )
    assert error_of(excinfo)["ResourceType"] == "configuration-set"


def test_a_forced_failure_outcome_ends_in_one_final_failure_event(standin, sms, aws, practice):
    # Given the patient's carrier blocks the practice
    standin.set_delivery_outcome(PATIENT, "TEXT_BLOCKED")
    # When a text is sent
    message_id = send(sms, practice)
    # Then the only event is final TEXT_BLOCKED, and the outbox says so
    [event] = [e["Message"] for e in arrived(aws, standin, practice.events)]
    assert (event["eventType"], event["isFinal"], event["messageStatus"], event["messageId"]) == (
        "TEXT_BLOCKED",
        True,
        "BLOCKED",
        message_id,
    )
    assert standin.outbox()[0]["status"] == "BLOCKED"


def test_transient_errors_for_the_next_sends(standin, sms, url, practice):
    # Given the next two sends fail
    standin.fail_next_sends(2)
    # When a client without retries sends three times, Then two InternalServerException (500) then success
    for _ in range(2):
        with pytest.raises(ClientError) as excinfo:
            send(sms, practice)
        assert (
            error_of(excinfo)["Code"],
            error_of(excinfo)["ResponseMetadata"]["HTTPStatusCode"],
        ) == ("InternalServerException", 500)
    send(sms, practice)
    # And boto3's own retry recovers from one injected failure, sending exactly once
    standin.fail_next_sends(1)
    retrying = sms_client(url, Config(retries={"mode": "standard", "total_max_attempts": 3}))
    response = retrying.send_text_message(
        DestinationPhoneNumber=PATIENT,
        OriginationIdentity=practice.phone_id,
        MessageBody="hello again",
    )
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(standin.outbox()) == 2


def test_throttling_above_the_configured_parts_per_second(moto_url):
    # Given a stand-in limited to 1 part/s per number (10DLC) on a clock that moves only when told
    clock = FixedClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    server, thread, url = start_standin(moto_url, parts_per_second=1, clock=clock)
    try:
        sms = sms_client(url)
        phone_id = sms.request_phone_number(
            IsoCountryCode="US",
            MessageType="TRANSACTIONAL",
            NumberCapabilities=["SMS"],
            NumberType="TEN_DLC",
        )["PhoneNumberId"]

        def text(body="hi"):
            return sms.send_text_message(
                DestinationPhoneNumber=PATIENT, OriginationIdentity=phone_id, MessageBody=body
            )

        # When two texts go out in the same second, Then the second is throttled
        text()
        with pytest.raises(ClientError) as excinfo:
            text()
        assert error_of(excinfo)["Code"] == "ThrottlingException"
        # And a second later there is room again; a 3-part text then costs three seconds
        clock.set(clock.now() + timedelta(seconds=1))
        text("x" * 400)
        clock.set(clock.now() + timedelta(seconds=2))
        with pytest.raises(ClientError):
            text()
        clock.set(clock.now() + timedelta(seconds=1))
        text()
        assert [m["parts"] for m in server.standin.outbox()] == [1, 3, 1]
    finally:
        stop(server, thread)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a" * 160, (1, "GSM")),
        ("a" * 161, (2, "GSM")),
        ("a" * 306, (2, "GSM")),
        ("a" * 307, (3, "GSM")),
        ("€" * 80, (1, "GSM")),  # extension characters count two septets
        ("a" * 159 + "€", (2, "GSM")),
        ("é" * 160, (1, "GSM")),  # é is in the GSM-7 basic set
        ("ç", (1, "UCS2")),  # ç is not (only Ç is)
        ("😀" * 35, (1, "UCS2")),  # an emoji is two UTF-16 code units
        ("😀" * 36, (2, "UCS2")),
        ("a" * 70, (1, "GSM")),
        ("a" * 70 + "😀", (2, "UCS2")),
    ],
)
def test_message_parts_are_counted_like_carriers_do(body, expected):
    assert count_parts(body) == expected


def test_an_emoji_text_is_sent_as_ucs2(standin, sms, aws, practice):
    send(sms, practice, body="See you tomorrow 😀 " + "a" * 60)
    events = [e["Message"] for e in arrived(aws, standin, practice.events)]
    assert {(e["messageEncoding"], e["totalMessageParts"]) for e in events} == {("UCS2", 2)}
    assert (standin.outbox()[0]["encoding"], standin.outbox()[0]["parts"]) == ("UCS2", 2)


def test_a_pool_can_be_the_origination_identity(standin, sms, practice):
    # Given the practice number in a pool (which inherits its opt-out list)
    pool = sms.create_pool(OriginationIdentity=practice.phone_id, MessageType="TRANSACTIONAL")
    assert sms.describe_pools()["Pools"][0]["OptOutListName"] == "careloop-patients"
    # When texts go out through the pool id and ARN, Then they leave from the pooled number
    for identity in (pool["PoolId"], pool["PoolArn"]):
        sms.send_text_message(
            DestinationPhoneNumber=PATIENT, OriginationIdentity=identity, MessageBody="hi"
        )
    assert {m["origination_number"] for m in standin.outbox()} == {practice.number}
    # And the pool's opt-out list is honoured
    sms.put_opted_out_number(OptOutListName="careloop-patients", OptedOutNumber=PATIENT)
    with pytest.raises(ClientError) as excinfo:
        sms.send_text_message(
            DestinationPhoneNumber=PATIENT, OriginationIdentity=pool["PoolId"], MessageBody="hi"
        )
    assert error_of(excinfo)["Reason"] == "DESTINATION_PHONE_NUMBER_OPTED_OUT"


# ---------------------------------------------------------------- inbound
def test_inbound_stop_opts_out_and_publishes_the_two_way_payload(standin, sms, aws, practice):
    # Given the practice texted the patient
    sent_id = send(sms, practice)
    # When the patient answers " stop " (AWS matches the whole message, trimmed, any case)
    inbound_id = standin.receive(PATIENT, practice.number, " stop ")
    # Then the patient is on the opt-out list as an end-user opt-out
    [opted_out] = sms.describe_opted_out_numbers(OptOutListName="careloop-patients")[
        "OptedOutNumbers"
    ]
    assert (opted_out["OptedOutNumber"], opted_out["EndUserOptedOut"]) == (PATIENT, True)
    # And the two-way payload reached the number's SNS topic, shaped like AWS's
    [envelope] = arrived(aws, standin, practice.inbound)
    payload = envelope["Message"]
    assert set(payload) == SAMPLE_TWO_WAY_KEYS and envelope["TopicArn"] == practice.inbound_topic
    assert payload == {
        "originationNumber": PATIENT,
        "destinationNumber": practice.number,
        "messageKeyword": "STOP",
        "messageBody": " stop ",
        "inboundMessageId": inbound_id,
        "previousPublishedMessageId": sent_id,
    }
    # And AWS's automatic STOP confirmation went out, and further texts are refused
    assert [m["auto_response"] for m in standin.outbox()] == [False, True]
    with pytest.raises(ClientError) as excinfo:
        send(sms, practice)
    assert error_of(excinfo)["Reason"] == "DESTINATION_PHONE_NUMBER_OPTED_OUT"


def test_self_managed_opt_outs_leave_stop_to_the_application(standin, sms, aws, practice):
    # Given the number manages its own opt-outs
    sms.update_phone_number(PhoneNumberId=practice.phone_id, SelfManagedOptOutsEnabled=True)
    # When the patient texts STOP
    standin.receive(PATIENT, practice.number, "STOP")
    # Then nothing is added or answered, but the message is still published
    assert (
        sms.describe_opted_out_numbers(OptOutListName="careloop-patients")["OptedOutNumbers"] == []
    )
    assert standin.outbox() == []
    assert arrived(aws, standin, practice.inbound)[0]["Message"]["messageKeyword"] == "STOP"


def test_deleting_an_opted_out_number_lets_texts_through_once_per_30_days(standin, sms, practice):
    # Given the patient opted out by STOP, When the practice deletes them from the list
    standin.receive(PATIENT, practice.number, "STOP")
    sms.delete_opted_out_number(OptOutListName="careloop-patients", OptedOutNumber=PATIENT)
    # Then texts go through again
    send(sms, practice)
    # And a second deletion within 30 days is refused, as AWS does
    standin.receive(PATIENT, practice.number, "Quit")
    with pytest.raises(ClientError) as excinfo:
        sms.delete_opted_out_number(OptOutListName="careloop-patients", OptedOutNumber=PATIENT)
    assert (error_of(excinfo)["Code"], error_of(excinfo)["Reason"]) == (
        "ValidationException",
        "PHONE_NUMBER_CANNOT_BE_OPTED_IN",
    )


def test_http_paths_for_the_sandbox(standin, sms, aws, url, practice):
    def call(method, path, body=None):
        request = urllib.request.Request(
            url + path,
            method=method,
            data=json.dumps(body).encode() if body else None,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    # When the patient texts "C" through the HTTP inbound path
    answer = call(
        "POST", "/_standin/inbound", {"from": PATIENT, "to": practice.number, "body": "C"}
    )
    # Then it is published without a registered keyword (AWS uses KEYWORD_<account>) and opts nobody out
    [envelope] = arrived(aws, standin, practice.inbound)
    assert envelope["Message"]["inboundMessageId"] == answer["inboundMessageId"]
    assert envelope["Message"]["messageKeyword"] == "KEYWORD_123456789012"
    assert envelope["Message"]["previousPublishedMessageId"] is None
    # And the outbox and reset paths work
    send(sms, practice)
    assert [m["destination"] for m in call("GET", "/_standin/outbox")] == [PATIENT]
    call("POST", "/_standin/reset", {})
    assert (
        call("GET", "/_standin/outbox") == [] and sms.describe_phone_numbers()["PhoneNumbers"] == []
    )


# ---------------------------------------------------------------- the API itself
def test_requests_and_responses_follow_botocore_model(standin, sms, aws):
    # Given a stubbed client that validates requests and responses against botocore's model
    stubbed = boto3.client("pinpoint-sms-voice-v2", region_name=REGION)
    stubber = Stubber(stubbed)
    stubber.activate()

    def check(method, **params):
        # When the stand-in answers a call
        response = getattr(sms, method)(**params)
        response.pop("ResponseMetadata")
        # Then its answer fits the output shape (add_response validates) and the request the input shape
        stubber.add_response(method, response, params)
        assert getattr(stubbed, method)(**params) == response
        return response

    topic = aws.sns.create_topic(Name="model-check")["TopicArn"]
    check(
        "create_configuration_set",
        ConfigurationSetName="cs",
        Tags=[{"Key": "app", "Value": "careloop"}],
    )
    check(
        "create_event_destination",
        ConfigurationSetName="cs",
        EventDestinationName="sns",
        MatchingEventTypes=["TEXT_SUCCESSFUL", "TEXT_DELIVERED"],
        SnsDestination={"TopicArn": topic},
    )
    check("describe_configuration_sets")
    check("create_opt_out_list", OptOutListName="patients")
    check("describe_opt_out_lists", OptOutListNames=["patients"])
    request = {
        "IsoCountryCode": "US",
        "MessageType": "TRANSACTIONAL",
        "NumberCapabilities": ["SMS"],
        "NumberType": "TOLL_FREE",
        "OptOutListName": "patients",
        "ClientToken": "tok-1",
    }
    phone_id = check("request_phone_number", **request)["PhoneNumberId"]
    check("describe_phone_numbers", Filters=[{"Name": "number-type", "Values": ["TOLL_FREE"]}])
    check(
        "put_keyword",
        OriginationIdentity=phone_id,
        Keyword="hours",
        KeywordMessage="We are open 8-5.",
        KeywordAction="AUTOMATIC_RESPONSE",
    )
    check("describe_keywords", OriginationIdentity=phone_id)
    check("put_opted_out_number", OptOutListName="patients", OptedOutNumber="+16175550102")
    check("describe_opted_out_numbers", OptOutListName="patients")
    check("delete_opted_out_number", OptOutListName="patients", OptedOutNumber="+16175550102")
    check("create_pool", OriginationIdentity=phone_id, MessageType="TRANSACTIONAL")
    check("describe_pools")
    check(
        "send_text_message",
        DestinationPhoneNumber=PATIENT,
        OriginationIdentity="+18335550101",
        MessageBody="hello",
        ConfigurationSetName="cs",
        Context={"k": "v"},
        MessageType="TRANSACTIONAL",
    )
    # And a repeated ClientToken gives back the same number instead of a second one
    assert check("request_phone_number", **request)["PhoneNumberId"] == phone_id
    assert len(sms.describe_phone_numbers()["PhoneNumbers"]) == 1
    assert [
        k["Keyword"] for k in sms.describe_keywords(OriginationIdentity=phone_id)["Keywords"]
    ] == ["STOP", "HELP", "HOURS"]
    stubber.deactivate()


def test_boto3_finds_the_stand_in_through_the_service_endpoint_variable(standin, url, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2", url)
    client = boto3.client("pinpoint-sms-voice-v2", region_name=REGION)
    assert [ol["OptOutListName"] for ol in client.describe_opt_out_lists()["OptOutLists"]] == [
        "Default"
    ]
