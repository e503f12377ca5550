"""Webhook secret rotation in local mode: `careloop ehr rotate-secret --endpoint` against the local
HTTP front, then the real ehr_webhook handler takes both secrets during the overlap, refuses the
previous one once it expired, and refuses a secret that is neither."""

from __future__ import annotations

import json
import os

import pytest

from careloop.intake import sign_timestamped
from tests.integration.test_ehr_webhook import SECRET, fhir_patient, post


@pytest.fixture(autouse=True, scope="module")
def secret_restored(stack):
    """A rotation changes the process's CARELOOP_WEBHOOK_SECRET: the next module starts from the old."""
    before, kept = os.environ.get("CARELOOP_WEBHOOK_SECRET"), stack.webhook_secret
    yield
    from careloop.settings import reset_settings

    if before is None:
        os.environ.pop("CARELOOP_WEBHOOK_SECRET", None)
    else:
        os.environ["CARELOOP_WEBHOOK_SECRET"] = before
    stack.webhook_secret = kept
    reset_settings()


def rotate(served: str, capsys, *args: str) -> dict:
    from careloop_local.cli import main

    assert main(["ehr", "rotate-secret", "--endpoint", served, *args]) == 0
    # the handlers' JSON log lines share stdout in-process: the CLI's answer is its own line
    (answer,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"secret"')]
    return answer


def test_rotation_overlap_then_expiry(stack, served, capsys):
    # Given a rotation with an hour's overlap
    first = rotate(served, capsys, "--overlap-hours", "1")
    new = first["secret"]
    assert new != SECRET and first["previous_expires"]
    body = fhir_patient("rot-1")
    # When the EHR still signs with the old secret, or already with the new one, Then both are taken
    assert post(served, "/ehr/fhir", body, signature=sign_timestamped(SECRET, body))[0] == 200
    assert post(served, "/ehr/fhir", body, signature=sign_timestamped(new, body))[0] == 200
    # and a secret that is neither is refused
    status, answer = post(served, "/ehr/fhir", body, signature=sign_timestamped("guessed", body))
    assert status == 401 and "does not match" in answer

    # When it is rotated again with no overlap, Then the one it replaced is refused at once, by name
    rotate(served, capsys, "--overlap-hours", "0", "--new", "the-newest-secret")
    status, answer = post(served, "/ehr/fhir", body, signature=sign_timestamped(new, body))
    assert status == 401 and "previous webhook secret" in answer
    # and the first secret, two rotations old, is not valid at all
    status, answer = post(served, "/ehr/fhir", body, signature=sign_timestamped(SECRET, body))
    assert status == 401 and "does not match" in answer
    assert post(served, "/ehr/fhir", body, signature=sign_timestamped("the-newest-secret", body))[0] == 200


def test_a_rotation_to_the_same_secret_is_a_400(stack, served):
    import urllib.error
    import urllib.request

    current = json.loads(stack.webhook_secret)["current"] if stack.webhook_secret.startswith("{") else stack.webhook_secret
    req = urllib.request.Request(served + "/dev/ehr/rotate-secret", data=json.dumps({"secret": current}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=30)
        raise AssertionError("expected a 400")
    except urllib.error.HTTPError as exc:
        assert exc.code == 400 and "must differ" in json.loads(exc.read())["message"]
