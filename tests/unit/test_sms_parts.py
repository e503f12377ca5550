"""One SMS part counter (issue 11): the sender, template validation and the local SMS stand-in
count the same parts for the same body, at every boundary (GSM-7 160/153, UCS-2 70/67)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from careloop.models import Appointment, Message, MessageStatus, Patient
from careloop.sms import parts
from careloop.sms.sender import send_queued
from careloop.workflows.model import worst_case_parts
from careloop_local import sms_standin
from tests.unit.test_consent import FakeChannel

PHONE = "+16175550123"

BODIES = [
    # GSM-7: 160 in one message, 153 a part once split
    ("a" * 160, 1, "GSM"), ("a" * 161, 2, "GSM"), ("a" * 306, 2, "GSM"), ("a" * 307, 3, "GSM"),
    ("a" * 459, 3, "GSM"), ("a" * 460, 4, "GSM"),
    # extension characters take two septets, and an escape pair is never cut across parts
    ("€" * 80, 1, "GSM"), ("€" * 81, 2, "GSM"), ("a" * 159 + "€", 2, "GSM"),
    ("a" * 152 + "€" + "a" * 152, 3, "GSM"),  # the € cannot end part one: it moves to part two
    ("a" * 151 + "€" + "a" * 153, 2, "GSM"),
    ("é" * 160, 1, "GSM"),  # é is in the basic set
    # UCS-2: 70 code units alone, 67 a part; an emoji is two units and never cut in half
    ("í" * 70, 1, "UCS2"), ("í" * 71, 2, "UCS2"), ("í" * 134, 2, "UCS2"), ("í" * 135, 3, "UCS2"),
    ("ç", 1, "UCS2"), ("Hola 👋", 1, "UCS2"),
    ("👍" * 35, 1, "UCS2"), ("👍" * 36, 2, "UCS2"),
    ("í" * 66 + "😀" + "í" * 66, 3, "UCS2"),  # the emoji would straddle parts one and two
    ("í" * 65 + "😀" + "í" * 67, 2, "UCS2"),
    ("a" * 70 + "😀", 2, "UCS2"),
]


@pytest.mark.parametrize(("body", "expected", "enc"), BODIES)
def test_the_counter(body, expected, enc):
    assert parts.parts_and_encoding(body) == (expected, enc)
    assert (parts.count_parts(body), parts.encoding(body)) == (expected, enc)


def sent_parts(svc, body: str) -> tuple[int, int]:
    """(parts the sender paced for, parts it stored on the message) for one queued text."""
    now = svc.clock.now()
    svc.records.put_patient(Patient(id="p", first_name="Ana", phone=PHONE))
    svc.records.put_appointment(Appointment(id="a", patient_id="p", start=now + timedelta(days=2)))
    svc.messages.put_message(Message(message_id="m", kind="sms_out", patient_id="p", appointment_id="a", phone=PHONE,
                                  body=body, at=now, status=MessageStatus.QUEUED, automated=True,
                                  workflow="appointment-reminder", step="reminder-48h"))
    paced: list[int] = []
    assert send_queued(svc, FakeChannel(), "m", pace=paced.append).status == "sent"
    return paced[0], svc.messages.get_message("m").parts


def standin_parts(body: str) -> tuple[int, str]:
    standin = sms_standin.SmsStandin()
    message = standin._record({"PhoneNumber": "+16175550100"}, PHONE, body, None, {}, "TRANSACTIONAL", True)
    return message["parts"], message["encoding"]


@pytest.mark.parametrize(("body", "expected", "enc"), BODIES)
def test_sender_template_check_and_stand_in_count_alike(svc, body, expected, enc):
    # Given one body; When each user counts it; Then they agree with the counter and each other
    assert sent_parts(svc, body) == (expected, expected)
    assert worst_case_parts(body) == expected  # no placeholders: the template renders as itself
    assert standin_parts(body) == (expected, enc)


def test_the_counter_is_the_only_one():
    # the stand-in keeps no character tables or counter of its own
    assert not any(hasattr(sms_standin, name) for name in ("GSM7_BASIC", "GSM7_EXTENSION"))
    assert sms_standin.parts_and_encoding is parts.parts_and_encoding
    assert sms_standin.count_parts is parts.count_parts
