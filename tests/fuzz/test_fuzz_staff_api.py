"""The staff API handler (`/api/...`, behind Cognito) under garbled path ids, query strings and
bodies from a signed-in admin: every answer is a 2xx or a 4xx with a message, never an exception."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careloop.models import Appointment, Patient
from careloop_local.fakes import memory_services
from tests.fuzz.conftest import FUZZ
from tests.fuzz.harness import ANSWERS, NOW, Wired, crashers, staff_event
from tests.fuzz.strategies import BAD_DATES, WEIRD_TEXT

ADMIN = {"email": "admin@maple.test", "cognito:username": "admin", "cognito:groups": ["admin"]}
ROUTES = [
    ("GET", "me"), ("GET", "inbox"), ("GET", "patients"), ("GET", "patients/{id}/messages"),
    ("POST", "patients/{id}/messages"), ("POST", "patients/{id}/resolve"), ("POST", "patients/{id}/hand-back"),
    ("POST", "patients/{id}/link"), ("GET", "patients/{id}/waitlist"), ("POST", "patients/{id}/waitlist"),
    ("GET", "consent/export.csv"), ("GET", "audit"), ("GET", "appointments"), ("GET", "workflows"),
    ("POST", "workflows/{id}/enabled"), ("PUT", "workflows/{id}"), ("GET", "workflows/{id}/history"),
    ("GET", "analytics/summary"), ("GET", "analytics/export.csv"), ("POST", "booking-requests/{id}/confirm"),
    ("POST", "booking-requests/{id}/{id}"), ("GET", "assignees"), ("POST", "patients/{id}/assign"),
    ("POST", "patients/{id}/notes"), ("POST", "patients/{id}/read"), ("GET", "patients/{id}/saved-replies"),
    ("GET", "patients/{id}/timeline"), ("POST", "appointments/{id}/{id}"), ("POST", "patients/{id}/consent"),
    ("GET", "patients/{id}"), ("GET", "access-log/export.csv"),
]


def services():
    svc = memory_services(NOW)
    svc.records.put_patient(Patient(id="p-fuzz", first_name="Ana", last_name="Reyes", phone="+16175550131"))
    svc.records.put_appointment(Appointment(id="a-fuzz", patient_id="p-fuzz", start=NOW + timedelta(days=3),
                                            provider="lee", location="main"))
    return svc


@pytest.fixture(scope="module")
def staff():
    mp = pytest.MonkeyPatch()
    mp.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")
    yield Wired("inbox_api", services)
    mp.undo()


ids = st.one_of(st.sampled_from(["p-fuzz", "a-fuzz", "phone:+16175550131", "phone:+1", "reminders", "confirm",
                                 "decline", "cancel", "", "..", "%2F", "a" * 5000]),
                st.sampled_from(WEIRD_TEXT), st.text(max_size=20))
query_values = st.one_of(st.sampled_from(BAD_DATES), st.sampled_from(WEIRD_TEXT), st.text(max_size=20),
                         st.sampled_from(["2026-12-01", "2026-12-01T00:00:00Z", "2026-12-01T00:00:00", "csv",
                                          "-5", "99999999999999999999", "mine", "all"]))
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                                     st.sampled_from(WEIRD_TEXT)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3), max_leaves=6)
bodies = st.one_of(
    st.just(b""), st.binary(max_size=100), st.sampled_from([b"null", b"[]", b"[1]", b'"x"', b"5", b"[" * 3000]),
    st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(
        st.sampled_from(["body", "patient_id", "waitlist", "enabled", "why", "workflow", "assignee", "role",
                         "opted_out", "note", "email", "reason"]), json_values, max_size=4)),
)


def answered(staff: Wired, event: dict) -> dict:
    answer = staff.call(event)
    assert answer["statusCode"] in ANSWERS, (answer["statusCode"], answer.get("body", "")[:300])
    if answer["statusCode"] >= 400:
        assert json.loads(answer["body"])["message"]
    return answer


@FUZZ
@given(route=st.sampled_from(ROUTES), path_ids=st.lists(ids, min_size=2, max_size=2),
       query=st.dictionaries(st.sampled_from(["from", "to", "view", "q", "stale_days", "format", "limit"]),
                             st.lists(query_values, min_size=1, max_size=2), max_size=3),
       body=bodies)
def test_staff_requests_are_answered(staff, route, path_ids, query, body):
    staff.fresh()
    method, template = route
    first, second = (quote(i.encode("utf-8", "replace"), safe="") for i in path_ids)  # a URL is bytes
    proxy = template.replace("{id}", first, 1).replace("{id}", second, 1)
    answered(staff, staff_event(method, proxy, ADMIN, query, body if method != "GET" else b""))


@pytest.mark.parametrize("path", crashers("staff"), ids=lambda p: p.name)
def test_every_staff_crasher_found_is_answered(staff, path):
    case = json.loads(path.read_text())
    staff.fresh()
    answer = answered(staff, staff_event(case["method"], case["proxy"], ADMIN, case.get("query", {}),
                                         case.get("body", "").encode()))
    if "status" in case:  # the answer a crasher's fix gives, where it is a specific one
        assert answer["statusCode"] == case["status"]
