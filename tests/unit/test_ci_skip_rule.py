"""The CI rule of tests/conftest.py: with CI set, a skip fails unless its reason names a missing
optional tool; without CI, skips stay skips. Run on a throwaway test file in a child pytest."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT, skip_is_allowed

SAMPLE_TESTS = textwrap.dedent('''
    import pytest

    def test_data_missing():
        pytest.skip("shared samples missing")

    def test_browser_missing():
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium)")

    @pytest.mark.skipif(True, reason="flaky on Tuesdays")
    def test_marked():
        pass

    @pytest.mark.xfail(reason="known bug", strict=True)
    def test_expected_failure():
        assert False

    def test_passes():
        pass
''')


def run_child(tmp_path: Path, ci: bool, files: dict[str, str]) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport  # noqa: F401\n")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfs", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_in_ci_unexplained_skips_fail_and_say_why(tmp_path):
    # Given a test file with two unexplained skips, one tool skip, an xfail and a pass
    # When it runs in CI
    result = run_child(tmp_path, ci=True, files={"test_sample.py": SAMPLE_TESTS})
    # Then the two unexplained skips fail (a skipif marker skips at setup, so it shows as an error),
    # naming the rule and their reason; the tool skip, the xfail and the pass are untouched
    out = result.stdout
    assert result.returncode == 1, out
    assert "1 failed, 1 passed, 1 skipped, 1 xfailed, 1 error" in out, out
    assert "FAILED test_sample.py::test_data_missing" in out and "ERROR at setup of test_marked" in out
    assert "skipped in CI without naming a missing optional tool" in out
    assert "shared samples missing" in out and "flaky on Tuesdays" in out
    assert "SKIPPED [1] test_sample.py" in out and "no Chromium" in out


def test_outside_ci_skips_stay_skips(tmp_path):
    result = run_child(tmp_path, ci=False, files={"test_sample.py": SAMPLE_TESTS})
    assert result.returncode == 0, result.stdout
    assert "1 passed, 3 skipped, 1 xfailed" in result.stdout, result.stdout


def test_in_ci_a_module_level_skip_fails_collection(tmp_path):
    # Given a module skipped at import (what pytest.importorskip does when a package is absent)
    module = "import pytest\npytest.importorskip('careloop_no_such_package')\n\ndef test_x():\n    pass\n"
    result = run_child(tmp_path, ci=True, files={"test_needs_pkg.py": module})
    # Then CI reports an error naming the missing import, not a quiet skip
    assert result.returncode != 0, result.stdout
    assert "skipped in CI without naming a missing optional tool" in result.stdout
    assert "careloop_no_such_package" in result.stdout


@pytest.mark.parametrize(("reason", "allowed"), [
    ("no Chromium at /usr/bin/chromium (apt-get install chromium)", True),
    ("npm not found on this machine", True),
    ("node missing", True),
    ("shared samples missing", False),
    ("chromium is slow", False),  # names the tool but not that it is missing
    ("could not import 'playwright.sync_api'", False),  # a pinned dependency, not an optional tool
    ("nodes missing", False),
])
def test_which_reasons_count_as_a_missing_optional_tool(reason, allowed):
    assert skip_is_allowed(reason) is allowed
