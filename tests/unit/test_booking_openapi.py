"""docs/openapi/booking-api.json (written from spec/booking.md, not generated) against the booking
handler: it declares exactly the handler's routes, every status it declares for a route is one
the real handler gives (each shown here by a request that gets it, its body matching the declared
schema, its declared headers sent), the handler's refusals are all declared, and the body model is
the one API Gateway validates (infra/api.py). schemathesis then fuzzes against the same document
over HTTP (tests/fuzz/test_schemathesis.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from careloop import errors
from tests.fuzz.harness import Wired, booking_event
from tests.unit.test_booking_service import booking_services, token_for

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "docs" / "openapi" / "booking-api.json").read_text())
LINK_REQUESTS_PER_MINUTE = 60  # careloop.booking.service.REQUESTS_PER_LINK_PER_MINUTE


@pytest.fixture()
def booking():
    mp = pytest.MonkeyPatch()
    mp.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")
    wired = Wired("booking", booking_services)
    yield wired
    mp.undo()


def _operations() -> set[str]:
    return {f"{method.upper()} {path}" for path, methods in DOC["paths"].items() for method in methods}


def test_the_document_declares_exactly_the_handlers_routes(booking):
    app = booking.module.app
    routes = {r.method + " " + re.sub(r"<(\w+)>", r"{\1}", r.path) for r in app._static_routes + app._dynamic_routes}
    assert _operations() == routes


def _first_slot(booking: Wired, token: str) -> dict:
    answer = booking.call(booking_event("GET", "/booking/api/slots", {"t": [token], "type": ["cleaning"]}))
    return json.loads(answer["body"])["slots"][0]


def _book(booking: Wired, token: str, start: str, **extra) -> dict:
    body = {"t": token, "type": "cleaning", "start": start} | extra
    return booking.call(booking_event("POST", "/booking/api/book", body=json.dumps(body).encode()))


def _spent(booking: Wired) -> str:
    """A link that has made its booking."""
    token = token_for(booking.services)
    assert _book(booking, token, _first_slot(booking, token)["start"])["statusCode"] == 201
    return token


def _hammered(booking: Wired, call: Callable[[str], dict]) -> dict:
    token = token_for(booking.services)
    for _ in range(LINK_REQUESTS_PER_MINUTE):
        call(token)
    return call(token)


def _types(booking: Wired, token: str) -> dict:
    return booking.call(booking_event("GET", "/booking/api/types", {"t": [token]}))


def _slots(booking: Wired, token: str, **query: str) -> dict:
    return booking.call(booking_event("GET", "/booking/api/slots",
                                      {"t": [token], "type": ["cleaning"]} | {k: [v] for k, v in query.items()}))


def _taken(booking: Wired) -> dict:
    first = token_for(booking.services, "p1")
    slot = _first_slot(booking, first)
    assert _book(booking, first, slot["start"], provider=slot["provider"])["statusCode"] == 201
    return _book(booking, token_for(booking.services, "p2"), slot["start"], provider=slot["provider"])


FORGED = "AbCdEf123456"  # the shape of a token, no link behind it
# each declared (operation, status): a request the real handler answers with it
SHOWN: dict[tuple[str, str], Callable[[Wired], dict]] = {
    ("GET /b/{token}", "200"): lambda b: b.call(booking_event("GET", "/b/" + FORGED)),
    ("GET /b/{token}", "404"): lambda b: b.call(booking_event("GET", "/b/\U000f30a5")),
    ("GET /booking/api/types", "200"): lambda b: _types(b, token_for(b.services)),
    ("GET /booking/api/types", "404"): lambda b: _types(b, FORGED),
    ("GET /booking/api/types", "410"): lambda b: _types(b, _spent(b)),
    ("GET /booking/api/types", "429"): lambda b: _hammered(b, lambda t: _types(b, t)),
    ("GET /booking/api/slots", "200"): lambda b: _slots(b, token_for(b.services)),
    ("GET /booking/api/slots", "400"): lambda b: _slots(b, token_for(b.services), days="0"),
    ("GET /booking/api/slots", "404"): lambda b: _slots(b, FORGED),
    ("GET /booking/api/slots", "410"): lambda b: _slots(b, _spent(b)),
    ("GET /booking/api/slots", "429"): lambda b: _hammered(b, lambda t: _slots(b, t)),
    ("POST /booking/api/book", "201"): lambda b: _book(b, t := token_for(b.services), _first_slot(b, t)["start"]),
    ("POST /booking/api/book", "400"): lambda b: _book(b, token_for(b.services), "tomorrow"),
    ("POST /booking/api/book", "404"): lambda b: _book(b, FORGED, "2026-12-02T10:00:00-05:00"),
    ("POST /booking/api/book", "409"): _taken,
    ("POST /booking/api/book", "410"): lambda b: _book(b, _spent(b), "2026-12-02T10:00:00-05:00"),
    ("POST /booking/api/book", "413"): lambda b: _book(b, token_for(b.services), "2026-12-02T10:00:00-05:00",
                                                      x="x" * 5000),
    ("POST /booking/api/book", "429"): lambda b: _hammered(b, lambda t: _book(b, t, "tomorrow")),
}


def _declared() -> list[tuple[str, str]]:
    return [(f"{method.upper()} {path}", status) for path, methods in DOC["paths"].items()
            for method, op in methods.items() for status in op["responses"]]


def test_every_declared_status_is_shown_by_a_request():
    assert sorted(_declared()) == sorted(SHOWN)


@pytest.mark.parametrize(("operation", "status"), _declared(), ids=lambda v: str(v))
def test_each_declared_answer_is_what_the_handler_gives(booking, operation, status):
    method, path = operation.split(" ")
    declared = DOC["paths"][path][method.lower()]["responses"][status]
    answer = SHOWN[(operation, status)](booking)
    assert str(answer["statusCode"]) == status, answer
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()} | {
        k.lower(): v[-1] for k, v in (answer.get("multiValueHeaders") or {}).items()}
    (kind, media), = declared["content"].items()
    assert headers["content-type"].split(";")[0] == kind
    schema = {"$ref": media["schema"]["$ref"], "components": DOC["components"]} if "$ref" in media["schema"] \
        else media["schema"]
    body = json.loads(answer["body"]) if kind == "application/json" else answer["body"]
    assert list(Draft202012Validator(schema).iter_errors(body)) == []
    for header, spec in declared.get("headers", {}).items():
        assert headers[header.lower()] == spec["schema"].get("const", headers[header.lower()])
        assert re.fullmatch(spec["schema"].get("pattern", ".*"), headers[header.lower()])


def test_every_refusal_the_handler_has_is_declared_on_the_routes_that_give_it():
    # the booking errors (one `status` each) and the body-size refusal are all on POST /book
    statuses = {str(cls.status) for cls in vars(errors).values()
                if isinstance(cls, type) and issubclass(cls, errors.BookingError)} | {"413"}
    assert statuses <= set(DOC["paths"]["/booking/api/book"]["post"]["responses"])


def test_the_body_model_is_the_one_api_gateway_validates():
    from infra.api import BOOK_REQUEST_SCHEMA

    declared = DOC["components"]["schemas"]["BookRequest"]
    assert declared["required"] == BOOK_REQUEST_SCHEMA.required
    assert declared["maxProperties"] == BOOK_REQUEST_SCHEMA.max_properties
    assert set(declared["properties"]) == set(BOOK_REQUEST_SCHEMA.properties or {})
    for name, prop in (BOOK_REQUEST_SCHEMA.properties or {}).items():
        mine = declared["properties"][name]
        kinds = prop.type if isinstance(prop.type, list) else [prop.type]
        assert {str(k.value).lower() for k in kinds} == set(mine["type"] if isinstance(mine["type"], list)
                                                            else [mine["type"]])
        assert (mine.get("minLength"), mine.get("maxLength")) == (prop.min_length, prop.max_length)
