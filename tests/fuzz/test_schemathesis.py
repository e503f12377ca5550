"""schemathesis against the two OpenAPI documents, over real HTTP on loopback: the staff API
(docs/openapi/staff-api.json, signed in through the local Cognito as the demo admin) and the public
booking routes (docs/openapi/booking-api.json), both served by the local HTTP front (LocalHttp,
what `make run` serves) over the local stack (moto's server, the SMS stand-in, the real handlers).

Every answer to every generated request, valid or not: no 5xx, a status the document declares for
that operation, the declared content type, a body matching the declared schema, declared headers.
The budget is fixed and derandomised (CARELOOP_SCHEMATHESIS_EXAMPLES a property, 6 unless told;
CARELOOP_FUZZ=explore looks at random). Generated ids rarely name anything, so the hooks below mix
in real ones (demo patients, appointments, workflows, minted booking links, open slots) to reach
past the 404s. A failure it ever found is a plain regression test in test_schemathesis_found.py.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ROOT

EXPLORE = os.environ.get("CARELOOP_FUZZ") == "explore"
# examples an operation: the staff API has 40 operations, the booking routes 4 (and a booking
# needs a real link, type and slot at once, so it gets more tries)
EXAMPLES = int(os.environ.get("CARELOOP_SCHEMATHESIS_EXAMPLES", "200" if EXPLORE else "6"))


def _budget(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=not EXPLORE, deadline=None, database=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
STAFF_DOC = ROOT / "docs" / "openapi" / "staff-api.json"
BOOKING_DOC = ROOT / "docs" / "openapi" / "booking-api.json"
LINKS = 40  # minted booking links: a link answers 60 requests a minute and is spent by a booking


def _get(url: str, token: str | None = None) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": token} if token else {})
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (loopback only)
        return json.loads(resp.read())


def _sign_in(url: str, email: str, password: str) -> str:
    """The web app's sign-in: USER_PASSWORD_AUTH through the local Cognito passthrough."""
    config = _get(url + "/config.json")
    req = urllib.request.Request(
        config["cognito"]["endpoint"], method="POST",
        data=json.dumps({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": config["cognito"]["clientId"],
                         "AuthParameters": {"USERNAME": email, "PASSWORD": password}}).encode(),
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (loopback only)
        return json.loads(resp.read())["AuthenticationResult"]["IdToken"]


class Live:
    """The served stack and the real ids the hooks mix into generated requests."""

    def __init__(self, url: str, token: str, ids: dict[str, list[str]], links: list[str], types: list[str],
                 days: list[str], slots: list[dict], role_tokens: dict[str, str] | None = None) -> None:
        self.url, self.token, self.ids, self.links, self.types, self.days = url, token, ids, links, types, days
        self.role_tokens = role_tokens or {}  # the other roles' demo users (front desk, clinical, billing)
        self.starts = [s["start"] for s in slots]  # open slots of the first type
        self.providers = sorted({s["provider"] for s in slots})


@pytest.fixture(scope="module")
def live():
    from moto.moto_api._internal.models import moto_api_backend
    from werkzeug.serving import make_server

    from careloop.adapters.aws import services
    from careloop.booking.links import mint
    from careloop_local import demo
    from careloop_local.http import LocalHttp
    from careloop_local.runtime import (
        DEMO_STAFF_BY_ROLE,
        DEMO_STAFF_EMAIL,
        DEMO_STAFF_PASSWORD,
        LocalStack,
    )

    # Powertools sets the level of the one "careloop" logger every handler module shares: put it
    # back afterwards, or later tests in this process find their warnings silenced
    shared = logging.getLogger("careloop")
    kept = (shared.level, shared.propagate)
    mp = pytest.MonkeyPatch()
    mp.setenv("POWERTOOLS_LOG_LEVEL", "CRITICAL")  # thousands of refusals: their logs are noise here
    moto_api_backend.reset()  # moto's state is per process: start from an empty account
    stack = LocalStack().start(ticker=False)
    demo.seed(services())  # the demo practice's patients and visits, as `make run` has them
    server = make_server("127.0.0.1", 0, LocalHttp(stack), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        token = _sign_in(url, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
        ids = {
            "patient_id": [p["id"] for p in _get(url + "/api/patients", token)["patients"]][:6],
            "appointment_id": [a["id"] for a in _get(url + "/api/appointments", token)["appointments"]][:6],
            "workflow_id": [w["id"] for w in _get(url + "/api/workflows", token)["workflows"]],
            "username": [s["username"] for s in _get(url + "/api/staff", token)["staff"]][:3],
            "action": ["confirm", "cancel", "noshow", "fulfilled"],
            "decision": ["confirm", "decline"],
        }
        svc = services()
        patients = [svc.records.get_patient(pid) for pid in ids["patient_id"]]
        links = [mint(svc, p, "book", ref=f"schemathesis-{i}").token
                 for i, p in enumerate([p for p in patients if p is not None] * LINKS)][:LINKS]
        types = [t["id"] for t in _get(f"{url}/booking/api/types?t={links[0]}")["types"]]
        days = [(svc.clock.now() + timedelta(days=n)).date().isoformat() for n in (0, 2, 9)]
        slots = _get(f"{url}/booking/api/slots?t={links[0]}&type={types[0]}&from={days[1]}&days=5")["slots"]
        roles = {role: _sign_in(url, email, DEMO_STAFF_PASSWORD) for role, email in DEMO_STAFF_BY_ROLE.items()
                 if email != DEMO_STAFF_EMAIL}
        yield Live(url, token, ids, links, types, days, slots[:10], roles)
    finally:
        server.shutdown()
        stack.stop()
        moto_api_backend.reset()
        mp.undo()
        shared.setLevel(kept[0])
        shared.propagate = kept[1]


def _real_or_generated(real: list[str], generated: Any) -> st.SearchStrategy:
    """A real value three times in four, else the generated one: a booking needs a real link, type
    and slot at once to get past the refusals to the 201, and the coverage phase and the negative
    mode send junk enough. (Real first: a derandomised run's first examples take the first branch.)"""
    if not real:
        return st.just(generated)
    return st.one_of(*[st.sampled_from(real)] * 3, st.just(generated))


def _mixed(real: dict[str, list[str]], values: Any) -> st.SearchStrategy:
    """Each generated value as it is, or one of the real ones for its name."""
    if not isinstance(values, dict):
        return st.just(values)
    return st.fixed_dictionaries({k: _real_or_generated(real.get(k, []), v) for k, v in values.items()})


# Loaded at collection (one test per operation); the hooks read the running stack's ids, which the
# `live` fixture sets before any case is generated. (schemathesis.pytest.from_fixture would load
# them from the fixture, but its lazy loader writes a pytest node attribute pytest 9 no longer has.)
REAL: dict[str, dict[str, list[str]]] = {"staff": {}, "booking": {}}
staff = schemathesis.openapi.from_path(str(STAFF_DOC))
booking = schemathesis.openapi.from_path(str(BOOKING_DOC))


@staff.hook("flatmap_path_parameters")
def _staff_ids(context, path_parameters):
    return _mixed(REAL["staff"], path_parameters)


@booking.hook("flatmap_path_parameters")
def _booking_page_token(context, path_parameters):
    return _mixed(REAL["booking"], path_parameters)


@booking.hook("flatmap_query")
def _booking_query(context, query):
    return _mixed(REAL["booking"], query)


@booking.hook("flatmap_body")
def _booking_body(context, body):
    return _mixed(REAL["booking"], body)


@pytest.fixture(scope="module")
def real_ids(live):
    REAL["staff"] = live.ids
    REAL["booking"] = {"t": live.links, "token": live.links, "type": live.types[:1], "from": live.days,
                       "start": live.starts, "provider": live.providers}
    yield live
    REAL.update(staff={}, booking={})


@staff.parametrize()
@_budget(EXAMPLES)
def test_the_staff_api_answers_as_documented(case, real_ids):
    case.call_and_validate(base_url=real_ids.url + "/api", headers={"Authorization": real_ids.token},
                           checks=CHECKS, timeout=60)


ROLE_EXAMPLES = max(1, EXAMPLES // 3)  # each case is sent once per role: three roles


@staff.parametrize()
@_budget(ROLE_EXAMPLES)
def test_the_staff_api_answers_every_role_as_documented(case, real_ids):
    # the same generated request as the front desk, the clinical team and billing: what a role may
    # not do is a documented 403, never a 5xx or an undeclared answer
    assert set(real_ids.role_tokens) == {"front_desk", "clinical", "billing"}
    for role, token in real_ids.role_tokens.items():
        response = case.call_and_validate(base_url=real_ids.url + "/api", headers={"Authorization": token},
                                          checks=CHECKS, timeout=60)
        BY_ROLE.setdefault(role, []).append(response.status_code)


BY_ROLE: dict[str, list[int]] = {}  # the other roles' answers, for the check at the end


@booking.parametrize()
@_budget(8 * EXAMPLES)
def test_the_booking_routes_answer_as_documented(case, real_ids):
    case.call_and_validate(base_url=real_ids.url, checks=CHECKS, timeout=60)



# what every generated request was answered, by operation: the last test checks the ids mixed in
# reached past the refusals (a fuzz run that only ever hears 404 tests nothing behind it)
ANSWERED: dict[str, list[int]] = {}


@staff.hook("after_call")
def _answered_staff(context, case, response):
    ANSWERED.setdefault(f"{case.method} {case.operation.path}", []).append(response.status_code)


@booking.hook("after_call")
def _answered_booking(context, case, response):
    ANSWERED.setdefault(f"{case.method} {case.operation.path}", []).append(response.status_code)


def _documented(document: Path) -> set[str]:
    paths = json.loads(document.read_text())["paths"]
    return {f"{method.upper()} {path}" for path, methods in paths.items() for method in methods}


def test_the_generated_requests_reached_behind_the_ids():
    if not ANSWERED:
        pytest.skip("reads what this file's schemathesis tests were answered: run the whole file")
    reached = {op for op, statuses in ANSWERED.items() if any(200 <= s < 300 for s in statuses)}
    # every booking route answered a 2xx (a real link, type and slot, a booking made), and every
    # read of the staff API did (real patient, workflow and appointment ids)
    assert _documented(BOOKING_DOC) - reached == set(), {op: ANSWERED.get(op) for op in _documented(BOOKING_DOC)}
    assert {op for op in _documented(STAFF_DOC) if op.startswith("GET ")} - reached == set()


def test_every_role_was_both_served_and_refused():
    if not BY_ROLE:
        pytest.skip("reads what this file's role test was answered: run the whole file")
    for role, statuses in BY_ROLE.items():
        # each role reads the inbox and the patients (2xx) and is refused what is not its job (403)
        assert any(200 <= s < 300 for s in statuses) and 403 in statuses, (role, sorted(set(statuses)))
