"""The public booking routes (`/b/<token>`, `/booking/api/types|slots|book`) over the handler's
API Gateway events: forged and garbled tokens, huge query strings, bad dates and bodies get a 4xx
naming the field (or a 2xx), never an exception or a 5xx."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ
from tests.fuzz.harness import ANSWERS, Wired, booking_event, crashers
from tests.fuzz.strategies import BAD_DATES, WEIRD_TEXT
from tests.unit.test_booking_service import booking_services, token_for

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
VALID = "valid"  # stands for the minted link of the example's fresh store


@pytest.fixture(scope="module")
def booking():
    mp = pytest.MonkeyPatch()
    mp.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")
    yield Wired("booking", booking_services)
    mp.undo()


tokens = st.one_of(
    st.just(VALID), st.text(alphabet=BASE62, min_size=12, max_size=12),  # forged: the right shape
    st.text(max_size=40), st.sampled_from(["", "../../etc/passwd", "%00", "a" * 70_000, "AAAAAAAAAAA\u0000", "😀" * 12]),
)
values = st.one_of(st.none(), st.text(max_size=30), st.sampled_from(BAD_DATES), st.sampled_from(WEIRD_TEXT),
                   st.sampled_from(["0", "-1", "31", "1e9", "nan", "9" * 5000, "１", "7.5", "2026-12-01", "cleaning"]))
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                                     st.sampled_from(BAD_DATES)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=8)


def answered(booking: Wired, event: dict) -> dict:
    answer = booking.call(event)
    assert answer["statusCode"] in ANSWERS, answer
    if answer["statusCode"] >= 400:
        assert json.loads(answer["body"])["error"]
    return answer


def token_of(booking: Wired, token: str) -> str:
    booking.fresh()
    return token_for(booking.services) if token == VALID else token


@FUZZ
@given(token=tokens, params=st.dictionaries(st.sampled_from(["t", "type", "from", "days", "x" * 300]),
                                            st.lists(values.filter(lambda v: v is not None), min_size=1, max_size=3),
                                            max_size=5),
       route=st.sampled_from(["/booking/api/types", "/booking/api/slots"]))
def test_queries_are_answered(booking, token, params, route):
    query = {"t": [token_of(booking, token)]} | params if "t" not in params else params
    answered(booking, booking_event("GET", route, query))


@FUZZ
@given(token=tokens, type_id=st.one_of(st.just("cleaning"), json_values),
       start=st.one_of(st.sampled_from(BAD_DATES), json_values, st.sampled_from(
           ["2026-12-02T10:00:00-05:00", "2026-12-02T10:00:00", "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00", "2026-12-02T10:00:00+23:59"])),
       provider=st.one_of(st.none(), st.just("lee"), json_values), extra=json_values)
def test_bookings_are_answered(booking, token, type_id, start, provider, extra):
    body = {"t": token_of(booking, token), "type": type_id, "start": start, "provider": provider, "x": extra}
    answered(booking, booking_event("POST", "/booking/api/book", body=json.dumps(body).encode()))


@FUZZ
@given(raw=st.one_of(st.binary(max_size=600), st.sampled_from([b"", b"null", b"[]", b'"t"', b"1e999", b"[" * 5000,
                                                             b"{" * 3000, b'{"t": ' * 2000, b"x" * 5000])))
def test_any_body_is_answered(booking, raw):
    booking.fresh()
    answered(booking, booking_event("POST", "/booking/api/book", body=raw))


@FUZZ
@given(token=tokens)
def test_the_page_is_the_same_for_any_token(booking, token):
    answer = answered(booking, booking_event("GET", "/b/" + quote(token_of(booking, token), safe="")))
    assert answer["statusCode"] in (200, 404)


@pytest.mark.parametrize("path", crashers("booking"), ids=lambda p: p.name)
def test_every_booking_crasher_found_is_answered(booking, path):
    case = json.loads(path.read_text())
    token = token_of(booking, case.get("token", VALID))
    if case["method"] == "GET":
        answered(booking, booking_event("GET", case["route"], {"t": [token]} | case.get("query", {})))
    else:
        answered(booking, booking_event("POST", case["route"], body=json.dumps({"t": token} | case["body"]).encode()))
