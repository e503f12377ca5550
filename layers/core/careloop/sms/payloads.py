"""End User Messaging payloads as they arrive through SNS -> SQS: the SNS envelope, the
two-way inbound message, the delivery event. Errors name what is missing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from careloop.errors import InvalidPhone, PayloadError
from careloop.phones import to_e164

# No carrier delivers a text this long (a concatenated SMS tops out near 1,600 characters): past it
# the body is cut, so a hostile payload cannot fill the inbox or slow the agent
MAX_INBOUND_CHARS = 5_000
# lone UTF-16 surrogates (a JSON "\\ud800" escape) cannot be written as UTF-8 to DynamoDB, S3 or a
# CSV export; control characters other than tab and newlines are not text a phone sends
_UNWRITABLE = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def readable_text(raw: str) -> str:
    """An inbound body as it is stored and read: unwritable characters each become U+FFFD (so
    staff see that something was there), and at most MAX_INBOUND_CHARS characters."""
    return _UNWRITABLE.sub("\ufffd", raw[:MAX_INBOUND_CHARS])


@dataclass(frozen=True)
class InboundText:
    from_phone: str
    to_phone: str
    body: str
    inbound_id: str
    keyword: str | None
    carrier_at: str = ""  # when the carrier handed it to SNS (the envelope's Timestamp), if known


def unwrap_sns(body: dict) -> dict:
    """SQS body of an SNS subscription: the envelope (`Type`, `Message`) or a raw message."""
    if isinstance(body, dict) and body.get("Type") == "Notification" and "Message" in body:
        try:
            return json.loads(body["Message"])
        except (TypeError, json.JSONDecodeError) as exc:
            raise PayloadError("SNS Message is not JSON") from exc
    if not isinstance(body, dict):
        raise PayloadError("payload is not a JSON object")
    return body


def parse_inbound(body: dict) -> InboundText:
    msg = unwrap_sns(body)
    missing = [f for f in ("originationNumber", "messageBody", "inboundMessageId") if f not in msg]
    if missing:
        raise PayloadError(f"two-way SMS payload: missing {', '.join(missing)}")
    wrong = [f for f in ("originationNumber", "messageBody", "inboundMessageId") if not isinstance(msg[f], str)]
    if wrong:
        raise PayloadError(f"two-way SMS payload: {', '.join(wrong)} not a string")
    return InboundText(
        from_phone=to_e164(msg["originationNumber"]),
        to_phone=msg.get("destinationNumber", "") if isinstance(msg.get("destinationNumber"), str) else "",
        body=readable_text(msg["messageBody"]),
        inbound_id=msg["inboundMessageId"],
        keyword=msg.get("messageKeyword") if isinstance(msg.get("messageKeyword"), str) else None,
        carrier_at=str(body.get("Timestamp", "")) if isinstance(body, dict) and body.get("Type") == "Notification" else "",
    )


def unreadable_reason(exc: Exception) -> str:
    """Why an SNS / SQS payload could not be read, without PHI (no number, no text): for the
    warning log line of a record that goes back to the queue and, after its retries, the DLQ."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON (line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, InvalidPhone):
        return "originationNumber: not a phone number"
    if isinstance(exc, PayloadError):
        return str(exc)[:200]
    return type(exc).__name__
