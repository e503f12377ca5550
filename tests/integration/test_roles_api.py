"""Roles through the inbox_api handler on moto: tokens for each role (the claims the Cognito
authorizer passes), 403s naming the role needed, each team's inbox, staff invited and moved
between roles in moto's Cognito pool, and the PHI access log written once and exported."""

from __future__ import annotations

import csv
import io
import json

import pytest

from careloop.audit import access_entry
from careloop.models import Message, MessageStatus, Patient
from careloop_local.runtime import DEMO_STAFF_BY_ROLE

STRANGER = "+16175550177"


def claims(role: str) -> dict:
    # as API Gateway's Cognito authorizer passes a list claim: one string
    return {"email": f"{role}@maple.test", "cognito:username": role, "cognito:groups": f"[{role}]"}


def call(stack, role: str, method: str, proxy: str, body: dict | None = None, request_id: str | None = None,
         query: dict | None = None):
    from careloop_local.events import api_event

    event = api_event(method, f"/api/{proxy}", "/api/{proxy+}", {"Content-Type": "application/json"},
                      {k: [v] for k, v in (query or {}).items()},
                      json.dumps(body).encode() if body is not None else b"", {"proxy": proxy}, claims(role))
    if request_id:
        event["requestContext"]["requestId"] = request_id
    out = stack.invoke("inbox_api", event)
    headers = (out.get("headers") or {}) | {k: v[-1] for k, v in (out.get("multiValueHeaders") or {}).items()}
    return out["statusCode"], (json.loads(out["body"]) if "json" in headers.get("Content-Type", "") else out["body"])


@pytest.fixture(scope="module")
def ports(stack):
    from careloop.adapters.aws import services

    svc = services()
    now = svc.clock.now()
    # Given a clinical alert, a billing alert and an unknown number's text in the inbox
    for pid, team in (("p-clin", "clinical"), ("p-bill", "billing")):
        svc.records.put_patient(Patient(id=pid, first_name="Test", last_name=team.title(), phone="+16175550170"))
        svc.messages.put_message(Message(message_id=f"alert-{pid}", patient_id=pid, phone="+16175550170",
                                         kind="staff_alert", body=f"{team} question", at=now,
                                         status=MessageStatus.OPEN, team=team))
    svc.messages.put_message(Message(message_id="in-stranger", patient_id=None, phone=STRANGER, kind="sms_in",
                                     body="who is this", at=now, needs_attention=True))
    return svc


@pytest.mark.parametrize(("role", "method", "proxy", "status"), [
    ("front_desk", "PUT", "workflows/appointment-reminders", 403),
    ("clinical", "GET", "consent/export.csv", 403),
    ("billing", "GET", "staff", 403),
    ("front_desk", "GET", "access-log/export.csv", 403),
    ("clinical", "GET", "analytics/summary", 403),
    ("billing", "GET", "analytics/summary", 200),
    ("admin", "GET", "consent/export.csv", 200),
    ("front_desk", "GET", "workflows", 200),
])
def test_a_route_answers_each_role_as_the_policy_says(stack, ports, role, method, proxy, status):
    got, body = call(stack, role, method, proxy, {"workflow": {"id": "x"}} if method == "PUT" else None)
    assert got == status
    if status == 403:
        assert "needs the role admin" in body["message"] and role in body["message"]


def test_a_token_without_a_role_is_refused_with_a_403_not_a_500(stack, ports):
    from careloop_local.events import api_event

    event = api_event("GET", "/api/inbox", "/api/{proxy+}", {}, {}, b"", {"proxy": "inbox"},
                      {"email": "x@maple.test", "cognito:username": "x"})
    out = stack.invoke("inbox_api", event)
    assert out["statusCode"] == 403 and "no role" in json.loads(out["body"])["message"]


def test_me_names_the_callers_roles(stack, ports):
    assert call(stack, "clinical", "GET", "me")[1]["roles"] == ["clinical"]


def test_each_role_sees_its_teams_conversations(stack, ports):
    def inbox(role: str) -> set[str]:
        status, body = call(stack, role, "GET", "inbox")
        assert status == 200
        return {c["patient_id"] for c in body["conversations"]}

    stranger = f"phone:{STRANGER}"
    assert {"p-clin", "p-bill", stranger} <= inbox("admin")
    assert "p-clin" in inbox("clinical") and not {"p-bill", stranger} & inbox("clinical")
    assert "p-bill" in inbox("billing") and not {"p-clin", stranger} & inbox("billing")
    assert stranger in inbox("front_desk") and not {"p-clin", "p-bill"} & inbox("front_desk")


def test_opening_a_thread_and_exporting_are_in_the_access_log_once(stack, ports):
    # When the clinical user opens a thread (a retried request: the same request id twice)
    for _ in range(2):
        assert call(stack, "clinical", "GET", "patients/p-clin/messages", request_id="req-open-1")[0] == 200
    # and the admin exports consent
    assert call(stack, "admin", "GET", "consent/export.csv", request_id="req-export-1")[0] == 200
    # Then the access log has each once, and the admin's CSV export shows them (and itself)
    status, body = call(stack, "admin", "GET", "access-log/export.csv", request_id="req-log-1")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body)))
    opened = [r for r in rows if r["request_id"] == "req-open-1"]
    assert [(r["staff"], r["action"], r["subject"]) for r in opened] == [("clinical@maple.test", "open_thread", "p-clin")]
    assert [(r["staff"], r["action"], r["subject"]) for r in rows if r["request_id"] == "req-export-1"] == [
        ("admin@maple.test", "export", "/consent/export.csv")]
    assert any(r["request_id"] == "req-log-1" and r["subject"] == "/access-log/export.csv" for r in rows)


def test_a_refused_request_writes_nothing_to_the_access_log(stack, ports):
    assert call(stack, "billing", "GET", "consent/export.csv", request_id="req-refused")[0] == 403
    assert not any(e["request_id"] == "req-refused" for e in ports.access_log.access_entries())


def test_the_access_log_is_append_only_on_dynamodb(stack, ports):
    entry = access_entry(ports.clock.now(), "admin@maple.test", "open_patient", "p-x", "req-append")
    assert ports.access_log.append_access(entry) is True
    # a second write of the same key, even with other content, does not overwrite
    assert ports.access_log.append_access(entry | {"staff": "someone-else@maple.test"}) is False
    kept = [e for e in ports.access_log.access_entries() if e["key"] == entry["key"]]
    assert [e["staff"] for e in kept] == ["admin@maple.test"]
    # and the port offers no way to change or remove an entry
    assert not [m for m in dir(ports.access_log) if any(w in m for w in ("delete", "update", "remove", "put_"))]


def test_an_admin_invites_staff_and_changes_their_role_in_cognito(stack, ports):
    import boto3

    idp = boto3.client("cognito-idp", region_name="us-east-1")
    status, listed = call(stack, "admin", "GET", "staff")
    assert status == 200
    demo = {u["email"]: u["roles"] for u in listed["staff"]}
    assert all(demo[email] == [role] for role, email in DEMO_STAFF_BY_ROLE.items())

    # When the admin invites a new front-desk user
    status, invited = call(stack, "admin", "POST", "staff", {"email": "New.Desk@maple.test", "role": "front_desk"})
    assert status == 201 and invited["roles"] == ["front_desk"]
    # Then Cognito has the account in the front_desk group
    groups = idp.admin_list_groups_for_user(UserPoolId=stack.res.user_pool_id, Username=invited["username"])
    assert [g["GroupName"] for g in groups["Groups"]] == ["front_desk"]
    # a second invitation of the same email is a conflict, not a 500
    assert call(stack, "admin", "POST", "staff", {"email": "new.desk@maple.test", "role": "billing"})[0] == 409

    # When the admin moves them to billing: one role, the new one
    status, moved = call(stack, "admin", "PUT", f"staff/{invited['username']}/role", {"role": "billing"})
    assert status == 200 and moved["roles"] == ["billing"]
    groups = idp.admin_list_groups_for_user(UserPoolId=stack.res.user_pool_id, Username=invited["username"])
    assert [g["GroupName"] for g in groups["Groups"]] == ["billing"]


@pytest.mark.parametrize(("proxy", "method", "body", "status", "says"), [
    ("staff", "POST", {"email": "not-an-email", "role": "admin"}, 400, "email"),
    ("staff", "POST", {"email": "a@maple.test", "role": "owner"}, 400, "role: one of admin"),
    ("staff/nobody-here/role", "PUT", {"role": "billing"}, 404, "no staff account"),
])
def test_bad_staff_requests_are_named_not_500s(stack, ports, proxy, method, body, status, says):
    got, answer = call(stack, "admin", method, proxy, body)
    assert got == status and says in answer["message"]


@pytest.mark.parametrize(("role", "proxy", "status"), [
    ("clinical", "patients/p-clin/messages", 200), ("billing", "patients/p-clin/messages", 403),
    ("front_desk", "patients/p-clin/messages", 403), ("billing", "patients/p-bill/messages", 200),
    ("clinical", f"patients/phone:{STRANGER}/messages", 403), ("front_desk", f"patients/phone:{STRANGER}/messages", 200),
    ("admin", "patients/p-bill/messages", 200),
])
def test_a_role_opens_only_the_threads_its_inbox_shows(stack, ports, role, proxy, status):
    # the list's team filter is not enough: a thread's URL is guessable, so the API checks it too
    got, body = call(stack, role, "GET", proxy)
    assert got == status, body
    if status == 403:
        assert "does not see it" in body["message"] and "Test" not in json.dumps(body)
