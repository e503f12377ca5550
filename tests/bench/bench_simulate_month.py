"""Scale (issue 15 item 8): `careloop simulate` of a 50,000-patient, 10-location practice-month
(careloop_local.practice_month), run as the command is, timed, with its peak RSS (target < 15 s, 500 MiB).
The time judged is the command's CPU time (user + system): on a shared machine its wall time
says more about the neighbours than about the simulator; the load average is printed beside it."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from careloop_local.practice_month import practice_month

PATIENTS, LOCATIONS = int(os.environ.get("BENCH_MONTH_PATIENTS", "50000")), 10
TARGET_S, TARGET_MIB = 15.0, 500


def main() -> None:
    scenario = practice_month(PATIENTS, LOCATIONS)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "month.json"
        path.write_text(json.dumps(scenario))
        t0 = time.perf_counter()
        with open(os.devnull, "w") as sink:
            done = subprocess.run([sys.executable, "-m", "careloop_local.cli", "simulate", str(path)],
                                  stdout=sink, stderr=subprocess.PIPE, text=True, check=False)
        wall = time.perf_counter() - t0
    load = os.getloadavg()[0]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mib = usage.ru_maxrss / 1024  # KiB on Linux
    events = len(scenario["events"])
    print(f"Simulator: one practice-month, {PATIENTS:,} patients, {LOCATIONS} locations, {events:,} events "
          f"(target < {TARGET_S:g} s and {TARGET_MIB} MiB)")
    if done.returncode:
        print(f"  FAILED: exit {done.returncode}: {done.stderr.strip()[-400:]}")
        return
    cpu = usage.ru_utime + usage.ru_stime
    verdict = "meets" if cpu < TARGET_S and peak_mib < TARGET_MIB else "MISSES"
    print(f"  CPU {cpu:.2f} s (wall {wall:.2f} s, load average {load:.1f}), peak RSS {peak_mib:.0f} MiB: "
          f"{verdict} the target")


if __name__ == "__main__":
    main()
