"""The voice code hook in process, warm: p50 / p99 of a booking turn (the offer, and the yes that
books it and queues the confirmation text) on the in-memory core with a busy practice (target: well under 100 ms)."""

from __future__ import annotations

import copy
import json
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "layers" / "core", ROOT / "layers" / "local"):
    sys.path.insert(0, str(extra))

from careloop.models import Appointment, Patient  # noqa: E402
from careloop.records import ingest  # noqa: E402
from careloop.voice.hook import handle_lex_event  # noqa: E402
from careloop_local.fakes import memory_services  # noqa: E402

RUNS = int(os.environ.get("BENCH_VOICE_RUNS", "200"))
NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=NY)  # a Tuesday morning
SAMPLE = json.loads((ROOT / "tests" / "data" / "aws-lambda-dotnet-events" / "lexv2-event.json").read_text(encoding="utf-8-sig"))


def slot(value: str) -> dict:
    return {"shape": "Scalar", "value": {"originalValue": value, "interpretedValue": value, "resolvedValues": [value]}}


def event(contact: str, phone: str, transcript: str, slots: dict, confirmation: str = "None",
          attrs: dict | None = None) -> dict:
    e = copy.deepcopy(SAMPLE)
    e["inputTranscript"], e["sessionId"] = transcript, contact
    e["sessionState"]["intent"] = {"name": "BookAppointment", "slots": slots, "state": "InProgress",
                                   "confirmationState": confirmation}
    e["sessionState"]["sessionAttributes"] = {"callerNumber": phone, "practiceNumber": "+16175550100",
                                              "contactId": contact, **(attrs or {})}
    return e


def busy_practice():
    """The demo practice with 1,000 patients and 1,500 appointments over the next 60 days."""
    svc = memory_services(NOW)
    patients = [Patient(id=f"bp{i}", first_name=f"P{i}", last_name="Bench", phone=f"+1617555{i:04d}",
                        birth_date=date(1970 + i % 40, 1 + i % 12, 1 + i % 28)) for i in range(1000)]
    appointments = []
    for i in range(1500):
        day = NOW + timedelta(days=1 + i % 60)
        start = day.replace(hour=8 + (i // 60) % 8, minute=0 if i % 2 else 30)
        appointments.append(Appointment(id=f"ba{i}", patient_id=f"bp{i % 1000}", start=start, minutes=30,
                                        provider=("lee", "patel")[i % 2], location="main", visit_type="exam"))
    ingest(svc.records, svc.consent, patients, appointments, NOW, bulk=True)
    return svc


def percentile(times: list[float], p: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def timed(fn, *args):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def main() -> None:
    svc = busy_practice()
    wall: dict[str, list[float]] = {"offer": [], "yes": []}
    cpu: dict[str, list[float]] = {"offer": [], "yes": []}
    for i in range(-5, RUNS):  # five warm-up calls: the classifier's patterns compile on first use
        contact, phone = f"bench-{i}", f"+1617555{i % 1000:04d}"
        day = (date(2026, 12, 7) + timedelta(days=i % 49)).isoformat()  # spread: 200 bookings never fill a day
        slots = {"VisitType": slot("cleaning"), "Date": slot(day)}
        offer, w_offer, c_offer = timed(handle_lex_event, svc, event(contact, phone, "I need a cleaning", slots))
        attrs = offer["sessionState"]["sessionAttributes"]
        done, w_yes, c_yes = timed(handle_lex_event, svc, event(contact, phone, "yes", slots, "Confirmed", attrs))
        if done["sessionState"]["sessionAttributes"].get("careloopOutcome") != "booked":
            raise SystemExit(f"bench turn {i} did not book: {done['messages'][0]['content']}")
        if i >= 0:
            wall["offer"].append(w_offer)
            wall["yes"].append(w_yes)
            cpu["offer"].append(c_offer)
            cpu["yes"].append(c_yes)
    print(f"Voice code hook, warm, in process ({RUNS} calls; 1,000 patients, 1,500 appointments; target well under 100 ms)")
    for key, label in (("offer", "offer turn (slot search, ConfirmIntent)"), ("yes", "yes turn (book, confirmation text)")):
        print(f"  {label:<42} p50 {statistics.median(wall[key]):6.2f} ms   p99 {percentile(wall[key], 0.99):7.2f} ms"
              f"   (CPU p50 {statistics.median(cpu[key]):5.2f} ms, p99 {percentile(cpu[key], 0.99):6.2f} ms)")


if __name__ == "__main__":
    main()
