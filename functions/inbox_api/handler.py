"""Staff API (`/api/...`, behind the Cognito authorizer): inbox, threads, replies, patients,
appointments, workflows, analytics. Errors map to HTTP in one place below."""

import base64
import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, TypeVar, cast, get_args
from urllib.parse import unquote

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths

from careloop import api_models as m
from careloop import consent, inbox, roles
from careloop.adapters.aws import services
from careloop.engine.planner import plan_switched_on
from careloop.errors import ConfigError, Conflict, Forbidden, NotFound, PayloadError
from careloop.ports import Services, StaffDirectory
from careloop.settings import get_settings
from careloop.workflows import editor, registry

# No X-Ray SDK (Powertools Tracer): it costs ~150-300 ms of cold start here; the functions
# use Lambda's active tracing instead (see README, "Observability").
logger, metrics = Logger(), Metrics(namespace="Careloop")
_origin = get_settings().web_origin
# validation: each route's path, query and body are checked against its signature (careloop/api_models.py)
# before it runs, and what it answers against its return type; the same declarations are the
# OpenAPI document (GET /api/openapi.json, docs/openapi/staff-api.json)
app = APIGatewayRestResolver(
    strip_prefixes=["/api"],
    cors=CORSConfig(allow_origin=_origin, allow_headers=["Authorization", "Content-Type"], max_age=300) if _origin else None,
    enable_validation=True,
    response_validation_error_http_code=500,
)
CSV: dict[int, OpenAPIResponse] = {200: {"description": "CSV (text/csv), a download", "content": {"text/csv": {"schema": {"type": "string"}}}}}
T = TypeVar("T")


def _claims() -> dict:
    return (app.current_event.request_context.authorizer.claims or {}) if app.current_event.request_context.authorizer else {}


def _as(model: type[T], body: Any) -> T:
    """The core's dict as the route's declared answer: the resolver checks it against `model` on
    the way out (a mismatch is a 500 that names the field, not a silent change)."""
    return cast(T, body)


def _when(name: str) -> Any:
    return Query(alias=name, description="ISO 8601 date or datetime")


@app.get("/me")
def me() -> m.Me:
    """Who is signed in, their roles and the practice."""
    c, p = _claims(), services().practice
    return _as(m.Me, {"username": c.get("cognito:username") or c.get("email", ""), "email": c.get("email", ""),
                      "roles": sorted(roles.roles_of(c)),
                      "practice": {"id": p.id, "name": p.name, "timezone": p.timezone, "phone": p.phone}})


@app.get("/inbox")
def get_inbox(view: Annotated[str, Query(max_length=20, description="all, mine, unassigned or a team (inbox.VIEWS)")] = "all",
              ) -> m.InboxPage:
    """The conversations, each with its team, assignee and unread-for-me; ?view= narrows (inbox.VIEWS)."""
    return _as(m.InboxPage, {"conversations": inbox.inbox_view(services(), _staff(), view or "all")})


@app.get("/patients")
def get_patients(q: Annotated[str, Query(max_length=80, description="A name or any form of phone number")] = "",
                 ) -> m.PatientList:
    """Every patient, or those a search names: by name or any form of phone number (?q=)."""
    return _as(m.PatientList, {"patients": inbox.patients(services(), q)})


@app.get("/patients/<patient_id>/messages")
def get_thread(patient_id: str) -> m.Thread:
    """One conversation: the patient (none for an unknown number), who has it, and its messages."""
    return _as(m.Thread, inbox.thread(services(), patient_id))


@app.post("/patients/<patient_id>/messages", status_code=201)
def post_reply(patient_id: str, reply: m.ReplyRequest) -> Response[m.MessageCreated]:
    """A staff reply, texted to the patient through the same gates as every text."""
    msg = inbox.staff_reply(services(), patient_id, reply.body, _staff(), app.current_event.request_context.request_id)
    return Response(201, "application/json", _as(m.MessageCreated, {"message_id": msg.message_id}))


@app.post("/patients/<patient_id>/resolve")
def post_resolve(patient_id: str) -> m.Resolved:
    """Close the conversation's open alerts and tasks (an urgent one too: this is the explicit close)."""
    return _as(m.Resolved, {"resolved": inbox.resolve(services(), patient_id)})


@app.post("/patients/<patient_id>/hand-back")
def post_hand_back(patient_id: str) -> m.HandedBack:
    """Staff are done with the conversation: the agent answers the patient's next text again."""
    return _as(m.HandedBack, inbox.hand_back(services(), patient_id, _staff()))


@app.post("/patients/<patient_id>/link")
def post_link(patient_id: str, link: m.LinkRequest) -> m.Linked:
    """An unknown number's conversation (`phone:<E.164>`) is this patient's: it moves to their thread."""
    linked = inbox.link_to_patient(services(), patient_id, link.patient_id.strip())
    logger.info("unknown number linked to a patient", extra={"patient_id": linked["patient_id"], "moved": linked["moved"]})
    return _as(m.Linked, linked)


@app.get("/patients/<patient_id>/waitlist")
def get_waitlist(patient_id: str) -> m.WaitlistState:
    """Whether the patient waits for an earlier time, since when and how they asked."""
    from careloop.booking.gaps import waitlist_state

    return _as(m.WaitlistState, waitlist_state(services(), patient_id))


@app.post("/patients/<patient_id>/waitlist")
def post_waitlist(patient_id: str, change: m.WaitlistRequest) -> m.WaitlistState:
    """Staff put a patient on the waitlist for an earlier time (offered when a late cancellation
    frees one), or take them off."""
    from careloop.booking.gaps import staff_set_waitlist

    return _as(m.WaitlistState, staff_set_waitlist(services(), patient_id, change.waitlist, _staff()))


@app.get("/consent/export.csv", responses=CSV)
def get_consent_export():
    """The consent ledger as CSV (admins; the export is written to the access log)."""
    return Response(200, "text/csv", consent.export_csv(services().consent),
                    headers={"Content-Disposition": "attachment; filename=careloop-consent.csv"})


@app.get("/audit", responses={200: {"description": "The report (JSON), or with ?format=csv a CSV download", "content": {
    "application/json": {"model": m.AuditReport}, "text/csv": {"schema": {"type": "string"}}}}})
def get_audit(stale_days: Annotated[int, Query(ge=0, le=36500, description="Days without a visit before a record is stale")] = 180,
              format: Annotated[str, Query(max_length=10, description="csv for a CSV download")] = "json"):  # noqa: A002
    """The data-quality report: what staff should fix in the EHR (JSON, or ?format=csv)."""
    from careloop.audit import audit

    svc = services()
    report = audit(svc.records, svc.clock.now(), stale_days=stale_days, region=svc.practice.sms.country)
    if format == "csv":
        return Response(200, "text/csv", report.to_csv(),
                        headers={"Content-Disposition": "attachment; filename=careloop-audit.csv"})
    return report.to_json()


@app.get("/appointments")
def get_appointments(start: Annotated[datetime | None, _when("from")] = None,
                     end: Annotated[datetime | None, _when("to")] = None) -> m.AppointmentList:
    """The appointments starting in [from, to)."""
    return _as(m.AppointmentList, {"appointments": inbox.appointments(services(), start, end)})


@app.get("/workflows")
def get_workflows() -> m.WorkflowList:
    """The practice's workflows, each step in words."""
    return _as(m.WorkflowList, {"workflows": inbox.workflows(services())})


@app.post("/workflows/<workflow_id>/enabled")
def post_enabled(workflow_id: str, switch: m.EnableRequest) -> m.Workflow:
    """Switch a workflow on or off (with why, kept in its history)."""
    svc = services()
    workflow = registry.set_enabled(svc.configs, workflow_id, switch.enabled, _staff(), switch.why, svc.clock.now())
    _refresh(svc)
    plan_switched_on(svc, workflow, svc.clock.now())  # appointments already booked get their steps
    return _as(m.Workflow, inbox.workflow_view(workflow))


@app.put("/workflows/<workflow_id>", responses={
    200: {"description": "The saved workflow", "content": {"application/json": {"model": m.Workflow}}},
    422: {"description": "The definition is not a valid workflow", "content": {"application/json": {"model": m.ErrorAnswer}}}})
def put_workflow(workflow_id: str, save: m.WorkflowSave) -> m.Workflow:
    """A new version of a workflow (a 422 says what is wrong with the definition)."""
    if save.workflow.get("id") != workflow_id:
        raise PayloadError("workflow: a definition whose id matches the URL is required")
    svc = services()
    workflow = registry.save(svc.configs, save.workflow, _staff(), save.why, svc.clock.now())
    _refresh(svc)
    plan_switched_on(svc, workflow, svc.clock.now())
    return _as(m.Workflow, inbox.workflow_view(workflow))


@app.get("/workflows/<workflow_id>/history")
def get_history(workflow_id: str) -> m.WorkflowHistory:
    """The workflow's definition now, then its earlier versions."""
    return _as(m.WorkflowHistory, {"versions": registry.history(services().configs, workflow_id)})


def _staff() -> str:
    return _claims().get("email") or _claims().get("cognito:username") or "staff"


def _refresh(svc: Services) -> None:
    invalidate = getattr(svc.workflow_source, "invalidate", None)
    if invalidate:
        invalidate()


@app.get("/analytics/summary")
def get_analytics(start: Annotated[datetime | None, _when("from")] = None,
                  end: Annotated[datetime | None, _when("to")] = None,
                  bucket: Annotated[str, Query(max_length=10, description="day or week: the series over time")] = "day",
                  ) -> dict[str, Any]:
    """The period's analytics over [from, to) (default: 30 days): tiles, series, rates, versions, ROI."""
    return inbox.analytics(services(), start, end, bucket)


@app.get("/analytics/export.csv", responses=CSV)
def get_export(start: Annotated[datetime | None, _when("from")] = None,
               end: Annotated[datetime | None, _when("to")] = None,
               bucket: Annotated[str, Query(max_length=10)] = "day",
               table: Annotated[str | None, Query(max_length=40, description="One table (careloop.analytics.tables)")] = None):
    """Every analytics table as CSV, or the one named, with the definitions of its columns."""
    body = inbox.analytics_csv(inbox.analytics(services(), start, end, bucket), table)
    name = f"careloop-analytics-{table}.csv" if table else "careloop-analytics.csv"  # a known table: checked above
    return Response(200, "text/csv", body, headers={"Content-Disposition": f"attachment; filename={name}"})


# ---- online booking requests (request mode): the front desk confirms or declines -----------------


@app.post("/booking-requests/<appointment_id>/<decision>")
def post_booking_request(appointment_id: str, decision: str) -> m.BookingDecided:
    """Confirm (booked, "you're booked" text) or decline (cancelled, a link to pick another time)
    a pending online booking; staff and appointment ids go to the log, never the patient."""
    from careloop.booking import requests

    if decision not in ("confirm", "decline"):
        raise NotFound(f"no booking-request action {decision[:40]!r}: confirm or decline")
    act = requests.confirm if decision == "confirm" else requests.decline
    appointment = act(services(), appointment_id, _staff())
    logger.info("online booking request decided", extra={"appointment_id": appointment.id, "decision": decision,
                                                         "staff": _staff()})
    return _as(m.BookingDecided, {"appointment": {
        "id": appointment.id, "status": appointment.status, "start": appointment.start.isoformat(),
        "provider": appointment.provider, "location": appointment.location}})


# ---- roles, staff accounts and the PHI access log (careloop/roles.py is the policy) --------------
# One check in front of every route (_authorised, a resolver middleware): the token's
# cognito:groups against roles.POLICY, a 403 naming the role needed; PHI reads and exports are
# written to the access log before they are served.

# POLICY line -> access-log action, for the routes that show a patient's PHI or export data
PHI_ACCESS = {
    "GET /patients/<patient_id>/messages": "open_thread",
    "GET /patients/<patient_id>": "open_patient",
    "GET /patients/<patient_id>/timeline": "open_patient",
    "GET /consent/export.csv": "export",
    "GET /analytics/export.csv": "export",
    "GET /audit": "export",
    "GET /access-log/export.csv": "export",
    "POST /workflows/<workflow_id>/dry-run": "export",  # lists patients' names and the texts they would get
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _gate() -> tuple[frozenset[str], str | None, str]:
    """The caller's roles, the POLICY line and the path, when they may call it (else Forbidden)."""
    event = app.current_event
    method, path = event.http_method, event.path.removeprefix("/api") or "/"
    if any(len(part) > MAX_PATH_PART for part in path.split("/")):
        # ids become table keys, which DynamoDB refuses past 1-2 KB (a 500): no id is this long
        raise PayloadError(f"path: a part longer than {MAX_PATH_PART} characters is no id")
    mine = roles.authorise(method, path, _claims())
    rule = roles.route_of(method, path)
    if rule in THREAD_RULES and roles.ADMIN not in mine:
        _check_thread_team(mine, unquote(path.split("/")[2]))
    return mine, rule, path


def _authorised(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    mine, rule, path = _gate()
    if rule in PHI_ACCESS:
        _log_access(PHI_ACCESS[rule], rule, path)
    response = next_middleware(app)
    if rule == "GET /inbox" and isinstance(response.body, dict):
        # each role sees its team's conversations; the API, not the web app, is the gate
        # (and the conversations assigned to the caller, whichever team's: a colleague was asked to take it)
        response.body["conversations"] = [
            c for c in response.body.get("conversations", [])
            if roles.sees_conversation(mine, c.get("team"), str(c.get("patient_id", "")).startswith("phone:"),
                                       urgent=c.get("priority") == "urgent") or c.get("assignee") == _staff()]
    return response


MAX_PATH_PART = 256

# the routes that open or act on one conversation: a role may use them only on its teams' threads,
# as the inbox list shows them (an urgent one: the front desk and clinical alike)
THREAD_RULES = frozenset({
    "GET /patients/<patient_id>/messages", "POST /patients/<patient_id>/messages",
    "POST /patients/<patient_id>/resolve", "POST /patients/<patient_id>/hand-back",
    "POST /patients/<patient_id>/assign", "POST /patients/<patient_id>/notes",
    "POST /patients/<patient_id>/read", "GET /patients/<patient_id>/saved-replies",
})


def _check_thread_team(mine: frozenset[str], key: str) -> None:
    msgs = services().inbox.thread(key)
    team = inbox.conversation_team(msgs)
    urgent = any(m.priority == "urgent" and m.kind in inbox.STAFF_ITEM_KINDS and str(m.status) != "done" for m in msgs)
    if not roles.sees_conversation(mine, team, key.startswith("phone:"), urgent=urgent) and not _assigned_to_me(key):
        whose = "an unknown number's" if key.startswith("phone:") else f"the {(team or 'front_desk').replace('_', ' ')} team's"
        raise Forbidden(f"this conversation is {whose}; your role ({', '.join(sorted(mine))}) does not see it")


def _assigned_to_me(key: str) -> bool:
    """A conversation assigned to the caller is theirs to open, whichever team's it is."""
    return (inbox.assignments(services()).get(key) or {}).get("assignee") == _staff()


def _log_access(action: str, rule: str, path: str) -> None:
    from careloop.audit import access_entry, record_access

    svc = services()
    if svc.access_log is None:
        return
    # opened: the patient id (or phone:<E.164>); exported: what, and in which form
    subject = unquote(path.split("/")[2]) if action != "export" else path
    fmt = app.current_event.get_query_string_value("format") or ""
    detail = f"format={fmt[:10]}" if fmt else ""
    record_access(svc.access_log, access_entry(svc.clock.now(), _staff(), action, subject,
                                               app.current_event.request_context.request_id, detail))


def _directory() -> StaffDirectory:
    staff = services().staff
    if staff is None:
        raise PayloadError("staff management is not configured here")
    return staff


@app.get("/staff")
def get_staff() -> m.StaffDirectory:
    """The staff accounts and their roles, and the roles there are (admins)."""
    return _as(m.StaffDirectory, {"staff": _directory().list_staff(),
                                  "roles": [{"id": r, "label": roles.ROLE_LABELS[r]} for r in roles.ROLES]})


@app.post("/staff", status_code=201)
def post_staff(invite: m.InviteRequest) -> Response[m.StaffMember]:
    """Invite a staff member: a Cognito account (its invitation email) in the role's group."""
    email = invite.email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise PayloadError("email: the new staff member's email address is required")
    invited = _directory().invite(email, invite.role)
    logger.info("staff invited", extra={"by": _staff(), "role": invited["roles"][0]})
    return Response(201, "application/json", _as(m.StaffMember, invited))


@app.put("/staff/<username>/role")
def put_staff_role(username: str, change: m.RoleRequest) -> m.RoleChanged:
    """Give a staff member one role, the new one (admins)."""
    changed = _directory().set_role(username, change.role)
    logger.info("staff role changed", extra={"by": _staff(), "role": change.role})
    return _as(m.RoleChanged, changed)


@app.get("/access-log/export.csv", responses=CSV)
def get_access_log():
    """The PHI access log as CSV: who opened which patient or thread, who exported what (admins)."""
    from careloop.audit import access_log_csv

    log = services().access_log
    body = access_log_csv(log.access_entries() if log else [])
    return Response(200, "text/csv", body,
                    headers={"Content-Disposition": "attachment; filename=careloop-access-log.csv"})


@app.exception_handler(Forbidden)
def forbidden(exc: Forbidden):
    return Response(403, "application/json", {"message": str(exc)})


# ---- inbox2: assignment, internal notes, unread markers, saved replies --------------------------------


@app.get("/assignees")
def get_assignees() -> m.StaffList:
    """Who a conversation can be assigned to, and who is asking (for "Mine")."""
    return _as(m.StaffList, {"me": _staff(), "staff": inbox.staff_users(services(), _staff())})


@app.post("/patients/<patient_id>/assign")
def post_assign(patient_id: str, assign: m.AssignRequest) -> m.Assigned:
    """Assign the conversation to a staff user (`{"assignee": "<user>"}`) or unassign (`null`)."""
    assignee = assign.assignee
    if assignee is not None and not assignee.strip():
        raise PayloadError("assignee: a staff user, or null to unassign")
    assigned = inbox.assign(services(), patient_id, assignee, _staff())
    logger.info("conversation assigned", extra={"patient_id": patient_id[:40] if not patient_id.startswith("phone:") else "phone",
                                                 "assigned": assignee is not None})
    return _as(m.Assigned, assigned)


@app.post("/patients/<patient_id>/notes", status_code=201)
def post_note(patient_id: str, note: m.NoteRequest) -> Response[m.MessageCreated]:
    """An internal note on the thread: staff-only, never sent to the patient."""
    added = inbox.add_note(services(), patient_id, note.body, _staff(), app.current_event.request_context.request_id)
    return Response(201, "application/json", _as(m.MessageCreated, {"message_id": added.message_id}))


@app.post("/patients/<patient_id>/read")
def post_read(patient_id: str) -> m.ReadMark:
    """The signed-in staff user opened this conversation: it is no longer unread for them."""
    return _as(m.ReadMark, inbox.mark_read(services(), patient_id, _staff()))


@app.get("/patients/<patient_id>/saved-replies")
def get_saved_replies(patient_id: str) -> m.SavedReplies:
    """The saved replies, filled in for this patient and in their language."""
    return _as(m.SavedReplies, inbox.saved_replies(services(), patient_id))


# ---- end inbox2 -----------------------------------------------------------------------------------


# ---- the patient page: timeline, appointment actions, consent changed by staff ------------------


@app.get("/patients/<patient_id>/timeline")
def get_patient_timeline(patient_id: str) -> m.PatientTimeline:
    """Texts, calls, appointments, consent and delivery, newest first, and the data-quality findings,
    as the caller's role may see them (careloop.roles.sees_patient_words: billing not another team's words)."""
    from careloop import patients

    return _as(m.PatientTimeline, patients.timeline(services(), patient_id, roles.roles_of(_claims())))


@app.post("/appointments/<appointment_id>/<action>")
def post_appointment_action(appointment_id: str, action: str) -> m.AppointmentDone:
    """confirm | cancel | noshow | fulfilled, by staff: stored, told to the EHR where it allows,
    the planner reacting (a no-show starts no-show recovery)."""
    from careloop import patients

    done = patients.appointment_action(services(), appointment_id, action, _staff())
    logger.info("appointment action by staff", extra={"appointment_id": done["appointment"]["id"], "action": action,
                                                      "changed": done["changed"]})
    return _as(m.AppointmentDone, done)


@app.post("/patients/<patient_id>/consent")
def post_consent(patient_id: str, change: m.ConsentRequest) -> m.ConsentChanged:
    """Staff record a consent change the patient made another way (a call, a form), with a note;
    an opt-in only with the patient's documented consent."""
    from careloop import patients

    return _as(m.ConsentChanged, patients.staff_consent(services(), patient_id, change.model_dump(), _staff()))


# ---- end of the patient page ---------------------------------------------------------------------


# ---- the OpenAPI document of this API (docs/openapi/staff-api.json; `make openapi`) ------------------


@app.get("/openapi.json", include_in_schema=False)
def get_openapi():
    """This API's OpenAPI 3.1 document, generated from the routes and careloop/api_models.py."""
    return Response(200, "application/json", openapi_document())


# The routes whose core raises Conflict (a 409): a stale version, a state the action does not
# apply to, a compare-and-set lost to another writer, a Cognito account that exists already
CONFLICTS = frozenset({
    "POST /staff", "PUT /workflows/{workflow_id}", "POST /workflows/{workflow_id}/enabled",
    "POST /workflows/{workflow_id}/undo", "POST /patients/{patient_id}/link", "POST /patients/{patient_id}/assign",
    "POST /patients/{patient_id}/read", "POST /patients/{patient_id}/consent", "POST /patients/{patient_id}/waitlist",
    "POST /patients/{patient_id}/reschedule-link", "POST /appointments/{appointment_id}/{action}",
    "POST /booking-requests/{appointment_id}/{decision}",
})


@lru_cache(maxsize=1)  # the routes do not change once the module is loaded
def openapi_document() -> dict[str, Any]:
    """The document: Powertools' from the route signatures, each operation described by its
    docstring, and the answers this API gives that Powertools does not know (400 for a field its
    declaration refuses, 403 for a role that may not, 409 and 415 below)."""
    import inspect

    from aws_lambda_powertools.event_handler.openapi.models import Server

    for route in app._static_routes + app._dynamic_routes:
        doc = inspect.getdoc(route.func) or ""
        route.summary = route.summary or (doc.split("\n\n")[0].replace("\n", " ") if doc else None)
        route.description = route.description or (doc or None)
    document: dict[str, Any] = json.loads(app.get_openapi_json_schema(
        title="Careloop staff API", version="1",
        description="The staff web app's API, behind the Cognito authorizer: every route needs a role "
                    "(careloop/roles.py POLICY). Errors are {\"message\": ...} naming the field first.",
        servers=[Server(url="/api")]))
    error = {"$ref": "#/components/schemas/ErrorAnswer"}
    for path, methods in document.get("paths", {}).items():
        for method, operation in methods.items():
            answers = operation.setdefault("responses", {})
            if f"{method.upper()} {path}" in CONFLICTS:
                answers.setdefault("409", {"description": "The change conflicts with the current state, or with "
                                                          "another made at the same moment (named in message)",
                                           "content": {"application/json": {"schema": error}}})
            if method.upper() in BODY_METHODS:
                answers.setdefault("415", {"description": "The body is not JSON (Content-Type)",
                                           "content": {"application/json": {"schema": error}}})
            if answers.get("422", {}).get("description") == "Validation Error":  # Powertools' own: ours is a 400
                del answers["422"]
            answers.setdefault("400", {"description": "A field is missing or wrong (named in message and errors)",
                                       "content": {"application/json": {"schema": error}}})
            answers.setdefault("403", {"description": "The caller's role may not use this route",
                                       "content": {"application/json": {"schema": error}}})
            if "{" in operation.get("operationId", "") or any(p.get("in") == "path" for p in operation.get("parameters", [])):
                answers.setdefault("404", {"description": "Not found", "content": {"application/json": {"schema": error}}})
            if "500" in answers:
                answers["500"] = {"description": "The answer did not match its declaration (a bug)",
                                  "content": {"application/json": {"schema": error}}}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    schemas.update(m.ErrorAnswer.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {}))
    schemas["ErrorAnswer"] = {k: v for k, v in m.ErrorAnswer.model_json_schema(
        ref_template="#/components/schemas/{model}").items() if k != "$defs"}
    return document


# ---- end of the OpenAPI document ------------------------------------------------------------------


# ---- the workflow editor: definition, live preview, diffs, undo, dry run, test send -------------
# (careloop/workflows/editor.py and dryrun.py; every route admin only in roles.POLICY)


@app.get("/workflows/<workflow_id>")
def get_workflow(workflow_id: str) -> dict[str, Any]:
    """One workflow for the editor: its card, its stored definition, what a template and a
    condition may name, and the test contacts a test send may go to."""
    from careloop.templates import FIELDS
    from careloop.workflows.model import Condition

    svc = services()
    workflow = svc.workflow(workflow_id)
    if workflow is None:
        raise NotFound(f"workflow {workflow_id} not found")
    condition = Condition.model_fields
    return {"workflow": inbox.workflow_view(workflow, svc.workflows), "definition": workflow.model_dump(mode="json"),
            "template_fields": sorted(FIELDS), "condition_fields": list(get_args(condition["field"].annotation)),
            "condition_ops": list(get_args(condition["op"].annotation)),
            "test_contacts": list(svc.practice.test_contacts), "part_budget": editor.PART_BUDGET}


@app.post("/workflows/<workflow_id>/preview")
def post_workflow_preview(workflow_id: str, req: m.PreviewRequest) -> dict[str, Any]:
    """Each step's text as the dispatcher would render it for a sample (or named) patient, en and
    es, with its SMS parts and encoding; `valid`/`error` say whether the definition can be saved."""
    svc = services()
    return editor.preview(svc, workflow_id, req.definition, req.patient_id, svc.clock.now())


@app.get("/workflows/<workflow_id>/changes")
def get_workflow_changes(workflow_id: str) -> dict[str, Any]:
    """Every version, newest first, with who, when, why and the field-level diff from the one before."""
    return {"versions": editor.history_with_diffs(services().configs, workflow_id)}


@app.post("/workflows/<workflow_id>/undo")
def post_workflow_undo(workflow_id: str, req: m.UndoRequest) -> m.Workflow:
    """The version before the latest is restored as a new version ("undo of vN"), switch state too."""
    svc = services()
    workflow = editor.undo(svc.configs, workflow_id, req.version, _staff(), svc.clock.now())
    _refresh(svc)
    plan_switched_on(svc, workflow, svc.clock.now())
    logger.info("workflow change undone", extra={"workflow": workflow.id, "version": workflow.version})
    return _as(m.Workflow, inbox.workflow_view(workflow))


@app.post("/workflows/<workflow_id>/dry-run")
def post_workflow_dry_run(workflow_id: str, req: m.DryRunRequest) -> dict[str, Any]:
    """Who would get what in the next `days` (at most 14) if this definition went live: the core
    planner and dispatcher over a read-only copy of the schedule; nothing is sent or written."""
    from careloop.workflows.dryrun import dry_run

    svc = services()
    report = dry_run(svc, workflow_id, req.definition, req.days, svc.clock.now())
    logger.info("workflow dry run", extra={"workflow": workflow_id, "days": req.days, "rows": report["total"]})
    return report


@app.post("/workflows/<workflow_id>/test-send", status_code=202)
def post_workflow_test_send(workflow_id: str, req: m.TestSendRequest) -> Response[m.SentForTest]:
    """One step's text, rendered for the sample patient, through the real send path to a number on
    the practice's test-contacts list, filed as a test (analytics and the inbox leave it out)."""
    svc = services()
    msg = editor.test_send(svc, workflow_id, req.definition, req.step, req.language, req.phone, _staff(),
                           app.current_event.request_context.request_id, svc.clock.now())
    logger.info("workflow test send", extra={"workflow": workflow_id, "step": req.step, "message_id": msg.message_id})
    return Response(202, "application/json", _as(m.SentForTest, {"message_id": msg.message_id, "body": msg.body,
                                                                  "to": msg.phone, "status": str(msg.status)}))


# ---- end of the workflow editor -------------------------------------------------------------------


# ---- analytics: the printable monthly report (issue 14, item 6; careloop/analytics/) ---------------


@app.get("/analytics/report", responses={200: {"description": "The printable report", "content": {"text/html": {}}}})
def get_analytics_report(month: Annotated[str | None, Query(max_length=10, description="YYYY-MM")] = None):
    """The month's report for leadership as one printable HTML page (?month=YYYY-MM, on the
    practice's calendar; the last whole month by default): tiles, charts, tables, ROI, definitions."""
    from careloop.analytics import report

    svc = services()
    now = svc.clock.now()
    month = month or _last_month(now.astimezone(svc.practice.zone))
    start, end = report.month_period(month[:10], svc.practice)
    html = report.render(inbox.analytics(svc, start, end), svc.practice, month, now)
    return Response(200, "text/html; charset=utf-8", html,
                    headers={"Content-Disposition": f'inline; filename="careloop-report-{start:%Y-%m}.html"'})


def _last_month(local_now: datetime) -> str:
    first = local_now.replace(day=1)
    return f"{first.year - (first.month == 1)}-{(first.month - 2) % 12 + 1:02d}"


# ---- end analytics ---------------------------------------------------------------------------------


# ---- rolegaps: rescheduling from the patient page ------------------------------------------------


@app.post("/patients/<patient_id>/reschedule-link")
def post_reschedule_link(patient_id: str, request: m.RescheduleLinkRequest) -> m.RescheduleLinkSent:
    """Text the patient their own link to pick a new time for a visit (sent as a staff reply: the
    same gates, and it shows in the thread); the link books the new time and cancels the old."""
    from careloop import patients

    sent = patients.send_reschedule_link(services(), patient_id, request.appointment_id, _staff(),
                                         app.current_event.request_context.request_id)
    logger.info("reschedule link sent by staff", extra={"appointment_id": sent["appointment_id"], "staff": _staff()})
    return _as(m.RescheduleLinkSent, {"message_id": sent["message_id"], "appointment_id": sent["appointment_id"]})


# ---- end rolegaps ---------------------------------------------------------------------------------


app.use(middlewares=[_authorised])


@app.exception_handler(NotFound)
def not_found(exc: NotFound):
    return Response(404, "application/json", {"message": str(exc)})


@app.exception_handler(PayloadError)
def bad_request(exc: PayloadError):
    return Response(400, "application/json", {"message": str(exc)})


@app.exception_handler(RecursionError)
def too_deep(exc: RecursionError):
    """A body nested deeper than the JSON decoder goes (the validation reads it before any route)."""
    return Response(400, "application/json", {"message": "body: nested too deep to be a request"})


@app.exception_handler(ConfigError)
def invalid_workflow(exc: ConfigError):
    return Response(422, "application/json", {"message": str(exc)})


@app.exception_handler(Conflict)
def conflict(exc: Conflict):
    return Response(409, "application/json", {"message": str(exc)})


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError):
    """A request its route's declaration refuses: a 400 naming each field, like PayloadError. The
    resolver validates before the middleware runs, so the role check comes first here: a caller
    without the role learns nothing about the route's fields."""
    try:
        _gate()
    except Forbidden as denied:
        return forbidden(denied)
    problems = [_problem(e) for e in exc.errors()]
    message = "; ".join(f"{p['field'].partition('.')[2] or p['field']}: {p['problem']}" for p in problems)
    return Response(400, "application/json", {"message": message, "errors": problems})


@app.exception_handler(ResponseValidationError)
def invalid_answer(exc: ResponseValidationError):
    """The route's answer does not match its declared model: a bug here, told without the body (PHI)."""
    fields = sorted({".".join(str(x) for x in e.get("loc", ())) for e in exc.errors()})[:10]
    logger.error("answer does not match its declared model", extra={"fields": fields, "route": app.current_event.path})
    return Response(500, "application/json", {"message": "the server's answer did not match its declaration"})


def _problem(error: dict[str, Any]) -> dict[str, str]:
    """One pydantic error as the field ("body.email", "query.from") and the problem in words;
    never the value sent (it may be PHI)."""
    loc = [str(x) for x in error.get("loc", ())]
    where = loc[0] if loc else "body"
    rest = [x for x in loc[1:] if not x.isdigit() or error.get("type") != "json_invalid"]
    field = ".".join([where, *rest]) if rest else where
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    problem = {
        "missing": "required",
        "json_invalid": "not valid JSON",
        "model_attributes_type": "must be a JSON object",
        "dict_type": "must be a JSON object",
        "bool_type": "must be true or false",
        "string_type": "must be text",
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "string_too_long": f"at most {ctx.get('max_length')} characters",
        "string_too_short": f"at least {ctx.get('min_length')} characters",
        "string_pattern_mismatch": "not in the expected form",
        "literal_error": f"one of {str(ctx.get('expected', '')).replace(chr(39), '').replace(' or ', ', ')}",
        "greater_than_equal": f"at least {ctx.get('ge')}",
        "less_than_equal": f"at most {ctx.get('le')}",
    }.get(kind, str(error.get("msg") or kind).lower())
    if kind.startswith("datetime") or kind.startswith("date_"):
        problem = "not an ISO 8601 date or datetime"
    return {"field": field, "problem": problem}


# ---- bodies this API cannot read, refused before the resolver (found by schemathesis) -----------
# Powertools' validation parses a body by its Content-Type before any route or exception handler:
# multipart without a boundary raises ValueError, and a base64 body (API Gateway's encoding of
# bytes that are not text) is decoded as UTF-8 unchecked; both escaped as a 500 (a 502 in AWS).

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON_TYPE = "application/json"


def _header(event: dict, name: str) -> str:
    headers = event.get("headers") or {}
    return next((str(v) for k, v in headers.items() if k.lower() == name), "")


def _unreadable_body(event: dict) -> tuple[int, str] | None:
    """415 for a request body that is not JSON (the staff API takes nothing else), 400 for one
    whose bytes are not UTF-8 text; None for a body the resolver can read."""
    if event.get("httpMethod") not in BODY_METHODS:
        return None
    kind = _header(event, "content-type").split(";", 1)[0].strip().lower()
    if kind and kind != JSON_TYPE:
        return 415, f"Content-Type: {kind[:60]} is not taken here; send {JSON_TYPE}"
    if event.get("isBase64Encoded") and event.get("body"):
        try:
            base64.b64decode(event["body"], validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
            return 400, "body: not UTF-8 text"
    return None


def _refusal(status: int, message: str) -> dict:
    headers = {"Content-Type": JSON_TYPE} | ({"Access-Control-Allow-Origin": _origin} if _origin else {})
    return {"statusCode": status, "headers": headers, "body": json.dumps({"message": message})}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event, context):
    refused = _unreadable_body(event)
    if refused is not None:
        return _refusal(*refused)
    return app.resolve(event, context)
