"""`make bench`: onboarding import of 5,000 patients and 20,000 appointments (FHIR Bulk Data
NDJSON) into the local stack (DynamoDB on moto), then the planning that follows through the
records stream, timed separately. Figures are printed, never asserted.

BENCH_IMPORT_PATIENTS / BENCH_IMPORT_APPOINTMENTS change the size; BENCH_PLAN_SECONDS caps the
planning measurement (default 60 s: the rate is measured, the total projected); BENCH_REIMPORT=1
also times importing the same files again (all unchanged).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PATIENTS = int(os.environ.get("BENCH_IMPORT_PATIENTS", "5000"))
APPOINTMENTS = int(os.environ.get("BENCH_IMPORT_APPOINTMENTS", "20000"))
PLAN_SECONDS = float(os.environ.get("BENCH_PLAN_SECONDS", "60"))
REIMPORT = os.environ.get("BENCH_REIMPORT") == "1"
GIVEN = ["Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon"]
FAMILY = ["Reyes", "Kim", "Okafor", "Silva", "Nguyen", "Cohen", "Patel", "Rossi", "Haddad", "Moore"]


def generate(folder: Path, now: datetime) -> tuple[Path, Path]:
    """A realistic panel: most patients with a mobile, some landline-only, a few Spanish
    speakers; appointments spread over the past year and the next three months."""
    rnd = random.Random(6)
    patients = folder / "Patient.ndjson"
    with patients.open("w") as f:
        for i in range(PATIENTS):
            telecom = [{"system": "phone", "value": f"617-555-{i % 10000:04d}",
                        "use": "home" if rnd.random() < 0.1 else "mobile"}]
            resource = {
                "resourceType": "Patient", "id": f"bench-p{i}",
                "meta": {"versionId": "1", "lastUpdated": "2026-11-01T08:00:00Z"},
                "identifier": [{"system": "urn:oid:2.16.840.1.113883.19.5", "value": f"MRN{i:06d}"}],
                "name": [{"use": "official", "family": rnd.choice(FAMILY), "given": [rnd.choice(GIVEN)]}],
                "telecom": telecom, "birthDate": f"{rnd.randint(1940, 2015)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}",
            }
            if rnd.random() < 0.2:
                resource["communication"] = [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es"}]},
                                              "preferred": True}]
            f.write(json.dumps(resource) + "\n")
    appointments = folder / "Appointment.ndjson"
    with appointments.open("w") as f:
        for i in range(APPOINTMENTS):
            start = (now + timedelta(days=rnd.randint(-365, 90), hours=rnd.randint(0, 8))).replace(
                hour=rnd.randint(13, 21), minute=rnd.choice([0, 15, 30, 45]), second=0, microsecond=0)
            past = start < now
            resource = {
                "resourceType": "Appointment", "id": f"bench-a{i}",
                "meta": {"versionId": "1", "lastUpdated": "2026-11-01T08:00:00Z"},
                "status": rnd.choice(["fulfilled", "fulfilled", "noshow", "cancelled"]) if past else "booked",
                "appointmentType": {"coding": [{"code": rnd.choice(["checkup", "cleaning", "followup"])}]},
                "start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat(),
                "participant": [
                    {"actor": {"reference": f"Patient/bench-p{rnd.randrange(PATIENTS)}"}, "status": "accepted"},
                    {"actor": {"reference": "Practitioner/dr-lee", "display": "Dr. Lee"}, "status": "accepted"}],
            }
            f.write(json.dumps(resource) + "\n")
    return patients, appointments


def main() -> None:
    warnings.filterwarnings("ignore")  # powertools' "no metrics to publish", once per invocation
    from careloop_local.runtime import LocalStack

    print(f"Bulk import: {PATIENTS:,} patients + {APPOINTMENTS:,} appointments (NDJSON) into the local stack")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        stack = LocalStack().start(ticker=False)
        started_s = time.perf_counter() - t0
        try:
            from careloop.adapters.aws import services
            from careloop_local.ehr_bulk import import_files

            svc = services()
            t0 = time.perf_counter()
            files = generate(folder, stack.clock.now().astimezone(UTC))
            gen_s = time.perf_counter() - t0
            size = sum(p.stat().st_size for p in files) / 1e6
            print(f"  local stack started in {started_s:.1f} s; generated {size:.1f} MB of NDJSON in {gen_s:.1f} s")

            summary = import_files(files, svc)
            records = summary.patients + summary.appointments
            print(f"  import:     {summary.seconds:6.1f} s   {summary.read / summary.seconds:7.0f} resources/s   "
                  f"({summary.patients:,} patients, {summary.appointments:,} appointments written, "
                  f"{summary.error_count} errors)")

            if REIMPORT:  # every record read back (moto reads existing items slowly): opt-in
                again = import_files(files, svc)
                print(f"  re-import:  {again.seconds:6.1f} s   {again.read / again.seconds:7.0f} resources/s   "
                      f"({again.unchanged:,} unchanged, {again.patients + again.appointments} written)")

            # planning: the planner consumes the records stream (one record per written item);
            # the handlers' metrics lines go to stdout, which is not what this bench reports
            t0 = time.perf_counter()
            handled = 0
            with contextlib.redirect_stdout(io.StringIO()):
                while time.perf_counter() - t0 < PLAN_SECONDS:
                    n = stack.pump_once()
                    handled += n
                    if n == 0 and stack.pump_once() == 0:
                        break
            plan_s = time.perf_counter() - t0
            stream = records + PATIENTS  # + one identifier claim per generated patient
            rate = handled / plan_s if plan_s else 0
            if handled >= stream:
                print(f"  planning:   {plan_s:6.1f} s   {rate:7.0f} stream records/s   (all {handled:,})")
            else:
                print(f"  planning:   {rate:7.0f} stream records/s over {plan_s:.0f} s ({handled:,} of {stream:,} "
                      f"stream records); all of them would take ~{stream / rate:.0f} s here")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
