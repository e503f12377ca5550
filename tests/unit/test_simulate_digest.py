"""The simulator's printed output for a small practice-month, byte for byte, against the digest
taken before the speed work of issue 15 item 8 (the fakes' copies, the due heap, the collector
paused, the agent's labels remembered, the phone short way): a faster run computes the same
month. The output does not depend on the hash seed (checked with several); a change meant to
alter it (a template's wording, a workflow's steps) updates the digest here and says why."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from careloop_local.practice_month import practice_month

# 600 patients at 3 locations: reminders, nudges, confirmations, opt-outs, questions, no-show
# recovery and rebook tasks (1,168 lines), from careloop_local.practice_month's fixed seed
MONTH_SHA256 = "456990d1d527edc0ce4cf5800ee7c8ac27c4964784a681a177c2ea4209f4e19e"


def test_a_small_month_prints_exactly_what_it_printed_before(tmp_path) -> None:
    path = tmp_path / "month.json"
    path.write_text(json.dumps(practice_month(600, 3)))
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    done = subprocess.run([sys.executable, "-m", "careloop_local.cli", "simulate", str(path)],
                          capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    kinds = {json.loads(x)["kind"] for x in lines}
    assert len(lines) == 1168 and kinds == {"sms", "task", "appointment_state", "patient_state"}
    assert hashlib.sha256(done.stdout).hexdigest() == MONTH_SHA256
