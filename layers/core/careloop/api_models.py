"""The staff API's request and response bodies (`/api/...`), declared once: the inbox_api handler
validates with them, its OpenAPI document is generated from them, and so are the web app's types."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from careloop.roles import ROLES

# Response models describe what the web app reads; extra="allow" passes through anything else the
# core puts in a body (a field added in the core is never silently dropped by the API). Times stay
# the core's ISO 8601 strings: a `datetime` field would re-serialise them ("+00:00" -> "Z").
# A field that the core leaves out when it has no value is declared _absent(): it stays left out.
# defer_build: each model's validator is built the first time a request uses it, not at cold start.


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


class _Request(BaseModel):
    # unknown keys in a request are ignored, as before validation was declared (the web app sends
    # a few the API does not read); a flag is JSON true or false, never "yes" or 1 (StrictBool)
    model_config = ConfigDict(extra="ignore", defer_build=True)


IsoTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
# a change to what patients are sent says why: kept with the version in the workflow's history
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
                   Field(description="Why it changed (required; kept in the history)")]
Role = Literal["admin", "front_desk", "clinical", "billing"]
Priority = Literal["urgent", "normal"] | None
MessageKind = Literal["sms_out", "sms_in", "staff_alert", "task", "call", "note"]
assert set(Role.__args__) == set(ROLES), "api_models.Role must list careloop.roles.ROLES"  # type: ignore[attr-defined]


def _absent(description: str = "") -> Any:
    """A field the core leaves out when it has none: optional in the schema, left out again."""
    return Field(None, exclude_if=lambda v: v is None, description=description or None)


# ---- who is signed in ------------------------------------------------------------------------


class Practice(_Answer):
    id: str
    name: str
    timezone: str
    phone: str


class Me(_Answer):
    username: str
    email: str
    roles: list[Role] = Field(description="The caller's roles (Cognito groups)")
    practice: Practice


# ---- the inbox, threads and patients ---------------------------------------------------------


class Conversation(_Answer):
    patient_id: str = Field(description="The patient's id, or phone:<E.164> for an unknown number")
    patient_name: str
    phone_masked: str
    last_body: str
    last_at: IsoTime
    last_direction: Literal["in", "out"]
    needs_attention: bool
    reason: str | None
    intent: str | None
    priority: Priority
    team: str | None = Field(description="The team its open alert or task is routed to")
    assignee: str | None
    unread: bool = Field(description="Unread for the signed-in staff user")


class InboxPage(_Answer):
    conversations: list[Conversation]


class ThreadPatient(_Answer):
    id: str
    first_name: str
    last_name: str
    phone: str | None
    language: str
    opted_out: bool
    undeliverable: bool


class CallTurn(_Answer):
    at: IsoTime
    caller: str
    agent: str
    intent: str | None


class CallView(_Answer):
    outcome: str | None
    reached_agent: bool
    started_at: IsoTime | None
    ended_at: IsoTime | None
    turns: list[CallTurn]


class Message(_Answer):
    message_id: str
    kind: MessageKind
    body: str
    at: IsoTime
    status: str
    workflow: str | None
    step: str | None
    priority: Priority
    intent: str | None
    needs_attention: bool
    team: str | None
    reason: str | None = Field(description='Why an alert was raised, or who did it ("sent by ...")')
    call: CallView | None = _absent("A phone call (kind call): how it ended and what was said")
    author: str | None = _absent("Who wrote an internal note (kind note)")
    status_detail: str | None = _absent(
        "A text's failure or hold-back reason (kind sms_out): the carrier's code, 'quota: ...', 'opted out'")


class StaffHold(_Answer):
    by: str
    since: IsoTime
    until: IsoTime


class Thread(_Answer):
    patient: ThreadPatient | None = Field(description="null for an unknown number's thread until staff link it")
    phone_masked: str | None = _absent("An unknown number's thread: the number, masked")
    opted_out: bool | None = _absent("An unknown number's thread: whether the number opted out")
    staff_in_conversation: StaffHold | None
    assignee: str | None
    messages: list[Message]


class NextAppointment(_Answer):
    id: str
    start: IsoTime
    status: str
    confirmed: bool
    provider: str | None
    visit_type: str | None


class PatientRow(_Answer):
    id: str
    first_name: str
    last_name: str
    phone_masked: str
    language: str
    opted_out: bool
    undeliverable: bool
    next_appointment: NextAppointment | None


class PatientList(_Answer):
    patients: list[PatientRow]


class ReplyRequest(_Request):
    body: str = Field(max_length=4000, description="The text to send (at most 1000 characters once spaces are collapsed)")


class NoteRequest(_Request):
    body: str = Field(max_length=4000, description="The note (at most 2000 characters once spaces are collapsed)")


class MessageCreated(_Answer):
    message_id: str


class Resolved(_Answer):
    resolved: int = Field(description="How many open alerts and tasks were closed")


class HandedBack(_Answer):
    handed_back: bool


class LinkRequest(_Request):
    patient_id: str = Field(min_length=1, max_length=128, pattern=r"\S",
                            description="The patient this number's conversation belongs to")


class Linked(_Answer):
    patient_id: str
    moved: int


class WaitlistRequest(_Request):
    waitlist: StrictBool


class WaitlistState(_Answer):
    patient: str
    waitlist: bool
    since: IsoTime | None
    source: str | None = _absent()


# ---- inbox2: assignment, unread markers, saved replies -----------------------------------------


class StaffList(_Answer):
    me: str
    staff: list[str]


class AssignRequest(_Request):
    assignee: str | None = Field(max_length=254, description="A staff user, or null to unassign")


class Assigned(_Answer):
    patient_id: str
    assignee: str | None


class ReadMark(_Answer):
    patient_id: str
    read_at: IsoTime


class SavedReply(_Answer):
    id: str
    title: str
    body: str
    language: str


class SavedReplies(_Answer):
    language: str
    replies: list[SavedReply]


# ---- the patient page ------------------------------------------------------------------------


class PatientTimeline(_Answer):
    patient: ThreadPatient
    now: IsoTime
    appointments: list[dict[str, Any]] = Field(description="Each appointment with the actions staff may take")
    entries: list[dict[str, Any]] = Field(description="Texts, calls, appointments, consent and delivery, newest first")
    findings: list[dict[str, Any]] = Field(description="The data-quality findings for this patient")


class AppointmentDone(_Answer):
    appointment: dict[str, Any]
    changed: bool
    ehr_told: bool | None = _absent("Whether the EHR was told (when it allows)")


class ConsentRequest(_Request):
    opted_out: StrictBool
    note: str = Field(max_length=2000, description="How the patient asked (a call, a signed form): kept as proof")
    documented_consent: StrictBool = Field(False, description="An opt-in needs the patient's documented consent")


class ConsentChanged(_Answer):
    changed: bool
    opted_out: bool


# ---- appointments, workflows, analytics, data quality ------------------------------------------


class Appointment(_Answer):
    id: str
    patient_id: str
    patient_name: str
    start: IsoTime
    minutes: int
    status: str
    confirmed: bool
    provider: str | None
    location: str | None
    visit_type: str | None


class AppointmentList(_Answer):
    appointments: list[Appointment]


class BookingDecided(_Answer):
    appointment: dict[str, Any]


class WorkflowStep(_Answer):
    id: str
    name: str = Field(description="What staff call it (\"Reminder 2 days before\"); the id is secondary text")
    type: str
    summary: str
    first_words: str = Field(description="The English text's opening words, fields as [first name]")


class Workflow(_Answer):
    id: str
    name: str
    description: str
    enabled: bool
    version: int
    trigger: str = Field(description="What starts it, in words")
    starts: str = Field(description="When its first step happens, as people say it: \"2 days before a visit\"")
    steps: list[WorkflowStep]
    history: list[dict[str, Any]]


class WorkflowList(_Answer):
    workflows: list[Workflow]


class WorkflowHistory(_Answer):
    versions: list[dict[str, Any]] = Field(description="The definition now, then the earlier versions, newest first")


class EnableRequest(_Request):
    enabled: StrictBool
    why: Reason


class WorkflowSave(_Request):
    workflow: dict[str, Any] = Field(description="The workflow definition; its id must match the URL")
    why: Reason


class WorkflowStats(_Answer):
    workflow: str | None
    sent: int
    delivered: int
    confirmed: int


class AnalyticsSummary(_Answer):
    period: dict[str, IsoTime]
    sent: int
    delivered: int
    failed: int
    delivery_rate: float
    responses: int
    response_rate: float
    confirmed: int
    confirmation_rate: float
    no_shows: int
    no_show_rate: float
    by_workflow: list[WorkflowStats]
    voice: dict[str, Any] | None


class AuditReport(_Answer):
    generated_at: IsoTime
    stale_days: int
    summary: dict[str, Any]
    rows: list[dict[str, Any]]


# ---- staff accounts --------------------------------------------------------------------------


class StaffMember(_Answer):
    username: str
    email: str
    roles: list[Role]
    status: str
    enabled: bool


class RoleChanged(_Answer):
    username: str
    roles: list[Role]


class RoleOption(_Answer):
    id: Role
    label: str


class StaffDirectory(_Answer):
    staff: list[StaffMember]
    roles: list[RoleOption]


class InviteRequest(_Request):
    email: str = Field(max_length=254, pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$",
                       description="The new staff member's email address")
    role: Role


class RoleRequest(_Request):
    role: Role


# ---- errors ----------------------------------------------------------------------------------


class FieldProblem(_Answer):
    field: str = Field(description='Where: "body.email", "query.from", "path.patient_id"')
    problem: str


class ErrorAnswer(_Answer):
    message: str = Field(description="What is wrong, naming the field first")
    errors: list[FieldProblem] = _absent("A request that failed validation: each field and its problem")


# ---- the workflow editor (careloop/workflows/editor.py, dryrun.py) ------------------------------


class _Strict(_Request):
    # the editor's bodies are written by the editor only: a misspelt key ("languge") is a 400,
    # not a default silently used
    model_config = ConfigDict(extra="forbid", defer_build=True)


class PreviewRequest(_Strict):
    definition: dict[str, Any] = Field(description="The edited (unsaved) workflow definition")
    patient_id: str | None = Field(None, max_length=80, description="Render for this patient instead of the sample")


class DryRunRequest(_Strict):
    definition: dict[str, Any] = Field(description="The definition as it would go live")
    days: int = Field(7, description="How many days ahead (at most 14)")


class TestSendRequest(_Strict):
    step: str = Field(min_length=1, max_length=60)
    language: str = Field("en", max_length=5)
    phone: str = Field(min_length=1, max_length=40, description="A number on the practice's test-contacts list")
    definition: dict[str, Any] | None = Field(None, description="The edited, unsaved version; else the stored one")


class UndoRequest(_Strict):
    version: int | None = Field(None, description="The version being undone: refused (409) if it is no longer the latest")


class SentForTest(_Answer):
    message_id: str
    body: str = Field(description="The text as sent")
    to: str
    status: str


# ---- rolegaps: rescheduling from the patient page ------------------------------------------------


class RescheduleLinkRequest(_Strict):
    appointment_id: str = Field(min_length=1, max_length=200, description="Which of the patient's upcoming visits the link moves")


class RescheduleLinkSent(_Answer):
    message_id: str
    appointment_id: str
