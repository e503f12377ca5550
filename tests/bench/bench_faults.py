"""Faults survived, measured: each fault of the fault plan (careloop_local.faults) and of the SMS
stand-in on a batch of booking -> reminder flows through the local stack, and what came of it:
SMS API requests made (attempts), reminders the carrier took, duplicates, reminders lost, and
what the fault plan injected. Printed as a table for the closing note (never asserted here: the
fault suite, tests/faults/, asserts nothing lost and nothing twice)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

N = 6  # bookings per fault


def _faults() -> list[tuple[str, Callable]]:
    from careloop_local.faults import sets_status

    return [
        ("none", lambda s, f: None),
        ("SMS 5xx / 502 / 503 / throttling x6", lambda s, f: [s.standin.fail_next_sends(1, c, to=p) for c, p in zip((
            "InternalServerException", "BadGateway", "ServiceUnavailable", "ThrottlingException",
            "ThrottlingException", "InternalServerException"), s.bench_phones, strict=True)]),
        ("SMS answer lost (read timeout) x2", lambda s, f: f.lose_response(
            "pinpoint-sms-voice-v2", "SendTextMessage", count=2, function="sms_sender")),
        ("SMS spend limit", lambda s, f: [s.standin.fail_next_sends(1, "quota", to=p) for p in s.bench_phones]),
        ("DynamoDB throttled, 1/3 of calls", lambda s, f: f.error("dynamodb", None, count=10**6, rate=0.33, function="*")),
        ("claim write throttled past retries", lambda s, f: f.error(
            "dynamodb", "UpdateItem", count=3, match=sets_status("claimed"), function="*")),
        ("dispatcher killed after 2nd claim", lambda s, f: f.kill_after(
            "dynamodb", "UpdateItem", 2, match=sets_status("claimed"), function="dispatcher")),
        ("dispatcher killed after 1st enqueue", lambda s, f: f.kill_after("sqs", "SendMessage", 1, function="dispatcher")),
        ("sender killed after 2 of its batch", lambda s, f: f.kill_after_records("sms_sender", 2)),
        ("sender killed after carrier took it", lambda s, f: f.kill_after(
            "pinpoint-sms-voice-v2", "SendTextMessage", 1, function="sms_sender")),
        ("planner killed after 2 records", lambda s, f: f.kill_after_records("planner", 2)),
        ("send queue: every batch twice, at once", lambda s, f: f.duplicate_deliveries("send", concurrent=True)),
    ]


def main() -> None:
    from botocore.retries import standard
    from moto.moto_api._internal.models import moto_api_backend

    from careloop.adapters.aws import services
    from careloop_local.runtime import LocalStack
    from tests.faults.conftest import REMINDER, book, sent_to, settle

    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"  # the handlers' retry warnings would bury the table
    standard.ExponentialBackoff.delay_amount = lambda self, context: 0.01  # type: ignore[method-assign]
    moto_api_backend.reset()
    stack = LocalStack().start(ticker=False)
    rows = []
    try:
        for i, (name, arm) in enumerate(_faults()):
            plan = stack.faults
            plan.clear()
            stack.crashes.clear()
            booked = book(stack, services(), N, f"bench{i}")
            plan.compress_backoff(scale=0.02)
            stack.bench_phones = booked.phones  # the SMS stand-in's faults go to these numbers only
            arm(stack, plan)
            t0 = time.perf_counter()
            settle(stack, rounds=10)
            if "lost" in name:  # an unconfirmed send waits (a minute in AWS, about a second here)
                time.sleep(1.2)
            injected = sum(plan.injected.values()) + plan.kills + (N if "spend" in name else 0) + \
                (6 if "5xx" in name else 0)
            plan.rules.clear()
            settle(stack)
            wall = time.perf_counter() - t0
            sent = [len(sent_to(stack, p, REMINDER)) for p in booked.phones]
            failed = sum(1 for p in booked.patients for m in services().messages.messages_for_patient(p.id)
                         if m.step == REMINDER and m.status == "failed")
            rows.append((name, injected, sum(plan.attempts_to(p) for p in booked.phones), sum(1 for n in sent if n),
                         sum(max(0, n - 1) for n in sent), N - sum(1 for n in sent if n) - failed, failed, wall))
    finally:
        stack.stop()
    print(f"Faults survived: {N} booking -> reminder flows per fault, through the local stack "
          "(moto + the SMS stand-in, real handlers)")
    print(f"  {'fault':40} {'injected':>8} {'attempts':>8} {'sent':>5} {'twice':>5} {'lost':>5} "
          f"{'failed*':>7} {'wall s':>7}")
    for name, injected, attempts, sent, twice, lost, failed, wall in rows:
        print(f"  {name:40} {injected:>8} {attempts:>8} {sent:>5} {twice:>5} {lost:>5} {failed:>7} {wall:>7.1f}")
    print("  * failed: recorded on the message and shown to staff (a spend limit also pages ops once); not lost")


if __name__ == "__main__":
    main()
