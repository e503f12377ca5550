"""`make bench`: a 40,000-patient FHIR Bundle (made from the Synthea samples) posted gzipped to
the local stack's webhook over real HTTP: the time to the 202, then the import worker's time to
apply all of it (its queue drained, one slice after another), entries/s. Printed, never asserted.

BENCH_WEBHOOK_PATIENTS changes the size.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import sys
import threading
import time
import urllib.request
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PATIENTS = int(os.environ.get("BENCH_WEBHOOK_PATIENTS", "40000"))


def main() -> None:
    warnings.filterwarnings("ignore")  # powertools' "no metrics to publish", once per invocation
    from werkzeug.serving import make_server

    from careloop.intake import sign, sign_timestamped
    from careloop_local.http import LocalHttp
    from careloop_local.runtime import LocalStack
    from tests.synthea_panel import patient_bundle

    print(f"Large webhook payload: a {PATIENTS:,}-patient Bundle to POST /ehr/fhir (gzip) on the local stack")
    stack = LocalStack().start(ticker=False)
    server = make_server("127.0.0.1", 0, LocalHttp(stack), threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        body = patient_bundle(PATIENTS, prefix="bench")
        packed = gzip.compress(body)
        print(f"  Bundle: {len(body) / 1e6:.1f} MB of JSON, {len(packed) / 1e6:.2f} MB gzipped")
        req = urllib.request.Request(url + "/ehr/fhir", data=packed, method="POST", headers={
            "Content-Type": "application/fhir+json", "Content-Encoding": "gzip",
            "X-Careloop-Signature": sign(stack.webhook_secret, packed)})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, answer = resp.status, json.loads(resp.read())
        accept_s = time.perf_counter() - t0
        print(f"  accepted:  HTTP {status} in {accept_s:6.2f} s   (job {answer.get('job_id')}, "
              f"{answer.get('entries', 0):,} entries)")
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the handlers' log lines
            slices = stack.drain_queue("ehr_import", timeout=3600)
        apply_s = time.perf_counter() - t0
        path = f"/ehr/jobs/{answer['job_id']}"
        status_req = urllib.request.Request(url + path, headers={
            "X-Careloop-Signature": sign_timestamped(stack.webhook_secret, path.encode())})
        with urllib.request.urlopen(status_req, timeout=30) as resp:
            job = json.loads(resp.read())
        print(f"  applied:   {apply_s:6.1f} s   {job['done'] / apply_s:7.0f} entries/s   ({job['state']}: "
              f"{job['done']:,} done, {job['applied']:,} applied, {job['patients']:,} patients written, "
              f"{job['refused']} refused, {job['quarantined']} quarantined; {job['batches']} batches "
              f"in {slices} worker slice(s))")
    finally:
        server.shutdown()
        stack.stop()


if __name__ == "__main__":
    main()
