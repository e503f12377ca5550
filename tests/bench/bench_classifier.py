"""Intent classifier figures (printed by `make bench`, never asserted in tests): import time in
a fresh interpreter, first-call time (weights load), and per-message latency p50 / p99 over
the held-out corpus split, the two weight files and the zipped size of the core package they
ship in. Targets (issue #9): import < 100 ms, p99 < 5 ms, the layer < 50 MB zipped."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "layers" / "core"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))

PROBE = """
import time
t0 = time.perf_counter()
import careloop.agent.classifier as c
t1 = time.perf_counter()
c.classify("Can I reschedule to next week?")
t2 = time.perf_counter()
print((t1 - t0) * 1000, (t2 - t1) * 1000)
"""


def main() -> None:
    imports, firsts = [], []
    for _ in range(RUNS):
        res = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=ROOT)
        a, b = map(float, res.stdout.split())
        imports.append(a)
        firsts.append(b)
    from careloop.agent import classifier
    from careloop.agent.model import MODEL_FILE, URGENT_MODEL_FILE

    rows = [json.loads(x) for x in (ROOT / "tests" / "corpus" / "texts.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    texts = [r["text"] for r in rows if r["split"] == "test"]
    classifier.classify("warm up")
    times = []
    for _ in range(3):
        for text in texts:
            t0 = time.perf_counter()
            classifier.classify(text)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    long_text = " ".join(texts)[:1600]
    t0 = time.perf_counter()
    classifier.classify(long_text)
    long_ms = (time.perf_counter() - t0) * 1000
    data = ROOT / "layers" / "core" / "careloop" / "data"
    print("Intent classifier (targets: import < 100 ms, p99 < 5 ms per message)")
    print(f"  import careloop.agent.classifier  {statistics.median(imports):7.1f} ms  (median of {RUNS}, fresh interpreter)")
    print(f"  first classify (loads weights)    {statistics.median(firsts):7.1f} ms")
    print(f"  per message over {len(texts)} held-out texts x3: p50 {statistics.median(times):.3f} ms, "
          f"p99 {times[int(0.99 * len(times))]:.3f} ms, max {times[-1]:.3f} ms")
    print(f"  one 1,600-character text          {long_ms:7.3f} ms")
    for name in (MODEL_FILE, URGENT_MODEL_FILE):
        print(f"  weights {name}: {(data / name).stat().st_size / 1024:.0f} KiB")
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted((ROOT / "layers" / "core" / "careloop").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                z.write(path, path.relative_to(ROOT / "layers" / "core"))
    print(f"  careloop package zipped (the layer's own code and weights): {buf.tell() / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
