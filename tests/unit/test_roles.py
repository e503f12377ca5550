"""The staff API's role policy as a table: each role against each route, allowed or a 403 that
names the role needed; and every route the inbox_api handler declares has a line in the policy."""

from __future__ import annotations

import pytest

from careloop import roles
from careloop.errors import Forbidden

A, F, C, B = "admin", "front_desk", "clinical", "billing"

# (method, a concrete path, the roles that may) -- written out, not derived from roles.POLICY
EXPECTED = [
    ("GET", "/me", {A, F, C, B}),
    ("GET", "/inbox", {A, F, C, B}),
    ("GET", "/patients", {A, F, C, B}),
    ("GET", "/patients/p-1", {A, F, C, B}),
    ("GET", "/patients/p-1/messages", {A, F, C, B}),
    ("POST", "/patients/p-1/messages", {A, F, C, B}),
    ("POST", "/patients/p-1/resolve", {A, F, C, B}),
    ("POST", "/patients/p-1/hand-back", {A, F, C, B}),
    ("POST", "/patients/phone:+16175550100/link", {A, F}),
    ("POST", "/patients/p-1/consent", {A, F}),
    ("GET", "/patients/p-1/waitlist", {A, F}),
    ("POST", "/patients/p-1/waitlist", {A, F}),
    ("POST", "/booking-requests/a-1/confirm", {A, F}),
    ("GET", "/appointments", {A, F, C}),
    ("GET", "/audit", {A, F}),
    ("GET", "/workflows", {A, F}),
    ("GET", "/workflows/reminders/history", {A, F}),
    ("POST", "/workflows/reminders/enabled", {A}),
    ("PUT", "/workflows/reminders", {A}),
    ("GET", "/consent/export.csv", {A}),
    ("GET", "/analytics/summary", {A, B}),
    ("GET", "/analytics/export.csv", {A, B}),
    ("GET", "/staff", {A}),
    ("POST", "/staff", {A}),
    ("PUT", "/staff/someone/role", {A}),
    ("GET", "/access-log/export.csv", {A}),
    ("DELETE", "/access-log/export.csv", {A}),  # not a route: admin only, like anything unlisted
    ("GET", "/not-a-route-yet", {A}),
]


@pytest.mark.parametrize("role", roles.ROLES)
@pytest.mark.parametrize(("method", "path", "allowed"), EXPECTED, ids=[f"{m} {p}" for m, p, _ in EXPECTED])
def test_each_role_on_each_route_is_allowed_or_told_the_role_needed(role, method, path, allowed):
    claims = {"cognito:username": "u", "cognito:groups": [role]}
    if role in allowed:
        assert roles.authorise(method, path, claims) == {role}
    else:
        with pytest.raises(Forbidden) as refused:
            roles.authorise(method, path, claims)
        assert " or ".join(sorted(allowed)) in str(refused.value)
        assert role in str(refused.value)


def test_no_group_or_an_unknown_group_is_refused_everywhere():
    for claims in ({}, {"cognito:groups": []}, {"cognito:groups": ["superuser"]}):
        with pytest.raises(Forbidden, match="you have no role"):
            roles.authorise("GET", "/me", claims)


@pytest.mark.parametrize(("claim", "expected"), [
    ("[admin front_desk]", {A, F}),  # how API Gateway's Cognito authorizer passes a list claim
    ("clinical,billing", {C, B}),
    ("billing", {B}),
    (["clinical", "staff"], {C}),  # a decoded JWT (the local front); non-role groups ignored
])
def test_the_groups_claim_is_read_in_each_form_it_arrives(claim, expected):
    assert roles.roles_of({"cognito:groups": claim}) == expected


def test_every_route_the_handler_declares_has_a_policy_line():
    from functions.inbox_api.handler import app

    routes = {(route.method, route.path) for route in app._static_routes + app._dynamic_routes}
    missing = [f"{m} {p}" for m, p in sorted(routes) if f"{m} {p}" not in roles.POLICY]
    assert len(routes) > 20 and not missing, f"routes without a line in careloop/roles.py POLICY: {missing}"


@pytest.mark.parametrize(("mine", "team", "unknown", "sees"), [
    ({A}, "clinical", False, True),
    ({A}, None, True, True),
    ({F}, "front_desk", False, True),
    ({F}, None, False, True),  # no open alert: the front desk's
    ({F}, "clinical", False, False),
    ({F}, None, True, True),  # unknown numbers are the front desk's
    ({C}, "clinical", False, True),
    ({C}, "billing", False, False),
    ({C}, None, True, False),
    ({B}, "billing", False, True),
    ({B}, "front_desk", False, False),
    ({C, B}, "billing", False, True),
])
def test_each_role_sees_its_teams_conversations(mine, team, unknown, sees):
    assert roles.sees_conversation(frozenset(mine), team, unknown) is sees


@pytest.mark.parametrize(("mine", "sees"), [({F}, True), ({C}, True), ({B}, False)])
def test_an_urgent_conversation_is_seen_by_the_front_desk_and_clinical_alike(mine, sees):
    # a clinical team's urgent alert must not be hidden from whoever is at the front desk
    assert roles.sees_conversation(frozenset(mine), "clinical", False, urgent=True) is sees
    assert roles.sees_conversation(frozenset({F}), "clinical", False) is False  # not urgent: the team's own
