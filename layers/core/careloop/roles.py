"""Who may do what in the staff API: the Cognito groups (roles) and, route by route, the roles
allowed; one table, read by the inbox_api dispatcher, the web app's /me and the tests."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from careloop.errors import Forbidden

ADMIN, FRONT_DESK, CLINICAL, BILLING = "admin", "front_desk", "clinical", "billing"
ROLES: tuple[str, ...] = (ADMIN, FRONT_DESK, CLINICAL, BILLING)
ROLE_LABELS = {ADMIN: "Admin", FRONT_DESK: "Front desk", CLINICAL: "Clinical", BILLING: "Billing"}

EVERYONE = frozenset(ROLES)
ADMIN_ONLY = frozenset({ADMIN})
DESK = frozenset({ADMIN, FRONT_DESK})
CARE = frozenset({ADMIN, FRONT_DESK, CLINICAL})
MONEY = frozenset({ADMIN, BILLING})

# "METHOD /route" (as the handler declares it, without /api) -> the roles allowed. A route not in
# the table is admin only, so a route added without a line here is never opened to everyone.
POLICY: dict[str, frozenset[str]] = {
    "GET /me": EVERYONE,
    "GET /inbox": EVERYONE,  # each role sees its team's conversations (sees_conversation)
    "GET /patients": EVERYONE,
    "GET /patients/<patient_id>": EVERYONE,  # the patient page
    "GET /patients/<patient_id>/messages": EVERYONE,
    "POST /patients/<patient_id>/messages": EVERYONE,
    "POST /patients/<patient_id>/resolve": EVERYONE,
    "POST /patients/<patient_id>/hand-back": EVERYONE,
    "POST /patients/<patient_id>/link": DESK,  # unknown numbers are the front desk's
    "POST /patients/<patient_id>/consent": DESK,
    "GET /patients/<patient_id>/waitlist": DESK,
    "POST /patients/<patient_id>/waitlist": DESK,
    "POST /booking-requests/<appointment_id>/<decision>": DESK,
    "GET /appointments": CARE,
    "GET /audit": DESK,  # the data-quality report: what the front desk fixes in the EHR
    "GET /workflows": DESK,
    "GET /workflows/<workflow_id>/history": DESK,
    "POST /workflows/<workflow_id>/enabled": ADMIN_ONLY,
    "PUT /workflows/<workflow_id>": ADMIN_ONLY,
    "GET /consent/export.csv": ADMIN_ONLY,
    "GET /analytics/summary": MONEY,
    "GET /analytics/export.csv": MONEY,
    # the inbox's assignment, notes, unread markers and saved replies
    "GET /assignees": EVERYONE,
    "POST /patients/<patient_id>/assign": EVERYONE,
    "POST /patients/<patient_id>/notes": EVERYONE,
    "POST /patients/<patient_id>/read": EVERYONE,
    "GET /patients/<patient_id>/saved-replies": EVERYONE,
    # the patient page: its timeline, and appointment actions (written back to the EHR)
    "GET /patients/<patient_id>/timeline": EVERYONE,
    "POST /appointments/<appointment_id>/<action>": CARE,
    # staff management and the PHI access log
    "GET /staff": ADMIN_ONLY,
    "POST /staff": ADMIN_ONLY,
    "PUT /staff/<username>/role": ADMIN_ONLY,
    "GET /access-log/export.csv": ADMIN_ONLY,
    # the API's OpenAPI document: any signed-in role (it holds no PHI; /api is behind Cognito anyway)
    "GET /openapi.json": EVERYONE,
    # the workflow editor: reading a definition is the desk's (as the list); previews, the dry
    # run (it shows patients' names and texts), undo and test sends are the admin's
    "GET /workflows/<workflow_id>": DESK,
    "GET /workflows/<workflow_id>/changes": DESK,
    "POST /workflows/<workflow_id>/preview": ADMIN_ONLY,
    "POST /workflows/<workflow_id>/undo": ADMIN_ONLY,
    "POST /workflows/<workflow_id>/dry-run": ADMIN_ONLY,
    "POST /workflows/<workflow_id>/test-send": ADMIN_ONLY,
    # analytics: the printable monthly report (the same roles as the rest of analytics)
    "GET /analytics/report": MONEY,
    # rolegaps: the front desk texts a patient their link to move a visit (the patient page)
    "POST /patients/<patient_id>/reschedule-link": DESK,
}

# which team's alerts and tasks a role sees in the inbox; front desk also the unknown numbers
TEAMS_SEEN: dict[str, frozenset[str]] = {
    ADMIN: frozenset({"front_desk", "clinical", "billing"}),
    FRONT_DESK: frozenset({"front_desk"}),
    CLINICAL: frozenset({"clinical"}),
    BILLING: frozenset({"billing"}),
}


def roles_of(claims: dict) -> frozenset[str]:
    """The token's `cognito:groups` that are roles. API Gateway passes the claim as the string
    "[admin front_desk]" or "admin,front_desk"; a JWT decoded locally gives a list."""
    raw = claims.get("cognito:groups") or []
    names: Iterable[str] = re.split(r"[\s,\[\]]+", raw) if isinstance(raw, str) else (str(g) for g in raw)
    return frozenset(n for n in names if n in ROLES)


def route_of(method: str, path: str) -> str | None:
    """The POLICY line ("GET /patients/<patient_id>/messages") a request path matches, if any."""
    for rule, (rule_method, regex) in _compiled().items():
        if rule_method == method.upper() and regex.fullmatch(path):
            return rule
    return None


def allowed_roles(method: str, path: str) -> frozenset[str]:
    """The roles that may call `method path` (path without /api; ADMIN_ONLY when not in POLICY)."""
    rule = route_of(method, path)
    return POLICY[rule] if rule else ADMIN_ONLY


def authorise(method: str, path: str, claims: dict) -> frozenset[str]:
    """The caller's roles when they may call this route; Forbidden naming the roles that may."""
    mine = roles_of(claims)
    allowed = allowed_roles(method, path)
    if not mine & allowed:
        needed = " or ".join(sorted(allowed))
        has = ", ".join(sorted(mine)) or "no role"
        raise Forbidden(f"{method.upper()} {path} needs the role {needed} (you have {has})")
    return mine


def sees_conversation(roles: frozenset[str], team: str | None, unknown_number: bool, urgent: bool = False) -> bool:
    """Whether an inbox conversation is one of these roles' teams': the team of its open alert or
    task (none: the front desk's), and unknown numbers for the front desk. An urgent one is seen
    by the front desk and clinical alike: whoever is at a screen must not miss it."""
    if ADMIN in roles:
        return True
    if urgent and roles & {FRONT_DESK, CLINICAL}:
        return True
    if unknown_number:
        return FRONT_DESK in roles
    seen = frozenset().union(*(TEAMS_SEEN[r] for r in roles)) if roles else frozenset()
    return (team or "front_desk") in seen


@lru_cache(maxsize=1)
def _compiled() -> dict[str, tuple[str, re.Pattern[str]]]:
    out = {}
    for rule in POLICY:
        method, _, route = rule.partition(" ")
        out[rule] = (method, re.compile(re.sub(r"<[^>]+>", "[^/]+", re.escape(route))))
    return out


# ---- rolegaps: what each role sees of a patient (GET /patients and the patient page) ---------------
# Every role finds a patient (the list shows a name, a masked phone and the next visit: billing
# calls about a bill too). The patient page's clinical content (what the patient texted or said
# on a call, the agent's and staff's answers, alerts and tasks) is for the roles that care for the
# patient; billing sees the visits, consent and delivery, and the words only of a conversation its
# inbox shows (routed to billing) or of an alert or task for the billing team.
PATIENT_RECORD = CARE


def sees_patient_words(roles: frozenset[str], team: str | None, urgent: bool = False) -> bool:
    """Whether these roles see every word on a patient's page: the caring roles always, another
    role when the patient's conversation is one its inbox shows."""
    return bool(roles & PATIENT_RECORD) or sees_conversation(roles, team, unknown_number=False, urgent=urgent)


def teams_seen(roles: frozenset[str]) -> frozenset[str]:
    return frozenset().union(*(TEAMS_SEEN[r] for r in roles)) if roles else frozenset()


def may(roles: frozenset[str], rule: str) -> bool:
    """Whether these roles may call a POLICY line ("POST /patients/<patient_id>/consent"): for a
    page to offer only what the API will do."""
    return bool(roles & POLICY.get(rule, ADMIN_ONLY))
