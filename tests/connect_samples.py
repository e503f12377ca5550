"""AWS's published Amazon Connect contact event (tests/data/aws-docs-connect), read leniently as
EventBridge consumers must (a trailing comma, mixed key cases), and variations built from it."""

from __future__ import annotations

import copy
import json
import re
import uuid

from tests.conftest import DATA

SAMPLE = DATA / "aws-docs-connect" / "contact-event-disconnected.as-published.txt"


def published_event() -> dict:
    """The sample exactly as AWS published it, minus what strict JSON refuses (trailing commas)."""
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", SAMPLE.read_text(encoding="utf-8")))


def missed_call_event(contact_id: str, instance_id: str, *, agent: bool = False, at: str | None = None) -> dict:
    """The sample turned into an inbound call that ended before anyone answered (agent=False)."""
    event = copy.deepcopy(published_event())
    event["id"] = str(uuid.uuid4())
    detail = event["detail"]
    detail.update(contactId=contact_id, initialContactId=contact_id, initiationMethod="INBOUND",
                  instanceArn=f"arn:aws:connect:us-east-1:123456789012:instance/{instance_id}")
    detail.pop("previousContactId", None)
    if not agent:
        detail.pop("AgentInfo", None)
        detail.pop("queueInfo", None)
    if at is not None:
        event["time"] = at
        detail["disconnectTimestamp"] = at
    return event
