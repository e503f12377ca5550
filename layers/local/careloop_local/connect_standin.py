"""Local stand-in for the parts of Amazon Connect that moto lacks: `DescribeContact` (and the
flow's `UpdateContactAttributes`) over the real REST-JSON API, and AWS-shaped contact events."""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from werkzeug.serving import ThreadedWSGIServer
from werkzeug.wrappers import Request, Response

from careloop.clock import Clock, get_clock
from careloop_local import awsmodels
from careloop_local.sms_standin import validate

log = logging.getLogger(__name__)

SERVICE = "connect"
CONTACT_EVENT_DETAIL_TYPE = "Amazon Connect Contact Event"

EventSink = Callable[[dict], None]


def service_model():
    return awsmodels.service_model(SERVICE)


class ConnectError(awsmodels.RestJsonError):
    """An error answered the REST-JSON way (careloop_local.awsmodels)."""

    message_keys = ("Message", "message")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z" if value else None


class ConnectStandin:
    """One local Connect instance: contacts in memory (a WSGI app plus a Python API for the local
    stack), contact events handed to `sink` (the runtime puts them on EventBridge)."""

    def __init__(self, *, region: str = "us-east-1", account_id: str = "123456789012",
                 instance_id: str | None = None, clock: Clock | None = None, sink: EventSink | None = None) -> None:
        self.region, self.account_id = region, account_id
        self.instance_id = instance_id or str(uuid.uuid4())
        self._clock = clock
        self.sink = sink
        self._lock = threading.RLock()
        self._contacts: dict[tuple[str, str], dict] = {}  # (instance id, contact id) -> Connect's Contact object
        self.events: list[dict] = []  # every contact event emitted, oldest first

    # ----------------------------------------------------------------- Python API
    @property
    def instance_arn(self) -> str:
        return f"arn:aws:connect:{self.region}:{self.account_id}:instance/{self.instance_id}"

    def contact_arn(self, contact_id: str, instance_id: str | None = None) -> str:
        return f"arn:aws:connect:{self.region}:{self.account_id}:instance/{instance_id or self.instance_id}/contact/{contact_id}"

    def put_contact(self, contact: dict, instance_id: str | None = None) -> dict:
        """Keep a `Contact` object (as DescribeContact returns it) for DescribeContact; raises
        ValueError naming the problem when it does not fit the service model."""
        if not isinstance(contact, dict):
            raise ValueError("contact: expected a DescribeContact Contact object")
        if not isinstance(contact.get("Id"), str) or not contact["Id"]:
            raise ValueError("contact.Id: the contact id is required")
        shape = service_model().operation_model("DescribeContact").output_shape.members["Contact"]
        problems = validate(shape, _for_validation(contact), "Contact")
        if problems:
            raise ValueError("; ".join(p[1] for p in problems))
        with self._lock:
            self._contacts[(instance_id or self.instance_id, contact["Id"])] = dict(contact)
        return contact

    def get_contact(self, contact_id: str, instance_id: str | None = None) -> dict | None:
        with self._lock:
            found = self._contacts.get((instance_id or self.instance_id, contact_id))
            return dict(found) if found else None

    def start_call(self, contact_id: str, caller: str, practice_number: str, attributes: dict[str, str] | None = None) -> dict:
        """An inbound call reaches the flow (once per contact id: a second turn finds it)."""
        with self._lock:
            existing = self.get_contact(contact_id)
            if existing is not None:
                return existing
            now = self._now()
            contact = {
                "Arn": self.contact_arn(contact_id), "Id": contact_id, "InitialContactId": contact_id,
                "InitiationMethod": "INBOUND", "Channel": "VOICE",
                "InitiationTimestamp": now, "ConnectedToSystemTimestamp": now, "LastUpdateTimestamp": now,
                "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": caller},
                "SystemEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": practice_number},
                "Attributes": dict(attributes or {}),
            }
            self._contacts[(self.instance_id, contact_id)] = contact
            self._emit(contact, "INITIATED")
            self._emit(contact, "CONNECTED_TO_SYSTEM")
            return contact

    def update_attributes(self, contact_id: str, attributes: dict[str, str], instance_id: str | None = None) -> None:
        """What the flow's Set contact attributes block does (UpdateContactAttributes)."""
        with self._lock:
            contact = self._contacts.get((instance_id or self.instance_id, contact_id))
            if contact is None:
                raise KeyError(contact_id)
            contact["Attributes"] = {**contact.get("Attributes", {}), **{k: str(v) for k, v in attributes.items()}}
            contact["LastUpdateTimestamp"] = self._now()

    def connect_agent(self, contact_id: str) -> None:
        """A person at the front desk takes the call (the flow transferred it to the queue)."""
        with self._lock:
            contact = self._contacts[(self.instance_id, contact_id)]
            now = self._now()
            contact["QueueInfo"] = {"Id": "front-desk", "EnqueueTimestamp": now}
            contact["AgentInfo"] = {"Id": "front-desk-agent", "ConnectedToAgentTimestamp": now}
            self._emit(contact, "QUEUED")
            self._emit(contact, "CONNECTED_TO_AGENT")

    def hang_up(self, contact_id: str) -> dict:
        """The caller hangs up: DISCONNECTED goes out (once; a second hang-up sends it again, as
        EventBridge may redeliver); returns the event."""
        with self._lock:
            contact = self._contacts.get((self.instance_id, contact_id))
            if contact is None:
                raise KeyError(contact_id)
            contact.setdefault("DisconnectTimestamp", self._now())
            contact["LastUpdateTimestamp"] = contact["DisconnectTimestamp"]
            contact.setdefault("DisconnectReason", "CUSTOMER_DISCONNECT")
            return self._emit(contact, "DISCONNECTED")

    def contact_event(self, contact: dict, event_type: str) -> dict:
        """The EventBridge event Connect publishes for this contact (AWS's published shape)."""
        detail: dict[str, Any] = {
            "eventType": event_type, "contactId": contact["Id"],
            "initialContactId": contact.get("InitialContactId", contact["Id"]),
            "channel": contact.get("Channel", "VOICE"), "instanceArn": self.instance_arn,
            "initiationMethod": contact.get("InitiationMethod", "INBOUND"),
            "initiationTimestamp": _iso(contact.get("InitiationTimestamp")),
            "connectedToSystemTimestamp": _iso(contact.get("ConnectedToSystemTimestamp")),
        }
        if contact.get("DisconnectTimestamp"):
            detail["disconnectTimestamp"] = _iso(contact["DisconnectTimestamp"])
        if contact.get("QueueInfo"):
            detail["queueInfo"] = {"queueArn": f"{self.instance_arn}/queue/{contact['QueueInfo']['Id']}",
                                   "queueType": "STANDARD",
                                   "enqueueTimestamp": _iso(contact["QueueInfo"]["EnqueueTimestamp"])}
        if contact.get("AgentInfo"):
            detail["agentInfo"] = {"agentArn": f"{self.instance_arn}/agent/{contact['AgentInfo']['Id']}",
                                   "connectedToAgentTimestamp": _iso(contact["AgentInfo"]["ConnectedToAgentTimestamp"])}
        return {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": CONTACT_EVENT_DETAIL_TYPE,
            "source": "aws.connect", "account": self.account_id,
            "time": self._now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": self.region,
            "resources": [self.contact_arn(contact["Id"]), self.instance_arn],
            "detail": {k: v for k, v in detail.items() if v is not None},
        }

    def _emit(self, contact: dict, event_type: str) -> dict:
        event = self.contact_event(contact, event_type)
        self.events.append(event)
        if self.sink is not None:
            self.sink(event)
        return event

    def _now(self) -> datetime:
        return (self._clock or get_clock()).now()

    # ----------------------------------------------------------------- WSGI (REST-JSON)
    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self._route(request)
        except ConnectError as exc:
            response = exc.response()
        except Exception:  # answer like AWS would; the traceback stays in the log
            log.exception("connect stand-in failed on %s", request.path)
            response = ConnectError("InternalServiceException", "internal error in the local stand-in", 500).response()
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        model = service_model()
        if request.method == "GET" and (m := re.fullmatch(r"/contacts/([^/]+)/([^/]+)", request.path)):
            params = {"InstanceId": m.group(1), "ContactId": m.group(2)}
            self._check("DescribeContact", params)
            found = self.get_contact(params["ContactId"], params["InstanceId"])
            if found is None:
                raise ConnectError("ResourceNotFoundException", "Contact not found", 404)
            shape = model.operation_model("DescribeContact").output_shape.members["Contact"]
            return _json({"Contact": _serialise(shape, found)})
        if request.method == "POST" and request.path.rstrip("/") == "/contact/attributes":
            try:
                params = json.loads(request.get_data() or b"{}")
            except ValueError as exc:
                raise ConnectError("InvalidRequestException", "request body is not JSON") from exc
            self._check("UpdateContactAttributes", params)
            try:
                self.update_attributes(params["InitialContactId"], params["Attributes"], params["InstanceId"])
            except KeyError as exc:
                raise ConnectError("ResourceNotFoundException", "Contact not found", 404) from exc
            return _json({})
        raise ConnectError("UnknownOperationException", f"{request.method} {request.path} is not implemented by the local stand-in", 404)

    @staticmethod
    def _check(operation: str, params: dict) -> None:
        problems = validate(service_model().operation_model(operation).input_shape, params)
        if problems:
            raise ConnectError("InvalidParameterException", "; ".join(p[1] for p in problems))


def _for_validation(value: Any) -> Any:
    """A contact with its datetimes as the epoch numbers the wire carries."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _for_validation(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_for_validation(v) for v in value]
    return value


def _serialise(shape, record: dict) -> dict:
    """Only the members the model knows, datetimes as epoch seconds (REST-JSON's timestamps)."""
    out = {}
    for name, value in record.items():
        if name in shape.members and value is not None:
            out[name] = _for_validation(value)
    return out


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json",
                    headers={"x-amzn-RequestId": str(uuid.uuid4())})


class ConnectServer(ThreadedWSGIServer):
    def __init__(self, host: str, port: int, standin: ConnectStandin) -> None:
        super().__init__(host, port, standin)
        self.standin = standin


def serve(host: str = "127.0.0.1", port: int = 0, standin: ConnectStandin | None = None,
          **kwargs: Any) -> tuple[ConnectServer, threading.Thread, str]:
    """Start the stand-in on a daemon thread: (server, thread, url)."""
    app = standin or ConnectStandin(**kwargs)
    server = ConnectServer(host, port, app)
    thread = threading.Thread(target=server.serve_forever, name="connect-standin", daemon=True)
    thread.start()
    return server, thread, f"http://{host}:{server.server_port}"
