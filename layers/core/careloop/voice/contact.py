"""What Careloop reads of an Amazon Connect contact: the `DescribeContact` record and the
`Amazon Connect Contact Event` from EventBridge, both read with keys of any case."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from careloop.errors import CareloopError

CONTACT_EVENT_DETAIL_TYPE = "Amazon Connect Contact Event"
CONTACT_EVENT_SOURCE = "aws.connect"


class ContactEventError(CareloopError):
    """A contact event Careloop cannot read: names the problem, never the caller."""


def lower_keys(value: Any) -> Any:
    """The same mapping with every key lower-cased, all the way down: AWS's own samples mix
    `queueInfo` with `AgentInfo`, so no key is trusted to keep its case."""
    if isinstance(value, Mapping):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def lenient_json(text: str) -> Any:
    """JSON as AWS's published samples write it (a trailing comma before } or ]), or None."""
    for candidate in (text, _TRAILING_COMMA.sub(r"\1", text)):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return None


def parse_time(value: Any) -> datetime | None:
    """An ISO timestamp (`2021-08-04T17:18:37.000Z`) or epoch seconds (botocore's JSON) -> aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


@dataclass(frozen=True)
class CallContact:
    """One contact as `DescribeContact` returns it: who called which number, whether a person
    took the call, and the contact attributes the flow copied from the bot (`careloopOutcome`)."""

    contact_id: str
    channel: str = "VOICE"
    initiation_method: str = "INBOUND"
    caller_phone: str | None = None  # CustomerEndpoint.Address
    practice_phone: str | None = None  # SystemEndpoint.Address
    attributes: dict[str, str] = field(default_factory=dict)
    reached_agent: bool = False  # AgentInfo with a ConnectedToAgentTimestamp
    initiated_at: datetime | None = None
    disconnected_at: datetime | None = None


def contact_from_describe(contact: Mapping[str, Any]) -> CallContact:
    """The `Contact` object of a DescribeContact answer -> CallContact (unknown fields ignored)."""
    c = lower_keys(contact)
    contact_id = c.get("id")
    if not isinstance(contact_id, str) or not contact_id:
        raise ContactEventError("DescribeContact answered a contact without an Id")
    agent = c.get("agentinfo") or {}
    customer, system = c.get("customerendpoint") or {}, c.get("systemendpoint") or {}
    raw_attributes = contact.get("Attributes") or contact.get("attributes") or {}  # values keep their names' case
    return CallContact(
        contact_id=contact_id,
        channel=str(c.get("channel") or "VOICE").upper(),
        initiation_method=str(c.get("initiationmethod") or "INBOUND").upper(),
        caller_phone=customer.get("address") if isinstance(customer, Mapping) else None,
        practice_phone=system.get("address") if isinstance(system, Mapping) else None,
        attributes={str(k): str(v) for k, v in raw_attributes.items()} if isinstance(raw_attributes, Mapping) else {},
        reached_agent=isinstance(agent, Mapping) and bool(agent.get("connectedtoagenttimestamp") or agent.get("id")),
        initiated_at=parse_time(c.get("initiationtimestamp")),
        disconnected_at=parse_time(c.get("disconnecttimestamp")),
    )


@dataclass(frozen=True)
class ContactEvent:
    """The parts of an `Amazon Connect Contact Event` the voice-events function acts on."""

    event_id: str
    event_type: str
    contact_id: str
    instance_id: str
    channel: str
    initiation_method: str
    reached_agent: bool  # agentInfo present on the event
    at: datetime | None  # the event's own time
    initiated_at: datetime | None = None
    disconnected_at: datetime | None = None


def instance_id_of(instance_arn: str) -> str:
    """`arn:aws:connect:<region>:<account>:instance/<id>` -> `<id>`."""
    _, _, tail = instance_arn.rpartition("instance/")
    return tail.split("/")[0] if tail else ""


def parse_contact_event(event: Any) -> ContactEvent:
    """An EventBridge contact event, keys in any case, unknown fields ignored; a ContactEventError
    naming what is missing otherwise."""
    if not isinstance(event, Mapping):
        raise ContactEventError("the contact event is not a JSON object")
    e = lower_keys(event)
    if e.get("detail-type") not in (None, CONTACT_EVENT_DETAIL_TYPE) or e.get("source") not in (None, CONTACT_EVENT_SOURCE):
        raise ContactEventError(f"not an {CONTACT_EVENT_DETAIL_TYPE} (detail-type {e.get('detail-type')!r})")
    detail = e.get("detail")
    if isinstance(detail, str):  # PutEvents' Detail is a JSON string; a delivered event's is an object
        detail = lower_keys(lenient_json(detail))
    if not isinstance(detail, Mapping):
        raise ContactEventError("the contact event has no detail object")
    contact_id, event_type = detail.get("contactid"), detail.get("eventtype")
    if not isinstance(contact_id, str) or not contact_id:
        raise ContactEventError("detail.contactId is missing")
    if not isinstance(event_type, str) or not event_type:
        raise ContactEventError("detail.eventType is missing")
    instance_arn = detail.get("instancearn") or ""
    instance_id = instance_id_of(instance_arn) if isinstance(instance_arn, str) else ""
    if not instance_id:
        for resource in e.get("resources") or []:
            if isinstance(resource, str) and "instance/" in resource:
                instance_id = instance_id_of(resource)
                break
    if not instance_id:
        raise ContactEventError("detail.instanceArn is missing: no Connect instance to ask about the contact")
    agent = detail.get("agentinfo")
    return ContactEvent(
        event_id=str(e.get("id") or ""),
        event_type=event_type.upper(),
        contact_id=contact_id,
        instance_id=instance_id,
        channel=str(detail.get("channel") or "VOICE").upper(),
        initiation_method=str(detail.get("initiationmethod") or "INBOUND").upper(),
        reached_agent=isinstance(agent, Mapping) and bool(agent),
        at=parse_time(e.get("time")),
        initiated_at=parse_time(detail.get("initiationtimestamp")),
        disconnected_at=parse_time(detail.get("disconnecttimestamp")),
    )
