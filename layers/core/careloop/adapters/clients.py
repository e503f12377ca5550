"""AWS clients from botocore directly (boto3 would add ~80 ms of cold start for s3transfer
and resources we never use), plus DynamoDB's attribute-value encoding."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import botocore.session
from botocore.config import Config

RETRY = Config(retries={"total_max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=10)
_lock = threading.Lock()
_session = None
_clients: dict[str, Any] = {}
# Called with every client made here (and the ones already made): local fault injection
# (careloop_local.faults) hooks its botocore events on them. Empty in Lambda.
_on_new: list[Callable[[Any], None]] = []


def client(service: str):
    """One client per service per process (clients are thread-safe; creating them is not)."""
    global _session
    with _lock:
        if service not in _clients:
            if _session is None:
                _session = botocore.session.get_session()
            _clients[service] = made(_session.create_client(service, config=RETRY))
        return _clients[service]


def made(new_client: Any) -> Any:
    """A client an adapter created itself (its own config), passed to the `on_new_client` hooks."""
    for hook in _on_new:
        hook(new_client)
    return new_client


def on_new_client(hook: Callable[[Any], None]) -> None:
    """Run `hook` on every client from now on, and on those already made."""
    with _lock:
        if hook not in _on_new:
            _on_new.append(hook)
        existing = list(_clients.values())
    for c in existing:
        hook(c)


def reset_clients() -> None:
    global _session
    with _lock:
        _clients.clear()
        _session = None


def to_attr(value: Any) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | float | Decimal):
        return {"N": str(value)}
    if isinstance(value, list | tuple):
        return {"L": [to_attr(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def from_attr(attr: dict) -> Any:
    (kind, value), = attr.items()
    if kind == "S":
        return value
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind in ("SS", "NS", "BS"):
        return [from_attr({kind[0]: v}) for v in value]
    if kind == "B":
        return value
    raise TypeError(f"unknown DynamoDB type {kind}")
