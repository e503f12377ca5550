"""Simulator throughput: one month of a 5,000-patient practice (~1,500 appointments with
replies, reschedules, cancellations and no-shows) through `careloop simulate`'s engine."""

from __future__ import annotations

import random
import resource
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from careloop_local.simulate import simulate

NY = ZoneInfo("America/New_York")
START = datetime(2026, 12, 1, 7, 0, tzinfo=NY)


def scenario(patients: int = 5000, appointments: int = 1500, seed: int = 7) -> dict:
    rng = random.Random(seed)
    people = [{"id": f"p{i}", "first_name": f"P{i}", "last_name": "Test",
               "phone": f"+1617{rng.randint(2000000, 9999999)}", "language": "es" if i % 5 == 0 else "en",
               "timezone": rng.choice([None, None, None, "America/Chicago", "America/Los_Angeles"])}
              for i in range(patients)]
    events = []
    for a in range(appointments):
        pid = f"p{rng.randrange(patients)}"
        booked = START + timedelta(minutes=rng.randrange(0, 26 * 24 * 60))
        start = (booked + timedelta(hours=rng.randint(3, 14 * 24))).replace(minute=rng.choice([0, 30]), second=0, microsecond=0)
        start = start.replace(hour=rng.randint(8, 16))
        if start <= booked + timedelta(hours=2):
            start += timedelta(days=1)
        base = {"id": f"a{a}", "patient": pid, "start": start.isoformat(), "status": "booked",
                "provider": rng.choice(["Dr. Lee", "Dr. Patel"]), "visit_type": rng.choice(["cleaning", "checkup", "extraction"])}
        events.append({"at": booked.isoformat(), "type": "appointment", "appointment": base})
        roll = rng.random()
        reply_at = start - timedelta(hours=rng.randint(20, 40))
        if roll < 0.45 and reply_at > booked:
            events.append({"at": reply_at.isoformat(), "type": "sms", "from": pid, "body": rng.choice(["C", "Yes", "sí", "ok see you then"])})
        elif roll < 0.55:
            moved = dict(base, start=(start + timedelta(days=rng.randint(1, 5))).isoformat())
            events.append({"at": (booked + (start - booked) / 2).isoformat(), "type": "appointment", "appointment": moved})
            start = datetime.fromisoformat(moved["start"])
            base = moved
        elif roll < 0.62:
            events.append({"at": (booked + (start - booked) / 3).isoformat(), "type": "appointment",
                           "appointment": dict(base, status="cancelled")})
            continue
        elif roll < 0.64:
            events.append({"at": reply_at.isoformat() if reply_at > booked else booked.isoformat(), "type": "sms", "from": pid, "body": "STOP"})
        outcome = "noshow" if rng.random() < 0.08 else "fulfilled"
        events.append({"at": (start + timedelta(minutes=45)).isoformat(), "type": "appointment",
                       "appointment": dict(base, status=outcome)})
    until = START + timedelta(days=31)
    events = [e for e in events if datetime.fromisoformat(e["at"]) <= until]
    return {"start": START.isoformat(), "until": until.isoformat(), "patients": people, "events": events}


def main() -> None:
    sc = scenario()
    t0 = time.perf_counter()
    lines, _ = simulate(sc)
    wall = time.perf_counter() - t0
    sent = sum(1 for x in lines if x["kind"] == "sms")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("Simulator: one month, 5,000 patients, 1,500 appointments (target < 10 s)")
    print(f"  events {len(sc['events'])}, outbound actions {sum(1 for x in lines if x['kind'] in ('sms', 'task', 'staff_alert'))}, texts {sent}")
    print(f"  wall time {wall:.2f} s, {len(sc['events']) / wall:,.0f} events/s, peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
