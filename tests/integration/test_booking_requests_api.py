"""Request-mode bookings through the staff API on the local stack (moto): a patient books over
HTTP (pending), the front desk confirms one and declines another through /api/booking-requests,
and each patient gets the text that says so; bad ids and decisions are 404s, a late one a 409."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from careloop.models import Patient
from tests.integration.conftest import BOOKING, booking_stack
from tests.integration.test_booking_routes import call

PHONES = {"p-rq1": "+16175550171", "p-rq2": "+16175550172"}
STAFF = {"email": "desk@maple.test", "cognito:username": "desk", "cognito:groups": ["front_desk"]}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with booking_stack(tmp_path_factory, BOOKING | {"mode": "request"}) as s:
        yield s


def staff_api(stack, method: str, proxy: str, claims: dict | None = STAFF) -> tuple[int, dict]:
    """The inbox_api handler with the API Gateway event the Cognito-authorised route delivers."""
    from careloop_local.events import api_event

    event = api_event(method, f"/api/{proxy}", "/api/{proxy+}", {"Content-Type": "application/json"}, {}, b"",
                      {"proxy": proxy}, claims)
    out = stack.invoke("inbox_api", event)
    return out["statusCode"], json.loads(out["body"])


@pytest.fixture(scope="module")
def requested(stack, served):
    """Two patients, each with a pending online booking made over HTTP."""
    from careloop.adapters.aws import services
    from careloop.booking.links import mint

    svc = services()
    day = (svc.clock.now() + timedelta(days=3)).date().isoformat()
    out = {}
    for pid, phone in PHONES.items():
        patient = Patient(id=pid, first_name=pid[2:].title(), phone=phone, phone_kind="mobile")
        svc.records.put_patient(patient)
        token = mint(svc, patient, "rebook", ref=f"test-{pid}").token
        status, answer = call(f"{served}/booking/api/slots?t={token}&type=cleaning&from={day}&days=2")
        assert status == 200, answer
        slot = answer["slots"][len(out)]
        status, booked = call(f"{served}/booking/api/book", "POST", {"t": token, "type": "cleaning", "start": slot["start"]})
        assert status == 201 and booked["status"] == "requested", booked
        out[pid] = booked["appointment"]
    stack.drain()
    return out


def _texts(stack, phone: str) -> list[str]:
    return [m["body"] for m in stack.standin.outbox() if m["destination"] == phone]


def test_the_front_desk_confirms_a_request_and_the_patient_is_told_they_are_booked(stack, requested, ports):
    appointment = requested["p-rq1"]
    status, answer = staff_api(stack, "POST", f"booking-requests/{appointment['id']}/confirm")
    assert status == 200 and answer["appointment"]["status"] == "booked" and answer["appointment"]["id"] == appointment["id"]
    stack.drain()
    assert ports.records.get_appointment(appointment["id"]).status == "booked"
    texts = _texts(stack, PHONES["p-rq1"])
    assert len(texts) == 2 and "pending" in texts[0] and "you're booked" in texts[1]
    task = ports.messages.get_message(f"t-booked-{appointment['id']}")
    assert task.status == "done" and task.status_detail == "confirmed by desk@maple.test"
    # a second click (a retried request) changes and sends nothing
    assert staff_api(stack, "POST", f"booking-requests/{appointment['id']}/confirm")[0] == 200
    stack.drain()
    assert len(_texts(stack, PHONES["p-rq1"])) == 2
    # and it cannot be declined any more
    status, refused = staff_api(stack, "POST", f"booking-requests/{appointment['id']}/decline")
    assert status == 409 and "not pending" in refused["message"]


def test_the_front_desk_declines_a_request_and_the_patient_gets_a_link_to_pick_again(stack, requested, ports):
    appointment = requested["p-rq2"]
    status, answer = staff_api(stack, "POST", f"booking-requests/{appointment['id']}/decline")
    assert status == 200 and answer["appointment"]["status"] == "cancelled"
    stack.drain()
    last = _texts(stack, PHONES["p-rq2"])[-1]
    assert "pick another time" in last and "/b/" in last
    claims = ports.booking.claims_between(ports.clock.now(), ports.clock.now() + timedelta(days=30))
    assert appointment["id"] not in {c.appointment_id for c in claims}  # the hold is gone


@pytest.mark.parametrize(("proxy", "status"), [("booking-requests/nope/confirm", 404),
                                               ("booking-requests/nope/approve", 404)])
def test_unknown_requests_and_decisions_are_404s(stack, proxy, status):
    assert staff_api(stack, "POST", proxy)[0] == status
