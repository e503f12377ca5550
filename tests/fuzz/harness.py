"""The real handlers on the in-memory core for the fuzz suite: each handler module loaded as Lambda
loads it, its `services()` (and the EHR archive) swapped for fakes, and the events they receive."""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from careloop.intake import sign
from careloop_local.events import LambdaContext, api_event
from careloop_local.fakes import memory_services
from tests.conftest import DATA, NY, ROOT
from tests.integration.conftest import sample
from tests.unit.test_records_intake import DictArchive

SECRET = "fuzz-secret"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=NY)
CRASHERS = Path(__file__).resolve().parent / "crashers"
# the statuses an answer may have: anything else (a 5xx, or an exception out of the handler, which
# API Gateway turns into a 502) is a crasher
ANSWERS = frozenset({200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429})


def load_handler(name: str) -> ModuleType:
    """functions/<name>/handler.py as its own module (the handlers share the file name)."""
    module_name = f"careloop_fn_fuzz_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = ROOT / "functions" / name / "handler.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


class Wired:
    """A handler over fresh fakes per example: `call(event)` -> its answer (an exception propagates,
    which is what the property rules out)."""

    def __init__(self, name: str, services_factory=None) -> None:
        self.module = load_handler(name)
        self.factory = services_factory or (lambda: memory_services(NOW))
        self.fresh()

    def fresh(self) -> None:
        self.services = self.factory()
        self.archive = DictArchive()
        self.module.services = lambda: self.services  # type: ignore[attr-defined]
        if hasattr(self.module, "archive"):
            self.module.archive = lambda: self.archive  # type: ignore[attr-defined]

    def call(self, event: dict) -> dict:
        return self.module.handler(event, LambdaContext(self.module.__name__))


# DynamoDB refuses a sort key over 1,024 bytes (a partition key over 2,048): an id the fakes would
# keep but the table would not is a 500 in AWS, so the fuzz suite holds the fakes to it
KEY_BYTES = 1_000


def oversized_keys(services) -> list[str]:
    """Record keys (ids, identifiers, the booking grid's) DynamoDB would refuse, shortened."""
    records = services.records
    keys = [*records.patients, *records.appointments, *records._identifier_owner, *records._schedules,
            *records._slots, *(a.patient_id for a in records.appointments.values())]
    return [k[:40] for k in keys if len(k.encode("utf-8", "surrogatepass")) > KEY_BYTES]


def webhook_event(path: str, body: bytes, *, signature: str | None = None, accept: str = "") -> dict:
    headers = {"Content-Type": "x-application/hl7-v2+er7" if path.endswith("hl7v2") else "application/fhir+json",
               "X-Careloop-Signature": sign(SECRET, body) if signature is None else signature}
    if accept:
        headers["Accept"] = accept
    return api_event("POST", path, path, headers, {}, body)


def booking_event(method: str, path: str, query: dict[str, list[str]] | None = None, body: bytes = b"") -> dict:
    resource = "/b/{token}" if path.startswith("/b/") else path
    params = {"token": path[3:]} if path.startswith("/b/") else None
    return api_event(method, path, resource, {"Content-Type": "application/json"}, query or {}, body, params)


def staff_event(method: str, proxy: str, claims: dict, query: dict[str, list[str]] | None = None,
                body: bytes = b"") -> dict:
    return api_event(method, f"/api/{proxy}", "/api/{proxy+}", {"Content-Type": "application/json"},
                     query or {}, body, {"proxy": proxy}, claims)


def sms_event(message: Any, *, raw_body: str | None = None) -> dict:
    """The SNS -> SQS record of the vendored sample carrying `message` (the two-way payload), or
    `raw_body` as the SQS body itself."""
    template = sample("aws-powertools-python-events/snsSqsEvent.json")["Records"][0]
    envelope = json.loads(template["body"])
    envelope["Message"] = json.dumps(message)
    envelope["MessageId"] = str(uuid.uuid4())
    record = template | {"messageId": str(uuid.uuid4()), "awsRegion": "us-east-1",
                         "body": json.dumps(envelope) if raw_body is None else raw_body}
    return {"Records": [record]}


def two_way_sample() -> dict:
    return sample("aws-docs-end-user-messaging/two-way-sms-inbound-payload.json")


def crashers(prefix: str) -> list[Path]:
    """The corpus files of one kind (`fhir-*`, `hl7-*`, `sms-*`, `booking-*`, `staff-*`)."""
    return sorted(p for p in CRASHERS.glob(f"{prefix}-*") if not p.name.endswith(".md"))


__all__ = ["ANSWERS", "CRASHERS", "DATA", "NOW", "SECRET", "Wired", "booking_event", "crashers", "oversized_keys", "load_handler",
           "sms_event", "staff_event", "two_way_sample", "webhook_event"]
