"""The X-Careloop-Signature header: how the webhook, the MLLP bridge, bulk import and `careloop
ehr sign` sign a body and how the intake checks it (plain HMAC, or timestamped against replays),
with the current secret or, while a rotation overlaps, the previous one."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from careloop.errors import ConfigError, SignatureError

# A timestamped signature older (or newer) than this is refused: a captured request cannot be
# replayed later to set a record back.
SIGNATURE_TOLERANCE_S = 300


# how long the previous secret stays valid after a rotation, unless told otherwise: a day for the
# EHR's (or integration engine's) administrator to change it on their side
ROTATION_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class WebhookSecrets:
    """The secret signatures are checked against: `current`, and during a rotation's overlap the
    `previous` one until `previous_expires` (then it is refused)."""

    current: str
    previous: str = ""
    previous_expires: datetime | None = None

    def to_json(self) -> str:
        """What Secrets Manager (or CARELOOP_WEBHOOK_SECRET locally) holds after a rotation."""
        data: dict[str, str] = {"current": self.current}
        if self.previous:
            data["previous"] = self.previous
            data["previous_expires"] = (self.previous_expires or datetime.now(UTC)).isoformat()
        return json.dumps(data)


def parse_secrets(raw: str | WebhookSecrets) -> WebhookSecrets:
    """A plain secret (what the stack generates), or the JSON `{"current", "previous",
    "previous_expires"}` a rotation writes; a JSON object without a usable `current` is a ConfigError."""
    if isinstance(raw, WebhookSecrets):
        return raw
    text = raw.strip()
    if not text.startswith("{"):
        return WebhookSecrets(raw)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return WebhookSecrets(raw)  # a plain secret that happens to start with a brace
    current, previous, expires = data.get("current"), data.get("previous", ""), data.get("previous_expires")
    if not isinstance(current, str) or not current:
        raise ConfigError('webhook secret: the JSON form needs "current" (and, while rotating, "previous" '
                          'and "previous_expires")')
    if not isinstance(previous, str):
        raise ConfigError("webhook secret: previous must be a string")
    when = None
    if previous:
        try:
            when = datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ConfigError("webhook secret: previous_expires must be an ISO 8601 time (with an offset)") from exc
        if when.tzinfo is None:
            raise ConfigError("webhook secret: previous_expires needs a UTC offset")
    return WebhookSecrets(current, previous, when)


def rotated(secrets: str | WebhookSecrets, new: str, now: datetime,
            overlap: timedelta = ROTATION_OVERLAP) -> WebhookSecrets:
    """`new` becomes current; the current one stays valid as previous for `overlap`. A previous
    one still in its overlap is dropped: only two secrets are ever valid."""
    old = parse_secrets(secrets)
    if not new or new == old.current:
        raise ConfigError("webhook secret: the new secret must differ from the current one")
    if overlap < timedelta(0):
        raise ConfigError("webhook secret: the overlap cannot be negative")
    return WebhookSecrets(new, old.current, now + overlap)


def sign(secret: str, body: bytes) -> str:
    """The plain form: `sha256=<hex HMAC-SHA256 of the body>` (what most EHR webhooks can send)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_timestamped(secret: str, body: bytes, at: float | None = None) -> str:
    """The preferred form: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`, refused when
    stale, so a replayed capture does nothing (`careloop ehr sign` and the MLLP bridge send it)."""
    t = int(time.time() if at is None else at)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(secret: str | WebhookSecrets, body: bytes, header: str | None,
                     now: float | None = None) -> None:
    """Accepts either form, signed with the current secret or the previous one before it expires;
    every refusal is a SignatureError (401) naming what is wrong."""
    secrets = parse_secrets(secret) if secret else None
    if secrets is None or not secrets.current:
        raise SignatureError("webhook secret not configured")
    if not header:
        raise SignatureError("missing X-Careloop-Signature header")
    header = header.strip()
    if not header.isascii():
        raise SignatureError("X-Careloop-Signature is not ASCII")
    at = time.time() if now is None else now
    stamp: int | None = None
    if header.startswith("t="):
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        t, mac = parts.get("t", ""), parts.get("v1", "")
        if not t.isdigit() or not mac or len(t) > 12:
            raise SignatureError("X-Careloop-Signature: expected t=<unix seconds>,v1=<hex>")
        if abs(at - int(t)) > SIGNATURE_TOLERANCE_S:
            raise SignatureError("X-Careloop-Signature timestamp is more than 5 minutes from now (a replay?)")
        stamp = int(t)

    def signed_with(key: str) -> bool:
        expected = sign(key, body) if stamp is None else sign_timestamped(key, body, stamp)
        return hmac.compare_digest(expected.encode(), header.encode())

    if signed_with(secrets.current):
        return
    if secrets.previous and signed_with(secrets.previous):
        expires = secrets.previous_expires
        if expires is not None and at < expires.timestamp():
            return
        raise SignatureError("X-Careloop-Signature: signed with the previous webhook secret, retired at "
                             f"{expires.isoformat() if expires else 'its rotation'}; sign with the current one")
    raise SignatureError("X-Careloop-Signature does not match the body")
