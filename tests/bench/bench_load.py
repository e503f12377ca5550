"""`make bench`: load held, measured (issue 15 item 4). The local stack on loopback takes a burst
of 2,000 signed EHR bookings (FHIR Bundles and HL7 SIU^S12 through the webhook), 1,000 inbound
texts from the booked patients (confirm / question / STOP) and 500 booking-page sessions (open
the link, list the types and slots, book), all at once over real HTTP; then the clock is moved a
day at a time (POST /dev/clock/advance) until every reminder and nudge came due and went out.

Printed per stream: accepted/s, p50/p99 latency, errors by status; then the drain, and the
duplicates and losses found by checking the outbox (GET /dev/sms/outbox) and the records table
against what the inputs say must have been sent. Printed, never asserted (the scaled-down run in
tests/integration/test_load_small.py asserts zero errors, duplicates and losses).

BENCH_LOAD_BOOKINGS / _TEXTS / _SESSIONS change the sizes, BENCH_LOAD_TIMEOUT_S the bound (s).
BENCH_LOAD_MOTO_PATH=1 runs it on moto's own whole-table Query (the figures before the fix).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BOOKINGS = int(os.environ.get("BENCH_LOAD_BOOKINGS", "2000"))
TEXTS = int(os.environ.get("BENCH_LOAD_TEXTS", "1000"))
SESSIONS = int(os.environ.get("BENCH_LOAD_SESSIONS", "500"))
TIMEOUT_S = float(os.environ.get("BENCH_LOAD_TIMEOUT_S", "2700"))


def main() -> None:
    warnings.filterwarnings("ignore")  # powertools' "no metrics to publish", once per invocation
    from careloop_local import loadrun, motoindex

    plan = loadrun.Plan(bookings=BOOKINGS, texts=TEXTS, sessions=SESSIONS, timeout_s=TIMEOUT_S)
    print(f"Load on the local stack (loopback, bounded at {TIMEOUT_S:.0f} s): {BOOKINGS:,} signed EHR bookings, "
          f"{TEXTS:,} inbound texts, {SESSIONS:,} booking-page sessions at once")
    path = contextlib.nullcontext()
    if os.environ.get("BENCH_LOAD_MOTO_PATH") == "1":
        print("  (moto's own whole-table Query: BENCH_LOAD_MOTO_PATH=1)")
        path = motoindex.moto_path()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, path, contextlib.redirect_stdout(io.StringIO()):
        report = loadrun.run(plan, Path(folder))  # the handlers' metric lines go to the redirected stdout
    for line in loadrun.describe(report):
        print("  " + line)
    print(f"  whole run {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
