"""The in-memory fakes of every port (one per port, same semantics as the AWS adapters) and
`memory_services`, the in-memory core that `careloop simulate` and the unit tests run on."""

from __future__ import annotations

import copy
import heapq
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel

from careloop.booking.gaps import Gap, GapOffer, WaitlistEntry
from careloop.booking.links import BookingLink, SlotClaim
from careloop.booking.offers import SlotOffer
from careloop.clock import FixedClock
from careloop.ehr.common import EhrSchedule, EhrSlot
from careloop.ehr.jobs import ImportJob, JobProgress
from careloop.engine.planner import plan_appointment_change
from careloop.errors import Conflict, NotFound
from careloop.models import (
    MAX_APPOINTMENT_LENGTH,
    UPCOMING_STATUSES,
    ActionStatus,
    Appointment,
    Message,
    MessageStatus,
    Patient,
    PlannedAction,
)
from careloop.ports import CONVERSATION_KINDS, Services, needs_staff
from careloop.practice import PracticeProfile, demo_profile
from careloop.records import is_stale
from careloop.voice.contact import CallContact
from careloop.workflows import Workflow, default_library

_Model = TypeVar("_Model", bound=BaseModel)
Record = Patient | Appointment  # what a MemoryRecords listener is told about


_LIST_FIELDS: dict[type, tuple[str, ...]] = {}


def _list_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a model class that may hold a list (by annotation), found once per class."""
    names = _LIST_FIELDS.get(cls)
    if names is None:
        names = _LIST_FIELDS[cls] = tuple(
            name for name, f in cls.model_fields.items()
            if any(word in str(f.annotation).lower() for word in ("list", "any", "object")))
    return names


# pydantic's own slots, set as its __copy__ sets them (without the model's validating __setattr__)
_new_object, _set_slot = object.__new__, object.__setattr__
_SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__


def _clone(model: _Model) -> _Model:
    """A copy the caller may change without touching what is stored (lists are the only
    mutable fields the models have); pydantic's deep copy was 70% of a simulation's time, and
    `model_copy` (copy.copy of each part, every field looked at) still a quarter of a
    50,000-patient month's, so the same shallow copy is made here with the list fields known.
    The copy's record of fields set is empty, as a stored model's is (`_stored`)."""
    cls = model.__class__
    fields = model.__dict__.copy()
    names = _LIST_FIELDS.get(cls)
    for name in _list_fields(cls) if names is None else names:
        value = fields.get(name)
        if value.__class__ is list:
            fields[name] = value[:]
    copied = _new_object(cls)
    _set_slot(copied, "__dict__", fields)
    _SET_FIELDS_SET(copied, set())
    extra, private = model.__pydantic_extra__, model.__pydantic_private__
    _SET_EXTRA(copied, None if extra is None else dict(extra))
    _SET_PRIVATE(copied, None if private is None else dict(private))
    return copied


def _stored(model: _Model) -> _Model:
    """What a fake keeps: the model with an empty record of which fields were set. Nothing reads
    it, and a model rebuilt from a full dump (every transition and message update) records all
    of them, a set three times the size of the model's own fields: most of a large month's memory."""
    object.__setattr__(model, "__pydantic_fields_set__", set())
    return model


def _day(at: datetime) -> int:
    """The UTC day an instant falls on (the appointments' window index)."""
    return at.astimezone(UTC).toordinal()


def is_newer_or_same(incoming: str, stored: str) -> bool:
    """EHR version markers sort newer-is-greater; an empty marker never blocks a write."""
    return not incoming or not stored or incoming >= stored


class MemoryRecords:
    """RecordStore: patients, appointments and the identifier index, with the version check
    and the indexes (by phone, by patient) the DynamoDB table has; `listeners` are called with
    (kind, old, new) after each record write, as the table's stream would be."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.patients: dict[str, Patient] = {}
        self.appointments: dict[str, Appointment] = {}
        self.listeners: list[Callable[[str, Record | None, Record], None]] = []
        self._by_phone: dict[str, set[str]] = defaultdict(set)
        self._by_patient: dict[str, set[str]] = defaultdict(set)
        self._by_day: dict[int, set[str]] = defaultdict(set)  # appointment ids by their start's UTC day
        self._rank: dict[str, int] = {}  # appointment id -> its place in `appointments` (first put first)
        self._identifier_owner: dict[str, str] = {}
        self._schedules: dict[str, EhrSchedule] = {}  # the EHR's booking grid (see its block below)
        self._slots: dict[str, EhrSlot] = {}

    def _emit(self, kind: str, old: Record | None, new: Record) -> None:
        for listener in self.listeners:
            listener(kind, old, new)

    def get_patient(self, patient_id: str) -> Patient | None:
        with self._lock:
            p = self.patients.get(patient_id)
            return _clone(p) if p else None

    def put_patient(self, patient: Patient) -> bool:
        with self._lock:
            old = self.patients.get(patient.id)
            if old and not is_newer_or_same(patient.source_version, old.source_version):
                return False
            if old == patient:
                return True
            if old is not None and old.phone:
                self._by_phone[old.phone].discard(old.id)
            if patient.phone:
                self._by_phone[patient.phone].add(patient.id)
            self.patients[patient.id] = _stored(_clone(patient))
        self._emit("patient", old, patient)
        return True

    def patients_by_phone(self, phone: str) -> list[Patient]:
        with self._lock:
            return [_clone(self.patients[i]) for i in sorted(self._by_phone.get(phone, ()))]

    def all_patients(self) -> list[Patient]:
        with self._lock:
            return [_clone(p) for p in self.patients.values()]

    def get_appointment(self, appointment_id: str) -> Appointment | None:
        with self._lock:
            a = self.appointments.get(appointment_id)
            return _clone(a) if a else None

    def put_appointment(self, appointment: Appointment) -> bool:
        with self._lock:
            old = self.appointments.get(appointment.id)
            if old and not is_newer_or_same(appointment.source_version, old.source_version):
                return False
            if old == appointment:
                return True
            if old is not None:
                self._by_patient[old.patient_id].discard(old.id)
                self._by_day[_day(old.start)].discard(old.id)
            self._by_patient[appointment.patient_id].add(appointment.id)
            self._by_day[_day(appointment.start)].add(appointment.id)
            self._rank.setdefault(appointment.id, len(self._rank))
            self.appointments[appointment.id] = _stored(_clone(appointment))
        self._emit("appointment", old, appointment)
        return True

    def appointments_for_patient(self, patient_id: str) -> list[Appointment]:
        with self._lock:
            found = [self.appointments[i] for i in self._by_patient.get(patient_id, ())]
            return [_clone(a) for a in sorted(found, key=lambda a: a.start)]

    def all_appointments(self) -> list[Appointment]:
        with self._lock:
            return [_clone(a) for a in self.appointments.values()]

    def appointments_between(self, start: datetime, end: datetime) -> list[Appointment]:
        first = start - MAX_APPOINTMENT_LENGTH
        with self._lock:  # what the DynamoDB window query answers (its lookback included)
            days = range(_day(first), _day(end) + 1)
            if len(days) > len(self._by_day):  # a window longer than the days stored: look at those
                days = [d for d in self._by_day if d in days]  # type: ignore[assignment]
            ids = {i for day in days for i in self._by_day.get(day, ())}
            found = [self.appointments[i] for i in sorted(ids, key=self._rank.__getitem__)]  # as a scan lists them
            return [_clone(a) for a in found if first <= a.start <= end and a.start < end and a.end > start]

    def get_patients(self, patient_ids: Iterable[str]) -> dict[str, Patient]:
        with self._lock:
            return {i: _clone(self.patients[i]) for i in set(patient_ids) if i in self.patients}

    def get_appointments(self, appointment_ids: Iterable[str]) -> dict[str, Appointment]:
        with self._lock:
            return {i: _clone(self.appointments[i]) for i in set(appointment_ids) if i in self.appointments}

    def put_new_records(self, records: list[Patient | Appointment]) -> None:
        """Batched write of records the caller read as absent (bulk import); no version check
        (DynamoDB's BatchWriteItem has none), so callers use it only for absent ids."""
        for record in records:
            if isinstance(record, Patient):
                self.put_patient(record)
            else:
                self.put_appointment(record)

    def identifier_owners(self, identifiers: Iterable[str]) -> dict[str, str]:
        """`system|value` -> the patient id that claimed it first (absent: unclaimed)."""
        with self._lock:
            owners = self._identifier_owner
            return {i: owners[i] for i in set(identifiers) if i in owners}

    def claim_identifiers(self, owners: dict[str, str]) -> None:
        with self._lock:
            self._identifier_owner.update(owners)

    # ---- the EHR's booking grid: FHIR Schedules and Slots (same rules as DynamoRecords) ---------

    def put_schedule(self, schedule: EhrSchedule) -> bool:
        with self._lock:
            stored = self._schedules.get(schedule.id)
            if stored and is_stale(schedule.version, stored.version):
                return False
            self._schedules[schedule.id] = schedule
            return True

    def schedules(self) -> list[EhrSchedule]:
        with self._lock:
            return list(self._schedules.values())

    def put_slot(self, slot: EhrSlot) -> bool:
        with self._lock:
            stored = self._slots.get(slot.id)
            if stored and is_stale(slot.version, stored.version):
                return False
            self._slots[slot.id] = slot
            return True

    def slots_between(self, schedule_id: str, start: datetime, end: datetime) -> list[EhrSlot]:
        with self._lock:
            found = [s for s in self._slots.values() if s.schedule == schedule_id and s.start < end and s.end > start]
        return sorted(found, key=lambda s: (s.start, s.id))


_EPOCH, _MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)


def _instant(at: datetime) -> int:
    """An aware datetime as whole microseconds since 1970: the due heap's key. Same order and
    equality as the datetimes (exact, unlike a float timestamp), but comparing two ints is cheap,
    where comparing datetimes of two zones asks each for its UTC offset, at every level of a
    heap of 100,000 actions."""
    return (at - _EPOCH) // _MICROSECOND


class MemoryActions:
    """ActionStore: planned actions, found by due time through a heap (as the by_due index)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.actions: dict[str, PlannedAction] = {}
        self._by_subject: dict[str, set[str]] = defaultdict(set)
        self._due: list[tuple[int, str]] = []  # heap of (_instant(due_at), action_id); stale entries skipped

    def put_action_if_absent(self, action: PlannedAction) -> bool:
        with self._lock:
            if action.action_id in self.actions:
                return False
            self.actions[action.action_id] = _stored(_clone(action))
            self._by_subject[action.subject].add(action.action_id)
            heapq.heappush(self._due, (_instant(action.due_at), action.action_id))
            return True

    def get_action(self, action_id: str) -> PlannedAction | None:
        with self._lock:
            a = self.actions.get(action_id)
            return _clone(a) if a else None

    def actions_for_subject(self, subject: str) -> list[PlannedAction]:
        with self._lock:
            found = [self.actions[i] for i in self._by_subject.get(subject, ())]
            return [_clone(a) for a in sorted(found, key=lambda a: a.due_at)]

    def due_actions(self, until: datetime, limit: int = 500) -> list[PlannedAction]:
        open_states = (ActionStatus.PENDING, ActionStatus.CLAIMED)
        last = _instant(until)
        with self._lock:
            found: list[PlannedAction] = []
            keep: list[tuple] = []
            while self._due and self._due[0][0] <= last and len(found) < limit:
                entry = heapq.heappop(self._due)
                action = self.actions[entry[1]]
                if action.status in open_states and _instant(action.due_at) == entry[0]:
                    found.append(_clone(action))
                    keep.append(entry)
            for entry in keep:  # still open until someone moves them on
                heapq.heappush(self._due, entry)
            return found

    def transition_action(
        self, action_id: str, expected: ActionStatus, new: ActionStatus, **fields: object
    ) -> bool:
        with self._lock:
            current = self.actions.get(action_id)
            if current is None or current.status != expected:
                return False
            # validated whole, as a read back from the table would be (a model's fields are plain
            # values: its __dict__ is what model_dump gives, without the dump's walk)
            updated = _stored(PlannedAction.model_validate(current.__dict__ | {"status": new, **fields}))
            self.actions[action_id] = updated
            if updated.due_at != current.due_at:
                heapq.heappush(self._due, (_instant(updated.due_at), action_id))
            return True

    def reclaim_action(self, action_id: str, claimed_at: datetime | None, now: datetime) -> bool:
        with self._lock:
            current = self.actions.get(action_id)
            if current is None or current.status != ActionStatus.CLAIMED or current.claimed_at != claimed_at:
                return False
            self.actions[action_id] = _stored(current.model_copy(update={"claimed_at": now}))
            return True


class MemoryMessages:
    """MessageStore, with the indexes (by patient, by kind, by provider id) the table has."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.messages: dict[str, Message] = {}
        self._msgs_by_patient: dict[str, list[str]] = defaultdict(list)
        self._msgs_by_kind: dict[str, list[str]] = defaultdict(list)
        self._by_provider_id: dict[str, str] = {}
        self._repeats: dict[str, tuple[str, str, datetime]] = {}  # phone -> (holder, digest, at)

    def put_message(self, message: Message) -> bool:
        with self._lock:
            if message.message_id in self.messages:
                return False
            self.messages[message.message_id] = _stored(_clone(message))
            if message.patient_id:
                self._msgs_by_patient[message.patient_id].append(message.message_id)
            self._msgs_by_kind[message.kind].append(message.message_id)
            if message.provider_message_id:
                self._by_provider_id[message.provider_message_id] = message.message_id
            return True

    def get_message(self, message_id: str) -> Message | None:
        with self._lock:
            m = self.messages.get(message_id)
            return _clone(m) if m else None

    def update_message(self, message_id: str, **fields: object) -> None:
        with self._lock:
            current = self.messages[message_id]
            # validated whole, as in transition_action (a call's turns are kept as the models they are)
            self.messages[message_id] = _stored(Message.model_validate(current.__dict__ | fields))
            if fields.get("provider_message_id"):
                self._by_provider_id[str(fields["provider_message_id"])] = message_id
            if fields.get("patient_id") and fields["patient_id"] != current.patient_id:  # by_patient follows, as the index does
                if current.patient_id:
                    self._msgs_by_patient[current.patient_id].remove(message_id)
                self._msgs_by_patient[str(fields["patient_id"])].append(message_id)

    def transition_message(self, message_id: str, expected: str, new: str, **fields: object) -> bool:
        with self._lock:
            current = self.messages.get(message_id)
            if current is None or current.status != expected:
                return False
            self.update_message(message_id, status=new, **fields)
            return True

    def claim_repeat(self, phone: str, digest: str, message_id: str, at: datetime, window: timedelta) -> str:
        with self._lock:
            held = self._repeats.get(phone)
            if held is not None and held[0] != message_id and held[1] == digest and abs(held[2] - at) <= window:
                return held[0]
            self._repeats[phone] = (message_id, digest, at)
            return message_id

    def message_by_provider_id(self, provider_message_id: str) -> Message | None:
        with self._lock:
            mid = self._by_provider_id.get(provider_message_id)
            return _clone(self.messages[mid]) if mid else None

    def messages_for_patient(self, patient_id: str) -> list[Message]:
        with self._lock:
            return self._sorted([self.messages[i] for i in self._msgs_by_patient.get(patient_id, ())])

    def messages_of_kind(self, kind: str, since: datetime | None = None) -> list[Message]:
        with self._lock:
            found = [self.messages[i] for i in self._msgs_by_kind.get(kind, ())]
            return self._sorted([m for m in found if since is None or m.at >= since])

    def _sorted(self, items: Iterable[Message]) -> list[Message]:
        with self._lock:
            return [_clone(m) for m in sorted(items, key=lambda m: (m.at, m.message_id))]


class MemoryConsent:
    """ConsentLedgerStore: entries by phone, each under its time-ordered key."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._consent: dict[str, dict[str, dict]] = defaultdict(dict)

    def append_consent(self, entry: dict) -> None:
        with self._lock:
            mid = entry.get("message_id")
            if mid and any(e.get("message_id") == mid for e in self._consent[entry["phone"]].values()):
                return  # one proof row per inbound message (the table's claim)
            self._consent[entry["phone"]][entry["key"]] = copy.deepcopy(entry)

    def consent_entries(self, phone: str) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(e) for _, e in sorted(self._consent.get(phone, {}).items())]

    def all_consent_entries(self) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(e) for entries in self._consent.values() for e in entries.values()]


class MemoryConfigs:
    """ConfigStore: documents with a revision, saved only over the revision read."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._configs: dict[str, tuple[dict, int]] = {}

    def load_config(self, name: str) -> tuple[dict | None, int]:
        with self._lock:
            doc, revision = self._configs.get(name, (None, 0))
            return copy.deepcopy(doc), revision

    def save_config(self, name: str, doc: dict, expected_revision: int) -> bool:
        with self._lock:
            if self._configs.get(name, (None, 0))[1] != expected_revision:
                return False
            self._configs[name] = (copy.deepcopy(doc), expected_revision + 1)
            return True


class MemoryInbox:
    """InboxStore over the message and record fakes (what the DynamoDB adapter reads through
    the table's indexes), so the inbox sees every write the other ports made."""

    def __init__(self, records: MemoryRecords, messages: MemoryMessages) -> None:
        self._records = records
        self._messages = messages

    def conversations_since(self, since: datetime) -> dict[str, list[Message]]:
        by_key: dict[str, list[Message]] = {}
        for kind in CONVERSATION_KINDS:
            for m in self._messages.messages_of_kind(kind, since):
                by_key.setdefault(m.patient_id or f"phone:{m.phone}", []).append(m)
        for msgs in by_key.values():
            msgs.sort(key=lambda m: m.at)  # stable, as the adapter's
        return by_key

    def thread(self, patient_id: str) -> list[Message]:
        return self._messages.messages_for_patient(patient_id)

    def record_staff_reply(self, message: Message) -> bool:
        return self._messages.put_message(message)

    def resolve_conversation(self, patient_id: str) -> int:
        n = 0
        for m in self._messages.messages_for_patient(patient_id):
            if not needs_staff(m):
                continue
            if m.needs_attention:
                self._messages.update_message(m.message_id, needs_attention=False)
            else:
                self._messages.update_message(m.message_id, status=MessageStatus.DONE)
            n += 1
        return n

    def patients(self) -> list[Patient]:
        return self._records.all_patients()

    def next_appointments(self, after: datetime) -> dict[str, Appointment]:
        upcoming: dict[str, Appointment] = {}
        for a in self._records.all_appointments():
            if a.start > after and a.status in UPCOMING_STATUSES:
                best = upcoming.get(a.patient_id)
                if best is None or a.start < best.start:
                    upcoming[a.patient_id] = a
        return upcoming

    def appointments_starting(self, start: datetime, end: datetime) -> list[Appointment]:
        found = [a for a in self._records.all_appointments() if start <= a.start < end]
        return sorted(found, key=lambda a: a.start)


class MemoryAnalytics:
    """AnalyticsSource over the message and record fakes."""

    def __init__(self, records: MemoryRecords, messages: MemoryMessages) -> None:
        self._records = records
        self._messages = messages

    def messages_between(self, kind: str, start: datetime, end: datetime) -> list[Message]:
        return [m for m in self._messages.messages_of_kind(kind, start) if m.at < end]

    def appointments_starting(self, start: datetime, end: datetime) -> list[Appointment]:
        found = [a for a in self._records.all_appointments() if start <= a.start < end]
        return sorted(found, key=lambda a: a.start)

    def appointments_of_patients(self, patient_ids: Iterable[str]) -> list[Appointment]:
        return [a for pid in sorted(set(patient_ids)) for a in self._records.appointments_for_patient(pid)]

    def patients_by_id(self, patient_ids: Iterable[str]) -> dict[str, Patient]:
        return self._records.get_patients(set(patient_ids))


class MemoryBooking:
    """BookingStore: links by token and by ref, slot claims by (provider, start), each put
    conditional under one lock, as the table's conditional writes are."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.links: dict[str, BookingLink] = {}
        self._by_ref: dict[str, str] = {}
        self.request_counts: dict[tuple[str, str], int] = {}
        self.claims: dict[tuple[str, datetime], SlotClaim] = {}
        self.offers: dict[str, SlotOffer] = {}
        self.waiting: dict[str, WaitlistEntry] = {}
        self.gaps: dict[str, Gap] = {}
        self.offered: dict[tuple[str, str], GapOffer] = {}  # (gap key, patient id)

    def count_request(self, token: str, window: str, expires_at: datetime) -> int:
        with self._lock:
            key = (token, window)
            self.request_counts[key] = self.request_counts.get(key, 0) + 1
            return self.request_counts[key]

    def put_link(self, link: BookingLink) -> bool:
        with self._lock:
            if link.ref in self._by_ref or link.token in self.links:
                return False
            self.links[link.token] = link.model_copy()
            self._by_ref[link.ref] = link.token
            return True

    def get_link(self, token: str) -> BookingLink | None:
        link = self.links.get(token)
        return link.model_copy() if link else None

    def link_for_ref(self, ref: str) -> BookingLink | None:
        token = self._by_ref.get(ref)
        return self.get_link(token) if token else None

    def spend_link(self, token: str, appointment_id: str, at: datetime) -> bool:
        with self._lock:
            link = self.links.get(token)
            if link is None or link.spent_at is not None:
                return False
            self.links[token] = link.model_copy(update={"spent_at": at, "booked_appointment_id": appointment_id})
            return True

    def claim_slot(self, claim: SlotClaim) -> bool:
        key = (claim.provider, claim.start.astimezone(UTC))
        with self._lock:
            if key in self.claims:
                return False
            self.claims[key] = claim
            return True

    def release_slot(self, provider: str, start: datetime) -> None:
        with self._lock:
            self.claims.pop((provider, start.astimezone(UTC)), None)

    def claims_between(self, start: datetime, end: datetime) -> list[SlotClaim]:
        return sorted((c for c in list(self.claims.values()) if start <= c.start < end), key=lambda c: c.start)

    # -- rescheduling by text: offered times --
    def put_offer(self, offer: SlotOffer) -> bool:
        with self._lock:
            if offer.offer_id in self.offers:
                return False
            self.offers[offer.offer_id] = offer.model_copy()
            return True

    def latest_offer(self, patient_id: str) -> SlotOffer | None:
        mine = [o for o in list(self.offers.values()) if o.patient_id == patient_id]
        return max(mine, key=lambda o: (o.created_at, o.offer_id)).model_copy() if mine else None

    def close_offer(self, offer: SlotOffer, by: str, choice: int | None, at: datetime) -> bool:
        with self._lock:
            stored = self.offers.get(offer.offer_id)
            if stored is None or stored.status != "open":
                return False
            self.offers[offer.offer_id] = stored.model_copy(
                update={"status": "closed", "closed_at": at, "closed_by": by, "choice": choice})
            return True

    # ---- filling gaps from the waitlist (careloop.booking.gaps) ----
    def put_waitlist(self, entry: WaitlistEntry) -> bool:
        with self._lock:
            if entry.patient_id in self.waiting:
                return False
            self.waiting[entry.patient_id] = entry
            return True

    def remove_waitlist(self, patient_id: str) -> bool:
        with self._lock:
            return self.waiting.pop(patient_id, None) is not None

    def get_waitlist(self, patient_id: str) -> WaitlistEntry | None:
        return self.waiting.get(patient_id)

    def waitlist(self) -> list[WaitlistEntry]:
        return sorted(self.waiting.values(), key=lambda e: (e.since, e.patient_id))

    def open_gap(self, gap: Gap) -> bool:
        with self._lock:
            old = self.gaps.get(gap.key)
            if old is not None and (old.status == "open" or old.cancelled == gap.cancelled):
                return False
            self.gaps[gap.key] = gap
            return True

    def get_gap(self, key: str) -> Gap | None:
        return self.gaps.get(key)

    def take_gap(self, key: str, patient_id: str, at: datetime) -> bool:
        with self._lock:
            gap = self.gaps.get(key)
            if gap is None or gap.status != "open":
                return False
            self.gaps[key] = gap.model_copy(update={"status": "taken", "taken_by": patient_id})
            return True

    def put_gap_offer(self, offer: GapOffer) -> bool:
        with self._lock:
            if (offer.gap, offer.patient_id) in self.offered:
                return False
            self.offered[(offer.gap, offer.patient_id)] = offer
            return True

    def set_gap_offer(self, key: str, patient_id: str, **fields: object) -> None:
        with self._lock:
            offer = self.offered.get((key, patient_id))
            if offer is not None:
                self.offered[(key, patient_id)] = GapOffer.model_validate(offer.model_dump() | fields)

    def gap_offers(self, key: str) -> list[GapOffer]:
        return sorted((o for (k, _), o in list(self.offered.items()) if k == key), key=lambda o: o.patient_id)

    def gap_offers_for_patient(self, patient_id: str) -> list[GapOffer]:
        return sorted((o for (_, p), o in list(self.offered.items()) if p == patient_id), key=lambda o: o.gap)


class MemoryContacts:
    """Amazon Connect's contacts as DescribeContact would answer; tests put them in `contacts`,
    keyed by (instance id, contact id)."""

    def __init__(self) -> None:
        self.contacts: dict[tuple[str, str], CallContact] = {}

    def describe(self, instance_id: str, contact_id: str) -> CallContact | None:
        return self.contacts.get((instance_id, contact_id))


@dataclass
class ListOutbox:
    sent: list[Message] = field(default_factory=list)

    def enqueue(self, message: Message) -> None:
        self.sent.append(message)


@dataclass
class ListNotifier:
    notified: list[Message] = field(default_factory=list)

    def notify(self, message: Message) -> None:
        self.notified.append(message)


def memory_services(
    at: datetime,
    practice: PracticeProfile | None = None,
    workflows: tuple[Workflow, ...] | None = None,
) -> Services:
    """The core on fakes and a virtual clock, the record stream emulated by a listener."""
    records, messages = MemoryRecords(), MemoryMessages()
    services = Services(
        records=records,
        actions=MemoryActions(),
        messages=messages,
        consent=MemoryConsent(),
        configs=MemoryConfigs(),
        inbox=MemoryInbox(records, messages),
        analytics=MemoryAnalytics(records, messages),
        practice=practice or demo_profile(),
        workflow_source=default_library() if workflows is None else workflows,
        clock=FixedClock(at),
        outbox=ListOutbox(),
        notifier=ListNotifier(),
        booking=MemoryBooking(),
        contacts=MemoryContacts(),
        access_log=MemoryAccessLog(),
        staff=MemoryStaffDirectory(),
    )

    def on_change(kind: str, old: Record | None, new: Record) -> None:  # what the DynamoDB stream does in AWS
        if kind == "appointment" and isinstance(new, Appointment) and not isinstance(old, Patient):
            plan_appointment_change(services, old, new, services.clock.now())

    records.listeners.append(on_change)
    return services


class MemoryAccessLog:
    """AccessLogStore: entries by key, each written once (a second write of a key is refused)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: dict[str, dict] = {}

    def append_access(self, entry: dict) -> bool:
        with self._lock:
            if entry["key"] in self._entries:
                return False
            self._entries[entry["key"]] = copy.deepcopy(entry)
            return True

    def access_entries(self) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(e) for e in sorted(self._entries.values(), key=lambda e: (e["at"], e["key"]))]


class MemoryStaffDirectory:
    """StaffDirectory: accounts by username, each with one role; `disable` as AdminDisableUser does."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._accounts: dict[str, dict] = {}

    def list_staff(self) -> list[dict]:
        with self._lock:
            return sorted((copy.deepcopy(a) for a in self._accounts.values()), key=lambda a: a["email"] or a["username"])

    def invite(self, email: str, role: str) -> dict:
        with self._lock:
            if email in self._accounts:
                raise Conflict(f"{email} already has an account: change their role instead")
            self._accounts[email] = {"username": email, "email": email, "roles": [role],
                                     "status": "FORCE_CHANGE_PASSWORD", "enabled": True}
            return copy.deepcopy(self._accounts[email])

    def set_role(self, username: str, role: str) -> dict:
        with self._lock:
            if username not in self._accounts:
                raise NotFound(f"no staff account {username[:80]!r}")
            self._accounts[username]["roles"] = [role]
            return {"username": username, "roles": [role]}

    def disable(self, username: str) -> None:
        with self._lock:
            self._accounts[username]["enabled"] = False


class MemoryImportJobs:
    """ImportJobStore: jobs by id; a batch is committed only where the checkpoint stands."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.jobs: dict[str, ImportJob] = {}

    def create_job(self, job: ImportJob) -> None:
        with self._lock:
            if job.job_id in self.jobs:
                raise ValueError(f"job {job.job_id} exists")
            self.jobs[job.job_id] = job.model_copy(deep=True)

    def get_job(self, job_id: str) -> ImportJob | None:
        with self._lock:
            job = self.jobs.get(job_id)
            return job.model_copy(deep=True) if job else None

    def _set(self, job_id: str, **fields: object) -> None:
        self.jobs[job_id] = self.jobs[job_id].model_copy(update=fields)

    def start_job(self, job_id: str, at: datetime) -> None:
        with self._lock:
            if self.jobs[job_id].state == "queued":
                self._set(job_id, state="running", updated_at=at)

    def commit_batch(self, job_id: str, index: int, progress: JobProgress, at: datetime) -> bool:
        with self._lock:
            job = self.jobs[job_id]
            if job.next_batch != index:
                return False
            self._set(job_id, next_batch=index + 1, progress=job.progress.plus(progress), updated_at=at)
            return True

    def finish_job(self, job_id: str, state: str, at: datetime, error: str = "") -> None:
        with self._lock:
            self._set(job_id, state=state, updated_at=at, finished_at=at, **({"error": error} if error else {}))

    def note_failure(self, job_id: str, error: str, at: datetime) -> None:
        with self._lock:
            self._set(job_id, error=error, failures=self.jobs[job_id].failures + 1, updated_at=at)


@dataclass
class ListImportQueue:
    """ImportQueue: the job ids queued, in order."""

    queued: list[str] = field(default_factory=list)

    def enqueue(self, job_id: str) -> None:
        self.queued.append(job_id)
