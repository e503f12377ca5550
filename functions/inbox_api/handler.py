"""Staff API (`/api/...`, behind the Cognito authorizer): inbox, threads, replies, patients,
appointments, workflows, analytics. Errors map to HTTP in one place below."""

import re
from datetime import datetime
from typing import TypedDict
from urllib.parse import unquote

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from careloop import consent, inbox, roles
from careloop.adapters.aws import services
from careloop.engine.planner import plan_switched_on
from careloop.errors import ConfigError, Conflict, Forbidden, NotFound, PayloadError
from careloop.ports import Services, StaffDirectory
from careloop.settings import get_settings
from careloop.workflows import registry

# No X-Ray SDK (Powertools Tracer): it costs ~150-300 ms of cold start here; the functions
# use Lambda's active tracing instead (see README, "Observability").
logger, metrics = Logger(), Metrics(namespace="Careloop")
_origin = get_settings().web_origin
app = APIGatewayRestResolver(
    strip_prefixes=["/api"],
    cors=CORSConfig(allow_origin=_origin, allow_headers=["Authorization", "Content-Type"], max_age=300) if _origin else None,
)


def _claims() -> dict:
    return (app.current_event.request_context.authorizer.claims or {}) if app.current_event.request_context.authorizer else {}


def _when(name: str) -> datetime | None:
    raw = app.current_event.get_query_string_value(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequestError(f"{name}: not an ISO 8601 datetime") from exc


@app.get("/me")
def me():
    c, p = _claims(), services().practice
    return {"username": c.get("cognito:username") or c.get("email", ""), "email": c.get("email", ""),
            "roles": sorted(roles.roles_of(c)),
            "practice": {"id": p.id, "name": p.name, "timezone": p.timezone, "phone": p.phone}}


@app.get("/inbox")
def get_inbox():
    """The conversations, each with its team, assignee and unread-for-me; ?view= narrows (inbox.VIEWS)."""
    view = app.current_event.get_query_string_value("view") or "all"
    return {"conversations": inbox.inbox_view(services(), _staff(), view[:20])}


@app.get("/patients")
def get_patients():
    """Every patient, or those a search names: by name or any form of phone number (?q=)."""
    query = (app.current_event.get_query_string_value("q") or "")[:80]
    return {"patients": inbox.patients(services(), query)}


@app.get("/patients/<patient_id>/messages")
def get_thread(patient_id: str):
    return inbox.thread(services(), patient_id)


@app.post("/patients/<patient_id>/messages")
def post_reply(patient_id: str):
    body = (app.current_event.json_body or {}).get("body", "")
    msg = inbox.staff_reply(services(), patient_id, body, _staff(), app.current_event.request_context.request_id)
    return Response(201, "application/json", {"message_id": msg.message_id})


@app.post("/patients/<patient_id>/resolve")
def post_resolve(patient_id: str):
    return {"resolved": inbox.resolve(services(), patient_id)}


@app.post("/patients/<patient_id>/hand-back")
def post_hand_back(patient_id: str):
    """Staff are done with the conversation: the agent answers the patient's next text again."""
    return inbox.hand_back(services(), patient_id, _staff())


@app.post("/patients/<patient_id>/link")
def post_link(patient_id: str):
    """An unknown number's conversation (`phone:<E.164>`) is this patient's: it moves to their thread."""
    target = (app.current_event.json_body or {}).get("patient_id")
    if not isinstance(target, str) or not target.strip():
        raise PayloadError("patient_id: the patient this number's conversation belongs to is required")
    linked = inbox.link_to_patient(services(), patient_id, target.strip())
    logger.info("unknown number linked to a patient", extra={"patient_id": linked["patient_id"], "moved": linked["moved"]})
    return linked


@app.get("/patients/<patient_id>/waitlist")
def get_waitlist(patient_id: str):
    from careloop.booking.gaps import waitlist_state

    return waitlist_state(services(), patient_id)


@app.post("/patients/<patient_id>/waitlist")
def post_waitlist(patient_id: str):
    """Staff put a patient on the waitlist for an earlier time (offered when a late cancellation
    frees one), or take them off."""
    from careloop.booking.gaps import staff_set_waitlist

    body = app.current_event.json_body or {}
    if not isinstance(body.get("waitlist"), bool):
        raise PayloadError("waitlist: true or false is required")
    return staff_set_waitlist(services(), patient_id, body["waitlist"], _staff())


@app.get("/consent/export.csv")
def get_consent_export():
    return Response(200, "text/csv", consent.export_csv(services().consent),
                    headers={"Content-Disposition": "attachment; filename=careloop-consent.csv"})


@app.get("/audit")
def get_audit():
    """The data-quality report: what staff should fix in the EHR (JSON, or ?format=csv)."""
    from careloop.audit import audit

    svc = services()
    raw = app.current_event.get_query_string_value("stale_days") or "180"
    if not raw.isdigit():
        raise PayloadError("stale_days: a whole number of days")
    report = audit(svc.records, svc.clock.now(), stale_days=int(raw), region=svc.practice.sms.country)
    if app.current_event.get_query_string_value("format") == "csv":
        return Response(200, "text/csv", report.to_csv(),
                        headers={"Content-Disposition": "attachment; filename=careloop-audit.csv"})
    return report.to_json()


@app.get("/appointments")
def get_appointments():
    return {"appointments": inbox.appointments(services(), _when("from"), _when("to"))}


@app.get("/workflows")
def get_workflows():
    return {"workflows": inbox.workflows(services())}


@app.post("/workflows/<workflow_id>/enabled")
def post_enabled(workflow_id: str):
    body = app.current_event.json_body or {}
    if not isinstance(body.get("enabled"), bool):
        raise PayloadError("enabled: true or false is required")
    svc = services()
    workflow = registry.set_enabled(svc.configs, workflow_id, body["enabled"], _staff(), body.get("why", ""), svc.clock.now())
    _refresh(svc)
    plan_switched_on(svc, workflow, svc.clock.now())  # appointments already booked get their steps
    return inbox.workflow_view(workflow)


@app.put("/workflows/<workflow_id>")
def put_workflow(workflow_id: str):
    body = app.current_event.json_body or {}
    definition = body.get("workflow")
    if not isinstance(definition, dict) or definition.get("id") != workflow_id:
        raise PayloadError("workflow: a definition whose id matches the URL is required")
    svc = services()
    workflow = registry.save(svc.configs, definition, _staff(), body.get("why", ""), svc.clock.now())
    _refresh(svc)
    plan_switched_on(svc, workflow, svc.clock.now())
    return inbox.workflow_view(workflow)


@app.get("/workflows/<workflow_id>/history")
def get_history(workflow_id: str):
    return {"versions": registry.history(services().configs, workflow_id)}


def _staff() -> str:
    return _claims().get("email") or _claims().get("cognito:username") or "staff"


def _refresh(svc: Services) -> None:
    invalidate = getattr(svc.workflow_source, "invalidate", None)
    if invalidate:
        invalidate()


@app.get("/analytics/summary")
def get_analytics():
    return inbox.analytics(services(), _when("from"), _when("to"))


@app.get("/analytics/export.csv")
def get_export():
    body = inbox.analytics_csv(inbox.analytics(services(), _when("from"), _when("to")))
    return Response(200, "text/csv", body, headers={"Content-Disposition": "attachment; filename=careloop-analytics.csv"})


# ---- online booking requests (request mode): the front desk confirms or declines -----------------


@app.post("/booking-requests/<appointment_id>/<decision>")
def post_booking_request(appointment_id: str, decision: str):
    """Confirm (booked, "you're booked" text) or decline (cancelled, a link to pick another time)
    a pending online booking; staff and appointment ids go to the log, never the patient."""
    from careloop.booking import requests

    if decision not in ("confirm", "decline"):
        raise NotFound(f"no booking-request action {decision[:40]!r}: confirm or decline")
    act = requests.confirm if decision == "confirm" else requests.decline
    appointment = act(services(), appointment_id, _staff())
    logger.info("online booking request decided", extra={"appointment_id": appointment.id, "decision": decision,
                                                         "staff": _staff()})
    return {"appointment": {"id": appointment.id, "status": appointment.status, "start": appointment.start.isoformat(),
                            "provider": appointment.provider, "location": appointment.location}}


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
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _authorised(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    event = app.current_event
    method, path = event.http_method, event.path.removeprefix("/api") or "/"
    mine = roles.authorise(method, path, _claims())
    rule = roles.route_of(method, path)
    if rule in THREAD_RULES and roles.ADMIN not in mine:
        _check_thread_team(mine, unquote(path.split("/")[2]))
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


def _role_in(body: dict) -> str:
    role = body.get("role")
    if role not in roles.ROLES:
        raise PayloadError(f"role: one of {', '.join(roles.ROLES)}")
    return str(role)


@app.get("/staff")
def get_staff():
    return {"staff": _directory().list_staff(),
            "roles": [{"id": r, "label": roles.ROLE_LABELS[r]} for r in roles.ROLES]}


@app.post("/staff")
def post_staff():
    """Invite a staff member: a Cognito account (its invitation email) in the role's group."""
    body = app.current_event.json_body or {}
    email = str(body.get("email", "")).strip().lower()
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise PayloadError("email: the new staff member's email address is required")
    invited = _directory().invite(email, _role_in(body))
    logger.info("staff invited", extra={"by": _staff(), "role": invited["roles"][0]})
    return Response(201, "application/json", invited)


@app.put("/staff/<username>/role")
def put_staff_role(username: str):
    role = _role_in(app.current_event.json_body or {})
    changed = _directory().set_role(username, role)
    logger.info("staff role changed", extra={"by": _staff(), "role": role})
    return changed


@app.get("/access-log/export.csv")
def get_access_log():
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
def get_assignees():
    """Who a conversation can be assigned to, and who is asking (for "Mine")."""
    return {"me": _staff(), "staff": inbox.staff_users(services(), _staff())}


@app.post("/patients/<patient_id>/assign")
def post_assign(patient_id: str):
    """Assign the conversation to a staff user (`{"assignee": "<user>"}`) or unassign (`null`)."""
    assignee = (app.current_event.json_body or {}).get("assignee")
    if assignee is not None and (not isinstance(assignee, str) or not assignee.strip()):
        raise PayloadError("assignee: a staff user, or null to unassign")
    assigned = inbox.assign(services(), patient_id, assignee, _staff())
    logger.info("conversation assigned", extra={"patient_id": patient_id[:40] if not patient_id.startswith("phone:") else "phone",
                                                 "assigned": assignee is not None})
    return assigned


@app.post("/patients/<patient_id>/notes")
def post_note(patient_id: str):
    """An internal note on the thread: staff-only, never sent to the patient."""
    body = (app.current_event.json_body or {}).get("body", "")
    if not isinstance(body, str):
        raise PayloadError("body: a note is text")
    note = inbox.add_note(services(), patient_id, body, _staff(), app.current_event.request_context.request_id)
    return Response(201, "application/json", {"message_id": note.message_id})


@app.post("/patients/<patient_id>/read")
def post_read(patient_id: str):
    """The signed-in staff user opened this conversation: it is no longer unread for them."""
    return inbox.mark_read(services(), patient_id, _staff())


@app.get("/patients/<patient_id>/saved-replies")
def get_saved_replies(patient_id: str):
    """The saved replies, filled in for this patient and in their language."""
    return inbox.saved_replies(services(), patient_id)


# ---- end inbox2 -----------------------------------------------------------------------------------


# ---- the patient page: timeline, appointment actions, consent changed by staff ------------------


@app.get("/patients/<patient_id>/timeline")
def get_patient_timeline(patient_id: str):
    """Texts, calls, appointments, consent and delivery, newest first, and the data-quality findings,
    as the caller's role may see them (careloop.roles.sees_patient_words: billing not another team's words)."""
    from careloop import patients

    return patients.timeline(services(), patient_id, roles.roles_of(_claims()))


@app.post("/appointments/<appointment_id>/<action>")
def post_appointment_action(appointment_id: str, action: str):
    """confirm | cancel | noshow | fulfilled, by staff: stored, told to the EHR where it allows,
    the planner reacting (a no-show starts no-show recovery)."""
    from careloop import patients

    done = patients.appointment_action(services(), appointment_id, action, _staff())
    logger.info("appointment action by staff", extra={"appointment_id": done["appointment"]["id"], "action": action,
                                                      "changed": done["changed"]})
    return done


@app.post("/patients/<patient_id>/consent")
def post_consent(patient_id: str):
    """Staff record a consent change the patient made another way (a call, a form), with a note;
    an opt-in only with the patient's documented consent."""
    from careloop import patients

    try:
        body = app.current_event.json_body
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise PayloadError("body: a JSON object with opted_out and note is required")
    return patients.staff_consent(services(), patient_id, body, _staff())


# ---- end of the patient page ---------------------------------------------------------------------


# ---- rolegaps: rescheduling from the patient page ------------------------------------------------


class RescheduleLinkRequest(BaseModel):
    """Which of the patient's upcoming visits the link moves."""

    model_config = ConfigDict(extra="forbid")
    appointment_id: str = Field(min_length=1, max_length=200)


class RescheduleLinkSent(TypedDict):
    message_id: str
    appointment_id: str


@app.post("/patients/<patient_id>/reschedule-link")
def post_reschedule_link(patient_id: str) -> RescheduleLinkSent:
    """Text the patient their own link to pick a new time for a visit (sent as a staff reply: the
    same gates, and it shows in the thread); the link books the new time and cancels the old."""
    from careloop import patients

    try:
        request = RescheduleLinkRequest.model_validate(app.current_event.json_body or {})
    except (ValidationError, ValueError) as exc:
        raise PayloadError("appointment_id: the visit to move is required") from exc
    sent = patients.send_reschedule_link(services(), patient_id, request.appointment_id, _staff(),
                                         app.current_event.request_context.request_id)
    logger.info("reschedule link sent by staff", extra={"appointment_id": sent["appointment_id"], "staff": _staff()})
    return RescheduleLinkSent(message_id=sent["message_id"], appointment_id=sent["appointment_id"])


# ---- end rolegaps ---------------------------------------------------------------------------------


app.use(middlewares=[_authorised])


@app.exception_handler(NotFound)
def not_found(exc: NotFound):
    return Response(404, "application/json", {"message": str(exc)})


@app.exception_handler(PayloadError)
def bad_request(exc: PayloadError):
    return Response(400, "application/json", {"message": str(exc)})


@app.exception_handler(ConfigError)
def invalid_workflow(exc: ConfigError):
    return Response(422, "application/json", {"message": str(exc)})


@app.exception_handler(Conflict)
def conflict(exc: Conflict):
    return Response(409, "application/json", {"message": str(exc)})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)
