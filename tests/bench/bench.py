"""`make bench`: performance figures, measured here and printed (never asserted in tests).

- cold-start import time of every handler, each in a fresh interpreter (the code's share of a
  Lambda cold start), median of several runs.
- the core layer's size: the careloop package zipped, and the wheels if .bundle-cache has them.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from careloop import wiring  # noqa: E402
from infra import layer_contents  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))

PROBE = """
import importlib.util, sys, time
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print((time.perf_counter() - t0) * 1000)
"""


def handler_import_ms(name: str) -> list[float]:
    env = dict(os.environ, POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_METRICS_NAMESPACE="Careloop",
               POWERTOOLS_SERVICE_NAME="careloop", AWS_DEFAULT_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    path = ROOT / "functions" / name / "handler.py"
    out = []
    for _ in range(RUNS):
        res = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, env=env, check=True)
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return out


def layer_size() -> dict[str, int]:
    """Zipped bytes of what the core layer ships (infra.layer_contents decides the files)."""
    package = ROOT / "layers" / "core" / "careloop"
    files = layer_contents.package_files(package)
    sizes = {"careloop": layer_contents.zipped_size(package, files), "files": len(files)}
    # the newest wheel cache of infra/bundling.py (built by a bundling synth; absent on a fresh clone)
    caches = sorted((ROOT / ".bundle-cache").glob("layer-deps-*/python"), key=lambda p: p.stat().st_mtime)
    if caches:
        wheels = [p.relative_to(caches[-1]) for p in caches[-1].rglob("*") if p.is_file()]
        sizes["wheels"] = layer_contents.zipped_size(caches[-1], wheels)
    return sizes


def main() -> None:
    results = {}
    sizes = layer_size()
    print("Core layer size (zipped; Lambda's limit is 50 MB zipped, 250 MB unzipped with the function)")
    print(f"  careloop package   {sizes['careloop'] / 1e6:6.2f} MB   ({sizes['files']} files)")
    if "wheels" in sizes:
        print(f"  wheels (cached)    {sizes['wheels'] / 1e6:6.2f} MB")
        print(f"  layer              {(sizes['careloop'] + sizes['wheels']) / 1e6:6.2f} MB")
    else:
        print("  wheels             not in .bundle-cache (a bundling synth fills it: .venv/bin/python app.py)")
    print()
    print(f"Handler import time (fresh interpreter, median of {RUNS}; target < 400 ms)")
    for spec in wiring.FUNCTIONS:
        times = handler_import_ms(spec.name)
        results[spec.name] = statistics.median(times)
        print(f"  {spec.name:<14} {statistics.median(times):7.1f} ms   (min {min(times):.1f}, max {max(times):.1f})")
    for extra in sorted((ROOT / "tests" / "bench").glob("bench_*.py")):
        print()
        subprocess.run([sys.executable, str(extra)], check=True, cwd=ROOT)
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
