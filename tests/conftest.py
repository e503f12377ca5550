"""Shared fixtures: the in-memory core on a virtual clock, the vendored sample data, and the CI
rule that a skipped test fails unless it names a missing optional tool."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The public samples the tests read, vendored with their licences (tests/data/SOURCES.md), so a
# clean clone needs nothing beside it.
DATA = ROOT / "tests" / "data"
NY = ZoneInfo("America/New_York")

# Tools a developer machine may lack and CI installs (.ci/run): the only acceptable reasons to skip.
OPTIONAL_TOOLS = ("chromium", "node", "npm")
_MISSING = r"(?:\bno\b|\bnot (?:found|installed|available|on PATH)\b|\bmissing\b|\bunavailable\b)"
_NAMES_A_TOOL = re.compile(r"\b(?:" + "|".join(map(re.escape, OPTIONAL_TOOLS)) + r")\b", re.IGNORECASE)

os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


def skip_is_allowed(reason: str) -> bool:
    """A skip is allowed in CI only when its reason says an optional tool is missing."""
    return bool(_NAMES_A_TOOL.search(reason) and re.search(_MISSING, reason, re.IGNORECASE))


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_unexplained_skip(report) -> None:
    # CI runs everything: a skip there hides a test nobody notices is gone (data not found,
    # a dependency not installed), so it counts as a failure unless a known optional tool is absent.
    if not os.environ.get("CI") or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if skip_is_allowed(reason):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"skipped in CI without naming a missing optional tool ({', '.join(OPTIONAL_TOOLS)}): {reason}\n"
        "Fix the cause, or skip only with a reason such as 'no chromium at /usr/bin/chromium'."
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_unexplained_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    # module-level skips (pytest.importorskip, allow_module_level) are collection reports
    outcome = yield
    _fail_unexplained_skip(outcome.get_result())


@pytest.fixture
def svc():
    from careloop_local.fakes import memory_services

    return memory_services(datetime(2026, 12, 1, 9, 0, tzinfo=NY))


@pytest.fixture
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"vendored sample data not found at {DATA}")
    return DATA
