"""Consent over HTTP against `careloop local`: STOP / HELP / START and a Spanish and a free-text
opt-out, each answered once, and nothing automated in between."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_reminder_path import call

pytestmark = pytest.mark.e2e
JAMES = "+16175550102"  # demo patient with an appointment in 3 days
GOMEZ = "+16175550103"  # demo family (Maria and Leo share it), Spanish


def texts_to(stack, phone):
    return [m for m in json.loads(call(stack, "GET", "/dev/sms/outbox")[1]) if m["to"] == phone]


def inbound(stack, phone, body):
    status, _, _ = call(stack, "POST", "/dev/sms/inbound", {"from": phone, "body": body})
    assert status == 202


def test_stop_help_start_each_answered_once_and_reminders_stop_in_between(local_stack):
    before = len(texts_to(local_stack, JAMES))
    inbound(local_stack, JAMES, "HELP")
    inbound(local_stack, JAMES, "STOP")
    inbound(local_stack, JAMES, "stop")  # already out: no second confirmation
    sent = texts_to(local_stack, JAMES)[before:]
    assert [m["step"] for m in sent] == ["help", "opt_out"]
    assert "(617) 555-0100" in sent[0]["body"] and "no longer receive" in sent[1]["body"]

    # two days pass: James's 48 h reminder falls due, but he opted out
    call(local_stack, "POST", "/dev/clock/advance", {"minutes": 2 * 24 * 60})
    assert [m["step"] for m in texts_to(local_stack, JAMES)[before:]] == ["help", "opt_out"]

    inbound(local_stack, JAMES, "START")
    assert texts_to(local_stack, JAMES)[-1]["step"] == "opt_in"


def test_spanish_and_free_text_opt_outs(local_stack):
    inbound(local_stack, GOMEZ, "ALTO")
    last = texts_to(local_stack, GOMEZ)[-1]
    assert last["step"] == "opt_out" and "ya no recibirá" in last["body"]
    inbound(local_stack, "+16175550105", "please stop sending me these texts")
    assert texts_to(local_stack, "+16175550105")[-1]["step"] == "opt_out"
