"""The EHR bucket forgets on the profile's schedule: accepted payloads after the archive
retention (6 years by default), quarantined ones N days after replay (90 by default)."""

from __future__ import annotations

import json

import pytest

from careloop_local import ehr_replay as replay
from infra.application import PRACTICES_DIR, build_app

from .conftest import functions_dir_for_tests

pytestmark = pytest.mark.infra


def _rules(resources: dict, stack) -> dict[str, dict]:
    bucket = resources[stack.resolve(stack.get_logical_id(stack.ehr_bucket.node.default_child))]
    return {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}


def test_demo_ehr_bucket_keeps_the_archive_six_years_and_replayed_payloads_90_days(synth):
    rules = _rules(synth.resources, synth.build.stack)
    archive, quarantine = rules["archive-retention"], rules["quarantine-after-replay"]
    assert archive["Prefix"] == "archive/" and archive["ExpirationInDays"] == 6 * 365
    assert quarantine["Prefix"] == "quarantine/"
    assert quarantine["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert quarantine["ExpirationInDays"] == 6 * 365  # never replayed: an EHR record all the same
    assert all(r["Status"] == "Enabled" for r in rules.values())
    assert rules["tidy"]["ExpiredObjectDeleteMarker"] is True


def test_the_prefixes_are_the_ones_replay_moves_between():
    # replay deletes what it replayed from quarantine/ (a noncurrent version on a versioned bucket:
    # the lifecycle rule's clock starts at the replay) after writing it to archive/
    assert replay.archive_key_for("quarantine/fhir/2026-12-01/x.json") == "archive/fhir/2026-12-01/x.json"


def test_the_profile_sets_the_retention(tmp_path):
    data = json.loads((PRACTICES_DIR / "demo.json").read_text())
    data.update(id="keeplong", ehr={**data.get("ehr", {}), "archive_retention_days": 3650,
                                    "quarantine_days_after_replay": 30})
    folder = tmp_path / "practices"
    folder.mkdir()
    (folder / "keeplong.json").write_text(json.dumps(data))
    build = build_app("keeplong", bundle=False, outdir=str(tmp_path / "cdk.out"), practices_dir=folder,
                      functions_dir=functions_dir_for_tests(tmp_path / "functions"), web_dist=None)
    resources = build.app.synth().get_stack_by_name(build.stack.stack_name).template["Resources"]
    rules = _rules(resources, build.stack)
    assert rules["archive-retention"]["ExpirationInDays"] == 3650
    assert rules["quarantine-after-replay"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
