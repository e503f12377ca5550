"""Table names and key schemas: the one definition that the CDK stack, the local bootstrap,
the DynamoDB adapter and the tests all import, so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table: logical name (used in wiring), keys (all string attributes)."""

    logical: str
    partition_key: str
    sort_key: str | None = None
    stream: bool = False
    indexes: tuple[Index, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None


# EHR-owned records and Careloop-owned state about them: patients (PAT#id), appointments
# (APT#id), consent ledger entries (CONSENT#phone). Its stream drives the workflow planner.
RECORDS = TableSpec(
    logical="records",
    partition_key="pk",
    sort_key="sk",
    stream=True,
    indexes=(
        # patients by E.164 phone, to match inbound texts (one phone may serve a family)
        Index(name="by_phone", partition_key="phone", sort_key="pk"),
        # appointments by patient, to find "the patient's next appointment"
        Index(name="by_patient", partition_key="patient_id", sort_key="start_utc"),
        # every patient / every appointment, for staff lists and audits (no table scans)
        Index(name="by_type", partition_key="record_type", sort_key="pk"),
        # appointments by start, for the slot search's window (sparse: only appointments have start_utc)
        Index(name="by_start", partition_key="record_type", sort_key="start_utc"),
    ),
)

# Planned actions: one item per (workflow, step, appointment/patient) dedupe key. Pending items
# carry `due_shard` so the sparse by_due index lists only what is still to be dispatched.
ACTIONS = TableSpec(
    logical="actions",
    partition_key="action_id",
    indexes=(
        Index(name="by_due", partition_key="due_shard", sort_key="due_at"),
        # every action planned for one appointment or patient, to cancel or re-plan them
        Index(name="by_subject", partition_key="subject", sort_key="due_at"),
    ),
    ttl_attribute="expires_at",
)

# Messages in and out (the outbox, the conversation history, the staff inbox).
MESSAGES = TableSpec(
    logical="messages",
    partition_key="message_id",
    indexes=(
        Index(name="by_patient", partition_key="patient_id", sort_key="at"),
        Index(name="by_provider_id", partition_key="provider_message_id"),
        Index(name="by_kind", partition_key="kind", sort_key="at"),
    ),
)

# Self-scheduling (careloop.booking): personal links (LINK#token, REF#message), slot claims and
# holds (CLAIM / start#provider: one conditional put per slot decides a race). No stream: nothing
# reacts to it; expired links and holds leave through TTL.
BOOKING = TableSpec(
    logical="booking",
    partition_key="pk",
    sort_key="sk",
    ttl_attribute="expires_ttl",
)

ALL_TABLES: tuple[TableSpec, ...] = (RECORDS, ACTIONS, MESSAGES, BOOKING)

# Number of partitions the due index is spread over; the dispatcher queries each shard.
DUE_SHARDS = 4

# Logical names of queues, topics and buckets (the wiring table refers to these).
SEND_QUEUE = "send"
INBOUND_QUEUE = "inbound"
SMS_EVENTS_QUEUE = "sms_events"
WRITEBACK_QUEUE = "ehr_writeback"  # confirmations, cancellations, consent -> the EHR
EHR_IMPORT_QUEUE = "ehr_import"  # large EHR payloads, by job id, for the import worker
INBOUND_TOPIC = "sms_inbound"
SMS_EVENTS_TOPIC = "sms_events"
STAFF_ALERTS_TOPIC = "staff_alerts"
EHR_BUCKET = "ehr"  # archive/ and quarantine/ prefixes
