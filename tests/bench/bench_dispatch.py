"""Dispatcher drain: 10,000 due actions against the local stack (moto's DynamoDB + SQS), the
real dispatcher handler invoked like the every-minute schedule until nothing is due."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from careloop_local.runtime import LocalStack

# make bench runs 2,000 - set BENCH_DISPATCH_ACTIONS=10000 for the full figure (the local stack's
# moto answers a GSI query from the matching items since careloop_local.motoindex, as DynamoDB does)
N = int(os.environ.get("BENCH_DISPATCH_ACTIONS", "2000"))


def main() -> None:
    from careloop.adapters.aws import services
    from careloop.adapters.clients import client, to_attr
    from careloop.adapters.dynamo import due_shard
    from careloop.clock import iso
    from careloop.engine.planner import action_id

    stack = LocalStack().start(ticker=False)
    try:
        svc = services()
        ddb = client("dynamodb")
        now = stack.clock.now()
        # daytime for every patient, so quiet hours do not defer the drain
        local = now.astimezone(svc.practice.zone)
        stack.clock.advance(timedelta(hours=(12 - local.hour) % 24 + 24))
        now = stack.clock.now()
        start = now + timedelta(days=3)
        t0 = time.perf_counter()
        items = []
        for i in range(N):
            pid, aid = f"bp{i}", f"ba{i}"
            items.append((stack.res.tables["records"], {
                "pk": f"PAT#{pid}", "sk": "A", "id": pid, "first_name": "Bench", "phone": f"+1617{2000000 + i:07d}",
                "language": "en", "record_type": "patient", "opted_out": False, "undeliverable": False,
                "tags": [], "identifiers": [], "phone_kind": "mobile"}))
            items.append((stack.res.tables["records"], {
                "pk": f"APT#{aid}", "sk": "A", "id": aid, "patient_id": pid, "start": start.isoformat(),
                "start_utc": iso(start), "minutes": 30, "status": "booked", "confirmed": False,
                "record_type": "appointment", "provider": "Dr. Lee"}))
            gen = f"start={iso(start)}"
            act = action_id("appointment-reminder", "reminder-48h", f"APT#{aid}", gen)
            items.append((stack.res.tables["actions"], {
                "action_id": act, "workflow": "appointment-reminder", "workflow_version": 1, "step": "reminder-48h",
                "kind": "sms", "subject": f"APT#{aid}", "patient_id": pid, "appointment_id": aid,
                "due_at": iso(now - timedelta(minutes=1)), "status": "pending", "generation": gen,
                "trigger_at": iso(now - timedelta(days=1)), "due_shard": due_shard(act)}))
        for k in range(0, len(items), 25):
            chunk = items[k:k + 25]
            by_table: dict[str, list] = {}
            for table, item in chunk:
                by_table.setdefault(table, []).append({"PutRequest": {"Item": {a: to_attr(v) for a, v in item.items()}}})
            ddb.batch_write_item(RequestItems=by_table)
        seeded = time.perf_counter() - t0
        t1 = time.perf_counter()
        ticks = sent = 0
        while True:
            summary = stack.dispatch()
            ticks += 1
            sent += summary["sent"]
            if not (summary["sent"] or summary["skipped"] or summary["deferred"]):
                break
        drain = time.perf_counter() - t1
        print(f"Dispatcher drain against the local stack: {N:,} due actions (seeded in {seeded:.1f} s)")
        print(f"  {drain:.1f} s, {ticks} ticks, {sent:,} handed to the send queue, {sent / drain:,.0f} actions/s")
        print("  (each action is ~10 sequential DynamoDB calls; moto's own Query walks the whole table - 5 ms")
        print("   at 100 items, 58 ms at 10,000 - the local stack's reads only the matching items (motoindex);")
        print("   the sender then paces texts to the number's rate)")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
