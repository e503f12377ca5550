"""What schemathesis found (tests/fuzz/test_schemathesis.py), kept as plain regression tests: each
input once got a 500 from the staff API (an exception out of the handler, a 502 in AWS) or an
answer its OpenAPI document did not declare. The requests are the API Gateway events the local
front builds from the HTTP requests schemathesis sent (a body that is not UTF-8 arrives base64)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from careloop_local.events import api_event
from tests.fuzz.harness import Wired
from tests.fuzz.test_fuzz_staff_api import ADMIN, services

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def staff():
    mp = pytest.MonkeyPatch()
    mp.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")
    yield Wired("inbox_api", services)
    mp.undo()


def post(staff: Wired, proxy: str, body: bytes, content_type: str, method: str = "POST") -> tuple[int, dict]:
    staff.fresh()
    event = api_event(method, f"/api/{proxy}", "/api/{proxy+}", {"Content-Type": content_type}, {}, body,
                      {"proxy": proxy}, ADMIN)
    answer = staff.call(event)
    return answer["statusCode"], json.loads(answer["body"])


@pytest.mark.parametrize("proxy", ["patients/p-fuzz/notes", "patients/p-fuzz/assign", "staff", "workflows/recall/undo"])
def test_multipart_without_a_boundary_is_a_415_not_a_500(staff, proxy):
    # found: `Content-Type: multipart/form-data` (no boundary) on every route with a body; Powertools'
    # validation raised ValueError("Missing boundary") before any route or exception handler
    status, body = post(staff, proxy, b'{"body": "hi"}', "multipart/form-data")
    assert (status, body) == (415, {"message": "Content-Type: multipart/form-data is not taken here; "
                                               "send application/json"})


def test_a_body_whose_bytes_are_not_utf8_is_a_400_not_a_500(staff):
    # found: `-d $'\x16(\x10\xc3\xa9\xff'` with Content-Type: application/json; the body arrives
    # base64 (API Gateway's encoding of bytes), and Powertools decoded it as UTF-8 unchecked
    for raw in (b"\x16(\x10\xc3\xff", b"\xea", b'{"body": "caf\xe9"}'):
        assert post(staff, "patients/p-fuzz/notes", raw, "application/json") == (400, {"message": "body: not UTF-8 text"})
    assert post(staff, "workflows/recall", b"\x91", "application/json", "PUT")[0] == 400


def test_any_other_content_type_is_our_415_and_json_still_passes(staff):
    # Powertools' own 415 had its own shape ({"statusCode", "detail"}), not the API's {"message"}
    assert post(staff, "patients/p-fuzz/notes", b"hi", "text/plain")[0] == 415
    assert post(staff, "patients/p-fuzz/notes", b"body=hi", "application/x-www-form-urlencoded")[0] == 415
    # JSON with any parameters, or no Content-Type at all, is read as before
    assert post(staff, "patients/p-fuzz/notes", b'{"body": "hi"}', "application/json; charset=utf-8")[0] == 201
    assert post(staff, "patients/p-fuzz/notes", '{"body": "café"}'.encode(), "")[0] == 201


def test_the_refusals_schemathesis_saw_undeclared_are_in_the_document():
    # found: 409 from POST /staff (the account exists) and POST /workflows/{id}/undo (a stale
    # version), undeclared; and the 415 above on every route with a body
    paths = json.loads((ROOT / "docs/openapi/staff-api.json").read_text())["paths"]
    assert "409" in paths["/staff"]["post"]["responses"]
    assert "409" in paths["/workflows/{workflow_id}/undo"]["post"]["responses"]
    assert all("415" in op["responses"] for methods in paths.values() for verb, op in methods.items()
               if verb in ("post", "put"))
    # and on the booking routes: GET /b/<token> with a character no route takes is the 404 of
    # every unknown booking route (the page is the same for any token the route can carry)
    booking = json.loads((ROOT / "docs/openapi/booking-api.json").read_text())["paths"]
    assert set(booking["/b/{token}"]["get"]["responses"]) == {"200", "404"}


def test_a_page_token_no_route_takes_is_the_declared_404():
    # found: GET /b/%C3%91%F3%82%A5%B2... (a private-use character) is no route of the booking
    # handler; it answered 404 {"error"}, which the document now declares
    from tests.fuzz.harness import booking_event
    from tests.unit.test_booking_service import booking_services

    booking = Wired("booking", booking_services)
    answer = booking.call(booking_event("GET", "/b/Ñ\U000f30a5\U000f2b369"))
    assert answer["statusCode"] == 404 and json.loads(answer["body"]) == {"error": "no such booking route"}
    assert booking.call(booking_event("GET", "/b/AbCdEf123456"))["statusCode"] == 200
