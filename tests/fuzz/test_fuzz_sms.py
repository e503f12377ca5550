"""The inbound SMS handler (SNS -> SQS -> sms_inbound) under hostile texts and damaged payloads: it
never raises; a readable text is taken once, whatever its words; an unreadable one goes back to the
queue (its retries, then the DLQ), so nothing is lost."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careloop.models import Patient
from careloop.sms.payloads import MAX_INBOUND_CHARS
from careloop_local.fakes import memory_services
from tests.fuzz.conftest import FUZZ
from tests.fuzz.harness import NOW, Wired, crashers, sms_event, two_way_sample
from tests.fuzz.strategies import WEIRD_TEXT, mutated_json

KNOWN = "+16175550131"

hostile_text = st.one_of(
    st.text(max_size=200),
    st.text(min_size=1_000, max_size=10_000),  # lone surrogates included: Hypothesis draws them
    st.sampled_from(WEIRD_TEXT),
    st.builds(lambda n: "😀👍🏽🇺🇸" * n, st.integers(1, 3_000)),
    st.builds(lambda s: "".join(chr(c) for c in s), st.lists(st.integers(0, 0x1F), min_size=1, max_size=300)),
    st.sampled_from(["STOP", "stop\x00", "C", "1", "YES" * 3_000, "ＳＴＯＰ", "S\u200bTOP", "arrêter", "BAJA"]),
)
odd_phone = st.one_of(
    st.just(KNOWN), st.sampled_from(["+14255550182", "6175550131", "+1 (617) 555-0131", "+0", "+", "", "12345",
                                     "AMAZON", "+999999999999999999", "+1617555013１", "+16175550131\x00",
                                     "tel:+16175550131"]), st.text(max_size=30))


@pytest.fixture(scope="module")
def inbound():
    mp = pytest.MonkeyPatch()
    mp.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")

    def services():
        svc = memory_services(NOW)
        svc.records.put_patient(Patient(id="p-fuzz", first_name="Ana", last_name="Reyes", phone=KNOWN))
        return svc

    yield Wired("sms_inbound", services)
    mp.undo()


def delivered(inbound: Wired, message, event: dict | None = None) -> dict:
    """One delivery on fresh fakes: a readable text is taken, an unreadable one handed back."""
    inbound.fresh()
    event = event or sms_event(message)
    answer = inbound.call(event)
    refused = [{"itemIdentifier": event["Records"][0]["messageId"]}]
    assert answer == ({"batchItemFailures": []} if readable(message) else {"batchItemFailures": refused}), message
    for stored in inbound.services.messages.messages.values():
        # text every store can write (UTF-8 for DynamoDB, S3, the CSV exports), no control characters
        stored.body.encode("utf-8")
        assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in stored.body)
    return answer


def readable(message) -> bool:
    from careloop.errors import CareloopError
    from careloop.sms.payloads import parse_inbound

    try:
        parse_inbound({"Type": "Notification", "Message": json.dumps(message)})
    except (CareloopError, ValueError, TypeError):
        return False
    return True


@FUZZ
@given(body=hostile_text, phone=odd_phone)
def test_a_hostile_text_is_taken_once_and_kept(inbound, body, phone):
    message = two_way_sample() | {"originationNumber": phone, "messageBody": body}
    event = sms_event(message)
    delivered(inbound, message, event)
    if not readable(message):
        return  # handed back: its retries, then the DLQ
    # kept (cut at the longest a carrier sends)
    (stored,) = [m for m in inbound.services.messages.messages.values() if m.kind == "sms_in"]
    assert len(stored.body) == min(len(body), MAX_INBOUND_CHARS)
    # a redelivery of the same record takes nothing twice
    assert inbound.call(event) == {"batchItemFailures": []}
    assert len([m for m in inbound.services.messages.messages.values() if m.kind == "sms_in"]) == 1


@FUZZ
@given(message=mutated_json(two_way_sample() | {"originationNumber": KNOWN}))
def test_a_damaged_two_way_payload_never_raises(inbound, message):
    delivered(inbound, message)


@FUZZ
@given(raw=st.one_of(st.text(max_size=300), st.sampled_from(["", "null", "[]", "{}", '{"Type": "Notification"}',
                                                              '{"Type": "Notification", "Message": 5}',
                                                              '{"Type": "Notification", "Message": "[1]"}'])))
def test_an_sqs_body_that_is_not_the_envelope_goes_back_to_the_queue(inbound, raw):
    inbound.fresh()
    event = sms_event({}, raw_body=raw)
    assert inbound.call(event) == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


@pytest.mark.parametrize("path", crashers("sms"), ids=lambda p: p.name)
def test_every_sms_crasher_found_never_raises(inbound, path):
    delivered(inbound, json.loads(path.read_text()))
