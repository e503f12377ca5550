"""The web app's one formatter (web/src/format.ts) run in Node: times name both clocks when the
viewer's zone differs from the practice's, and days follow the clock the app is given."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
ESBUILD = WEB / "node_modules" / ".bin" / "esbuild"

# each case: [practice zone, viewer zone, clock "now" (ISO), method, ISO argument]
CASES = {
    "same-zone": ["America/New_York", "America/New_York", "2026-12-08T15:00:00Z", "timeOnly", "2026-12-08T16:00:00Z"],
    "la-viewer-time": ["America/New_York", "America/Los_Angeles", "2026-12-08T15:00:00Z", "timeOnly",
                       "2026-12-08T16:00:00Z"],
    "la-viewer-date-time": ["America/New_York", "America/Los_Angeles", "2026-12-08T15:00:00Z", "dateTime",
                            "2026-12-08T16:00:00Z"],
    "la-viewer-other-day": ["America/New_York", "America/Los_Angeles", "2026-12-08T15:00:00Z", "dateTime",
                            "2026-12-09T06:30:00Z"],
    "la-viewer-list": ["America/New_York", "America/Los_Angeles", "2026-12-08T15:00:00Z", "short",
                       "2026-12-08T16:00:00Z"],
    "same-zone-date-time": ["America/New_York", "America/Detroit", "2026-12-08T15:00:00Z", "dateTime",
                            "2026-12-08T16:00:00Z"],
    "summer-la-viewer": ["America/New_York", "America/Los_Angeles", "2026-07-08T15:00:00Z", "timeOnly",
                         "2026-07-08T15:00:00Z"],
    "phoenix-denver-winter": ["America/Denver", "America/Phoenix", "2026-01-12T15:00:00Z", "timeOnly",
                              "2026-01-12T17:00:00Z"],
    "phoenix-denver-summer": ["America/Denver", "America/Phoenix", "2026-07-13T15:00:00Z", "timeOnly",
                              "2026-07-13T16:00:00Z"],
    # 11:30 PM in Los Angeles is already tomorrow in Boston: the heading is the practice's day
    "heading-practice-day": ["America/New_York", "America/Los_Angeles", "2026-12-08T15:00:00Z", "dayHeading",
                             "2026-12-09T07:30:00Z"],
    "heading-today-by-clock": ["America/New_York", "America/Los_Angeles", "2026-12-09T15:00:00Z", "dayHeading",
                               "2026-12-09T07:30:00Z"],
    "heading-yesterday-by-clock": ["America/New_York", "America/Los_Angeles", "2026-12-10T15:00:00Z",
                                   "dayHeading", "2026-12-09T07:30:00Z"],
}

SCRIPT = """
import { Formatter } from "./src/format";
const cases: Record<string, [string, string, string, string, string]> = JSON.parse(process.argv[2] ?? "{}");
const out: Record<string, string> = {};
for (const [name, [practice, viewer, now, method, iso]] of Object.entries(cases)) {
  const fmt = new Formatter(practice, "en-US", { viewerZone: viewer, now: () => new Date(now) });
  out[name] = (fmt as unknown as Record<string, (iso: string) => string>)[method]!.call(fmt, iso);
}
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def formatted(tmp_path_factory) -> dict[str, str]:
    if shutil.which("node") is None or not ESBUILD.exists():
        pytest.skip("node or web/node_modules missing (cd web && npm ci)")
    folder = tmp_path_factory.mktemp("web-format")
    entry = WEB / f".format-check-{folder.name}.ts"  # inside web/ so "./src/format" resolves
    bundle = folder / "check.mjs"
    try:
        entry.write_text(SCRIPT)
        subprocess.run([str(ESBUILD), str(entry), "--bundle", "--platform=node", "--format=esm",
                        f"--outfile={bundle}", "--log-level=error"], check=True, cwd=WEB, timeout=60)
    finally:
        entry.unlink(missing_ok=True)
    run = subprocess.run(["node", str(bundle), json.dumps(CASES)], capture_output=True, text=True,
                         check=True, timeout=60)
    return json.loads(run.stdout)


def test_a_viewer_in_the_practices_zone_sees_times_as_before(formatted):
    assert formatted["same-zone"] == "11:00 AM"
    assert formatted["same-zone-date-time"] == "Tue Dec 8, 11:00 AM"  # Detroit reads Boston's clock


def test_a_viewer_elsewhere_sees_their_time_then_the_practices(formatted):
    assert formatted["la-viewer-time"] == "8:00 AM PT (11:00 AM ET)"
    assert formatted["la-viewer-date-time"] == "Tue Dec 8, 8:00 AM PT (11:00 AM ET)"
    assert formatted["la-viewer-other-day"] == "Tue Dec 8, 10:30 PM PT (Wed Dec 9, 1:30 AM ET)"
    assert formatted["la-viewer-list"] == "8:00 AM PT"  # lists stay short; the title has both
    assert formatted["summer-la-viewer"] == "8:00 AM PT (11:00 AM ET)"  # PDT/EDT read the same way


def test_clocks_are_compared_at_the_instant(formatted):
    assert formatted["phoenix-denver-winter"] == "10:00 AM"  # Phoenix reads Denver's clock in winter
    assert formatted["phoenix-denver-summer"] == "9:00 AM MST (10:00 AM MT)"


def test_day_headings_are_the_practices_days_on_the_given_clock(formatted):
    assert formatted["heading-practice-day"] == "Tomorrow"
    assert formatted["heading-today-by-clock"] == "Today"
    assert formatted["heading-yesterday-by-clock"] == "Yesterday"
