"""Local stand-in for AWS End User Messaging SMS (`pinpoint-sms-voice-v2`), which moto lacks:
the real JSON 1.0 API checked against botocore's model, in-memory state, AWS-shaped SNS events."""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import phonenumbers
from werkzeug.serving import ThreadedWSGIServer
from werkzeug.wrappers import Request, Response

from careloop.clock import Clock, get_clock, iso
from careloop.sms.parts import count_parts, parts_and_encoding
from careloop_local import awsmodels

log = logging.getLogger(__name__)

SERVICE = "pinpoint-sms-voice-v2"
TARGET_PREFIX = "PinpointSMSVoiceV2"
JSON_10 = "application/x-amz-json-1.0"

# AWS's required opt-out keywords (shared/data/sms-keywords/opt-out-keywords.json): whole message.
OPT_OUT_KEYWORDS = frozenset(
    {"ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "TD", "UNSUBSCRIBE"}
)
# AWS opts a number back in by itself only on toll-free numbers; elsewhere only OPT_IN keywords do.
TOLL_FREE_OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})
DEFAULT_KEYWORDS = {
    "STOP": ("You are unsubscribed and will receive no further messages.", "OPT_OUT"),
    "HELP": ("Reply STOP to unsubscribe. Msg&data rates may apply.", "AUTOMATIC_RESPONSE"),
}

# Outcomes a test can force per destination; descriptions paraphrase the AWS event-type list.
STATUS_DESCRIPTIONS = {
    "TEXT_SUCCESSFUL": "Message has been accepted by phone carrier",
    "TEXT_DELIVERED": "Message has been delivered to the recipient's device",
    "TEXT_BLOCKED": "The recipient's device or carrier blocks messages to this recipient",
    "TEXT_CARRIER_BLOCKED": "The recipient's carrier blocked delivery of this message",
    "TEXT_CARRIER_UNREACHABLE": "Temporary error on the recipient's carrier network",
    "TEXT_INVALID": "The destination phone number is not valid",
    "TEXT_INVALID_MESSAGE": "The message body is not valid and cannot be delivered",
    "TEXT_PROTECT_BLOCKED": "Blocked by a Protect configuration",
    "TEXT_SPAM": "The carrier found unsolicited content and blocked the message",
    "TEXT_TTL_EXPIRED": "Delivery took longer than the message time to live",
    "TEXT_UNKNOWN": "The message was not delivered for an unknown reason",
    "TEXT_UNREACHABLE": "The recipient's device is not available",
}
PRICE_PER_PART = 0.00581  # illustrative US price, so analytics have a number to add up
TRANSIENT_ERRORS = {"InternalServerException": 500, "ThrottlingException": 400}
# Faults the stand-in can inject on SendTextMessage (fault tests): what a gateway in front of the
# service answers (HTML, no AWS error shape), a response slower than the caller's read timeout,
# and the account's monthly spend limit.
FAULTS = {"BadGateway": 502, "ServiceUnavailable": 503, "slow": 0, "quota": 402}
SLOW_SECONDS = 2.0
# Settings UpdatePhoneNumber / UpdatePool may change (OptOutListName is resolved separately).
IDENTITY_SETTINGS = (
    "TwoWayEnabled",
    "TwoWayChannelArn",
    "TwoWayChannelRole",
    "SelfManagedOptOutsEnabled",
    "InternationalSendingEnabled",
    "DeletionProtectionEnabled",
    "SharedRoutesEnabled",
)
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "structure": dict,
    "map": dict,
    "list": list,
    "string": str,
    "blob": str,
    "boolean": bool,
    "integer": int,
    "long": int,
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
}


class _GatewayError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class AwsError(Exception):
    """An error answered in the AWS JSON 1.0 error format; `fields` are the error shape's members."""

    def __init__(self, code: str, message: str, status: int = 400, **fields: Any):
        super().__init__(message)
        self.code, self.message, self.status, self.fields = code, message, status, fields

    def response(self) -> Response:
        body = {
            "__type": self.code,
            "Message": self.message,
            "message": self.message,
            **self.fields,
        }
        return Response(
            json.dumps(body),
            self.status,
            content_type=JSON_10,
            headers={"x-amzn-RequestId": str(uuid.uuid4()), "x-amzn-ErrorType": self.code},
        )


def _invalid(message: str, reason: str = "INVALID_PARAMETER", field: str | None = None) -> AwsError:
    fields = [{"Name": field, "Message": message}] if field else []
    return AwsError("ValidationException", message, Reason=reason, Fields=fields)


def _not_found(resource_type: str, resource_id: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        f"{resource_type} {resource_id} does not exist",
        ResourceType=resource_type,
        ResourceId=resource_id,
    )


def _conflict(reason: str, resource_type: str, resource_id: str, message: str = "") -> AwsError:
    return AwsError(
        "ConflictException",
        message or reason.replace("_", " ").capitalize(),
        Reason=reason,
        ResourceType=resource_type,
        ResourceId=resource_id,
    )


def is_e164(number: Any) -> bool:
    if not isinstance(number, str) or not re.fullmatch(r"\+[1-9]\d{6,14}", number):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return False


def service_model():
    return awsmodels.service_model(SERVICE)


def _is_of_json_type(value: Any, kind: str) -> bool:
    """Whether a decoded JSON value may stand for a botocore shape of this type name (a separate
    test, so `validate` keeps `value` as Any instead of the `object` an isinstance narrows it to)."""
    is_bool = isinstance(value, bool)  # JSON true is an int to Python; only booleans may be one
    return isinstance(value, _JSON_TYPES.get(kind, object)) and (not is_bool or kind == "boolean")


def validate(shape, value: Any, path: str = "") -> list[tuple[str, str, str]]:
    """Walk a request against the botocore shape: (field, message, reason) for each problem."""
    problems: list[tuple[str, str, str]] = []
    kind, meta = shape.type_name, shape.metadata

    def problem(rule: str, at: str = path, reason: str = "FIELD_VALIDATION_FAILED") -> None:
        problems.append(
            (at, f"Value at '{at}' failed to satisfy constraint: Member must {rule}", reason)
        )

    if not _is_of_json_type(value, kind):
        problem(f"be of type {kind}")
        return problems
    if kind in ("string", "list", "map", "integer", "long"):
        numeric = kind in ("integer", "long")
        size = value if numeric else len(value)
        if size < meta.get("min", size) or size > meta.get("max", size):
            what = "value" if numeric else "length"
            problem(f"have {what} between {meta.get('min', '-')} and {meta.get('max', '-')}")
    if kind == "string" and meta.get("enum") and value not in meta["enum"]:
        problem(f"satisfy enum value set: [{', '.join(meta['enum'])}]")
    if kind == "string" and meta.get("pattern") and not re.fullmatch(meta["pattern"], value):
        problem(f"satisfy regular expression pattern: {meta['pattern']}")
    prefix = f"{path}." if path else ""
    if kind == "structure":
        for name in shape.required_members:
            if value.get(name) is None:
                problem("not be null", prefix + name, "MISSING_PARAMETER")
        for name, member in shape.members.items():  # unknown members are ignored, as AWS does
            if value.get(name) is not None:
                problems += validate(member, value[name], prefix + name)
    elif kind == "list":
        for i, item in enumerate(value):
            problems += validate(shape.member, item, f"{path}.{i + 1}")
    elif kind == "map":
        for key, item in value.items():
            problems += validate(shape.key, key, f"{path}.{key}.key")
            problems += validate(shape.value, item, f"{path}.{key}.value")
    return problems


class SmsStandin:
    """In-memory End User Messaging SMS: a WSGI app plus a Python API for the local stack and tests.

    parts_per_second: per origination number token bucket (10DLC is 1 part/s); None = no limit.
    delivery_outcomes: destination -> failure event type (e.g. TEXT_BLOCKED) instead of delivery.
    """

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        parts_per_second: float | None = None,
        burst: float | None = None,
        sns_client: Any = None,
        sns_client_factory: Callable[[str], Any] | None = None,
        delivery_outcomes: dict[str, str] | None = None,
        clock: Clock | None = None,
        opt_in_cooldown_days: float = 30,
    ):
        self.region, self.account_id = region, account_id
        self.parts_per_second, self.burst = parts_per_second, burst
        self.opt_in_cooldown_days = opt_in_cooldown_days
        self._clock = clock
        self._sns_client, self._sns_factory = sns_client, sns_client_factory
        self._sns_clients: dict[str, Any] = {}  # region -> SNS client, made on first publish there
        self._initial_outcomes = dict(delivery_outcomes or {})
        self._lock = threading.RLock()
        self._jobs: queue.Queue = queue.Queue()
        threading.Thread(target=self._run_jobs, name="sms-standin-events", daemon=True).start()
        self.reset()

    # ----------------------------------------------------------------- Python API
    def reset(self, resources: bool = True) -> None:
        """Forget messages (and, by default, every resource too): a fresh account."""
        self.drain(timeout=2)
        with self._lock:
            self._outbox: list[dict] = []
            self._last_sent: dict[tuple[str, str], str] = {}
            self._buckets: dict[str, tuple[float, float]] = {}
            self._fail_next: list[tuple[str, str | None]] = []  # (fault, only to this number)
            self.send_attempts = 0  # SendTextMessage requests received (fault tests count them)
            self._outcomes = dict(self._initial_outcomes)
            if resources:
                self._config_sets: dict[str, dict] = {}
                self._opt_out_lists: dict[str, dict] = {}
                self._phones: dict[str, dict] = {}
                self._pools: dict[str, dict] = {}
                self._tokens: dict[tuple[str, str], dict] = {}
                self._serial = 0
                self._op_create_opt_out_list({"OptOutListName": "Default"})

    def outbox(self) -> list[dict]:
        with self._lock:
            return [dict(m) for m in self._outbox]

    def set_delivery_outcome(self, destination: str, event_type: str | None) -> None:
        """Make sends to `destination` end in a failure event (TEXT_BLOCKED, ...); None restores delivery."""
        if event_type is not None and (
            event_type not in STATUS_DESCRIPTIONS
            or event_type in ("TEXT_SUCCESSFUL", "TEXT_DELIVERED")
        ):
            raise ValueError(f"not a failure event type: {event_type}")
        with self._lock:
            if event_type is None:
                self._outcomes.pop(destination, None)
            else:
                self._outcomes[destination] = event_type

    def fail_next_sends(self, count: int, code: str = "InternalServerException", to: str | None = None) -> None:
        """The next `count` SendTextMessage calls (to the number `to`, if given) fail with a
        transient error or fault (retry tests)."""
        if code not in TRANSIENT_ERRORS and code not in FAULTS:
            raise ValueError(f"not a transient error code or fault: {code}")
        with self._lock:
            self._fail_next += [(code, to)] * count

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued SNS publication went out; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        while self._jobs.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def receive(self, from_number: str, to_number: str, body: str) -> str:
        """A patient texts `body` from `from_number` to our two-way `to_number`; returns inboundMessageId."""
        if not is_e164(from_number):
            raise _invalid("from must be an E.164 phone number", field="originationNumber")
        with self._lock:
            phone = self._find_phone(to_number)
            if phone is None:
                raise _not_found("phone-number", "inbound destination")
            owner = self._owner(phone)
            if not owner.get("TwoWayEnabled") or not owner.get("TwoWayChannelArn"):
                raise _invalid(
                    "two-way is not enabled on the destination number", "TWO_WAY_NOT_ENABLED"
                )
            word = (body or "").strip().upper()
            keywords = self._keywords(owner)
            action = "OPT_OUT" if word in OPT_OUT_KEYWORDS else keywords.get(word, (None, None))[1]
            # With self-managed opt-outs the application does all of this itself.
            if not owner["SelfManagedOptOutsEnabled"]:
                opt_out_list = self._opt_out_lists[owner["OptOutListName"]]
                if action == "OPT_OUT":
                    opt_out_list["_numbers"][from_number] = {
                        "OptedOutNumber": from_number,
                        "OptedOutTimestamp": self._now().timestamp(),
                        "EndUserOptedOut": True,
                    }
                elif action == "OPT_IN" or (
                    word in TOLL_FREE_OPT_IN_KEYWORDS and phone["NumberType"] == "TOLL_FREE"
                ):
                    opt_out_list["_numbers"].pop(from_number, None)
                reply = keywords.get(word, keywords["STOP"] if action == "OPT_OUT" else (None,))[0]
                if reply:
                    self._record(phone, from_number, reply, None, {}, phone["MessageType"], True)
            inbound_id = str(uuid.uuid4())
            known = word in keywords or word in OPT_OUT_KEYWORDS
            payload = {
                "originationNumber": from_number,
                "destinationNumber": phone["PhoneNumber"],
                "messageKeyword": word if known else f"KEYWORD_{self.account_id}",
                "messageBody": body,
                "inboundMessageId": inbound_id,
                "previousPublishedMessageId": self._last_sent.get(
                    (phone["PhoneNumber"], from_number)
                ),
            }
            self._jobs.put(lambda arn=owner["TwoWayChannelArn"]: self._publish(arn, payload))
        log.info("stand-in inbound message %s", inbound_id)
        return inbound_id

    # ----------------------------------------------------------------- WSGI
    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            if request.path.startswith("/_standin/"):
                response = self._standin_route(request)
            else:
                response = self._aws_route(request)
        except AwsError as exc:
            response = exc.response()
        except _GatewayError as exc:  # a proxy's page, not the service's JSON
            response = Response(f"<html><body><h1>{exc.status}</h1></body></html>", status=exc.status,
                                content_type="text/html")
        except Exception:  # answer like AWS would; the traceback stays in the log
            log.exception("stand-in failed on %s", request.path)
            response = AwsError(
                "InternalServerException", "internal error in the local stand-in", 500
            ).response()
        return response(environ, start_response)

    def _aws_route(self, request: Request) -> Response:
        prefix, _, operation = request.headers.get("X-Amz-Target", "").partition(".")
        model = service_model()
        if prefix != TARGET_PREFIX or operation not in model.operation_names:
            raise AwsError(
                "UnknownOperationException", f"unknown operation {operation or '(none)'}"
            )
        handler = getattr(self, "_op_" + re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower(), None)
        if handler is None:
            raise AwsError(
                "UnknownOperationException", f"{operation} is not implemented by the local stand-in"
            )
        try:
            params = json.loads(request.get_data() or b"{}")
        except ValueError as exc:
            raise AwsError("SerializationException", "request body is not JSON") from exc
        if not isinstance(params, dict):
            raise AwsError("SerializationException", "request body must be a JSON object")
        problems = validate(model.operation_model(operation).input_shape, params)
        if problems:
            reasons = {reason for _, _, reason in problems}
            reason = (
                "MISSING_PARAMETER" if "MISSING_PARAMETER" in reasons else "FIELD_VALIDATION_FAILED"
            )
            message = f"{len(problems)} validation error(s) detected: " + "; ".join(
                p[1] for p in problems
            )
            raise AwsError(
                "ValidationException",
                message,
                Reason=reason,
                Fields=[{"Name": p[0], "Message": p[1]} for p in problems],
            )
        with self._lock:
            # The same ClientToken gets the same answer and creates nothing new, as in AWS.
            token_key = (operation, params.get("ClientToken") or "")
            if token_key[1] and token_key in self._tokens:
                result = self._tokens[token_key]
            else:
                result = self._shape(model.operation_model(operation).output_shape, handler(params))
                if token_key[1]:
                    self._tokens[token_key] = result
        log.debug("stand-in %s ok", operation)
        return Response(
            json.dumps(result),
            200,
            content_type=JSON_10,
            headers={"x-amzn-RequestId": str(uuid.uuid4())},
        )

    def _standin_route(self, request: Request) -> Response:
        route = (request.method, request.path.rstrip("/"))
        data = (request.get_json(silent=True) or {}) if request.method == "POST" else {}
        if route == ("GET", "/_standin/outbox"):
            return _json(self.outbox())
        if route == ("POST", "/_standin/reset"):
            self.reset(resources=bool(data.get("resources", True)))
            return _json({"reset": True})
        if route == ("POST", "/_standin/inbound"):
            inbound_id = self.receive(
                str(data.get("from", "")), str(data.get("to", "")), str(data.get("body", ""))
            )
            return _json({"inboundMessageId": inbound_id})
        if route == ("POST", "/_standin/delivery-outcome"):
            try:
                self.set_delivery_outcome(str(data.get("destination", "")), data.get("eventType"))
            except ValueError as exc:
                raise _invalid(str(exc), field="eventType") from exc
            return _json({"ok": True})
        if route == ("POST", "/_standin/fail-next-sends"):
            try:
                self.fail_next_sends(
                    int(data.get("count", 1)), data.get("code", "InternalServerException")
                )
            except ValueError as exc:
                raise _invalid(str(exc), field="code") from exc
            return _json({"ok": True})
        return _json({"message": "not found"}, 404)

    # ----------------------------------------------------------------- operations
    def _op_create_configuration_set(self, p: dict) -> dict:
        name = p["ConfigurationSetName"]
        if name in self._config_sets:
            raise _conflict("RESOURCE_ALREADY_EXISTS", "configuration-set", name)
        self._config_sets[name] = {
            "ConfigurationSetArn": self._arn("configuration-set", name),
            "ConfigurationSetName": name,
            "EventDestinations": [],
            "CreatedTimestamp": self._now().timestamp(),
            "Tags": p.get("Tags", []),
        }
        return self._config_sets[name]

    def _op_describe_configuration_sets(self, p: dict) -> dict:
        items = self._select(self._config_sets, p.get("ConfigurationSetNames"), "configuration-set")
        return self._page(items, p, "ConfigurationSets", "ConfigurationSetInformation")

    def _op_create_event_destination(self, p: dict) -> dict:
        config_set = self._config_set(p["ConfigurationSetName"])
        name = p["EventDestinationName"]
        if any(d["EventDestinationName"] == name for d in config_set["EventDestinations"]):
            raise _conflict("RESOURCE_ALREADY_EXISTS", "event-destination", name)
        kinds = [
            k
            for k in ("SnsDestination", "CloudWatchLogsDestination", "KinesisFirehoseDestination")
            if k in p
        ]
        if len(kinds) != 1:
            raise _invalid(
                "exactly one destination is required", "INVALID_REQUEST", "SnsDestination"
            )
        destination = {
            "EventDestinationName": name,
            "Enabled": True,
            "MatchingEventTypes": p["MatchingEventTypes"],
            kinds[0]: p[kinds[0]],
        }
        config_set["EventDestinations"].append(destination)
        return {**config_set, "EventDestination": destination}

    def _op_create_opt_out_list(self, p: dict) -> dict:
        name = p["OptOutListName"]
        if name in self._opt_out_lists:
            raise _conflict("RESOURCE_ALREADY_EXISTS", "opt-out-list", name)
        self._opt_out_lists[name] = {
            "OptOutListArn": self._arn("opt-out-list", name),
            "OptOutListName": name,
            "CreatedTimestamp": self._now().timestamp(),
            "Tags": p.get("Tags", []),
            "_numbers": {},
            "_deleted": {},
        }
        return self._opt_out_lists[name]

    def _op_describe_opt_out_lists(self, p: dict) -> dict:
        items = self._select(self._opt_out_lists, p.get("OptOutListNames"), "opt-out-list")
        return self._page(items, p, "OptOutLists", "OptOutListInformation")

    def _op_request_phone_number(self, p: dict) -> dict:
        opt_out_list = self._opt_out_list(p.get("OptOutListName") or "Default")
        self._serial += 1
        phone_id = f"phone-{uuid.uuid4().hex}"
        phone = {
            "PhoneNumberArn": self._arn("phone-number", phone_id),
            "PhoneNumberId": phone_id,
            "PhoneNumber": self._allocate_number(p["IsoCountryCode"], p["NumberType"]),
            "Status": "ACTIVE",
            "IsoCountryCode": p["IsoCountryCode"],
            "MessageType": p["MessageType"],
            "NumberCapabilities": p["NumberCapabilities"],
            "NumberType": p["NumberType"],
            "MonthlyLeasingPrice": "2.00" if p["NumberType"] == "TOLL_FREE" else "1.00",
            "TwoWayEnabled": False,
            "SelfManagedOptOutsEnabled": False,
            "OptOutListName": opt_out_list["OptOutListName"],
            "InternationalSendingEnabled": p.get("InternationalSendingEnabled", False),
            "DeletionProtectionEnabled": p.get("DeletionProtectionEnabled", False),
            "CreatedTimestamp": self._now().timestamp(),
            "Tags": p.get("Tags", []),
            "_keywords": {},
        }
        if p.get("RegistrationId"):
            phone["RegistrationId"] = p["RegistrationId"]
        self._phones[phone_id] = phone
        if p.get("PoolId"):
            pool = self._pool(p["PoolId"])
            pool["_numbers"].append(phone_id)
            phone["PoolId"] = pool["PoolId"]
        return phone

    def _op_update_phone_number(self, p: dict) -> dict:
        phone = self._find_phone(p["PhoneNumberId"])
        if phone is None:
            raise _not_found("phone-number", p["PhoneNumberId"])
        return self._apply_settings(phone, p)

    def _op_describe_phone_numbers(self, p: dict) -> dict:
        items = self._select(
            self._phones, p.get("PhoneNumberIds"), "phone-number", self._find_phone
        )
        return self._page(items, p, "PhoneNumbers", "PhoneNumberInformation")

    def _op_create_pool(self, p: dict) -> dict:
        phone = self._find_phone(p["OriginationIdentity"])
        if phone is None:
            raise _not_found("phone-number", p["OriginationIdentity"])
        if phone.get("PoolId"):
            raise _conflict(
                "PHONE_NUMBER_ASSOCIATED_TO_POOL", "phone-number", phone["PhoneNumberId"]
            )
        if phone["MessageType"] != p["MessageType"]:
            raise _conflict("MESSAGE_TYPE_MISMATCH", "phone-number", phone["PhoneNumberId"])
        pool_id = f"pool-{uuid.uuid4().hex}"
        # The pool starts with its first number's two-way and opt-out settings, so two-way keeps working.
        pool = {
            "PoolArn": self._arn("pool", pool_id),
            "PoolId": pool_id,
            "Status": "ACTIVE",
            "MessageType": p["MessageType"],
            "SharedRoutesEnabled": False,
            "DeletionProtectionEnabled": p.get("DeletionProtectionEnabled", False),
            "CreatedTimestamp": self._now().timestamp(),
            "Tags": p.get("Tags", []),
            "_numbers": [phone["PhoneNumberId"]],
            "_keywords": {},
            **{k: phone[k] for k in (*IDENTITY_SETTINGS[:4], "OptOutListName") if k in phone},
        }
        self._pools[pool_id] = pool
        phone["PoolId"] = pool_id
        return pool

    def _op_update_pool(self, p: dict) -> dict:
        return self._apply_settings(self._pool(p["PoolId"]), p)

    def _op_describe_pools(self, p: dict) -> dict:
        items = self._select(self._pools, p.get("PoolIds"), "pool", self._find_pool)
        return self._page(items, p, "Pools", "PoolInformation")

    def _op_put_opted_out_number(self, p: dict) -> dict:
        opt_out_list = self._opt_out_list(p["OptOutListName"])
        number = p["OptedOutNumber"]
        if not is_e164(number):
            raise _invalid("OptedOutNumber must be in E.164 format", field="OptedOutNumber")
        entry = opt_out_list["_numbers"].setdefault(
            number,
            {
                "OptedOutNumber": number,
                "OptedOutTimestamp": self._now().timestamp(),
                "EndUserOptedOut": False,
            },
        )
        return {**opt_out_list, **entry}

    def _op_delete_opted_out_number(self, p: dict) -> dict:
        opt_out_list = self._opt_out_list(p["OptOutListName"])
        number = p["OptedOutNumber"]
        if number not in opt_out_list["_numbers"]:
            raise _not_found("opted-out-number", "OptedOutNumber")
        now = self._now().timestamp()
        last = opt_out_list["_deleted"].get(number)
        if last is not None and now - last < self.opt_in_cooldown_days * 86400:
            raise _invalid(
                "each number can only be deleted from an opt-out list once every 30 days",
                "PHONE_NUMBER_CANNOT_BE_OPTED_IN",
                "OptedOutNumber",
            )
        opt_out_list["_deleted"][number] = now
        return {**opt_out_list, **opt_out_list["_numbers"].pop(number)}

    def _op_describe_opted_out_numbers(self, p: dict) -> dict:
        opt_out_list = self._opt_out_list(p["OptOutListName"])
        wanted = p.get("OptedOutNumbers")
        items = [e for n, e in opt_out_list["_numbers"].items() if wanted is None or n in wanted]
        return {
            **opt_out_list,
            **self._page(items, p, "OptedOutNumbers", "OptedOutNumberInformation"),
        }

    def _op_put_keyword(self, p: dict) -> dict:
        owner = self._identity(p["OriginationIdentity"])
        action = p.get("KeywordAction", "AUTOMATIC_RESPONSE")
        owner["_keywords"][p["Keyword"].upper()] = (p["KeywordMessage"], action)
        return {
            "OriginationIdentity": p["OriginationIdentity"],
            "OriginationIdentityArn": self._identity_arn(owner),
            "Keyword": p["Keyword"].upper(),
            "KeywordMessage": p["KeywordMessage"],
            "KeywordAction": action,
        }

    def _op_describe_keywords(self, p: dict) -> dict:
        owner = self._identity(p["OriginationIdentity"])
        wanted = {k.upper() for k in p.get("Keywords") or []}
        items = [
            {"Keyword": k, "KeywordMessage": m, "KeywordAction": a}
            for k, (m, a) in self._keywords(owner).items()
            if not wanted or k in wanted
        ]
        return {
            "OriginationIdentity": p["OriginationIdentity"],
            "OriginationIdentityArn": self._identity_arn(owner),
            **self._page(items, p, "Keywords", "KeywordInformation"),
        }

    def _op_send_text_message(self, p: dict) -> dict:
        with self._lock:
            self.send_attempts += 1
            hit = next((i for i, (_, to) in enumerate(self._fail_next)
                        if to in (None, p.get("DestinationPhoneNumber"))), None)
            code = self._fail_next.pop(hit)[0] if hit is not None else None
        if code in ("BadGateway", "ServiceUnavailable"):
            raise _GatewayError(FAULTS[code])
        if code == "slow":
            time.sleep(SLOW_SECONDS)  # the caller's read timeout fires; nothing is sent
            raise AwsError("InternalServerException", "answered too late", 500)
        if code == "quota":
            raise AwsError("ServiceQuotaExceededException", "monthly spend limit reached", 402,
                           Reason="MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT")
        if code:
            raise AwsError(
                code, "transient failure injected by the stand-in", TRANSIENT_ERRORS[code]
            )
        if not p.get("MessageBody"):
            raise _invalid(
                "MessageBody is required for a text message", "MISSING_PARAMETER", "MessageBody"
            )
        destination = p["DestinationPhoneNumber"]
        if not is_e164(destination):
            raise _invalid(
                "DestinationPhoneNumber must be in E.164 format", field="DestinationPhoneNumber"
            )
        owner, phone = self._origin(p.get("OriginationIdentity"))
        config_set = (
            self._config_set(p["ConfigurationSetName"]) if p.get("ConfigurationSetName") else None
        )
        if destination in self._opt_out_lists[owner["OptOutListName"]]["_numbers"]:
            raise _conflict(
                "DESTINATION_PHONE_NUMBER_OPTED_OUT",
                "opted-out-number",
                destination,
                "The destination phone number is opted out.",
            )
        if p.get("DryRun"):  # checked but not sent, so it spends no throughput either
            return {"MessageId": str(uuid.uuid4())}
        self._take_tokens(phone["PhoneNumberId"], count_parts(p["MessageBody"]))
        message = self._record(
            phone,
            destination,
            p["MessageBody"],
            config_set,
            p.get("Context") or {},
            p.get("MessageType") or phone["MessageType"],
        )
        outcome = self._outcomes.get(destination)
        steps = (
            [(outcome, True)] if outcome else [("TEXT_SUCCESSFUL", False), ("TEXT_DELIVERED", True)]
        )
        destinations = [d for d in (config_set or {}).get("EventDestinations", []) if d["Enabled"]]
        self._jobs.put(lambda: self._deliver(message, steps, destinations))
        log.info("stand-in accepted message %s (%d parts)", message["message_id"], message["parts"])
        return {"MessageId": message["message_id"]}

    # ----------------------------------------------------------------- helpers
    def _record(
        self,
        phone: dict,
        destination: str,
        body: str,
        config_set: dict | None,
        context: dict,
        message_type: str,
        auto_response: bool = False,
    ) -> dict:
        parts, encoding = parts_and_encoding(body)
        now = self._now()
        message = {
            "message_id": str(uuid.uuid4()),
            "origination_number": phone["PhoneNumber"],
            "destination": destination,
            "body": body,
            "configuration_set": config_set["ConfigurationSetName"] if config_set else None,
            "context": dict(context),
            "message_type": message_type,
            "at": iso(now),
            "request_timestamp_ms": int(now.timestamp() * 1000),
            "parts": parts,
            "encoding": encoding,
            "status": "DELIVERED" if auto_response else "PENDING",
            "auto_response": auto_response,
        }
        self._outbox.append(message)
        if not auto_response:
            self._last_sent[(phone["PhoneNumber"], destination)] = message["message_id"]
        return message

    def _deliver(
        self, message: dict, steps: list[tuple[str, bool]], destinations: list[dict]
    ) -> None:
        for event_type, final in steps:
            with self._lock:
                message["status"] = event_type.removeprefix("TEXT_")
            event = {
                "eventType": event_type,
                "eventVersion": "1.0",
                "eventTimestamp": int(self._now().timestamp() * 1000),
                "isFinal": final,
                "originationPhoneNumber": message["origination_number"],
                "destinationPhoneNumber": message["destination"],
                "isInternationalSend": _country(message["origination_number"])
                != _country(message["destination"]),
                "mcc": "310",
                "mnc": "800",
                "messageId": message["message_id"],
                "messageRequestTimestamp": message["request_timestamp_ms"],
                "messageEncoding": message["encoding"],
                "messageType": message["message_type"],
                "messageStatus": event_type.removeprefix("TEXT_"),
                "messageStatusDescription": STATUS_DESCRIPTIONS[event_type],
                "context": message["context"],
                "totalMessageParts": message["parts"],
                "totalMessagePrice": round(PRICE_PER_PART * message["parts"], 5),
                "totalCarrierFee": 0.0,
            }
            for destination in destinations:
                wanted = set(destination["MatchingEventTypes"])
                if "SnsDestination" in destination and wanted & {event_type, "TEXT_ALL", "ALL"}:
                    self._publish(destination["SnsDestination"]["TopicArn"], event)

    def _publish(self, topic_arn: str, payload: dict) -> None:
        if not topic_arn.startswith("arn:aws:sns:"):
            log.warning("stand-in cannot deliver to a non-SNS channel")
            return
        region = topic_arn.split(":")[3]
        with self._lock:
            if self._sns_client is not None:
                client = self._sns_client
            else:
                if region not in self._sns_clients:
                    import boto3  # only when events are really published

                    factory = self._sns_factory or (lambda r: boto3.client("sns", region_name=r))
                    self._sns_clients[region] = factory(region)
                client = self._sns_clients[region]
        client.publish(TopicArn=topic_arn, Message=json.dumps(payload))

    def _run_jobs(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:  # an unreachable topic must not stop later events
                log.exception("stand-in could not publish an event")
            finally:
                self._jobs.task_done()

    def _take_tokens(self, key: str, parts: int) -> None:
        """Token bucket: a message goes out when a token is left; its parts may run the bucket into debt."""
        if not self.parts_per_second:
            return
        capacity = self.burst or max(1.0, self.parts_per_second)
        now = self._now().timestamp()
        tokens, last = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * self.parts_per_second)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            raise AwsError(
                "ThrottlingException",
                "message parts per second exceeded for the origination identity",
            )
        self._buckets[key] = (tokens - parts, now)

    def _origin(self, identity: str | None) -> tuple[dict, dict]:
        """(the record whose settings govern: pool or number, the number the message leaves from)."""
        if identity is None:
            phone = next(
                (ph for ph in self._phones.values() if "SMS" in ph["NumberCapabilities"]), None
            )
            if phone is None:
                raise _conflict("NO_ORIGINATION_IDENTITIES_FOUND", "phone-number", "none")
            return self._owner(phone), phone
        phone = self._find_phone(identity)
        if phone is not None:
            return self._owner(phone), phone
        pool = self._find_pool(identity)
        if pool is None:
            raise _not_found("phone-number", identity)
        return pool, self._phones[pool["_numbers"][0]]

    def _owner(self, phone: dict) -> dict:
        return self._pools[phone["PoolId"]] if phone.get("PoolId") else phone

    def _identity(self, identity: str) -> dict:
        found = self._find_phone(identity) or self._find_pool(identity)
        if found is None:
            raise _not_found("phone-number", identity)
        return found

    @staticmethod
    def _identity_arn(record: dict) -> str:
        return record.get("PhoneNumberArn") or record["PoolArn"]

    def _keywords(self, owner: dict) -> dict[str, tuple[str, str]]:
        return {**DEFAULT_KEYWORDS, **owner["_keywords"]}

    def _find_phone(self, identity: str) -> dict | None:
        return next(
            (
                ph
                for ph in self._phones.values()
                if identity in (ph["PhoneNumberId"], ph["PhoneNumberArn"], ph["PhoneNumber"])
            ),
            None,
        )

    def _find_pool(self, identity: str) -> dict | None:
        return next(
            (pl for pl in self._pools.values() if identity in (pl["PoolId"], pl["PoolArn"])), None
        )

    def _pool(self, identity: str) -> dict:
        pool = self._find_pool(identity)
        if pool is None:
            raise _not_found("pool", identity)
        return pool

    def _config_set(self, name_or_arn: str) -> dict:
        config_set = self._config_sets.get(name_or_arn.rsplit("/", 1)[-1])
        if config_set is None:
            raise _not_found("configuration-set", name_or_arn)
        return config_set

    def _opt_out_list(self, name_or_arn: str) -> dict:
        opt_out_list = self._opt_out_lists.get(name_or_arn.rsplit("/", 1)[-1])
        if opt_out_list is None:
            raise _not_found("opt-out-list", name_or_arn)
        return opt_out_list

    def _apply_settings(self, record: dict, p: dict) -> dict:
        updated = {**record, **{k: p[k] for k in IDENTITY_SETTINGS if k in p}}
        if p.get("OptOutListName"):
            updated["OptOutListName"] = self._opt_out_list(p["OptOutListName"])["OptOutListName"]
        if updated.get("TwoWayEnabled") and not updated.get("TwoWayChannelArn"):
            raise _invalid(
                "TwoWayChannelArn is required to enable two-way",
                "TWO_WAY_CHANNEL_NOT_PRESENT",
                "TwoWayChannelArn",
            )
        record.update(updated)
        return record

    def _allocate_number(self, country: str, number_type: str) -> str:
        """Fictional numbers: +1 NPA 555-01xx (toll-free 833); Careloop practices are in US/CA."""
        if country not in ("US", "CA"):
            raise _invalid(
                f"the stand-in has no numbers in {country}", "COUNTRY_NOT_ENABLED", "IsoCountryCode"
            )
        area = "833" if number_type == "TOLL_FREE" else "206" if country == "US" else "604"
        prefix = f"+1{area}55501"
        taken = {ph["PhoneNumber"] for ph in self._phones.values()}
        for serial in range(self._serial, self._serial + 100):
            if f"{prefix}{serial % 100:02d}" not in taken:
                return f"{prefix}{serial % 100:02d}"
        raise AwsError(
            "ServiceQuotaExceededException",
            "no fictional numbers left",
            Reason="PHONE_NUMBERS_PER_ACCOUNT",
        )

    def _select(
        self, records: dict, wanted: list[str] | None, kind: str, find: Callable | None = None
    ) -> list:
        if not wanted:
            return list(records.values())
        found = []
        for key in wanted:
            record = find(key) if find else records.get(key.rsplit("/", 1)[-1])
            if record is None:
                raise _not_found(kind, key)
            found.append(record)
        return found

    def _page(self, items: list[dict], p: dict, key: str, shape_name: str) -> dict:
        for f in p.get("Filters") or []:  # filter names are the kebab-case of the field names
            field = "".join(w.capitalize() for w in f["Name"].split("-"))
            field = {"NumberCapability": "NumberCapabilities"}.get(field, field)
            values = {v.lower() for v in f["Values"]}
            items = [i for i in items if {str(v).lower() for v in _as_list(i.get(field))} & values]
        try:
            start = int(p.get("NextToken") or 0)
        except ValueError as exc:
            raise _invalid("invalid NextToken", "INVALID_NEXT_TOKEN", "NextToken") from exc
        end = start + (p.get("MaxResults") or 100)
        shape = service_model().shape_for(shape_name)
        page: dict[str, Any] = {key: [self._shape(shape, i) for i in items[start:end]]}
        if end < len(items):
            page["NextToken"] = str(end)
        return page

    @staticmethod
    def _shape(shape, record: dict) -> dict:
        return {k: v for k, v in record.items() if k in shape.members and v is not None}

    def _arn(self, kind: str, resource_id: str) -> str:
        return f"arn:aws:sms-voice:{self.region}:{self.account_id}:{kind}/{resource_id}"

    def _now(self) -> datetime:
        return (self._clock or get_clock()).now()


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _country(number: str) -> int | None:
    try:
        return phonenumbers.parse(number).country_code
    except phonenumbers.NumberParseException:
        return None


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


class StandinServer(ThreadedWSGIServer):
    """The threaded WSGI server `serve` starts (what `make_server(threaded=True)` makes), with
    the stand-in it serves at hand as `standin`."""

    def __init__(self, host: str, port: int, standin: SmsStandin) -> None:
        super().__init__(host, port, standin)
        self.standin = standin


def serve(
    host: str = "127.0.0.1", port: int = 0, standin: SmsStandin | None = None, **kwargs: Any
) -> tuple[StandinServer, threading.Thread, str]:
    """Start the stand-in on a daemon thread: (server, thread, url); `server.standin` is the instance."""
    app = standin or SmsStandin(**kwargs)
    server = StandinServer(host, port, app)
    thread = threading.Thread(target=server.serve_forever, name="sms-standin", daemon=True)
    thread.start()
    return server, thread, f"http://{host}:{server.server_port}"


def stop(server, thread: threading.Thread | None = None, timeout: float = 5.0) -> None:
    server.shutdown()
    server.server_close()
    if thread is not None:
        thread.join(timeout)
