"""`careloop ehr replay` against the local stack's S3 and DynamoDB (moto): a payload quarantined
by a since-fixed mapper bug is replayed and moved to archive/ (its quarantine key in metadata);
a still-broken one stays with an updated reason; --dry-run changes nothing; the CLI works both
directly (AWS settings) and through a running local stack (--endpoint)."""

# ruff: noqa: F811 (pytest fixtures imported from test_ehr_webhook are parameters here)

from __future__ import annotations

import json

import pytest

from careloop import intake
from careloop.errors import PayloadError
from careloop_local.cli import main
from tests.integration.test_ehr_webhook import fhir_patient, hl7, objects, post


def s3():
    from careloop.adapters.aws import archive

    return archive()


def quarantine_by_bug(served, monkeypatch, body: bytes, path="/ehr/fhir") -> str:
    """Deliver `body` while the mapper has a bug (it refuses everything); -> quarantine key."""
    before = set(objects("quarantine/"))

    def broken_parse(kind, body, services):
        raise PayloadError("mapper bug: simulated")

    with monkeypatch.context() as m:
        m.setattr(intake, "parse", broken_parse)
        status, _ = post(served, path, body)
    assert status == 400
    (key,) = [k for k in set(objects("quarantine/")) - before if not k.endswith(".reason.json")]
    return key


def test_replay_moves_fixed_payloads_and_annotates_broken_ones(stack, served, ports, monkeypatch, capsys):
    # Given a good payload quarantined by a mapper bug, and a payload that really is broken
    good = quarantine_by_bug(served, monkeypatch, fhir_patient("r-fixed"))
    before = set(objects("quarantine/"))
    assert post(served, "/ehr/fhir", b'{"resourceType": "Patient", "name": "not a list"}')[0] == 400
    (bad,) = [k for k in set(objects("quarantine/")) - before if not k.endswith(".reason.json")]

    # When replayed as a dry run
    assert main(["ehr", "replay", "--key", good, "--key", bad, "--dry-run"]) == 1
    out = capsys.readouterr().out
    # Then it says what would happen and nothing moved
    assert "would-replay" in out and "would-fail" in out
    assert good in objects("quarantine/") and ports.records.get_patient("r-fixed") is None

    # When replayed for real (directly against S3/DynamoDB through the settings, like AWS)
    assert main(["ehr", "replay", "--key", good, "--key", bad]) == 1
    # Then the fixed one is applied and moved to archive/, its origin kept in metadata
    assert ports.records.get_patient("r-fixed") is not None
    target = "archive/" + good.removeprefix("quarantine/")
    body, meta = s3().get(target)
    assert json.loads(body)["id"] == "r-fixed" and meta["replayed-from"] == good
    assert good not in objects("quarantine/") and good + ".reason.json" not in objects("quarantine/")
    # And the broken one stays, with a fresh reason that remembers the first one
    reason = json.loads(s3().get(bad + ".reason.json")[0])
    assert reason["replays"] == 1 and reason["issues"] and reason["first_issues"] == reason["issues"]
    assert bad in objects("quarantine/")


def test_replay_all_through_a_running_local_stack(stack, served, ports, monkeypatch, capsys):
    # Given an HL7 message quarantined by the bug
    key = quarantine_by_bug(served, monkeypatch, hl7("ADT^A04", "R1", "R-MRN-1"), path="/ehr/hl7v2")
    # When `careloop ehr replay --all --endpoint URL` runs (the local dev route does the work)
    code = main(["ehr", "replay", "--all", "--endpoint", served])
    out = capsys.readouterr().out
    # Then that message is replayed (other, really broken ones may still be listed as still-bad)
    assert f"replayed     {key} -> archive/" in out
    assert ports.records.get_patient("R-MRN-1") is not None and key not in objects("quarantine/")
    assert code == (1 if "still-bad" in out else 0)
    # And replaying a key that is gone says so
    assert main(["ehr", "replay", "--key", key, "--endpoint", served]) == 1
    assert "missing" in capsys.readouterr().out


def test_replay_is_idempotent_if_interrupted(stack, served, ports, monkeypatch):
    # Given a quarantined payload already copied to archive/ by a replay that then crashed
    from careloop.adapters.aws import services
    from careloop_local.ehr_replay import archive_key_for, replay

    key = quarantine_by_bug(served, monkeypatch, fhir_patient("r-twice"))
    s3().put(archive_key_for(key), s3().get(key)[0], {"kind": "fhir", "replayed-from": key})
    # When it is replayed again
    (outcome,) = replay(services(), s3(), keys=[key])
    # Then it is applied once and the quarantine copy is gone
    assert outcome.status == "replayed" and ports.records.get_patient("r-twice") is not None
    assert key not in objects("quarantine/")


@pytest.mark.parametrize("body", [{"keys": "x"}, {}, None])
def test_replay_route_rejects_bad_requests(body):
    from careloop_local.ehr_replay import replay_request

    status, answer = replay_request(None, None, body)  # type: ignore[arg-type]
    assert status == 400 and "expected JSON" in answer["message"]
