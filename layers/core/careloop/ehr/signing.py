"""The X-Careloop-Signature header: how the webhook, the MLLP bridge, bulk import and `careloop
ehr sign` sign a body and how the intake checks it (plain HMAC, or timestamped against replays)."""

from __future__ import annotations

import hashlib
import hmac
import time

from careloop.errors import SignatureError

# A timestamped signature older (or newer) than this is refused: a captured request cannot be
# replayed later to set a record back.
SIGNATURE_TOLERANCE_S = 300


def sign(secret: str, body: bytes) -> str:
    """The plain form: `sha256=<hex HMAC-SHA256 of the body>` (what most EHR webhooks can send)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_timestamped(secret: str, body: bytes, at: float | None = None) -> str:
    """The preferred form: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`, refused when
    stale, so a replayed capture does nothing (`careloop ehr sign` and the MLLP bridge send it)."""
    t = int(time.time() if at is None else at)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str | None, now: float | None = None) -> None:
    """Accepts either form; every refusal is a SignatureError (401) naming what is wrong."""
    if not secret:
        raise SignatureError("webhook secret not configured")
    if not header:
        raise SignatureError("missing X-Careloop-Signature header")
    header = header.strip()
    if not header.isascii():
        raise SignatureError("X-Careloop-Signature is not ASCII")
    if header.startswith("t="):
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        t, mac = parts.get("t", ""), parts.get("v1", "")
        if not t.isdigit() or not mac:
            raise SignatureError("X-Careloop-Signature: expected t=<unix seconds>,v1=<hex>")
        if abs((time.time() if now is None else now) - int(t)) > SIGNATURE_TOLERANCE_S:
            raise SignatureError("X-Careloop-Signature timestamp is more than 5 minutes from now (a replay?)")
        expected = sign_timestamped(secret, body, int(t))
    else:
        expected = sign(secret, body)
    if not hmac.compare_digest(expected.encode(), header.encode()):
        raise SignatureError("X-Careloop-Signature does not match the body")
