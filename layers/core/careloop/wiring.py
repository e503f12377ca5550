"""The wiring table: which handler listens to which source, and what it may touch.

Read by the CDK stack (event sources, least-privilege grants) and by the local runtime (which
handler the event pump calls), so `make run` and AWS cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from careloop import tables


@dataclass(frozen=True)
class StreamSource:
    """DynamoDB stream of a table (NEW_AND_OLD_IMAGES), with retry limit, bisect and DLQ."""

    table: str
    batch_size: int = 100
    retry_attempts: int = 3
    kind: Literal["stream"] = "stream"


@dataclass(frozen=True)
class QueueSource:
    """SQS queue (with DLQ after `max_receive_count`), optionally fed by an SNS topic."""

    queue: str
    batch_size: int = 10
    max_receive_count: int = 5
    visibility_timeout_s: int = 60
    fed_by_topic: str | None = None
    max_concurrency: int | None = None
    kind: Literal["queue"] = "queue"


@dataclass(frozen=True)
class ScheduleSource:
    """EventBridge schedule rule."""

    rate_minutes: int = 1
    kind: Literal["schedule"] = "schedule"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, `{proxy+}` allowed


@dataclass(frozen=True)
class ApiSource:
    """API Gateway REST routes. auth: `hmac` (checked in the handler), `cognito`, or `public`
    (no sign-in: the personal token in the request is checked in the handler; rate-limited)."""

    routes: tuple[Route, ...]
    auth: Literal["hmac", "cognito", "public"]
    kind: Literal["api"] = "api"


@dataclass(frozen=True)
class LexCodeHookSource:
    """Amazon Lex V2 calls the function synchronously as the code hook of the bot alias, in every
    locale (spec/voice.md). Deployed only when the practice's profile turns voice on."""

    kind: Literal["lex"] = "lex"


@dataclass(frozen=True)
class ContactEventSource:
    """An EventBridge rule on the Amazon Connect contact events of the practice's instance, with a
    retry limit and a DLQ. Deployed only when the practice's profile turns voice on."""

    event_types: tuple[str, ...] = ("DISCONNECTED",)
    retry_attempts: int = 4
    max_event_age_minutes: int = 15  # a text-back "within a minute" is worthless an hour late
    source: str = "aws.connect"
    detail_type: str = "Amazon Connect Contact Event"
    kind: Literal["contact_events"] = "contact_events"

    def pattern(self, instance_arn: str) -> dict:
        """The rule's event pattern, as EventBridge (and the local Connect stand-in) match it."""
        return {"source": [self.source], "detail-type": [self.detail_type],
                "detail": {"eventType": list(self.event_types), "instanceArn": [instance_arn]}}


Source = StreamSource | QueueSource | ScheduleSource | ApiSource | LexCodeHookSource | ContactEventSource
VOICE_SOURCES = (LexCodeHookSource, ContactEventSource)


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # code lives in functions/<name>/handler.py, entry point `handler`
    description: str
    source: Source
    reads: tuple[str, ...] = ()  # logical table names
    writes: tuple[str, ...] = ()
    sends_to: tuple[str, ...] = ()  # logical queue names
    publishes_to: tuple[str, ...] = ()  # logical topic names
    bucket_write: tuple[str, ...] = ()
    bucket_read_jobs: bool = False  # may read the archived payloads of import jobs (archive/jobs/)
    sms: bool = False  # may call End User Messaging SMS (send, opt-out list)
    timeout_s: int = 30
    memory_mb: int = 512
    reserved_concurrency: int | None = None
    ehr_token: bool = False  # may read the EHR's API token secret (profile ehr.token_secret_ref)
    llm: bool = False  # may call Bedrock for the SMS agent's LLM tier (when profile agent.llm_enabled)
    describe_contact: bool = False  # may call connect:DescribeContact on the practice's instance
    extra: dict = field(default_factory=dict)

    @property
    def voice(self) -> bool:
        """Part of the voice agent: deployed only when the profile's voice section is enabled."""
        return isinstance(self.source, VOICE_SOURCES)


R, A, M = tables.RECORDS.logical, tables.ACTIONS.logical, tables.MESSAGES.logical
B = tables.BOOKING.logical

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="ehr_webhook",
        description="EHR webhooks: verify signature, parse FHIR R4 / HL7 v2, store, archive or quarantine; "
                    "large payloads archived and queued (202), their jobs' status",
        source=ApiSource(
            routes=(Route("POST", "/ehr/fhir"), Route("POST", "/ehr/hl7v2"), Route("GET", "/ehr/jobs/{job_id}")),
            auth="hmac",
        ),
        reads=(R,),
        writes=(R,),  # R: the records, and the job record of a large payload (JOB#<id>)
        bucket_write=(tables.EHR_BUCKET,),
        # id-only notifications: the resources to fetch; large payloads: their job, to the worker
        sends_to=(tables.WRITEBACK_QUEUE, tables.EHR_IMPORT_QUEUE),
        timeout_s=29,
    ),
    FunctionSpec(
        name="ehr_import",
        description="Large EHR payloads: the archived Bundle applied in batches through the bulk engine, "
                    "with a checkpoint and counts on its job",
        # one job per invocation; a batch that keeps failing goes to the DLQ after 5 receives (the
        # job says so); visibility over the timeout, so a live worker's message is not redelivered
        source=QueueSource(queue=tables.EHR_IMPORT_QUEUE, batch_size=1, max_receive_count=5,
                           visibility_timeout_s=330, max_concurrency=2),
        reads=(R,),
        writes=(R,),  # the records, and the job's checkpoint and counts
        bucket_read_jobs=True,
        bucket_write=(tables.EHR_BUCKET,),  # refused entries to quarantine/
        sends_to=(tables.EHR_IMPORT_QUEUE, tables.WRITEBACK_QUEUE),  # the job, queued on; resources to fetch
        timeout_s=300,  # a slice is ehr_import_slice_s (240 s): the rest is margin for the last batch
        memory_mb=1024,  # CPU grows with memory: mapping is CPU-bound
    ),
    FunctionSpec(
        name="planner",
        description="Plans, cancels and re-plans workflow actions on every patient/appointment change",
        source=StreamSource(table=R),
        reads=(R, A, B),
        writes=(A, B),  # B: a late cancellation's gap and its offers to the waitlist (careloop.booking.gaps)
        timeout_s=60,
    ),
    FunctionSpec(
        name="dispatcher",
        description="Every minute: due actions, re-checked and gated, handed to the send queue once",
        source=ScheduleSource(rate_minutes=1),
        reads=(R, A, M, B),
        writes=(A, M, B),  # B: the personal booking link a text carries, minted once per message
        sends_to=(tables.SEND_QUEUE,),
        publishes_to=(tables.STAFF_ALERTS_TOPIC,),
        timeout_s=55,
        reserved_concurrency=1,
    ),
    FunctionSpec(
        name="sms_sender",
        description="Sends queued texts through End User Messaging SMS, records the outcome",
        # paced to the number's rate (10DLC: 1 part/s shared by 2 consumers): small batches,
        # so a batch of 3-part texts still finishes well inside the timeout
        source=QueueSource(queue=tables.SEND_QUEUE, batch_size=4, max_concurrency=2, visibility_timeout_s=360),
        reads=(R, M),
        writes=(M,),
        sms=True,
        timeout_s=60,
    ),
    FunctionSpec(
        name="sms_inbound",
        description="Two-way SMS from patients: consent keywords, SMS agent, replies",
        source=QueueSource(queue=tables.INBOUND_QUEUE, fed_by_topic=tables.INBOUND_TOPIC),
        reads=(R, M, B),
        writes=(R, M, B),  # B: the booking link in a book / reschedule / cancel reply
        sends_to=(tables.SEND_QUEUE, tables.WRITEBACK_QUEUE),
        publishes_to=(tables.STAFF_ALERTS_TOPIC,),
        sms=True,
        llm=True,
    ),
    FunctionSpec(
        name="sms_events",
        description="Delivery events from End User Messaging: message status and undeliverable numbers",
        source=QueueSource(queue=tables.SMS_EVENTS_QUEUE, fed_by_topic=tables.SMS_EVENTS_TOPIC),
        reads=(R, M),
        writes=(R, M),
    ),
    FunctionSpec(
        name="inbox_api",
        description="Staff API: inbox, patients, appointments, workflows, analytics",
        source=ApiSource(routes=(Route("ANY", "/api/{proxy+}"),), auth="cognito"),
        reads=(R, A, M, B),
        # A: a workflow switched on plans for the appointments already booked; B: a confirmed online
        # request's hold becomes its claim, a declined one's is released and a new link minted, and
        # the staff's waitlist flag (careloop.booking.gaps)
        writes=(R, A, M, B),
        sends_to=(tables.SEND_QUEUE, tables.WRITEBACK_QUEUE),
        sms=True,  # staff-recorded consent keeps the carrier opt-out list in step
    ),
    FunctionSpec(
        name="ehr_writeback",
        description="Confirmations, cancellations and consent back to the EHR (FHIR), with retries",
        source=QueueSource(queue=tables.WRITEBACK_QUEUE, batch_size=5, max_receive_count=5,
                           visibility_timeout_s=360, max_concurrency=2),
        reads=(R,),
        writes=(R,),  # a fetched resource is applied like a webhook payload
        bucket_write=(tables.EHR_BUCKET,),
        timeout_s=60,
        memory_mb=256,
        ehr_token=True,
    ),
    FunctionSpec(
        name="booking",
        description="Self-scheduling for patients with a personal link: the page, types, open slots, book",
        source=ApiSource(
            routes=(
                Route("GET", "/b/{token}"),
                Route("GET", "/booking/api/types"),
                Route("GET", "/booking/api/slots"),
                Route("POST", "/booking/api/book"),
            ),
            auth="public",
        ),
        reads=(R, M, B),  # M: the confirmation text is recorded once, even when a booking retries
        writes=(R, M, B),  # R: the appointment (and a reschedule's cancelled one); B: link, claim, hold
        # the confirmation goes through the send queue (texted at once, paced by sms_sender), an
        # `instant` booking to the EHR through the write-back queue, a `request` one to staff
        sends_to=(tables.SEND_QUEUE, tables.WRITEBACK_QUEUE),
        publishes_to=(tables.STAFF_ALERTS_TOPIC,),
        timeout_s=15,  # a patient is waiting on the page; API Gateway gives up at 29 s anyway
        memory_mb=256,
    ),
    FunctionSpec(
        name="voice",
        description="Lex V2 code hook: the voice agent on the SMS agent's core (book, confirm, cancel, "
                    "reschedule, hours, directions, refill, staff, urgent), every turn in the inbox",
        source=LexCodeHookSource(),
        reads=(R, M, B),
        writes=(R, M, B),  # R: bookings, moves, cancellations, new callers; M: turns, tasks; B: slot holds
        # the confirmation text through the send queue, booked / cancelled visits to the EHR
        sends_to=(tables.SEND_QUEUE, tables.WRITEBACK_QUEUE),
        publishes_to=(tables.STAFF_ALERTS_TOPIC,),  # urgent callers page the on-call person
        timeout_s=10,  # a caller is on the line: Lex plays its failure prompt rather than wait longer
        memory_mb=1024,  # CPU grows with memory, and every turn of a call waits on this function
    ),
    FunctionSpec(
        name="voice_events",
        description="Connect contact events: the missed-call text-back (once per number per day) and "
                    "every ended call in the staff inbox",
        source=ContactEventSource(),
        reads=(R, M, B),  # R: the caller and their consent; M: the call's turns, texts already sent
        writes=(M, B),  # M: the call's inbox entry and the text-back; B: its personal booking link
        sends_to=(tables.SEND_QUEUE,),
        describe_contact=True,  # contact events carry no attributes: DescribeContact reads them
        timeout_s=30,
        memory_mb=256,
    ),
)


def by_name(name: str) -> FunctionSpec:
    for spec in FUNCTIONS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def deployed(voice_enabled: bool) -> tuple[FunctionSpec, ...]:
    """The functions a practice runs: all, or all but the voice agent's when voice is off."""
    return tuple(f for f in FUNCTIONS if voice_enabled or not f.voice)


def queues() -> dict[str, QueueSource]:
    """Every queue a handler consumes, by logical name."""
    return {f.source.queue: f.source for f in FUNCTIONS if isinstance(f.source, QueueSource)}


def topics() -> tuple[str, ...]:
    return (tables.INBOUND_TOPIC, tables.SMS_EVENTS_TOPIC, tables.STAFF_ALERTS_TOPIC)


# Environment variable names a handler reads its resource names from (set by CDK, and by the
# local runtime); the settings model is the only reader.
def table_env(logical: str) -> str:
    return f"CARELOOP_TABLE_{logical.upper()}"


def queue_env(logical: str) -> str:
    return f"CARELOOP_QUEUE_{logical.upper()}"


def topic_env(logical: str) -> str:
    return f"CARELOOP_TOPIC_{logical.upper()}"


def bucket_env(logical: str) -> str:
    return f"CARELOOP_BUCKET_{logical.upper()}"
