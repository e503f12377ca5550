"""The ports the core talks through, one small Protocol per concern, and the Services bundle.
AWS adapters live in careloop.adapters; the in-memory fakes in careloop_local.fakes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from careloop.clock import Clock
from careloop.models import (
    ActionStatus,
    Appointment,
    Message,
    MessageStatus,
    Patient,
    PlannedAction,
)
from careloop.practice import PracticeProfile
from careloop.workflows import Workflow

if TYPE_CHECKING:  # the classifier and write-back are not loaded by every function that builds Services
    from careloop.agent.classifier import Prediction
    from careloop.booking.gaps import Gap, GapOffer, WaitlistEntry
    from careloop.booking.links import BookingLink, SlotClaim
    from careloop.booking.offers import SlotOffer
    from careloop.ehr.common import EhrSchedule, EhrSlot
    from careloop.ehr.jobs import ImportJob, JobProgress
    from careloop.ehr.writeback import WritebackQueue
    from careloop.voice.contact import CallContact


# ---- persistence: one port per concern (several may share one DynamoDB table) ----------------


class RecordStore(Protocol):
    """Patients and appointments (EHR-owned fields plus Careloop's consent/confirmation), and
    the identifier index that recognises one person under two ids. Puts are conditional on the
    EHR version marker: -> False when a newer version is stored."""

    def get_patient(self, patient_id: str) -> Patient | None: ...
    def put_patient(self, patient: Patient) -> bool: ...
    def patients_by_phone(self, phone: str) -> list[Patient]: ...
    def all_patients(self) -> list[Patient]: ...
    def get_appointment(self, appointment_id: str) -> Appointment | None: ...
    def put_appointment(self, appointment: Appointment) -> bool: ...
    def appointments_for_patient(self, patient_id: str) -> list[Appointment]: ...
    def all_appointments(self) -> list[Appointment]: ...
    def appointments_between(self, start: datetime, end: datetime) -> list[Appointment]: ...
    # bulk reads/writes (EHR import)
    def get_patients(self, patient_ids: Iterable[str]) -> dict[str, Patient]: ...
    def get_appointments(self, appointment_ids: Iterable[str]) -> dict[str, Appointment]: ...
    def put_new_records(self, records: list[Patient | Appointment]) -> None: ...
    # `system|value` -> the patient id that claimed it first
    def identifier_owners(self, identifiers: Iterable[str]) -> dict[str, str]: ...
    def claim_identifiers(self, owners: dict[str, str]) -> None: ...

    # ---- the EHR's booking grid: FHIR Schedules and Slots (spec/booking.md) ----
    # Puts -> False when a newer version of that Schedule / Slot is stored. A Slot is kept
    # whether or not its Schedule is known yet: it counts once the Schedule arrives.
    def put_schedule(self, schedule: EhrSchedule) -> bool: ...
    def schedules(self) -> list[EhrSchedule]: ...
    def put_slot(self, slot: EhrSlot) -> bool: ...
    # the Slots of one Schedule overlapping [start, end), earliest first (a window, not a scan)
    def slots_between(self, schedule_id: str, start: datetime, end: datetime) -> list[EhrSlot]: ...


class ActionStore(Protocol):
    """Planned actions: written once per dedupe key, found by due time, moved on by conditional
    status transitions (-> False when another worker moved it first)."""

    def put_action_if_absent(self, action: PlannedAction) -> bool: ...
    def get_action(self, action_id: str) -> PlannedAction | None: ...
    def actions_for_subject(self, subject: str) -> list[PlannedAction]: ...
    def due_actions(self, until: datetime, limit: int = 500) -> list[PlannedAction]: ...
    def transition_action(
        self, action_id: str, expected: ActionStatus, new: ActionStatus, **fields: object
    ) -> bool: ...
    # A stale claim taken over: claimed again at `now` only if it is still the claim made at
    # `claimed_at` (None: a claim with no time), so two dispatchers taking it over agree on one.
    def reclaim_action(self, action_id: str, claimed_at: datetime | None, now: datetime) -> bool: ...


class MessageStore(Protocol):
    """Every text in and out, staff tasks and alerts (the inbox and the analytics read these),
    written once per message id, updated by conditional status transitions."""

    def put_message(self, message: Message) -> bool: ...
    def get_message(self, message_id: str) -> Message | None: ...
    def update_message(self, message_id: str, **fields: object) -> None: ...
    def transition_message(self, message_id: str, expected: str, new: str, **fields: object) -> bool: ...
    def message_by_provider_id(self, provider_message_id: str) -> Message | None: ...
    def messages_for_patient(self, patient_id: str) -> list[Message]: ...
    def messages_of_kind(self, kind: str, since: datetime | None = None) -> list[Message]: ...
    # One claim per number on its last text: returns the inbound message id that holds it, this
    # one unless an identical text (same digest) from the number claimed it within `window`.
    def claim_repeat(self, phone: str, digest: str, message_id: str, at: datetime, window: timedelta) -> str: ...


class ConsentLedgerStore(Protocol):
    """The consent ledger's entries (careloop.consent), by phone, each under a time-ordered key."""

    def append_consent(self, entry: dict) -> None: ...
    def consent_entries(self, phone: str) -> list[dict]: ...
    def all_consent_entries(self) -> list[dict]: ...


class ConfigStore(Protocol):
    """Configuration documents (the practice's workflows), optimistic concurrency on a revision:
    `load_config` -> (None, 0) when absent; `save_config` -> False when the revision moved on."""

    def load_config(self, name: str) -> tuple[dict | None, int]: ...
    def save_config(self, name: str, doc: dict, expected_revision: int) -> bool: ...


# Kinds of message a staff conversation is made of: the texts both ways, phone calls and the staff items.
CONVERSATION_KINDS = ("sms_in", "sms_out", "task", "staff_alert", "call")
STAFF_ITEM_KINDS = ("task", "staff_alert")


def needs_staff(message: Message) -> bool:
    """Part of the InboxStore contract: a text flagged for a person, or a task/alert still open."""
    return message.needs_attention or (message.kind in STAFF_ITEM_KINDS and message.status == MessageStatus.OPEN)


class InboxStore(Protocol):
    """What the staff inbox reads and writes, named for the inbox (a later console with
    assignment extends this port, not the message store). Conversations are keyed by patient
    id, or `phone:<E.164>` for a sender no record matches; messages in each are oldest first."""

    def conversations_since(self, since: datetime) -> dict[str, list[Message]]: ...
    def thread(self, patient_id: str) -> list[Message]: ...
    # -> False when a reply with this message id was already recorded (a retried request)
    def record_staff_reply(self, message: Message) -> bool: ...
    # clears every `needs_staff` item of the patient's conversation -> how many it cleared
    def resolve_conversation(self, patient_id: str) -> int: ...
    def patients(self) -> list[Patient]: ...
    # the earliest appointment still to come (status upcoming, start after `after`), by patient id
    def next_appointments(self, after: datetime) -> dict[str, Appointment]: ...
    def appointments_starting(self, start: datetime, end: datetime) -> list[Appointment]: ...


class AnalyticsSource(Protocol):
    """The reads the analytics summary makes, all over a period [start, end), so that a
    pre-aggregated store can replace the table reads without touching careloop.inbox."""

    def messages_between(self, kind: str, start: datetime, end: datetime) -> list[Message]: ...
    def appointments_starting(self, start: datetime, end: datetime) -> list[Appointment]: ...
    # every appointment of these patients, whenever it starts (a no-show's later booking)
    def appointments_of_patients(self, patient_ids: Iterable[str]) -> list[Appointment]: ...
    # the patients of the period's visits (their language), one batched read; unknown ids are left out
    def patients_by_id(self, patient_ids: Iterable[str]) -> dict[str, Patient]: ...


class BookingStore(Protocol):
    """Self-scheduling state: personal links (one per message ref, spent once), and slot claims
    and holds, each a conditional write on (provider, start) so one booking wins a race."""

    # -> False when a link was already minted for `link.ref` (a redelivered message reuses it)
    def put_link(self, link: BookingLink) -> bool: ...
    def get_link(self, token: str) -> BookingLink | None: ...
    def link_for_ref(self, ref: str) -> BookingLink | None: ...
    # -> False when the link was already spent
    def spend_link(self, token: str, appointment_id: str, at: datetime) -> bool: ...
    # -> False when another booking holds this provider's start
    def claim_slot(self, claim: SlotClaim) -> bool: ...
    def release_slot(self, provider: str, start: datetime) -> None: ...
    # claims and holds whose start is in [start, end)
    def claims_between(self, start: datetime, end: datetime) -> list[SlotClaim]: ...
    # one more request on a link in `window` (a minute): the count so far, atomically (per-token limit)
    def count_request(self, token: str, window: str, expires_at: datetime) -> int: ...

    # -- rescheduling by text: the times offered to a patient (careloop.booking.offers) --
    # -> False when an offer with this id is already stored (a redelivered text makes the same one)
    def put_offer(self, offer: SlotOffer) -> bool: ...
    # the patient's most recent offer (by created_at), open or not
    def latest_offer(self, patient_id: str) -> SlotOffer | None: ...
    # -> False when the offer was already closed (another reply picked first)
    def close_offer(self, offer: SlotOffer, by: str, choice: int | None, at: datetime) -> bool: ...

    # ---- filling gaps from the waitlist (careloop.booking.gaps) ----
    # -> False when the patient is already on it (they keep their first `since`: their place)
    def put_waitlist(self, entry: WaitlistEntry) -> bool: ...
    # -> False when they were not on it
    def remove_waitlist(self, patient_id: str) -> bool: ...
    def get_waitlist(self, patient_id: str) -> WaitlistEntry | None: ...
    def waitlist(self) -> list[WaitlistEntry]: ...
    # -> False when the slot already has an open gap, or this cancellation's (a redelivery)
    def open_gap(self, gap: Gap) -> bool: ...
    def get_gap(self, key: str) -> Gap | None: ...
    # -> False when the gap is no longer open (the winner of the slot's claim marks it)
    def take_gap(self, key: str, patient_id: str, at: datetime) -> bool: ...
    # -> False when this patient was already offered this slot (once per patient per slot)
    def put_gap_offer(self, offer: GapOffer) -> bool: ...
    def set_gap_offer(self, key: str, patient_id: str, **fields: object) -> None: ...
    def gap_offers(self, key: str) -> list[GapOffer]: ...
    def gap_offers_for_patient(self, patient_id: str) -> list[GapOffer]: ...


class ContactDirectory(Protocol):
    """Amazon Connect's record of a call (`DescribeContact`): contact events carry no custom
    attributes and no caller number, so the missed-call text-back reads them here."""

    # -> None when the instance has no such contact (an event from another instance, or gone)
    def describe(self, instance_id: str, contact_id: str) -> CallContact | None: ...


# ---- the other side effects ------------------------------------------------------------------


class Outbox(Protocol):
    """Hands an outbound message (already stored, status queued) to the sender."""

    def enqueue(self, message: Message) -> None: ...


class Notifier(Protocol):
    """Tells staff about a task or alert (SNS topic -> email / SMS to on-call)."""

    def notify(self, message: Message) -> None: ...


class SmsChannel(Protocol):
    """The carrier side: End User Messaging SMS."""

    def send(self, to: str, body: str, context: dict[str, str]) -> str: ...  # provider id
    def opt_out(self, phone: str) -> None: ...
    def opt_in(self, phone: str) -> None: ...


# The LLM tier's verdict when it sees possible urgency the rules did not: the local prediction is
# kept and a person is alerted urgently (urgent is the rules' to decide, never the LLM's).
LLM_URGENT_REASON = "llm flagged possible urgency"


class IntentLlm(Protocol):
    """Second opinion (careloop.agent.llm): `label` for a text the local classifier is unsure about
    (a Prediction with a label and extracted details), `screen` for urgency on every other text not
    already urgent; either returns `local` unchanged when it cannot help.
    It never produces text for a patient. `names` / `ids` are removed from what it sends."""

    def label(self, text: str, local: Prediction, *, names: Sequence[str] = (), ids: Sequence[str] = (),
              ref: str = "") -> Prediction: ...

    def screen(self, text: str, local: Prediction, *, names: Sequence[str] = (), ids: Sequence[str] = (),
               ref: str = "") -> Prediction: ...  # urgency only, for every text not already urgent


class AccessLogStore(Protocol):
    """The PHI access log (careloop.audit): entries written once under their key, never updated or
    deleted; `append_access` -> False when an entry with that key is already there."""

    def append_access(self, entry: dict) -> bool: ...
    def access_entries(self) -> list[dict]: ...


class StaffDirectory(Protocol):
    """The practice's staff accounts (the Cognito user pool): each with one role (a group)."""

    def list_staff(self) -> list[dict]: ...  # {"username", "email", "roles", "status", "enabled"}
    def invite(self, email: str, role: str) -> dict: ...  # NotFound/Conflict/PayloadError name the problem
    def set_role(self, username: str, role: str) -> dict: ...


class ImportJobStore(Protocol):
    """Jobs of large EHR payloads worked behind a queue (careloop.ehr.jobs): state and counts,
    committed one batch at a time. `commit_batch` is conditional on the job's checkpoint: ->
    False when batch `index` was committed already (a redelivery, or a second worker)."""

    def create_job(self, job: ImportJob) -> None: ...
    def get_job(self, job_id: str) -> ImportJob | None: ...
    def start_job(self, job_id: str, at: datetime) -> None: ...  # queued -> running (once)
    def commit_batch(self, job_id: str, index: int, progress: JobProgress, at: datetime) -> bool: ...
    def finish_job(self, job_id: str, state: str, at: datetime, error: str = "") -> None: ...
    def note_failure(self, job_id: str, error: str, at: datetime) -> None: ...


class ImportQueue(Protocol):
    """The queue of the import worker: job ids only (the payload is in the archive)."""

    def enqueue(self, job_id: str) -> None: ...


@dataclass
class Services:
    """Everything a core operation needs, built once per cold start (or per simulation)."""

    records: RecordStore
    actions: ActionStore
    messages: MessageStore
    consent: ConsentLedgerStore
    configs: ConfigStore
    inbox: InboxStore
    analytics: AnalyticsSource
    practice: PracticeProfile
    workflow_source: tuple[Workflow, ...] | Callable[[], tuple[Workflow, ...]]
    clock: Clock
    outbox: Outbox
    notifier: Notifier
    sms: SmsChannel | None = None  # for keeping the carrier opt-out list in step
    writeback: WritebackQueue | None = None  # only when the practice turned EHR write-back on
    llm: IntentLlm | None = None  # the optional LLM tier, only when practice.agent.llm_enabled
    booking: BookingStore | None = None  # self-scheduling links and slot claims
    booking_base_url: str = ""  # where links point (<base>/b/<token>); empty: practice.booking_url
    contacts: ContactDirectory | None = None  # Amazon Connect DescribeContact (voice-events only)
    access_log: AccessLogStore | None = None  # who opened or exported PHI (staff API only)
    staff: StaffDirectory | None = None  # staff accounts and roles (staff API only)

    @property
    def workflows(self) -> tuple[Workflow, ...]:
        """Fixed (simulation) or the stored, switchable set (deployed)."""
        source = self.workflow_source
        return source() if callable(source) else source

    def workflow(self, workflow_id: str) -> Workflow | None:
        for w in self.workflows:
            if w.id == workflow_id:
                return w
        return None
