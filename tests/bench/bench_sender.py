"""Sender drain rate: a burst of queued texts through the real sender handler, the local
stack's End User Messaging stand-in enforcing the number's rate (it answers
ThrottlingException if the sender goes faster)."""

from __future__ import annotations

import time

from careloop import wiring
from careloop_local.runtime import LocalStack

RATE = 2.0  # parts per second for the number (10DLC default is 1; 2 keeps the bench short)
N = 24


def main() -> None:
    from careloop.adapters.aws import services
    from careloop.models import Message, MessageStatus

    stack = LocalStack(parts_per_second=RATE).start(ticker=False)
    try:
        svc = services()
        now = stack.clock.now()
        for i in range(N):
            msg = Message(message_id=f"bench-{i}", kind="sms_out", phone=f"+1617555{1000 + i}", body="Reminder: see you soon",
                          at=now, status=MessageStatus.QUEUED, automated=False, workflow="bench", step="burst")
            svc.messages.put_message(msg)
            svc.outbox.enqueue(msg)
        t0 = time.perf_counter()
        stack.drain(timeout=300)
        wall = time.perf_counter() - t0
        statuses = [svc.messages.get_message(f"bench-{i}").status for i in range(N)]
        sent = sum(s in (MessageStatus.SENT, MessageStatus.DELIVERED) for s in statuses)
        throttled = sum(1 for m in stack.standin.outbox() if m.get("status") == "THROTTLED")
        consumers = wiring.by_name("sms_sender").source.max_concurrency
        print(f"Sender drain: {N} queued texts, number limited to {RATE:g} part/s by the stand-in")
        print(f"  {sent}/{N} sent in {wall:.1f} s = {sent / wall:.2f} texts/s from one consumer "
              f"(paced to {RATE / consumers:g}/s each; {consumers} consumers in AWS share the number's rate)")
        print(f"  throttled by the SMS API: {throttled}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
