"""The workflow format, validated by pydantic; templates are checked when a workflow is loaded.

A workflow: a trigger, then steps, each with a timing, conditions re-checked at fire time and
one action. Documented for practices in docs/workflows.md.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from careloop.booking.links import WORST_CASE_URL  # a personal link, as long as one gets
from careloop.errors import ConfigError, TemplateError
from careloop.sms.parts import count_parts
from careloop.templates import check_template, render

LANGUAGES = ("en", "es")
MAX_PARTS = 3
# long but real values: what a template must still fit with
_WORST_CASE = {
    "first_name": "Maximiliano", "last_name": "Fitzgerald-Ramirez", "provider": "Dr. Alexandra Whitfield",
    # a reader in another zone than the visit's is told both clocks (the visit's on another day)
    "date_time": "mié 30 sep a las 23:30 AKT (jue 1 oct a las 03:30 AST)", "date": "Wed Sep 30",
    "time": "11:30 PM AKT (3:30 AM AST)",
    "location": "1250 Commonwealth Ave, Suite 400", "visit_type": "consultation",
    "practice_name": "Riverside Family Dental Care", "practice_phone": "(617) 555-0100",
    "booking_url": WORST_CASE_URL, "survey_url": "https://survey.example.com/riverside",
    "visit_day": "el mié 30 sep",
}


def worst_case_parts(source: str) -> int:
    return count_parts(render(source, _WORST_CASE))
LIBRARY = Path(__file__).parent.parent / "data" / "workflows.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Strict):
    """When a workflow starts.

    - appointment_booked: an appointment becomes booked, is created booked, or moves while booked
    - appointment_status: an appointment's status becomes `status`
    - step_sent: step `step` of workflow `workflow` was sent (chaining)
    - entered: another workflow's `enter_workflow` action named this one
    """

    on: Literal["appointment_booked", "appointment_status", "step_sent", "entered"]
    status: str | None = None
    workflow: str | None = None
    step: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Trigger:
        if self.on == "appointment_status" and not self.status:
            raise ValueError("appointment_status trigger needs `status`")
        if self.on == "step_sent" and not (self.workflow and self.step):
            raise ValueError("step_sent trigger needs `workflow` and `step`")
        return self


class Timing(_Strict):
    """When a step is due: `offset_minutes` after (negative: before) the anchor."""

    anchor: Literal["start", "trigger"]
    offset_minutes: int
    # if the due time has already passed when planned: send at the trigger instead, provided
    # the appointment is still at least this many minutes ahead; otherwise skip the step
    catch_up_min_lead_minutes: int | None = None
    # a step of a status-triggered workflow (timed from the appointment) whose moment passed by
    # more than this is skipped as late (history from an EHR sync is not news); default 12 hours
    grace_minutes: int | None = Field(None, ge=0)


Field_ = Literal[
    "appointment.status", "appointment.confirmed", "appointment.visit_type",
    "appointment.provider", "appointment.location", "appointment.starts_in_minutes",
    "patient.tags", "patient.language", "patient.has_future_appointment",
    "patient.minutes_since_last_inbound", "patient.minutes_since_last_contact",
    "patient.booked_since_trigger", "patient.replied_since_trigger",
]


class Condition(_Strict):
    field: Field_
    op: Literal["eq", "ne", "in", "not_in", "contains", "gt", "gte", "lt", "lte", "is_true", "is_false"]
    value: Any = None

    @model_validator(mode="after")
    def _value(self) -> Condition:
        if self.op not in ("is_true", "is_false") and self.value is None:
            raise ValueError(f"op {self.op!r} needs a value")
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs a list value")
        return self


class Action(_Strict):
    type: Literal["sms", "task", "staff_alert", "enter_workflow"]
    template: dict[str, str] = Field(default_factory=dict)  # language -> template
    priority: Literal["urgent", "normal"] = "normal"
    workflow: str | None = None  # for enter_workflow

    @model_validator(mode="after")
    def _templates(self) -> Action:
        if self.type == "enter_workflow":
            if not self.workflow:
                raise ValueError("enter_workflow needs `workflow`")
            return self
        required = LANGUAGES if self.type == "sms" else ("en",)
        missing = [lang for lang in required if lang not in self.template]
        if missing:
            raise ValueError(f"template missing translation(s): {', '.join(missing)}")
        for lang, source in self.template.items():
            try:
                check_template(source)
            except TemplateError as exc:
                raise ValueError(f"template[{lang}]: {exc}") from exc
            if self.type == "sms":
                parts = worst_case_parts(source)
                if parts > MAX_PARTS:
                    raise ValueError(
                        f"template[{lang}]: would need {parts} message parts with long names and links "
                        f"(limit {MAX_PARTS}); shorten it"
                    )
        return self


class Step(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field("", max_length=80)  # what staff call it ("Reminder 2 days before"); the id stays the key
    timing: Timing
    conditions: tuple[Condition, ...] = ()
    action: Action
    # if true, a reply from the patient after the trigger stops this step (no-response branch)
    only_if_no_response: bool = False


class Change(_Strict):
    version: int
    at: str
    by: str
    why: str


class Workflow(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    description: str = ""
    version: int = Field(1, ge=1)
    enabled: bool = True
    # lower runs first when two automated messages compete for the same day
    priority: int = 50
    trigger: Trigger
    steps: tuple[Step, ...] = Field(min_length=1)
    history: tuple[Change, ...] = ()

    @model_validator(mode="after")
    def _unique_steps(self) -> Workflow:
        ids = [s.id for s in self.steps]
        if len(ids) != len(set(ids)):
            raise ValueError("step ids must be unique within a workflow")
        return self

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)


def _where(exc: ValidationError, prefix: str) -> str:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    return f"{prefix}{'.' + loc if loc else ''}: {first['msg']}"


def load_workflows(data: list[dict], source: str = "workflows") -> tuple[Workflow, ...]:
    """Validate a list of workflow definitions; errors name the workflow and the field."""
    if not isinstance(data, list):
        raise ConfigError(f"{source}: must be a list of workflow definitions")
    out: list[Workflow] = []
    for i, item in enumerate(data):
        try:
            out.append(Workflow.model_validate(item))
        except ValidationError as exc:
            raise ConfigError(_where(exc, f"{source}[{i}]")) from exc
    ids = [w.id for w in out]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ConfigError(f"{source}: duplicate workflow id(s) {', '.join(sorted(dup))}")
    known = {w.id: w for w in out}
    for w in out:
        t = w.trigger
        if t.on == "step_sent" and t.workflow in known:
            try:
                known[t.workflow].step(t.step or "")
            except KeyError as exc:
                raise ConfigError(f"{source}: {w.id}: trigger names unknown step {t.workflow}/{t.step}") from exc
    return tuple(out)


@lru_cache(maxsize=1)
def default_library() -> tuple[Workflow, ...]:
    return load_workflows(json.loads(LIBRARY.read_text()), "default library")
