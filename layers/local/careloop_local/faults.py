"""Fault injection for the local stack: AWS errors, races and crashes put in at the botocore layer
of the clients the real adapters use, so handlers see real ClientErrors, real retries and real
conditional-check failures (moto's), and a "process" that dies mid-work leaves what a crash leaves.

One `FaultPlan` per process (`plan()`), empty unless a test or `careloop local --faults` arms it:

- `error(service, operation, count, code)`: the next `count` matching requests are answered with an
  AWS error (DynamoDB throttling by default) before they reach moto; botocore's own retry sees it.
- `before(service, operation, do)`: run `do()` just before a matching request is sent: another
  claimer's write lands between this one's read and its conditional write.
- `kill_after(service, operation, k)` / `kill_after_records(function, k)`: the invocation dies
  after the k-th matching call returned (or after k records of its batch); every later AWS call of
  that invocation raises ProcessKilled too, as a dead process makes no more calls. The runtime
  treats it as Lambda treats a crash: nothing of the batch is acknowledged, it is delivered again.
- `duplicate_deliveries(queue, concurrent)`: the pump hands every batch it receives to the function
  twice (SQS is at-least-once), the copies at once when `concurrent`.
- `compress_backoff()`: a handler's ChangeMessageVisibility back-off is recorded and shortened to
  0 s, so a test sees the retries at once and can still check the back-off asked for.

Calls are counted per (service, operation) either way (`calls`), for the fault bench.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from botocore.awsrequest import AWSResponse

Match = Callable[[dict], bool]

# the error bodies AWS answers, per protocol (botocore parses these into ClientError)
_DYNAMO_ERRORS = {
    "ProvisionedThroughputExceededException": 400, "ThrottlingException": 400,
    "RequestLimitExceeded": 400, "InternalServerError": 500,
}


class ProcessKilled(BaseException):  # noqa: N818 - a crash, not an error the code could handle
    """The invocation's process died. A BaseException, so no `except Exception` in the code under
    test runs for it: a real crash runs no handler either."""


@dataclass
class _Rule:
    kind: str  # error | before | kill_after
    service: str  # botocore's hyphenated service id: dynamodb, sqs, sns, pinpoint-sms-voice-v2
    operation: str | None
    count: int  # how many more times it fires
    match: Match | None = None
    function: str | None = None  # only inside this function's invocations ("*": any; None: anywhere)
    rate: float = 1.0  # the chance a matching call is hit (a throttling storm: < 1)
    code: str = "ProvisionedThroughputExceededException"
    do: Callable[[], Any] | None = None
    skip: int = 0  # matching calls let through before it fires (kill after the k-th)
    fired: int = 0


class _Raw:
    """The urllib3 response botocore reads an AWSResponse's body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class FaultPlan:
    rules: list[_Rule] = field(default_factory=list)
    calls: Counter = field(default_factory=Counter)  # (service, operation) -> requests sent
    injected: Counter = field(default_factory=Counter)  # (service, operation, code) -> errors injected
    backoffs: list[int] = field(default_factory=list)  # visibility timeouts handlers asked for
    kills: int = 0
    requests: list[tuple[str, str, dict]] = field(default_factory=list)  # the SMS API's, as sent (attempts)
    duplicate_queues: dict[str, bool] = field(default_factory=dict)  # queue -> concurrent copies
    record_kills: dict[str, int] = field(default_factory=dict)  # function -> records before dying
    compress: bool = False
    backoff_scale: float = 0.0
    function: str | None = None  # the function whose invocation is running (the runtime sets it)
    dead: bool = False
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _busy: threading.local = field(default_factory=threading.local)
    _random: random.Random = field(default_factory=lambda: random.Random(15))

    # arming -----------------------------------------------------------------------------
    def error(self, service: str, operation: str | None, count: int = 1, code: str = "ProvisionedThroughputExceededException",
              match: Match | None = None, function: str | None = None, rate: float = 1.0) -> None:
        """The next `count` matching requests get `code` (for a rate, `count` bounds the storm)."""
        self.rules.append(_Rule("error", service, operation, count, match, function, rate, code))

    def before(self, service: str, operation: str | None, do: Callable[[], Any], match: Match | None = None,
               function: str | None = None, count: int = 1) -> None:
        """`do()` runs just before the next `count` matching requests are sent (a racing writer)."""
        self.rules.append(_Rule("before", service, operation, count, match, function, do=do))

    def kill_after(self, service: str, operation: str | None, k: int = 1, match: Match | None = None,
                   function: str | None = None) -> None:
        """The invocation dies right after its k-th matching call returned."""
        self.rules.append(_Rule("kill_after", service, operation, 1, match, function, skip=k - 1))

    def lose_response(self, service: str, operation: str, count: int = 1, match: Match | None = None,
                      function: str | None = None) -> None:
        """The next `count` matching calls are done by the service but their answer never arrives:
        the caller's read times out (the call's outcome is unknown to it)."""
        self.rules.append(_Rule("lose", service, operation, count, match, function))

    def kill_after_records(self, function: str, k: int) -> None:
        """The next invocation of `function` dies after handling k records of its batch."""
        self.record_kills[function] = k

    def duplicate_deliveries(self, queue: str, concurrent: bool = False) -> None:
        self.duplicate_queues[queue] = concurrent

    def compress_backoff(self, scale: float = 0.0) -> None:
        """Back-offs handlers ask of SQS are recorded, and shortened to `scale` of themselves."""
        self.compress, self.backoff_scale = True, scale

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.calls.clear()
            self.injected.clear()
            self.backoffs.clear()
            self.requests.clear()
            self.duplicate_queues.clear()
            self.record_kills.clear()
            self.kills, self.compress, self.dead = 0, False, False

    def attempts_to(self, phone: str) -> int:
        """SendTextMessage requests made to `phone` (each attempt, whatever came of it)."""
        return sum(1 for _, op, body in self.requests
                   if op == "SendTextMessage" and body.get("DestinationPhoneNumber") == phone)

    def armed(self) -> bool:
        return any(r.count > 0 for r in self.rules) or bool(self.record_kills)

    # the runtime's side -------------------------------------------------------------------
    @contextlib.contextmanager
    def invocation(self, function: str, module: Any = None) -> Iterator[None]:
        """One Lambda invocation of `function`: rules scoped to it apply, a record kill is armed on
        its handler module, and a death ends with it (the next invocation is a new process)."""
        previous, self.function = self.function, function
        records = self.record_kills.pop(function, None)
        original = getattr(module, "record_handler", None) if records is not None else None
        if original is not None and records is not None:
            module.record_handler = self._dying_after(original, records)
        try:
            yield
        finally:
            if original is not None:
                module.record_handler = original
            self.function, self.dead = previous, False

    def _dying_after(self, record_handler: Callable, k: int) -> Callable:
        done = [0]

        def handler(record: Any) -> Any:
            if done[0] >= k:
                self._die()
            done[0] += 1
            return record_handler(record)
        return handler

    def _die(self) -> None:
        with self._lock:
            self.dead = True
            self.kills += 1
        raise ProcessKilled(f"{self.function or 'process'} killed by the fault plan")

    # the botocore side --------------------------------------------------------------------
    def hook(self, client: Any) -> None:
        """Put the plan on a client (once): before-send answers or races, after-call kills."""
        if getattr(client, "_careloop_faults", False):
            return
        client._careloop_faults = True
        events = client.meta.events
        events.register("before-send", self._before_send)
        events.register("after-call", self._after_call)
        events.register("before-parameter-build.sqs.ChangeMessageVisibility", self._visibility)

    def _before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        _event, service, operation = event_name.split(".", 2)
        if self.dead:
            raise ProcessKilled(f"{self.function or 'process'} is dead: {operation} never sent")
        with self._lock:
            self.calls[(service, operation)] += 1
        if getattr(self._busy, "on", False):  # a racing writer's own calls are not faulted again
            return None
        body = _body(request)
        self._busy.body = body  # for the after-call of the same call (same thread)
        if service == "pinpoint-sms-voice-v2":
            with self._lock:
                self.requests.append((service, operation, body))
        for rule in self._matching("error", service, operation, body):
            with self._lock:
                self.injected[(service, operation, rule.code)] += 1
            return _error_response(request.url, service, rule.code)
        for rule in self._matching("before", service, operation, body):
            self._busy.on = True
            try:
                if rule.do is not None:
                    rule.do()
            finally:
                self._busy.on = False
        return None

    def _after_call(self, event_name: str, http_response: Any = None, **_: Any) -> None:
        _event, service, operation = event_name.split(".", 2)
        if getattr(self._busy, "on", False) or (http_response is not None and http_response.status_code >= 300):
            return
        body = getattr(self._busy, "body", None)
        if self._matching("kill_after", service, operation, body):
            self._die()
        if self._matching("lose", service, operation, body):
            from botocore.exceptions import ReadTimeoutError

            with self._lock:
                self.injected[(service, operation, "ReadTimeout")] += 1
            raise ReadTimeoutError(endpoint_url=f"{service} (answer lost by the fault plan)")

    def _visibility(self, params: dict, **_: Any) -> None:
        if self.compress and "VisibilityTimeout" in params:
            self.backoffs.append(int(params["VisibilityTimeout"]))
            params["VisibilityTimeout"] = int(params["VisibilityTimeout"] * self.backoff_scale)

    def _matching(self, kind: str, service: str, operation: str, body: dict | None) -> list[_Rule]:
        """The rules of `kind` this call fires (each used up by one), at most one of each kind."""
        with self._lock:
            for rule in self.rules:
                if rule.kind != kind or rule.count <= 0 or rule.service != service:
                    continue
                if rule.operation not in (None, operation) or not _in_scope(rule.function, self.function):
                    continue
                if rule.match is not None and not rule.match(body or {}):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                if rule.rate < 1.0 and self._random.random() >= rule.rate:
                    continue
                rule.count -= 1
                rule.fired += 1
                return [rule]
        return []


def _in_scope(wanted: str | None, running: str | None) -> bool:
    """None: anywhere; "*": inside any function's invocation (not the test's own calls); a name: its."""
    return wanted is None or (wanted == "*" and running is not None) or wanted == running


def _body(request: Any) -> dict:
    """The request's parameters as sent: JSON (DynamoDB, SQS, SMS) or a query string (SNS)."""
    raw = request.body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    if not isinstance(raw, bytes | bytearray) or not raw:
        return {}
    try:
        data = json.loads(raw)
        return data if isinstance(data, dict) else {}
    except ValueError:
        return {k: v[0] for k, v in parse_qs(raw.decode(errors="replace")).items()}


def _error_response(url: str, service: str, code: str) -> AWSResponse:
    status = _DYNAMO_ERRORS.get(code, 400)
    if service == "dynamodb":
        body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": f"{code} (injected)"}
    else:  # the awsJson protocols' shape (SQS, the SMS API)
        body = {"__type": code, "message": f"{code} (injected)"}
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
    return AWSResponse(url, status, headers, _Raw(json.dumps(body).encode()))


# matchers over a request's JSON: which item a DynamoDB write is about --------------------------
def key_is(attribute: str, value: str) -> Match:
    """A DynamoDB write or read of the item whose key `attribute` is `value`."""
    def match(body: dict) -> bool:
        key = body.get("Key") or body.get("Item") or {}
        return (key.get(attribute) or {}).get("S") == value
    return match


def sets_status(value: str, table_suffix: str | None = None) -> Match:
    """An UpdateItem whose SET gives `status` the value `value` (a claim, a hand-over, a send)."""
    def match(body: dict) -> bool:
        if table_suffix and not str(body.get("TableName", "")).endswith(table_suffix):
            return False
        names, values = body.get("ExpressionAttributeNames", {}), body.get("ExpressionAttributeValues", {})
        sets = str(body.get("UpdateExpression", "")).removeprefix("SET ").split(" REMOVE ")[0]
        for part in sets.split(","):
            left, _, right = (x.strip() for x in part.partition("="))
            if names.get(left, left) == "status" and (values.get(right) or {}).get("S") == value:
                return True
        return False
    return match


def all_of(*matches: Match) -> Match:
    return lambda body: all(m(body) for m in matches)


_PLAN = FaultPlan()


def plan() -> FaultPlan:
    """The process's fault plan (the local stack consults it on every invocation)."""
    return _PLAN


def install() -> FaultPlan:
    """Hook the plan on every client the adapters made and will make (careloop.adapters.clients)."""
    from careloop.adapters import clients

    clients.on_new_client(_PLAN.hook)
    return _PLAN


def parse_spec(spec: str) -> None:
    """`careloop local --faults`: comma-separated `kind:arg` items, e.g.
    `dynamo-throttle:0.05` (5% of DynamoDB calls throttled), `sms:ThrottlingException:3`,
    `duplicates:send` (every batch of the send queue delivered twice)."""
    for item in filter(None, (s.strip() for s in spec.split(","))):
        kind, _, arg = item.partition(":")
        if kind == "dynamo-throttle":
            _PLAN.error("dynamodb", None, count=10**9, rate=float(arg or 0.05), function="*")
        elif kind == "duplicates":
            _PLAN.duplicate_deliveries(arg or "send", concurrent=True)
        elif kind == "kill-dispatcher":  # the next tick dies after its k-th claim
            _PLAN.kill_after("dynamodb", "UpdateItem", int(arg or 1), match=sets_status("claimed"), function="dispatcher")
        else:
            raise ValueError(f"--faults: unknown fault {kind!r} (dynamo-throttle, duplicates, kill-dispatcher)")
