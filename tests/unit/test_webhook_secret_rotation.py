"""Webhook secret rotation: while the overlap lasts a body signed with the current or the previous
secret is taken, after it the previous one is refused by name, and neither means 401; the JSON form
Secrets Manager holds, and `careloop ehr rotate-secret` against Secrets Manager (moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from careloop.ehr.signing import (
    WebhookSecrets,
    parse_secrets,
    rotated,
    sign,
    sign_timestamped,
    verify_signature,
)
from careloop.errors import ConfigError, SignatureError

BODY = b'{"resourceType": "Patient", "id": "p1"}'
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def rotation(overlap_hours: float = 24) -> WebhookSecrets:
    return rotated("old-secret", "new-secret", T0, timedelta(hours=overlap_hours))


@pytest.mark.parametrize("signer", [sign, lambda s, b: sign_timestamped(s, b, T0.timestamp())], ids=["plain", "timestamped"])
def test_during_the_overlap_both_secrets_are_accepted(signer):
    # Given a rotation an hour ago with a day's overlap, stored as Secrets Manager holds it
    stored = rotation().to_json()
    now = (T0 + timedelta(hours=1)).timestamp()
    if signer is not sign:
        now = T0.timestamp() + 60  # a timestamped signature is checked against its own time too
    # When the EHR signs with the old secret (not changed yet) or the new one, Then both are taken
    verify_signature(stored, BODY, signer("old-secret", BODY), now=now)
    verify_signature(stored, BODY, signer("new-secret", BODY), now=now)


def test_after_the_overlap_the_previous_secret_is_refused_by_name():
    stored = rotation(overlap_hours=24).to_json()
    after = (T0 + timedelta(hours=24, seconds=1)).timestamp()
    with pytest.raises(SignatureError, match="previous webhook secret, retired at 2026-12-02T12:00:00"):
        verify_signature(stored, BODY, sign("old-secret", BODY), now=after)
    verify_signature(stored, BODY, sign("new-secret", BODY), now=after)  # the current one still is


def test_a_signature_with_neither_secret_is_refused():
    stored = rotation().to_json()
    with pytest.raises(SignatureError, match="does not match the body"):
        verify_signature(stored, BODY, sign("someone-else", BODY), now=T0.timestamp())
    with pytest.raises(SignatureError, match="does not match the body"):
        verify_signature(stored, BODY + b" ", sign("old-secret", BODY), now=T0.timestamp())


def test_a_plain_secret_is_the_current_one_alone():
    assert parse_secrets("generated-by-the-stack") == WebhookSecrets("generated-by-the-stack")
    verify_signature("generated-by-the-stack", BODY, sign("generated-by-the-stack", BODY))
    with pytest.raises(SignatureError):
        verify_signature("generated-by-the-stack", BODY, sign("old-secret", BODY))


def test_a_second_rotation_keeps_two_secrets_only():
    # Given a rotation still in its overlap, When it is rotated again, Then the first secret is gone
    again = rotated(rotation().to_json(), "newest", T0 + timedelta(hours=2), timedelta(hours=1))
    assert (again.current, again.previous) == ("newest", "new-secret")
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(again, BODY, sign("old-secret", BODY), now=T0.timestamp())


@pytest.mark.parametrize(("stored", "problem"), [
    ('{"previous": "a", "previous_expires": "2026-12-02T00:00:00Z"}', 'needs "current"'),
    ('{"current": "b", "previous": "a", "previous_expires": "tomorrow"}', "previous_expires must be an ISO 8601"),
    ('{"current": "b", "previous": "a", "previous_expires": "2026-12-02T00:00:00"}', "needs a UTC offset"),
])
def test_a_broken_json_form_names_the_field(stored, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_secrets(stored)


def test_rotating_to_the_same_secret_is_refused():
    with pytest.raises(ConfigError, match="must differ"):
        rotated("same", "same", T0)


def test_the_cli_rotates_the_secret_in_secrets_manager(monkeypatch, capsys):
    from moto import mock_aws

    from careloop.adapters.clients import client, reset_clients
    from careloop_local.cli import main

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    reset_clients()
    try:
        with mock_aws():
            # Given the stack's generated (plain) secret
            arn = client("secretsmanager").create_secret(Name="careloop/demo/webhook-secret",
                                                         SecretString="generated")["ARN"]
            # When it is rotated with a 2-hour overlap
            assert main(["ehr", "rotate-secret", "--secret-id", arn, "--overlap-hours", "2"]) == 0
            printed = json.loads(capsys.readouterr().out)
            stored = client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    finally:
        reset_clients()
    # Then the secret holds the new one and the old one until the overlap ends
    secrets = parse_secrets(stored)
    assert secrets.current == printed["secret"] and len(secrets.current) >= 40
    assert secrets.previous == "generated"
    assert secrets.previous_expires is not None
    left = secrets.previous_expires - datetime.now(UTC)
    assert timedelta(hours=1, minutes=50) < left <= timedelta(hours=2)
    verify_signature(stored, BODY, sign("generated", BODY))
    verify_signature(stored, BODY, sign(printed["secret"], BODY))
