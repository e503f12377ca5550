"""The staff API's declared validation through the inbox_api handler on moto: a wrong type, a
missing field, an oversize string or a bad query is a 400 naming the field (never its value, never
a 500), the role is checked before the fields, an answer that drifts from its model is a 500 naming
the field, and the served OpenAPI document is the checked-in one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from careloop.models import Patient
from careloop.records import ingest

ROOT = Path(__file__).resolve().parents[2]
ADMIN = {"email": "admin@maple.test", "cognito:username": "admin", "cognito:groups": ["admin"]}
DESK = {"email": "desk@maple.test", "cognito:username": "desk", "cognito:groups": ["front_desk"]}
CLINICAL = {"email": "nurse@maple.test", "cognito:username": "nurse", "cognito:groups": ["clinical"]}
BILLING = {"email": "billing@maple.test", "cognito:username": "billing", "cognito:groups": ["billing"]}
PHONE = "+16175550181"


def staff_api(stack, method: str, proxy: str, body: object = None, query: dict | None = None,
              who: dict | None = DESK, raw: bytes | None = None) -> tuple[int, dict]:
    """The inbox_api handler with the API Gateway event the Cognito-authorised route delivers."""
    from careloop_local.events import api_event

    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    event = api_event(method, f"/api/{proxy}", "/api/{proxy+}", {"Content-Type": "application/json"},
                      {k: [v] for k, v in (query or {}).items()}, data, {"proxy": proxy}, who)
    out = stack.invoke("inbox_api", event)
    return out["statusCode"], json.loads(out["body"])


@pytest.fixture(scope="module")
def patient(stack):
    from careloop.adapters.aws import services

    svc = services()
    ingest(svc.records, svc.consent, [Patient(id="val1", first_name="Rosa", last_name="Diaz", phone=PHONE,
                                              phone_kind="mobile")], [], stack.clock.now())
    return "val1"


@pytest.mark.parametrize(("who", "method", "proxy", "body", "query", "field", "says"), [
    # a wrong type
    (DESK, "POST", "patients/val1/messages", {"body": 5}, None, "body.body", "body: must be text"),
    (DESK, "POST", "patients/val1/assign", {"assignee": ["desk@maple.test"]}, None, "body.assignee", "assignee: must be text"),
    (DESK, "POST", "patients/val1/waitlist", {"waitlist": "yes"}, None, "body.waitlist", "waitlist: must be true or false"),
    (ADMIN, "POST", "workflows/appointment-reminder/enabled", {"enabled": 1, "why": "pause"}, None, "body.enabled",
     "enabled: must be true or false"),
    (ADMIN, "PUT", "staff/someone/role", {"role": "owner"}, None, "body.role",
     "role: one of admin, front_desk, clinical, billing"),
    # a missing field
    (ADMIN, "POST", "staff", {"role": "admin"}, None, "body.email", "email: required"),
    (DESK, "POST", "patients/val1/consent", {"note": "by phone"}, None, "body.opted_out", "opted_out: required"),
    (DESK, "POST", "patients/val1/link", {}, None, "body.patient_id", "patient_id: required"),
    # an oversize string
    (DESK, "POST", "patients/val1/notes", {"body": "x" * 4001}, None, "body.body", "body: at most 4000 characters"),
    (ADMIN, "POST", "staff", {"email": "a" * 250 + "@maple.test", "role": "admin"}, None, "body.email",
     "email: at most 254 characters"),
    (DESK, "GET", "patients", None, {"q": "9" * 81}, "query.q", "q: at most 80 characters"),
    # a query that is not what it says
    (DESK, "GET", "appointments", None, {"from": "tomorrow"}, "query.from", "from: not an ISO 8601 date or datetime"),
    (DESK, "GET", "audit", None, {"stale_days": "soon"}, "query.stale_days", "stale_days: must be a whole number"),
    (DESK, "GET", "audit", None, {"stale_days": "-1"}, "query.stale_days", "stale_days: at least 0"),
])
def test_a_request_its_declaration_refuses_is_a_400_naming_the_field(stack, patient, who, method, proxy, body, query,
                                                                     field, says):
    # Given a request with one field wrong, When it reaches the API
    before = len(stack.standin.outbox())
    status, answer = staff_api(stack, method, proxy, body, query, who)
    # Then a 400 names the field first, as PayloadError does, and lists it
    assert status == 400, answer
    assert answer["message"] == says
    assert [e["field"] for e in answer["errors"]] == [field]
    # never the value sent (it may be a patient's words or number), and nothing was sent or written
    assert "xxxxxxxx" not in json.dumps(answer) and "999999999" not in json.dumps(answer)
    assert len(stack.standin.outbox()) == before


@pytest.mark.parametrize(("raw", "says"), [(b"{not json", "body: not valid JSON"), (b"[1, 2]", "body: must be a JSON object"),
                                          (b"", "body: required")])
def test_a_body_that_is_not_a_json_object_is_a_400_naming_the_body(stack, patient, raw, says):
    status, answer = staff_api(stack, "POST", "patients/val1/messages", raw=raw)
    assert (status, answer["message"]) == (400, says)


def test_every_problem_is_named_at_once(stack, patient):
    status, answer = staff_api(stack, "POST", "staff", {"email": 7}, who=ADMIN)
    assert status == 400 and answer["message"] == "email: must be text; role: required"


def test_the_role_is_checked_before_the_fields(stack, patient):
    # a caller without the role learns that, not which fields the route takes
    status, answer = staff_api(stack, "POST", "staff", {"email": 7}, who=BILLING)
    assert status == 403 and "needs the role admin" in answer["message"] and "errors" not in answer
    # and a thread of another team's is a 403 whatever the body (val1's is the front desk's)
    status, answer = staff_api(stack, "POST", "patients/val1/messages", {"body": 5}, who=CLINICAL)
    assert status == 403 and "front desk team" in answer["message"]


def test_a_valid_request_still_does_what_it_did(stack, patient):
    # the declared models change nothing for a request that fits them: the reply is sent (201)
    before = len(stack.standin.outbox())
    status, answer = staff_api(stack, "POST", "patients/val1/messages", {"body": "See you at 3", "extra": "ignored"})
    assert status == 201 and answer["message_id"].startswith("s-")
    stack.drain()
    assert [m["body"] for m in stack.standin.outbox()[before:] if m["destination"] == PHONE] == ["See you at 3"]


def test_an_answer_that_drifts_from_its_model_is_a_500_naming_the_field_not_the_body(stack, patient, monkeypatch,
                                                                                   caplog):
    from careloop import inbox

    # Given the core answering saved replies without the list the web app reads
    monkeypatch.setattr(inbox, "saved_replies", lambda s, key: {"language": "en", "secret": "Rosa Diaz"})
    status, answer = staff_api(stack, "GET", "patients/val1/saved-replies")
    # Then the caller gets a 500 saying so, and the log names the field, never the body
    assert status == 500 and "did not match" in answer["message"]
    [logged] = [r for r in caplog.records if r.getMessage() == "answer does not match its declared model"]
    assert logged.fields == ["response.replies"] and "Rosa" not in str(vars(logged))


def test_the_served_document_is_the_checked_in_one_for_any_role(stack):
    checked_in = json.loads((ROOT / "docs/openapi/staff-api.json").read_text())
    for who in (ADMIN, DESK, CLINICAL, BILLING):
        status, served = staff_api(stack, "GET", "openapi.json", who=who)
        assert status == 200 and served == checked_in, "GET /api/openapi.json differs: run `make openapi`"
    # signed in but in no role: like every route
    assert staff_api(stack, "GET", "openapi.json", who={"email": "x@maple.test", "cognito:groups": []})[0] == 403
