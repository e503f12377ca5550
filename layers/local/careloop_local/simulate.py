"""`careloop simulate`: a dry run of the workflows on a virtual clock (spec/simulate.md).

Drives the same EHR mapping, planner, dispatcher, compliance gates and SMS agent as Lambda, on
the in-memory fakes, and prints every outbound action as JSON Lines, then final states.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from careloop.clock import FixedClock
from careloop.errors import ConfigError, InvalidPhone, PayloadError, ScenarioError
from careloop.models import (
    APPOINTMENT_STATUSES,
    ActionStatus,
    Appointment,
    Message,
    Patient,
)
from careloop.phones import to_e164
from careloop.practice import PracticeProfile, demo_profile, parse_profile


# ---------------------------------------------------------------------------- the schema
class _S(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _aware(v: Any) -> Any:
    if isinstance(v, str):
        try:
            dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError("not an ISO 8601 datetime") from exc
        if dt.tzinfo is None:
            raise ValueError("ISO 8601 datetime needs a UTC offset")
        return dt
    if isinstance(v, datetime):
        return v
    raise ValueError("not an ISO 8601 datetime")


class SimPatient(_S):
    id: str = Field(min_length=1)
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None
    language: Literal["en", "es"] = "en"
    timezone: str | None = None
    tags: list[str] = Field(default_factory=list)
    opted_out: bool = False


class SimAppointment(_S):
    id: str = Field(min_length=1)
    patient: str = Field(min_length=1)
    start: datetime
    minutes: int = Field(30, ge=1, le=1440)
    status: str = "booked"
    provider: str | None = None
    location: str | None = None
    visit_type: str | None = None

    _start = field_validator("start", mode="before")(lambda cls, v: _aware(v))

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        if v not in APPOINTMENT_STATUSES:
            raise ValueError(f"{v!r} is not a FHIR Appointment.status ({', '.join(APPOINTMENT_STATUSES)})")
        return v


class SimEvent(_S):
    at: datetime
    type: Literal["appointment", "sms", "ehr_fhir", "ehr_hl7v2", "delivery", "book"]
    appointment: SimAppointment | None = None
    from_: str | None = Field(None, alias="from")
    body: str | None = None
    payload: Any = None
    message: str | None = None
    status: str | None = None
    # `book`: a patient books a slot through their link (spec/booking.md)
    patient: str | None = Field(None, min_length=1)
    start: datetime | None = None
    visit_type: str | None = None  # with a `booking` section in the practice: one of its type ids
    provider: str | None = None
    location: str | None = None
    minutes: int | None = Field(None, ge=1, le=1440)
    id: str | None = Field(None, min_length=1)  # the new appointment's id; default: from the booking
    link: str | None = Field(None, min_length=1)  # book events naming the same link share one personal link

    _at = field_validator("at", mode="before")(lambda cls, v: _aware(v))
    _start = field_validator("start", mode="before")(lambda cls, v: v if v is None else _aware(v))


class Scenario(_S):
    practice: dict[str, Any] = Field(default_factory=dict)
    start: datetime
    until: datetime
    workflows: Literal["default"] | list[dict[str, Any]] = "default"
    patients: list[SimPatient] = Field(default_factory=list)
    events: list[SimEvent] = Field(default_factory=list)

    _times = field_validator("start", "until", mode="before")(lambda cls, v: _aware(v))


def _loc(parts) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + ("from" if p == "from_" else str(p))
    return out


def parse_scenario(data: Any) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("scenario: must be a JSON object")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        raise ScenarioError(f"{_loc(err['loc']) or 'scenario'}: {msg}") from exc
    if scenario.until <= scenario.start:
        raise ScenarioError("until: must be after start")
    ids = set()
    for i, p in enumerate(scenario.patients):
        if p.id in ids:
            raise ScenarioError(f"patients[{i}].id: duplicate patient id {p.id!r}")
        ids.add(p.id)
    for i, e in enumerate(scenario.events):
        where = f"events[{i}]"
        if not scenario.start <= e.at <= scenario.until:
            raise ScenarioError(f"{where}.at: outside start..until")
        if e.type == "appointment":
            if e.appointment is None:
                raise ScenarioError(f"{where}.appointment: required for an appointment event")
            if e.appointment.patient not in ids:
                raise ScenarioError(f"{where}.appointment.patient: unknown patient {e.appointment.patient!r}")
        elif e.type == "sms":
            if not e.from_ or e.body is None:
                raise ScenarioError(f"{where}: an sms event needs 'from' and 'body'")
        elif e.type in ("ehr_fhir", "ehr_hl7v2"):
            if e.payload is None:
                raise ScenarioError(f"{where}.payload: required for {e.type}")
            if e.type == "ehr_hl7v2" and not isinstance(e.payload, str):
                raise ScenarioError(f"{where}.payload: an HL7 v2 message must be a string")
        elif e.type == "delivery" and not (e.message and e.status):
            raise ScenarioError(f"{where}: a delivery event needs 'message' and 'status'")
        elif e.type == "book":
            if not e.patient:
                raise ScenarioError(f"{where}.patient: required for a book event")
            if e.patient not in ids:
                raise ScenarioError(f"{where}.patient: unknown patient {e.patient!r}")
            if e.start is None:
                raise ScenarioError(f"{where}.start: required for a book event")
            if e.start <= e.at:
                raise ScenarioError(f"{where}.start: a booking must start after its 'at'")
    return scenario


# ---------------------------------------------------------------------------- the run
@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a run. A month keeps millions of long-lived,
    acyclic objects (models, their dicts, datetimes); each full pass re-walks all of them and
    frees nothing (reference counting frees what the run drops), which was a quarter of a
    50,000-patient month's CPU. Switched back on (if it was on) however the run ends; what the
    run kept is best dropped inside the pause, or the first pass after it walks all of it."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class _Recorder:
    """Outbox + notifier of the simulation: every hand-over is an output line."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim

    def enqueue(self, message: Message) -> None:
        self.sim.on_outbound(message)

    def notify(self, message: Message) -> None:
        self.sim.on_outbound(message)


class Simulation:
    def __init__(self, scenario: Scenario) -> None:
        from careloop.workflows import default_library, load_workflows
        from careloop_local.fakes import memory_services

        self.scenario = scenario
        practice = self._practice(scenario.practice)
        workflows = default_library() if scenario.workflows == "default" else load_workflows(scenario.workflows)
        self.s = memory_services(scenario.start, practice, workflows)
        self.s.outbox = self.s.notifier = _Recorder(self)
        if not isinstance(self.s.clock, FixedClock):
            raise TypeError("the simulation needs services on a FixedClock: run_until sets it")
        self.clock: FixedClock = self.s.clock  # the virtual clock (Services types it as any Clock)
        self.zone = practice.zone
        self.lines: list[dict] = []
        self.public_ids: dict[str, str] = {}  # our message id -> m-0001
        self.private_ids: dict[str, str] = {}
        self.warnings: list[str] = []
        # appointments made by `book` events (source: careloop): the booking service's id -> the
        # scenario's (its `id`, else one drawn from the event), and what each event asked for
        self.aliases: dict[str, str] = {}
        self._booked_content: dict[str, str] = {}

    @staticmethod
    def _practice(overrides: dict) -> PracticeProfile:
        base = demo_profile().model_dump(mode="json")
        try:
            return parse_profile(base | overrides, "practice")
        except ConfigError as exc:
            raise ScenarioError(str(exc)) from exc

    # outbound -> lines ---------------------------------------------------------------------
    def on_outbound(self, message: Message) -> None:
        if message.kind == "sms_out":
            patient = self.s.records.get_patient(message.patient_id) if message.automated and message.patient_id else None
            if patient is not None and patient.opted_out:
                self.s.messages.update_message(message.message_id, status="suppressed", status_detail="opted out")
                return
            public = f"m-{len(self.public_ids) + 1:04d}"
            self.public_ids[message.message_id] = public
            self.private_ids[public] = message.message_id
            self.s.messages.update_message(message.message_id, status="sent", provider_message_id=message.message_id)
            self.lines.append({
                "at": self._local(message.at), "kind": "sms", "patient": message.patient_id, "to": message.phone,
                "appointment": self._public(message.appointment_id), "workflow": message.workflow, "step": message.step,
                "message": public, "body": message.body,
            })
        else:
            self.lines.append({
                "at": self._local(message.at), "kind": message.kind, "patient": message.patient_id,
                "to": None, "appointment": self._public(message.appointment_id), "workflow": message.workflow,
                "step": message.step, "priority": message.priority or "normal", "body": message.body,
            })

    def _public(self, appointment_id: str | None) -> str | None:
        return self.aliases.get(appointment_id, appointment_id) if appointment_id else appointment_id

    def _local(self, dt: datetime) -> str:
        return dt.astimezone(self.zone).isoformat()

    # time ----------------------------------------------------------------------------------
    def run_until(self, t: datetime) -> None:
        from careloop.engine.dispatcher import tick

        clock = self.clock
        while True:
            due = self.s.actions.due_actions(t, limit=1)
            if not due:
                break
            clock.set(max(due[0].due_at, clock.now()))
            result = tick(self.s)
            if not (result.sent or result.skipped or result.deferred or result.lost):
                break
        if t > clock.now():
            clock.set(t)

    # events --------------------------------------------------------------------------------
    def apply(self, index: int, event: SimEvent) -> None:
        from careloop.records import ingest

        now = self.s.clock.now()
        if event.type == "appointment":
            a = event.appointment
            if a is None:  # parse_scenario refuses such a scenario; a Simulation built directly may not
                raise ScenarioError(f"events[{index}].appointment: required for an appointment event")
            appt = Appointment(id=a.id, patient_id=a.patient, start=a.start, minutes=a.minutes, status=a.status,
                               provider=a.provider, location=a.location, visit_type=a.visit_type)
            ingest(self.s.records, self.s.consent, [], [appt], now)
        elif event.type == "sms":
            from careloop.agent.inbound import handle_inbound

            if not event.from_ or event.body is None:  # as above: parse_scenario refuses these
                raise ScenarioError(f"events[{index}]: an sms event needs 'from' and 'body'")
            phone = self._phone_of(index, event.from_)
            content = f"{event.at.isoformat()}|{phone}|{event.body}"
            handle_inbound(self.s, phone, event.body, hashlib.sha256(content.encode()).hexdigest()[:24], now)
        elif event.type in ("ehr_fhir", "ehr_hl7v2"):
            from careloop.ehr.payload import apply_batches, parse

            body = json.dumps(event.payload).encode() if event.type == "ehr_fhir" else event.payload.encode()
            try:
                batches = parse("fhir" if event.type == "ehr_fhir" else "hl7v2", body, self.s)
            except PayloadError as exc:
                self.warnings.append(f"events[{index}].payload: rejected ({exc}); it would be quarantined")
                return
            apply_batches(self.s, batches, now)
        elif event.type == "delivery":
            from careloop.sms.events import apply_delivery_event

            private = self.private_ids.get(event.message or "")
            if private is None:
                self.warnings.append(f"events[{index}].message: no message {event.message!r} was sent")
                return
            apply_delivery_event(self.s, {"eventType": event.status, "messageId": private})
        elif event.type == "book":
            self._book(index, event, now)

    def _book(self, index: int, event: SimEvent, now: datetime) -> None:
        """A booking through the patient's personal link, by the booking service the routes use: the
        link is minted, then `book` (the slot must be open; the type sets the length; the patient
        gets the confirmation text). What a route answers 4xx is a ScenarioError naming the event.
        Book events naming the same `link` share one link; others get one each (by content), so the
        same event listed twice is a redelivery: booked once, nothing said twice."""
        from careloop.booking import service
        from careloop.errors import (
            BookingError,
            BookingInputError,
            LinkGone,
            SlotTaken,
            UnknownLink,
        )

        where = f"events[{index}]"
        if event.patient is None or event.start is None:  # parse_scenario refuses these
            raise ScenarioError(f"{where}: a book event needs 'patient' and 'start'")
        patient, settings = self.s.records.get_patient(event.patient), self.s.practice.booking
        if patient is None or settings is None or self.s.booking is None:
            raise ScenarioError(f"{where}: the practice has no booking section (the booking routes would answer 404)")
        content = "|".join((event.patient, event.start.isoformat(), event.visit_type or "", event.provider or ""))
        ref = f"simulate|{event.patient}|link:{event.link}" if event.link else f"simulate|{content}"
        link = self.s.booking.link_for_ref(ref) or self._mint(patient, ref, now)
        if link.spent_at is not None and link.booked_appointment_id in self.aliases \
                and self._booked_content.get(link.booked_appointment_id) == content:
            return  # the same booking again (a redelivered request): the patient is booked already
        if event.visit_type and settings.type(event.visit_type) is None:
            known = ", ".join(t.id for t in settings.types)
            raise ScenarioError(f"{where}.visit_type: not a bookable type of the practice ({known})")
        # named before booking: the confirmation text goes out while `book` runs
        booking_id = service.appointment_id_for(link.token)
        self.aliases[booking_id] = event.id or "bk-" + hashlib.sha256(content.encode()).hexdigest()[:12]
        try:
            type_id = event.visit_type or next(iter(t["id"] for t in service.types_for(self.s, link.token)), "")
            booked = service.book(self.s, link.token, type_id, event.start.isoformat(), self._provider_id(event.provider))
        except SlotTaken as exc:
            offered = ", ".join(s["start"] for s in exc.alternatives) or "none"
            raise ScenarioError(f"{where}: 409 {exc} (the page offers instead: {offered})") from exc
        except (LinkGone, UnknownLink) as exc:
            raise ScenarioError(f"{where}: {exc.status} {exc}") from exc
        except BookingInputError as exc:
            field = {"type": "visit_type"}.get(exc.field, exc.field)
            raise ScenarioError(f"{where}.{field}: {str(exc).split(': ', 1)[1]} (the booking route answers 400)") from exc
        except BookingError as exc:
            raise ScenarioError(f"{where}: {exc.status} {exc}") from exc
        self._booked_content[booked.appointment.id] = content

    def _mint(self, patient: Patient, ref: str, now: datetime):
        """The patient's link, as `links.mint` makes it, but with a token drawn from the ref, so
        that a run's output (appointment ids, the order of ties) is the same every time."""
        from careloop.booking.links import ALPHABET, TOKEN_LENGTH, BookingLink

        digest = int.from_bytes(hashlib.sha256(ref.encode()).digest(), "big")
        token = ""
        for _ in range(TOKEN_LENGTH):
            digest, i = divmod(digest, len(ALPHABET))
            token += ALPHABET[i]
        days = self.s.practice.booking.link_days if self.s.practice.booking else 14
        link = BookingLink(token=token, patient_id=patient.id, purpose="book", ref=ref, created_at=now,
                           expires_at=now + timedelta(days=days))
        if self.s.booking is None or not self.s.booking.put_link(link):
            raise ScenarioError(f"booking link for {ref!r} could not be minted")
        return link

    def _provider_id(self, provider: str | None) -> str | None:
        """Availability names providers by id; a scenario may write the practice's name for them."""
        if provider is None:
            return None
        ids = {key.casefold(): p.id for p in self.s.practice.providers for key in (p.id, p.name)}
        return ids.get(provider.casefold(), provider)

    def _phone_of(self, index: int, sender: str) -> str:
        patient = self.s.records.get_patient(sender)
        if patient is not None:
            if not patient.phone:
                raise ScenarioError(f"events[{index}].from: patient {sender!r} has no phone")
            return patient.phone
        try:
            return to_e164(sender)
        except InvalidPhone as exc:
            raise ScenarioError(f"events[{index}].from: neither a patient id nor a phone number ({exc})") from exc

    def run(self) -> list[dict]:
        """The run's lines: every outbound action, then the final states."""
        with collector_paused():
            return self._run()

    def _run(self) -> list[dict]:
        sc = self.scenario
        patients = []
        for i, p in enumerate(sc.patients):
            try:
                phone = to_e164(p.phone) if p.phone else None
            except InvalidPhone as exc:
                raise ScenarioError(f"patients[{i}].phone: {exc}") from exc
            patients.append(Patient(id=p.id, first_name=p.first_name, last_name=p.last_name, phone=phone,
                                    phone_kind="mobile" if phone else "unknown", language=p.language,
                                    timezone=p.timezone, tags=p.tags, opted_out=p.opted_out))
        from careloop.clock import use_clock
        from careloop.records import ingest

        # the core reads "now" from the process clock where no Services is at hand (the EHR
        # mappers' date checks): for the run, that is the virtual clock, as in the local stack
        previous = use_clock(self.s.clock)
        try:
            ingest(self.s.records, self.s.consent, patients, [], sc.start)
            # the store holds its own copies: a 50,000-patient month would otherwise keep them three
            # times (the scenario's, these, the store's); a Simulation runs its scenario once
            del patients
            sc.patients.clear()
            order = sorted(range(len(sc.events)), key=lambda i: (sc.events[i].at, i))
            for i in order:
                self.run_until(sc.events[i].at)
                self.apply(i, sc.events[i])
            self.run_until(sc.until)
        finally:
            use_clock(previous)
        return self.lines + self.final_states()

    def close(self) -> None:
        """Done with the run: its services are emptied. Their parts hold each other in cycles (the
        record stream's listener holds the services that hold the records; the outbox holds this
        simulation), which reference counting cannot free: unbroken, a large month waits for a
        pass of the collector that walks all of it (2 s of a 50,000-patient month's CPU)."""
        services = self.__dict__.pop("s", None)
        if services is not None:
            vars(services).clear()

    def final_states(self) -> list[dict]:
        records = self.s.records
        out = []
        from careloop.engine.planner import LATE

        for a in sorted(records.all_appointments(), key=lambda a: (a.start, self._public(a.id) or "")):
            line: dict[str, object] = {"kind": "appointment_state", "appointment": self._public(a.id), "patient": a.patient_id,
                    "status": a.status, "confirmed": a.confirmed, "start": self._local(a.start)}
            late = sorted(f"{x.workflow}/{x.step}" for x in self.s.actions.actions_for_subject(f"APT#{a.id}")
                          if x.status == ActionStatus.SKIPPED and x.reason == LATE)
            if late:  # optional field: steps skipped because their moment had passed (history)
                line["skipped_late"] = late
            if a.id in self.aliases:  # optional field: booked by the patient through their link
                line["source"] = "careloop"
            out.append(line)
        for p in sorted(records.all_patients(), key=lambda p: p.id):
            out.append({"kind": "patient_state", "patient": p.id, "phone": p.phone, "opted_out": p.opted_out,
                        "language": p.language})
        return out


def simulate(data: Any) -> tuple[list[dict], list[str]]:
    sim = Simulation(parse_scenario(data))
    lines = sim.run()
    return lines, sim.warnings
