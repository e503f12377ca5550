"""Counts what a simulated month asks of AWS: every port call the core makes, mapped to the
DynamoDB requests its adapter sends (careloop.adapters.dynamo), per Lambda function.

A `Meter` is fed by `CountingPort` proxies around the in-memory fakes; `careloop_local.cost`
drives the simulator with them and prices the counts.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from careloop import tables

Op = Literal["get", "query", "query_strong", "put", "update", "transact", "batch_get", "batch_put", "none"]


@dataclass(frozen=True)
class DynamoCall:
    """What one port method sends: `op` against `table`, `requests` of them per call (the due
    index is queried once per shard); `gsis` the indexes a written item is copied to."""

    op: Op
    table: str
    requests: int = 1
    gsis: int = 0
    stream: bool = False  # an item the planner skips, but its stream still wakes it


R, A, M, B = tables.RECORDS.logical, tables.ACTIONS.logical, tables.MESSAGES.logical, tables.BOOKING.logical

# port name -> method -> call, read off careloop.adapters.dynamo (a test checks every method of
# every persistence port is here). GSIs: records items are in by_type and by_phone (patients) or
# by_type, by_patient and by_start (appointments); actions in by_due and by_subject; messages in
# by_patient, by_kind and (sent) by_provider_id; every index projects ALL (infra/data.py), so a
# write of the item is a write to each index it is in.
DYNAMO_CALLS: dict[str, dict[str, DynamoCall]] = {
    "records": {
        "get_patient": DynamoCall("get", R), "put_patient": DynamoCall("put", R, gsis=2),
        "patients_by_phone": DynamoCall("query", R), "all_patients": DynamoCall("query", R),
        "get_appointment": DynamoCall("get", R), "put_appointment": DynamoCall("put", R, gsis=3),
        "appointments_for_patient": DynamoCall("query", R), "all_appointments": DynamoCall("query", R),
        "appointments_between": DynamoCall("query", R), "get_patients": DynamoCall("batch_get", R),
        "get_appointments": DynamoCall("batch_get", R), "put_new_records": DynamoCall("batch_put", R, gsis=2),
        "identifier_owners": DynamoCall("batch_get", R), "claim_identifiers": DynamoCall("batch_put", R),
        "put_schedule": DynamoCall("put", R), "schedules": DynamoCall("query", R),
        "put_slot": DynamoCall("transact", R), "slots_between": DynamoCall("query", R),
    },
    "actions": {
        "put_action_if_absent": DynamoCall("put", A, gsis=2), "get_action": DynamoCall("get", A),
        "actions_for_subject": DynamoCall("query", A),
        "due_actions": DynamoCall("query", A, requests=tables.DUE_SHARDS),
        "transition_action": DynamoCall("update", A, gsis=2),
        "reclaim_action": DynamoCall("update", A, gsis=0),  # a stale claim taken over (rare)
    },
    "messages": {
        "put_message": DynamoCall("put", M, gsis=2), "get_message": DynamoCall("get", M),
        "update_message": DynamoCall("update", M, gsis=3), "transition_message": DynamoCall("update", M, gsis=3),
        "message_by_provider_id": DynamoCall("query", M), "messages_for_patient": DynamoCall("query", M),
        "messages_of_kind": DynamoCall("query", M), "claim_repeat": DynamoCall("update", M),
    },
    "consent": {
        # from an inbound text: the row and a claim on the message, in one transaction (AWS bills a
        # transactional write twice: counted as two writes here, of the four units it costs)
        "append_consent": DynamoCall("put", R, requests=2, stream=True), "consent_entries": DynamoCall("query", R),
        "all_consent_entries": DynamoCall("query", R),
    },
    "configs": {"load_config": DynamoCall("get", R), "save_config": DynamoCall("put", R)},
    "inbox": {
        "conversations_since": DynamoCall("query", M), "thread": DynamoCall("query", M),
        "record_staff_reply": DynamoCall("put", M, gsis=2), "resolve_conversation": DynamoCall("query", M),
        "patients": DynamoCall("query", R), "next_appointments": DynamoCall("query", R),
        "appointments_starting": DynamoCall("query", R),
    },
    "analytics": {
        "messages_between": DynamoCall("query", M), "appointments_starting": DynamoCall("query", R),
        "appointments_of_patients": DynamoCall("query", R), "patients_by_id": DynamoCall("batch_get", R),
    },
    "booking": {
        "count_request": DynamoCall("update", B), "put_link": DynamoCall("transact", B),
        "get_link": DynamoCall("get", B), "link_for_ref": DynamoCall("get", B),
        "spend_link": DynamoCall("update", B), "claim_slot": DynamoCall("put", B),
        "release_slot": DynamoCall("update", B), "claims_between": DynamoCall("query", B),
        "put_offer": DynamoCall("put", B), "latest_offer": DynamoCall("query_strong", B),
        "close_offer": DynamoCall("update", B), "put_waitlist": DynamoCall("put", B),
        "remove_waitlist": DynamoCall("update", B), "get_waitlist": DynamoCall("get", B),
        "waitlist": DynamoCall("query", B), "open_gap": DynamoCall("put", B), "get_gap": DynamoCall("get", B),
        "take_gap": DynamoCall("update", B), "put_gap_offer": DynamoCall("transact", B),
        "set_gap_offer": DynamoCall("update", B), "gap_offers": DynamoCall("query_strong", B),
        "gap_offers_for_patient": DynamoCall("query_strong", B),
    },
    "access_log": {"append_access": DynamoCall("put", R, stream=True), "access_entries": DynamoCall("query", R)},
}

READ_UNIT, WRITE_UNIT = 4096, 1024  # bytes per read / write request unit (DynamoDB on-demand)
DEFAULT_ITEM_BYTES = 600


def item_bytes(value: Any) -> int:
    """DynamoDB's size of an item: attribute names plus values, empty ones not stored (the
    adapter drops None and ""); a list of models is the sum of its items."""
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, dict):
        first = next(iter(value.values()), None)
        if isinstance(first, (list, tuple)) or hasattr(first, "__dict__"):  # {id: model} / {id: [models]}
            return sum(item_bytes(v) for v in value.values())
        return sum(len(str(k)) + _value_bytes(v) for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, (list, tuple)):
        return sum(item_bytes(v) for v in value)
    fields = getattr(value, "__dict__", None)
    if fields is None:
        return len(str(value))
    return sum(len(k) + _value_bytes(v) for k, v in fields.items() if v not in (None, "", [], {}))


def _value_bytes(v: Any) -> int:
    if isinstance(v, (list, tuple)):
        return sum(_value_bytes(x) for x in v) + 3 * len(v)
    if isinstance(v, dict):
        return sum(len(str(k)) + _value_bytes(x) for k, x in v.items())
    if isinstance(v, datetime):
        return 25  # stored as an ISO 8601 string
    return len(str(v))


@dataclass
class FunctionUsage:
    """One Lambda function's month: invocations, time spent waiting on AWS calls, cold hours."""

    invocations: int = 0
    dynamo_requests: int = 0
    api_calls: int = 0  # SQS, SNS, S3, SMS, Secrets Manager: one round trip each
    llm_calls: int = 0
    wait_s: float = 0.0  # sleeping by design (the sender's pacing to the number's rate)
    hours: set[tuple[int, int, int]] = field(default_factory=set)  # (month, day, hour) with invocations


@dataclass
class Meter:
    """The month's counts. `running(fn)` attributes what happens inside to that function;
    outside any function (the simulator's own bookkeeping) nothing is counted."""

    clock: Any = None
    functions: dict[str, FunctionUsage] = field(default_factory=lambda: defaultdict(FunctionUsage))
    read_units: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # by table
    write_units: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    requests: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # "dynamodb.get", "sqs.send" ...
    quantities: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # sms parts, tokens ...
    calls: Counter[str] = field(default_factory=Counter)  # "port.method" -> calls
    stream_records: int = 0  # consent / access entries: records-table writes no listener sees
    enabled: bool = True
    _stack: list[str] = field(default_factory=list)
    _sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> (bytes, items) written

    @property
    def current(self) -> str | None:
        return self._stack[-1] if self._stack else None

    @contextmanager
    def running(self, function: str, invocation: bool = True) -> Iterator[None]:
        """Inside: the work of `function`; `invocation` counts one more of its invocations."""
        if not self.enabled:
            yield
            return
        if invocation:
            self.invoked(function)
        self._stack.append(function)
        try:
            yield
        finally:
            self._stack.pop()

    @contextmanager
    def off(self) -> Iterator[None]:
        """The simulator's own reads (what is due next, the final states): not the product's."""
        saved, self._stack, was = self._stack, [], self.enabled
        self.enabled = False
        try:
            yield
        finally:
            self._stack, self.enabled = saved, was

    def invoked(self, function: str, count: int = 1) -> None:
        if not self.enabled:
            return
        usage = self.functions[function]
        usage.invocations += count
        if self.clock is not None:
            now = self.clock.now()
            usage.hours.add((now.month, now.day, now.hour))

    def call(self, kind: str, count: int = 1) -> None:
        """`count` round trips to a non-DynamoDB API by the running function (sqs.send, sns.publish ...)."""
        if not self.enabled:
            return
        self.requests[kind] += count
        if self.current is not None:
            self.functions[self.current].api_calls += count

    def mean_item_bytes(self, table: str) -> int:
        total, items = self._sizes.get(table, (0, 0))
        return round(total / items) if items else DEFAULT_ITEM_BYTES

    def dynamo(self, name: str, call: DynamoCall, args: tuple, result: Any) -> None:
        """Capacity units of one port call (`name`: port.method), from the sizes of what it read or wrote."""
        if not self.enabled or self.current is None or call.op == "none":
            return
        self.calls[name] += 1
        usage = self.functions[self.current]
        table = call.table
        if call.op == "get":  # ConsistentRead: a whole unit per 4 KB (a miss costs one too)
            self.read_units[table] += max(1, math.ceil(item_bytes(result) / READ_UNIT))
            requests = 1
        elif call.op == "batch_get":  # {id: model} of the keys found, 100 keys a request
            found = list(result.values()) if isinstance(result, dict) else []
            self.read_units[table] += sum(max(1, math.ceil(item_bytes(item) / READ_UNIT)) for item in found)
            requests = max(1, math.ceil(len(found) / 100))
        elif call.op in ("query", "query_strong"):
            size = item_bytes(result)
            units = max(1, math.ceil(size / READ_UNIT)) * call.requests
            # index queries are eventually consistent (half a unit per 4 KB); base-table ones with
            # ConsistentRead pay the whole unit
            self.read_units[table] += units if call.op == "query_strong" else units / 2
            requests = call.requests
        else:
            written = [x for x in args if hasattr(x, "__dict__") or isinstance(x, (dict, list))]
            if call.op == "batch_put" and written and isinstance(written[0], dict):
                size = sum(len(str(k)) + len(str(v)) + 20 for k, v in written[0].items())  # {ident: owner}
                items = len(written[0])
            elif call.op == "batch_put" and written:
                items = len(written[0]) if isinstance(written[0], list) else 1
                size = item_bytes(written[0])
            else:
                size = item_bytes(written[0]) if written else self.mean_item_bytes(table)
                items = 1
            if call.op == "put" and items:
                total, n = self._sizes.get(table, (0, 0))
                self._sizes[table] = (total + size, n + 1)
            if call.op == "update":
                size = self.mean_item_bytes(table)  # an update is billed on the item's full size
            per_item = max(1, math.ceil(size / max(items, 1) / WRITE_UNIT))
            units = per_item * items * (1 + call.gsis)
            if call.op == "transact":
                units *= 2 * 2  # two items (the claim and its key), each at twice the rate
            self.write_units[table] += units
            requests = math.ceil(items / 25) if call.op == "batch_put" else 1
            if call.stream:
                self.stream_records += 1
        self.requests[f"dynamodb.{call.op}"] += requests
        usage.dynamo_requests += requests


class CountingPort:
    """A port with every call counted on the meter as its DynamoDB adapter would send it."""

    def __init__(self, port: Any, name: str, meter: Meter) -> None:
        self._port, self._name, self._calls, self._meter = port, name, DYNAMO_CALLS[name], meter

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self._port, attr)
        call = self._calls.get(attr)
        if call is None or not callable(target):
            return target
        meter, name = self._meter, f"{self._name}.{attr}"

        def counted(*args: Any, **kwargs: Any) -> Any:
            result = target(*args, **kwargs)
            meter.dynamo(name, call, args, result)
            return result

        return counted
