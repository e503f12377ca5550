"""The practice profile: who the practice is, its facts, links, hours and connections.

One validated file per practice (`practices/<id>.json`); `cdk deploy -c practice=<id>` reads it
and the handlers receive it at cold start. Errors name the field that is wrong.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from careloop.booking.availability import BookingSettings
from careloop.clocktime import HHMM, WEEKDAYS, ClockSpan
from careloop.clocktime import Strict as _Strict
from careloop.errors import ConfigError, InvalidPhone
from careloop.phones import to_e164

DATA_DIR = Path(__file__).parent / "data"


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


class QuietHours(ClockSpan):
    """The window in which automated texts may go out, in the patient's local time."""

    start: str = "08:00"
    end: str = "21:00"


class Location(_Strict):
    id: str
    name: str
    address: str | None = None
    parking: str | None = None
    phone: str | None = None
    timezone: str | None = None

    _zone = field_validator("timezone")(lambda cls, v: v if v is None else _check_zone(v))


class Provider(_Strict):
    id: str
    name: str
    title: str | None = None


class EhrConnection(_Strict):
    """How the EHR talks to Careloop and whether Careloop writes back."""

    kind: str = Field("fhir", pattern="^(fhir|hl7v2|none)$")
    fhir_base_url: str | None = None
    writeback: bool = False
    token_secret_ref: str | None = Field(
        None, description="Secrets Manager secret name holding the bearer token for write-back"
    )
    archive_retention_days: int = Field(
        2190, ge=1, description="days an accepted EHR payload stays in archive/ (default 6 years)"
    )
    quarantine_days_after_replay: int = Field(
        90, ge=1, description="days a quarantined payload is kept once replayed (or re-quarantined)"
    )


class SmsSettings(_Strict):
    """End User Messaging SMS identity. Existing resources named here are used as they are;
    otherwise the stack creates a pool/number of `number_type`."""

    country: str = "US"
    phone_number_id: str | None = None
    pool_id: str | None = None
    number_type: str = Field("TEN_DLC", pattern="^(TEN_DLC|TOLL_FREE|LONG_CODE|SIMULATOR)$")
    registration_id: str | None = None
    parts_per_second: float = Field(1.0, gt=0)


# Inference-profile prefixes of Bedrock model ids (geography or global routing); a bare id is a
# foundation model invoked in the stack's own region.
BEDROCK_PROFILE_PREFIXES = ("us", "us-gov", "eu", "apac", "jp", "au", "ca", "global")


class AgentSettings(_Strict):
    """The SMS agent's settings: how long it leaves a conversation to staff after a staff reply
    (`staff_window_hours`), and its LLM tier: for a text the local classifier is unsure about, Amazon Bedrock
    returns a label under a strict schema, and every other text not already urgent is screened for
    urgency. On by default in the deployed stack where its region offers the model (`llm_regions`),
    off in local mode and the simulator. It never writes what a patient reads; any failure leaves
    the local answer (or hands the text to staff) as without it."""

    llm_enabled: bool = Field(True, description="on by default; active only where the stack's region offers the model")
    llm_regions: tuple[str, ...] = Field(
        ("us-east-1", "us-east-2", "us-west-2"), min_length=1,
        description="regions where the deployed stack turns the tier on (where llm_model_id is offered)")
    # Claude Haiku 4.5 through the US geographic inference profile: an active model (Claude 3.5
    # Haiku is legacy on Bedrock, end of life 2026-06-19) with forced tool use, reached through a
    # profile as Bedrock requires for it, and the US profile keeps processing in US regions.
    llm_model_id: str = Field(
        "us.anthropic.claude-haiku-4-5-20251001-v1:0", pattern=r"^[a-z0-9][a-z0-9._:-]{2,127}$",
        description="Bedrock model id or system inference-profile id (us./eu./apac./global. ...)",
    )
    llm_timeout_s: float = Field(3.0, gt=0, le=10, description="connect and read timeout of the one attempt")
    llm_min_confidence: float = Field(0.7, ge=0, le=1, description="below it the LLM's label is not used")
    llm_screen: bool = Field(True, description="with the tier on, also screen every text not already urgent for urgency")
    # the agent yields to staff (careloop.agent.inbound): after a staff reply, for this long, it
    # answers only urgent texts, consent keywords and HELP; the rest goes to the thread
    staff_window_hours: float = Field(
        12, ge=0, le=168, description="hours after a staff reply during which the agent leaves the conversation to staff (0: never)")

    def bedrock_model(self) -> tuple[str | None, str]:
        """(inference-profile prefix or None, foundation-model id) of `llm_model_id`; the stack
        grants bedrock:InvokeModel on exactly these."""
        head, _, rest = self.llm_model_id.partition(".")
        if head in BEDROCK_PROFILE_PREFIXES and "." in rest:
            return head, rest
        return None, self.llm_model_id


CONNECT_INSTANCE_ARN = r"^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance/[0-9a-f-]{36}$"
CONNECT_PHONE_NUMBER_ARN = r"^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:phone-number/[0-9a-f-]{36}$"


class VoiceSettings(_Strict):
    """The voice agent (spec/voice.md): Amazon Connect answers the practice's calls and a Lex V2
    bot in English and Spanish understands them. Off unless `enabled`; existing Connect resources
    named here are used as they are, otherwise the stack creates the instance and claims a number."""

    enabled: bool = False
    connect_instance_arn: str | None = Field(
        None, pattern=CONNECT_INSTANCE_ARN, description="an existing Connect instance; default: the stack creates one")
    instance_alias: str | None = Field(
        None, pattern=r"^[a-z0-9][a-z0-9-]{0,60}[a-z0-9]$",
        description="alias of the instance the stack creates (globally unique); default careloop-<practice id>")
    phone_number_arn: str | None = Field(
        None, pattern=CONNECT_PHONE_NUMBER_ARN,
        description="a number already claimed in connect_instance_arn; default: the stack claims one")
    country: str = Field("US", pattern=r"^[A-Z]{2}$", description="country of the number the stack claims")
    number_type: str = Field("DID", pattern="^(DID|TOLL_FREE)$", description="kind of number the stack claims")
    number_prefix: str | None = Field(
        None, pattern=r"^\+\d{1,10}$", description="E.164 prefix the claimed number starts with, e.g. +1617")
    queue_name: str = Field("Front desk", min_length=1, max_length=127)
    holidays: tuple[date, ...] = Field(
        (), description="days the office is closed besides the booking section's practice-wide closures")
    visit_type_synonyms: dict[str, dict[Literal["en", "es"], tuple[str, ...]]] = Field(
        default_factory=dict, description="booking type id -> language -> more ways callers name it")


KnowledgeTopic = Literal["hours", "location", "parking", "insurance", "services", "new_patients", "what_to_bring",
                         "payment", "after_hours", "other"]
KNOWLEDGE_TOPICS: tuple[str, ...] = get_args(KnowledgeTopic)


class KnowledgeEntry(_Strict):
    """One thing the SMS agent may answer, in the practice's own words: questions patients ask
    (examples, per language) and the answer per language. The agent answers only when one entry
    matches the text well, and only in the patient's language (a missing translation goes to staff)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")
    topic: KnowledgeTopic = "other"
    location: str | None = Field(None, description="the location id this entry is about, if one")
    questions: dict[str, tuple[str, ...]] = Field(default_factory=dict, description="language -> example questions")
    answer: dict[str, str] = Field(description="language -> answer text (en, es)")

    @field_validator("questions", "answer")
    @classmethod
    def _languages(cls, v: dict) -> dict:
        for lang, text in v.items():
            if lang not in ("en", "es"):
                raise ValueError(f"{lang!r} is not a language Careloop speaks (en, es)")
            if not text:
                raise ValueError(f"{lang}: empty")
        return v

    @model_validator(mode="after")
    def _answered(self) -> KnowledgeEntry:
        if not self.answer:
            raise ValueError("answer: needs at least one language")
        return self


# Example questions for the facts of the short `faq` form, so a profile without a knowledge list
# still has entries to match (its answers exist in the profile's one language only: English).
FAQ_QUESTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "hours": {"en": ("what are your hours", "when are you open", "what time do you close", "are you open saturday"),
              "es": ("cual es su horario", "a que hora abren", "a que hora cierran", "abren los sabados")},
    "location": {"en": ("what is your address", "where are you located", "how do i get there", "directions"),
                 "es": ("cual es la direccion", "donde estan", "donde queda la oficina", "como llego")},
    "parking": {"en": ("where do i park", "is there parking", "parking lot"),
                "es": ("donde me estaciono", "hay estacionamiento", "donde puedo parquear")},
    "insurance": {"en": ("do you take my insurance", "what insurance do you accept", "are you in network"),
                  "es": ("aceptan mi seguro", "que seguros aceptan", "aceptan aseguranza")},
}


class SavedReply(_Strict):
    """A reply staff pick into the reply box, in the patient's language ({first_name}, {practice},
    {practice_phone}, {booking_url} are filled in); Spanish falls back to English when absent."""

    title: str = Field(min_length=1, max_length=60)
    en: str = Field(min_length=1, max_length=1000)
    es: str | None = Field(None, max_length=1000)


# A conservative average of what one routine visit brings in (a US dental hygiene visit or a
# primary-care follow-up collects roughly $100-$250); each practice should set its own.
DEFAULT_VALUE_PER_VISIT = 150.0


class AnalyticsSettings(_Strict):
    """What the analytics page's ROI multiplies by: the value of one kept visit, in `currency`."""

    value_per_visit: float = Field(DEFAULT_VALUE_PER_VISIT, ge=0, le=100_000,
                                   description="average revenue of one visit; default 150 (a conservative routine visit)")
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code of value_per_visit")


class PracticeProfile(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,30}$")
    name: str = Field(min_length=1)
    timezone: str = "America/New_York"
    phone: str
    booking_url: str | None = None
    survey_url: str | None = None
    hours: dict[str, str] = Field(default_factory=dict)  # "mon": "08:00-17:00" or "closed"
    faq: dict[str, str] = Field(default_factory=dict)  # short form: fact name -> English text the agent may quote
    knowledge: tuple[KnowledgeEntry, ...] = ()  # the practice's own Q&A, in English and Spanish
    locations: tuple[Location, ...] = ()
    providers: tuple[Provider, ...] = ()
    quiet_hours: QuietHours = QuietHours()
    ehr: EhrConnection = EhrConnection()
    sms: SmsSettings = SmsSettings()
    webhook_secret_ref: str | None = Field(
        None, description="Secrets Manager secret name holding the EHR webhook HMAC secret"
    )
    staff_emails: tuple[str, ...] = ()
    ops_emails: tuple[str, ...] = Field(
        (), description="who hears the stack's alarms (DLQs, errors, SMS failures); default: staff_emails"
    )
    on_call_phone: str | None = None
    agent: AgentSettings = AgentSettings()
    booking: BookingSettings | None = Field(
        None, description="self-scheduling (spec/booking.md): what patients may book through their link"
    )
    voice: VoiceSettings | None = Field(None, description="the voice agent (spec/voice.md): Amazon Connect + Lex V2")
    analytics: AnalyticsSettings = Field(
        AnalyticsSettings(), description="the analytics page's ROI: value per visit and its currency")
    saved_replies: tuple[SavedReply, ...] | None = Field(
        None, description="the inbox's saved replies (en/es); default: careloop.inbox.DEFAULT_SAVED_REPLIES")
    test_contacts: tuple[str, ...] = Field(
        (), description="numbers the workflow editor may test-send to (staff phones, a test handset); never patients")

    _zone = field_validator("timezone")(lambda cls, v: _check_zone(v))

    @field_validator("phone", "on_call_phone")
    @classmethod
    def _e164(cls, v: str | None) -> str | None:
        try:
            return None if v is None else to_e164(v)
        except InvalidPhone as exc:  # pydantic names the field only for ValueError
            raise ValueError(str(exc)) from exc

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: dict[str, str]) -> dict[str, str]:
        for day, span in v.items():
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not one of {', '.join(WEEKDAYS)}")
            if span != "closed":
                parts = span.split("-")
                if len(parts) != 2 or not all(HHMM.match(p) for p in parts):
                    raise ValueError(f"{day}: {span!r} is not 'HH:MM-HH:MM' or 'closed'")
        return v

    @field_validator("test_contacts")
    @classmethod
    def _test_contacts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple(to_e164(n) for n in v)
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from exc

    @model_validator(mode="after")
    def _unique_ids(self) -> PracticeProfile:
        for kind, items in (("locations", self.locations), ("providers", self.providers), ("knowledge", self.knowledge)):
            ids = [i.id for i in items]
            if len(ids) != len(set(ids)):
                raise ValueError(f"{kind}: ids must be unique")
        return self

    @model_validator(mode="after")
    def _booking_refers_to_what_exists(self) -> PracticeProfile:
        if self.booking is not None:
            problem = booking_problem(self.booking, {p.id for p in self.providers}, {loc.id for loc in self.locations})
            if problem is not None:
                field, text = problem
                # a custom error carries the field path: the check sees the whole profile, so
                # pydantic alone would place it at the root
                raise PydanticCustomError("profile_field", "{field}: {problem}", {"field": field, "problem": text})
        return self

    @model_validator(mode="after")
    def _voice_refers_to_what_exists(self) -> PracticeProfile:
        problem = voice_problem(self.voice, self.booking, self.hours) if self.voice is not None else None
        if problem is not None:
            field, text = problem
            raise PydanticCustomError("profile_field", "{field}: {problem}", {"field": field, "problem": text})
        return self

    def office_closed_days(self) -> tuple[date, ...]:
        """Days the whole office is closed: the voice section's holidays and the booking section's
        closures that hold for every provider and location, in order, once each."""
        days = set(self.voice.holidays if self.voice is not None else ())
        if self.booking is not None:
            days |= {c.date for c in self.booking.closures if c.provider is None and c.location is None}
        return tuple(sorted(days))

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def fact(self, name: str) -> str | None:
        """A fact the SMS agent may quote, or None (then a person answers, nothing is invented)."""
        return self.faq.get(name) or None

    @cached_property
    def knowledge_entries(self) -> tuple[KnowledgeEntry, ...]:
        """The knowledge list, plus an English-only entry for each `faq` fact it does not cover."""
        covered = {e.topic for e in self.knowledge}
        derived = tuple(
            KnowledgeEntry(id=f"faq-{name}", topic=name if name in KNOWLEDGE_TOPICS else "other",
                           questions=FAQ_QUESTIONS.get(name, {}), answer={"en": text})
            for name, text in self.faq.items() if text and name not in covered
        )
        return self.knowledge + derived


def booking_problem(booking: BookingSettings, providers: set[str], locations: set[str]) -> tuple[str, str] | None:
    """The first thing in the booking section that contradicts the rest of the profile, as
    (field path, what is wrong), or None: unknown providers/locations, a type a provider cannot do
    at any hour, breaks outside their hours, duplicate hours rows."""
    type_ids: set[str] = set()
    for i, kind in enumerate(booking.types):
        if kind.id in type_ids:
            return f"booking.types.{i}.id", f"{kind.id!r} is already the id of another type"
        type_ids.add(kind.id)
        for j, who in enumerate(kind.providers):
            if who not in providers:
                return f"booking.types.{i}.providers.{j}", f"{who!r} is not a provider id in providers"
    seen: dict[tuple[str, str, str], int] = {}
    longest: dict[str, int] = {}  # provider -> the longest stretch of minutes between breaks on any day
    for i, row in enumerate(booking.hours):
        if row.provider not in providers:
            return f"booking.hours.{i}.provider", f"{row.provider!r} is not a provider id in providers"
        if row.location not in locations:
            return f"booking.hours.{i}.location", f"{row.location!r} is not a location id in locations"
        key = (row.provider, row.location, row.weekday)
        if key in seen:
            return f"booking.hours.{i}", f"{row.provider} at {row.location} on {row.weekday} is already booking.hours.{seen[key]}"
        seen[key] = i
        edges = [_minutes(row.hours.start)]  # alternately: a free stretch opens, closes
        for pause in sorted(row.breaks, key=lambda b: b.start):
            where = f"booking.hours.{i}.breaks.{row.breaks.index(pause)}"
            if pause.start < row.hours.start or pause.end > row.hours.end:
                return where, f"{pause.start}-{pause.end} is not inside the hours {row.hours.start}-{row.hours.end}"
            if _minutes(pause.start) < edges[-1]:
                return where, f"{pause.start}-{pause.end} overlaps another break"
            edges += [_minutes(pause.start), _minutes(pause.end)]
        edges.append(_minutes(row.hours.end))
        stretch = max(edges[k + 1] - edges[k] for k in range(0, len(edges), 2))
        longest[row.provider] = max(longest.get(row.provider, 0), stretch)
    for i, kind in enumerate(booking.types):
        for j, who in enumerate(kind.providers):
            if longest.get(who, 0) < kind.minutes:
                return (f"booking.types.{i}.providers.{j}",
                        f"{who} has no working hours with {kind.minutes} minutes free between breaks for {kind.id!r}")
    for i, closure in enumerate(booking.closures):
        if closure.provider is not None and closure.provider not in providers:
            return f"booking.closures.{i}.provider", f"{closure.provider!r} is not a provider id in providers"
        if closure.location is not None and closure.location not in locations:
            return f"booking.closures.{i}.location", f"{closure.location!r} is not a location id in locations"
    return None


def voice_problem(voice: VoiceSettings, booking: BookingSettings | None, hours: dict[str, str]) -> tuple[str, str] | None:
    """The first thing in the voice section that contradicts itself or the profile, as (field path,
    what is wrong), or None: no office hours to transfer in, a number without its instance,
    synonyms for types that do not exist."""
    if voice.enabled and all(span == "closed" for span in hours.values()):
        return "hours", "the voice agent transfers calls in office hours: give at least one open day (voice.enabled)"
    if voice.phone_number_arn is not None:
        if voice.connect_instance_arn is None:
            return "voice.phone_number_arn", "an existing number needs the instance it is claimed in (voice.connect_instance_arn)"
        if voice.phone_number_arn.split(":")[3:5] != voice.connect_instance_arn.split(":")[3:5]:
            return "voice.phone_number_arn", "is not in the region and account of voice.connect_instance_arn"
    if voice.connect_instance_arn is not None and voice.instance_alias is not None:
        return "voice.instance_alias", "names an instance to create, but voice.connect_instance_arn is an existing one"
    if booking is None:  # no self-scheduling: the bot has no VisitType and the synonyms rest unused
        return None
    types = {t.id for t in booking.types}
    for type_id in voice.visit_type_synonyms:
        if type_id not in types:
            return f"voice.visit_type_synonyms.{type_id}", f"{type_id!r} is not an appointment type id in booking.types"
    return None


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _format_errors(exc: ValidationError, source: str) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(root)"
    msg = first["msg"]
    if first["type"] == "profile_field" and not first["loc"]:  # a cross-check that names its own field
        where, msg = first["ctx"]["field"], first["ctx"]["problem"]
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{source}: {where}: {msg}{more}"


def parse_profile(data: dict, source: str = "practice") -> PracticeProfile:
    try:
        return PracticeProfile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, source)) from exc


def load_profile(path: str | Path) -> PracticeProfile:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such practice profile") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    return parse_profile(data, str(path))


def demo_profile() -> PracticeProfile:
    return load_profile(DATA_DIR / "demo-practice.json")
