"""Rescheduling by text over HTTP against `careloop local` with a booking section: a patient with
a visit texts "R", gets three open times, replies "2"; /dev/appointments then shows the visit
moved (the new time booked, the old one cancelled) and the SMS stand-in holds one confirmation."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta

import pytest

from tests.e2e.conftest import ROOT, running_local
from tests.e2e.test_booking_path import BOOKING, NY, Stack, morning, post_visit, visit
from tests.e2e.test_reminder_path import call

pytestmark = pytest.mark.e2e
PHONE = "+16175550177"  # the patient of test_booking_path's visit bundle


@pytest.fixture(scope="module")
def reschedule_stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reschedule-stack")
    practice = folder / "practice.json"
    practice.write_text(json.dumps(json.loads((ROOT / "practices" / "demo.json").read_text()) | {"booking": BOOKING}))
    with running_local(folder, "--practice", str(practice), "--no-demo") as (url, _proc):
        yield Stack(url)


def texts(stack) -> list[dict]:
    return [m for m in json.loads(call(stack, "GET", "/dev/sms/outbox")[1]) if m["to"] == PHONE]


def say(stack, body: str) -> None:
    status, answer, _ = call(stack, "POST", "/dev/sms/inbound", {"from": PHONE, "body": body})
    assert status in (200, 202), answer


def test_r_three_times_2_moves_the_visit_and_confirms(reschedule_stack):
    stack = reschedule_stack
    now = morning(stack)
    start = datetime.combine(now.astimezone(NY).date() + timedelta(days=3), time(10), tzinfo=NY)
    post_visit(stack, visit(start, "booked", "1"))
    before = len(texts(stack))
    # When the patient texts "R"
    say(stack, "R")
    (offer,) = texts(stack)[before:]
    assert "Reply 1, 2 or 3, or pick another time: " + stack.url + "/b/" in offer["body"], offer["body"]
    options = re.findall(r"(\d)\) (\w{3} \w{3} \d{1,2} \d{1,2}:\d{2} [AP]M)", offer["body"])
    assert [n for n, _ in options] == ["1", "2", "3"] and "(EST)" in offer["body"]
    second = options[1][1]
    # and picks the second
    say(stack, "2")
    listed = json.loads(call(stack, "GET", "/dev/appointments")[1])
    (old,) = [a for a in listed if a["id"] == "e2e-book-appt"]
    (new,) = [a for a in listed if a["patient"] == "e2e-book-pat" and a["source"] == "careloop"]
    # Then the visit moved to that time, and the patient has one confirmation naming it
    assert old["status"] == "cancelled" and new["status"] == "booked"
    local = datetime.fromisoformat(new["start"]).astimezone(NY)
    assert f"{local:%a %b} {local.day} {local.strftime('%I:%M %p').lstrip('0')}" == second
    confirmations = [m for m in texts(stack) if m["workflow"] == "booking" and m["step"] == "confirmation"]
    assert len(confirmations) == 1 and "you're booked" in confirmations[0]["body"]
