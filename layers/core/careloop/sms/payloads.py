"""End User Messaging payloads as they arrive through SNS -> SQS: the SNS envelope, the
two-way inbound message, the delivery event. Errors name what is missing."""

from __future__ import annotations

import json
from dataclasses import dataclass

from careloop.errors import InvalidPhone, PayloadError
from careloop.phones import to_e164


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
    return InboundText(
        from_phone=to_e164(msg["originationNumber"]),
        to_phone=msg.get("destinationNumber", ""),
        body=str(msg["messageBody"]),
        inbound_id=str(msg["inboundMessageId"]),
        keyword=msg.get("messageKeyword"),
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
