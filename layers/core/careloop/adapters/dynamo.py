"""DynamoDB adapters of the persistence ports (records, actions, messages, consent, configs, and
the inbox and analytics reads over the same tables), with conditional writes for exactly-once;
key layout from `careloop.tables`, items without nulls."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from careloop import tables
from careloop.adapters.clients import client, from_attr, to_attr
from careloop.booking.gaps import Gap, GapOffer, WaitlistEntry
from careloop.booking.links import BookingLink, SlotClaim
from careloop.booking.offers import SlotOffer
from careloop.clock import iso, iso_ms
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
from careloop.ports import CONVERSATION_KINDS, needs_staff
from careloop.settings import Settings

if TYPE_CHECKING:  # the EHR mapping loads only where the booking grid is read or written
    from careloop.ehr.common import EhrSchedule, EhrSlot
    from careloop.ehr.jobs import ImportJob, JobProgress

_SK = "A"
_Part = TypeVar("_Part")
_Result = TypeVar("_Result")


def _to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in data.items() if v is not None and v != ""}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in item.items()}


def _lost_race(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def _won(write: Callable[..., Any], **request: Any) -> bool:
    """One conditional write: True when it landed, False when its condition failed (a lost race)."""
    try:
        write(**request)
        return True
    except ClientError as exc:
        if _lost_race(exc):
            return False
        raise


def due_shard(action_id: str) -> str:
    return f"due#{zlib.crc32(action_id.encode()) % tables.DUE_SHARDS}"


class DynamoTables:
    """The tables and the client the adapters share (one table backs several ports), with the
    read/write helpers they have in common."""

    def __init__(self, settings: Settings, db: Any = None) -> None:  # a boto3 DynamoDB client (no stubs installed)
        self.db = db or client("dynamodb")
        self.records = settings.table_records
        self.actions = settings.table_actions
        self.messages = settings.table_messages
        self.booking = settings.table_booking

    def get(self, table: str, key: dict[str, str]) -> dict[str, Any] | None:
        got = self.db.get_item(
            TableName=table, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True
        )
        return _from_item(got["Item"]) if "Item" in got else None

    def query(self, table: str, index: str | None, key: str, value: str, **kw: Any) -> list[dict]:
        args: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": key},
            "ExpressionAttributeValues": {":v": {"S": value}},
        }
        if index:
            args["IndexName"] = index
        args.update(kw)
        out: list[dict] = []
        for page in self.db.get_paginator("query").paginate(**args):
            out.extend(_from_item(i) for i in page["Items"])
        return out

    def all_of_type(self, record_type: str) -> list[dict]:
        return self.query(self.records, "by_type", "record_type", record_type)

    def put_versioned(self, item: dict[str, Any], version: str) -> bool:
        try:
            self.db.put_item(
                TableName=self.records,
                Item=_to_item(item),
                ConditionExpression="attribute_not_exists(pk) OR attribute_not_exists(source_version)"
                " OR source_version <= :v OR :v = :empty",
                ExpressionAttributeValues={":v": {"S": version or ""}, ":empty": {"S": ""}},
            )
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    # batched reads/writes of the records table (EHR import) ---------------------------------
    # Identifier claims are items `IDN#<system|value>` with an `owner` patient id: no
    # record_type, phone or start_utc, so no index and no planner work picks them up.
    _BATCH_THREADS = 4  # batch calls in flight at once: they wait on the network, not the CPU

    def batch_get(self, pks: list[str]) -> list[dict]:
        unique = list(dict.fromkeys(pks))
        return [item for part in self._in_parallel(self._get_100, [unique[i:i + 100] for i in range(0, len(unique), 100)])
                for item in part]

    def _get_100(self, pks: list[str]) -> list[dict]:
        import time

        found: list[dict] = []
        request = {self.records: {"Keys": [{"pk": {"S": pk}, "sk": {"S": _SK}} for pk in pks], "ConsistentRead": True}}
        for attempt in range(8):
            got = self.db.batch_get_item(RequestItems=request)
            found.extend(_from_item(item) for item in got["Responses"].get(self.records, []))
            request = got.get("UnprocessedKeys") or {}
            if not request:
                return found
            time.sleep(min(0.05 * 2**attempt, 2.0))
        raise RuntimeError("DynamoDB kept keys unprocessed (throttled) after 8 attempts")

    def batch_put(self, items: list[dict[str, Any]]) -> None:
        self._in_parallel(self._put_25, [items[i:i + 25] for i in range(0, len(items), 25)])

    def _put_25(self, items: list[dict[str, Any]]) -> None:
        import time

        request = {self.records: [{"PutRequest": {"Item": _to_item(item)}} for item in items]}
        for attempt in range(8):
            request = self.db.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            if not request:
                return
            time.sleep(min(0.05 * 2**attempt, 2.0))
        raise RuntimeError("DynamoDB kept items unprocessed (throttled) after 8 attempts")

    def _in_parallel(self, call: Callable[[_Part], _Result], parts: list[_Part]) -> list[_Result]:
        if len(parts) <= 1:
            return [call(p) for p in parts]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=self._BATCH_THREADS) as pool:
            return list(pool.map(call, parts))


class DynamoRecords:
    """RecordStore on the records table: `PAT#` / `APT#` items, identifier claims `IDN#`."""

    def __init__(self, tables: DynamoTables) -> None:
        self.t = tables

    def get_patient(self, patient_id: str) -> Patient | None:
        item = self.t.get(self.t.records, {"pk": f"PAT#{patient_id}", "sk": _SK})
        return Patient.model_validate(item) if item else None

    def put_patient(self, patient: Patient) -> bool:
        item = patient.model_dump(mode="json") | {"pk": f"PAT#{patient.id}", "sk": _SK, "record_type": "patient"}
        return self.t.put_versioned(item, patient.source_version)

    def patients_by_phone(self, phone: str) -> list[Patient]:
        items = self.t.query(self.t.records, "by_phone", "phone", phone)
        return [Patient.model_validate(i) for i in items if i["pk"].startswith("PAT#")]

    def all_patients(self) -> list[Patient]:
        return [Patient.model_validate(i) for i in self.t.all_of_type("patient")]

    def get_appointment(self, appointment_id: str) -> Appointment | None:
        item = self.t.get(self.t.records, {"pk": f"APT#{appointment_id}", "sk": _SK})
        return Appointment.model_validate(item) if item else None

    def put_appointment(self, appointment: Appointment) -> bool:
        item = appointment.model_dump(mode="json") | {
            "pk": f"APT#{appointment.id}",
            "sk": _SK,
            "start_utc": iso(appointment.start),
            "record_type": "appointment",
        }
        return self.t.put_versioned(item, appointment.source_version)

    def appointments_for_patient(self, patient_id: str) -> list[Appointment]:
        items = self.t.query(self.t.records, "by_patient", "patient_id", patient_id)
        return [Appointment.model_validate(i) for i in items]

    def all_appointments(self) -> list[Appointment]:
        return [Appointment.model_validate(i) for i in self.t.all_of_type("appointment")]

    def appointments_between(self, start: datetime, end: datetime) -> list[Appointment]:
        # one query of the window on by_start (the slot search reads this on every request)
        items = self.t.query(
            self.t.records, "by_start", "record_type", "appointment",
            KeyConditionExpression="#k = :v AND start_utc BETWEEN :lo AND :hi",
            ExpressionAttributeValues={":v": {"S": "appointment"}, ":lo": {"S": iso(start - MAX_APPOINTMENT_LENGTH)},
                                       ":hi": {"S": iso(end)}})
        found = (Appointment.model_validate(i) for i in items)
        return [a for a in found if a.start < end and a.end > start]

    def get_patients(self, patient_ids: Iterable[str]) -> dict[str, Patient]:
        items = self.t.batch_get([f"PAT#{i}" for i in patient_ids])
        return {p.id: p for p in (Patient.model_validate(i) for i in items)}

    def get_appointments(self, appointment_ids: Iterable[str]) -> dict[str, Appointment]:
        items = self.t.batch_get([f"APT#{i}" for i in appointment_ids])
        return {a.id: a for a in (Appointment.model_validate(i) for i in items)}

    def put_new_records(self, records: list[Patient | Appointment]) -> None:
        """Batched write of records the caller read as absent (bulk import); BatchWriteItem
        has no condition, so callers use it only for ids that were absent when read."""
        items = []
        for r in records:
            if isinstance(r, Patient):
                items.append(r.model_dump(mode="json") | {"pk": f"PAT#{r.id}", "sk": _SK, "record_type": "patient"})
            else:
                items.append(r.model_dump(mode="json") | {"pk": f"APT#{r.id}", "sk": _SK, "start_utc": iso(r.start),
                                                          "record_type": "appointment"})
        self.t.batch_put(items)

    def identifier_owners(self, identifiers: Iterable[str]) -> dict[str, str]:
        items = self.t.batch_get([f"IDN#{i}" for i in identifiers])
        return {i["pk"].removeprefix("IDN#"): i["owner"] for i in items}

    def claim_identifiers(self, owners: dict[str, str]) -> None:
        self.t.batch_put([{"pk": f"IDN#{ident}", "sk": _SK, "owner": owner} for ident, owner in owners.items()])

    # ---- the EHR's booking grid: FHIR Schedules and Slots ---------------------------------------
    # Schedules are `SCHED#<id>` items (record_type ehr_schedule: listed through by_type, never
    # scanned). Each Slot is two items moved together in one transaction, conditional on the
    # version read: `SLOT#<id>` (its version and place) and `GRID#<schedule>` / `<start UTC>#<id>`,
    # what a window query reads. No phone, patient_id or start_utc: no other index holds them, and
    # the planner passes over their stream records (it reads `APT#` only).

    def put_schedule(self, schedule: EhrSchedule) -> bool:
        item = {"pk": f"SCHED#{schedule.id}", "sk": _SK, "record_type": "ehr_schedule", "schedule_id": schedule.id,
                "provider": schedule.provider, "location": schedule.location, "source_version": schedule.version}
        try:
            self.t.db.put_item(
                TableName=self.t.records, Item=_to_item(item),
                # an unversioned delivery never replaces a versioned one (records.is_stale)
                ConditionExpression="attribute_not_exists(pk) OR attribute_not_exists(source_version)"
                                    " OR (:v <> :empty AND source_version <= :v)",
                ExpressionAttributeValues={":v": {"S": schedule.version}, ":empty": {"S": ""}})
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    def schedules(self) -> list[EhrSchedule]:
        from careloop.ehr.common import EhrSchedule

        return [EhrSchedule(i["schedule_id"], i.get("provider"), i.get("location"), i.get("source_version", ""))
                for i in self.t.all_of_type("ehr_schedule")]

    def put_slot(self, slot: EhrSlot) -> bool:
        from careloop.records import is_stale

        key = {"pk": f"SLOT#{slot.id}", "sk": _SK}
        place = {"schedule_id": slot.schedule, "start": iso(slot.start), "end": iso(slot.end), "status": slot.status,
                 "slot_id": slot.id, "source_version": slot.version}
        for _ in range(4):  # another delivery of this Slot may move it between our read and write
            stored = self.t.get(self.t.records, key)
            if stored and is_stale(slot.version, stored.get("source_version", "")):
                return False
            if stored is None:
                condition, values = "attribute_not_exists(pk)", None
            elif stored.get("source_version"):
                condition, values = "source_version = :old", {":old": {"S": stored["source_version"]}}
            else:
                condition, values = "attribute_exists(pk) AND attribute_not_exists(source_version)", None
            guarded: dict[str, Any] = {"TableName": self.t.records, "Item": _to_item(key | place),
                                       "ConditionExpression": condition}
            if values:
                guarded["ExpressionAttributeValues"] = values
            ops: list[dict[str, Any]] = [
                {"Put": guarded},
                {"Put": {"TableName": self.t.records, "Item": _to_item(self._grid_key(slot.schedule, iso(slot.start), slot.id) | place)}},
            ]
            if stored and (stored["schedule_id"], stored["start"]) != (slot.schedule, iso(slot.start)):
                old = self._grid_key(stored["schedule_id"], stored["start"], slot.id)
                ops.append({"Delete": {"TableName": self.t.records, "Key": {k: {"S": v} for k, v in old.items()}}})
            try:
                self.t.db.transact_write_items(TransactItems=ops)
                return True
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
        return False

    @staticmethod
    def _grid_key(schedule_id: str, start_utc: str, slot_id: str) -> dict[str, str]:
        return {"pk": f"GRID#{schedule_id}", "sk": f"{start_utc}#{slot_id}"}

    def slots_between(self, schedule_id: str, start: datetime, end: datetime) -> list[EhrSlot]:
        from careloop.clock import parse_iso
        from careloop.ehr.common import MAX_SLOT, EhrSlot

        items = self.t.query(
            self.t.records, None, "pk", f"GRID#{schedule_id}", ConsistentRead=True,
            KeyConditionExpression="#k = :v AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={":v": {"S": f"GRID#{schedule_id}"}, ":a": {"S": iso(start - MAX_SLOT)},
                                       ":b": {"S": iso(end)}})
        slots = [EhrSlot(i["slot_id"], i["schedule_id"], parse_iso(i["start"]), parse_iso(i["end"]), i["status"],
                         i.get("source_version", "")) for i in items]
        return [s for s in slots if s.start < end and s.end > start]


class DynamoActions:
    """ActionStore on the actions table; open actions carry a `due_shard` for the by_due index."""

    def __init__(self, tables: DynamoTables) -> None:
        self.t = tables

    def _action_item(self, action: PlannedAction) -> dict[str, Any]:
        data = action.model_dump(mode="json")
        data["due_at"] = iso(action.due_at)
        if action.status in (ActionStatus.PENDING, ActionStatus.CLAIMED):
            data["due_shard"] = due_shard(action.action_id)
        return data

    def put_action_if_absent(self, action: PlannedAction) -> bool:
        try:
            self.t.db.put_item(
                TableName=self.t.actions,
                Item=_to_item(self._action_item(action)),
                ConditionExpression="attribute_not_exists(action_id)",
            )
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    def get_action(self, action_id: str) -> PlannedAction | None:
        item = self.t.get(self.t.actions, {"action_id": action_id})
        return PlannedAction.model_validate(item) if item else None

    def actions_for_subject(self, subject: str) -> list[PlannedAction]:
        items = self.t.query(self.t.actions, "by_subject", "subject", subject)
        return [PlannedAction.model_validate(i) for i in items]

    def due_actions(self, until: datetime, limit: int = 500) -> list[PlannedAction]:
        found: list[PlannedAction] = []
        for shard in range(tables.DUE_SHARDS):
            resp = self.t.db.query(
                TableName=self.t.actions,
                IndexName="by_due",
                KeyConditionExpression="due_shard = :s AND due_at <= :u",
                ExpressionAttributeValues={":s": {"S": f"due#{shard}"}, ":u": {"S": iso(until)}},
                Limit=limit,
            )
            found.extend(PlannedAction.model_validate(_from_item(i)) for i in resp["Items"])
        found.sort(key=lambda a: (a.due_at, a.action_id))
        return found[:limit]

    def transition_action(
        self, action_id: str, expected: ActionStatus, new: ActionStatus, **fields: object
    ) -> bool:
        names = {"#st": "status"}
        values: dict[str, Any] = {":exp": {"S": str(expected)}, ":new": {"S": str(new)}}
        sets = ["#st = :new"]
        for i, (k, v) in enumerate(fields.items()):
            if isinstance(v, datetime):
                v = iso(v)
            elif isinstance(v, StrEnum):
                v = str(v)
            if v is None:
                continue
            names[f"#f{i}"] = k
            values[f":f{i}"] = to_attr(v)
            sets.append(f"#f{i} = :f{i}")
        expr = "SET " + ", ".join(sets)
        if new in (ActionStatus.PENDING, ActionStatus.CLAIMED):
            # claimed items stay on the due index so a stale claim can be recovered
            names["#ds"], values[":ds"] = "due_shard", {"S": due_shard(action_id)}
            expr += ", #ds = :ds"
        else:
            expr += " REMOVE due_shard"
        try:
            self.t.db.update_item(
                TableName=self.t.actions,
                Key={"action_id": {"S": action_id}},
                UpdateExpression=expr,
                ConditionExpression="#st = :exp",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise


    def reclaim_action(self, action_id: str, claimed_at: datetime | None, now: datetime) -> bool:
        names = {"#st": "status", "#ca": "claimed_at"}
        values: dict[str, Any] = {":c": {"S": str(ActionStatus.CLAIMED)}, ":now": {"S": iso(now)}}
        if claimed_at is None:
            condition = "#st = :c AND attribute_not_exists(#ca)"
        else:
            condition, values[":seen"] = "#st = :c AND #ca = :seen", {"S": iso(claimed_at)}
        return _won(self.t.db.update_item,
                    TableName=self.t.actions, Key={"action_id": {"S": action_id}},
                    UpdateExpression="SET #ca = :now", ConditionExpression=condition,
                    ExpressionAttributeNames=names, ExpressionAttributeValues=values)


class DynamoMessages:
    """MessageStore on the messages table."""

    def __init__(self, tables: DynamoTables) -> None:
        self.t = tables

    def put_message(self, message: Message) -> bool:
        data = message.model_dump(mode="json") | {"at": iso_ms(message.at)}
        try:
            self.t.db.put_item(
                TableName=self.t.messages,
                Item=_to_item(data),
                ConditionExpression="attribute_not_exists(message_id)",
            )
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    def get_message(self, message_id: str) -> Message | None:
        item = self.t.get(self.t.messages, {"message_id": message_id})
        return Message.model_validate(item) if item else None

    def update_message(self, message_id: str, **fields: object) -> None:
        self._update_message(message_id, fields, None)

    def transition_message(self, message_id: str, expected: str, new: str, **fields: object) -> bool:
        try:
            self._update_message(message_id, {"status": new, **fields}, str(expected))
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    def _update_message(self, message_id: str, fields: dict, expected: str | None) -> None:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets = []
        for i, (k, v) in enumerate(fields.items()):
            if v is None:
                continue
            if isinstance(v, datetime):
                v = iso_ms(v)
            elif isinstance(v, StrEnum):
                v = str(v)
            names[f"#f{i}"] = k
            values[f":f{i}"] = to_attr(v)
            sets.append(f"#f{i} = :f{i}")
        if not sets:
            return
        condition = "attribute_exists(message_id)"
        if expected is not None:
            names["#st"], values[":exp"] = "status", {"S": expected}
            condition += " AND #st = :exp"
        self.t.db.update_item(
            TableName=self.t.messages,
            Key={"message_id": {"S": message_id}},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def claim_repeat(self, phone: str, digest: str, message_id: str, at: datetime, window: timedelta) -> str:
        """One item per number (REPEAT#phone, outside every index: it has no kind or patient):
        a text takes it unless the holder's text was identical and within `window` of this one.
        The condition makes two concurrent copies agree on one holder."""
        if _won(self.t.db.update_item,
                TableName=self.t.messages, Key={"message_id": {"S": f"REPEAT#{phone}"}},
                UpdateExpression="SET holder = :me, digest = :d, #at = :at",
                ConditionExpression="attribute_not_exists(message_id) OR digest <> :d OR holder = :me"
                                    " OR #at < :since OR #at > :until",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues={
                    ":me": {"S": message_id}, ":d": {"S": digest}, ":at": {"S": iso(at)},
                    ":since": {"S": iso(at - window)}, ":until": {"S": iso(at + window)}}):
            return message_id
        item = self.t.get(self.t.messages, {"message_id": f"REPEAT#{phone}"})
        return str(item["holder"]) if item else message_id

    def message_by_provider_id(self, provider_message_id: str) -> Message | None:
        items = self.t.query(self.t.messages, "by_provider_id", "provider_message_id", provider_message_id)
        return Message.model_validate(items[0]) if items else None

    def messages_for_patient(self, patient_id: str) -> list[Message]:
        items = self.t.query(self.t.messages, "by_patient", "patient_id", patient_id)
        return [Message.model_validate(i) for i in items]

    def messages_of_kind(self, kind: str, since: datetime | None = None) -> list[Message]:
        if since is None:
            items = self.t.query(self.t.messages, "by_kind", "kind", kind)
        else:  # the index sorts by time: read only the recent part
            items = self.t.query(self.t.messages, "by_kind", "kind", kind,
                                  KeyConditionExpression="#k = :v AND #at >= :since",
                                  ExpressionAttributeNames={"#k": "kind", "#at": "at"},
                                  ExpressionAttributeValues={":v": {"S": kind}, ":since": {"S": iso_ms(since)}})
        return [Message.model_validate(i) for i in items]


class DynamoConsent:
    """ConsentLedgerStore on the records table: `CONSENT#<phone>` items, sort key = entry key."""

    def __init__(self, tables: DynamoTables) -> None:
        self.t = tables

    def append_consent(self, entry: dict) -> None:
        """An entry from an inbound message is written with a claim on that message, in one
        transaction: two copies of one text handled at once leave one proof row."""
        item = {k: v for k, v in entry.items() if k != "key"} | {
            "pk": f"CONSENT#{entry['phone']}", "sk": entry["key"], "record_type": "consent"}
        if not entry.get("message_id"):
            self.t.db.put_item(TableName=self.t.records, Item=_to_item(item))
            return
        claim = {"pk": {"S": f"CONSENTMSG#{entry['message_id']}"}, "sk": {"S": _SK}}
        try:
            self.t.db.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.t.records, "Item": claim, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self.t.records, "Item": _to_item(item)}},
            ])
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if exc.response["Error"]["Code"] == "TransactionCanceledException" and \
                    any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return  # the other copy wrote it
            raise

    def consent_entries(self, phone: str) -> list[dict]:
        items = self.t.query(self.t.records, None, "pk", f"CONSENT#{phone}")
        return [i | {"key": i["sk"]} for i in items]

    def all_consent_entries(self) -> list[dict]:
        return [i | {"key": i["sk"]} for i in self.t.all_of_type("consent")]


class DynamoConfigs:
    """ConfigStore on the records table: `CFG#<name>` items with a revision."""

    def __init__(self, tables: DynamoTables) -> None:
        self.t = tables

    def load_config(self, name: str) -> tuple[dict | None, int]:
        item = self.t.get(self.t.records, {"pk": f"CFG#{name}", "sk": _SK})
        if item is None:
            return None, 0
        return json.loads(item["doc"]), int(item["revision"])

    def save_config(self, name: str, doc: dict, expected_revision: int) -> bool:
        try:
            self.t.db.put_item(
                TableName=self.t.records,
                Item=_to_item({"pk": f"CFG#{name}", "sk": _SK, "doc": json.dumps(doc),
                               "revision": expected_revision + 1}),
                ConditionExpression="attribute_not_exists(pk) OR revision = :r",
                ExpressionAttributeValues={":r": {"N": str(expected_revision)}},
            )
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise


class DynamoImportJobs:
    """ImportJobStore on the records table: `JOB#<id>` items (no record_type, so no index lists
    them; the planner passes over them on the stream). Counts are added by UpdateItem on the
    condition that the checkpoint is where the worker read it: a batch is counted once."""

    COUNTS = ("done", "applied", "refused", "quarantined", "skipped",
              "patients", "appointments", "unchanged", "stale", "merges")

    def __init__(self, tables: DynamoTables) -> None:
        self.t = tables

    @staticmethod
    def _key(job_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": _SK}}

    def create_job(self, job: ImportJob) -> None:
        data = job.model_dump(mode="json")
        counts = data.pop("progress")
        self.t.db.put_item(TableName=self.t.records, Item=_to_item(data | counts | {"pk": f"JOB#{job.job_id}", "sk": _SK}),
                           ConditionExpression="attribute_not_exists(pk)")

    def get_job(self, job_id: str) -> ImportJob | None:
        from careloop.ehr.jobs import ImportJob, JobProgress

        item = self.t.get(self.t.records, {"pk": f"JOB#{job_id}", "sk": _SK})
        if item is None:
            return None
        return ImportJob.model_validate(item | {"progress": JobProgress.model_validate(item)})

    def _update(self, job_id: str, expression: str, values: dict[str, Any], condition: str | None = None,
                names: dict[str, str] | None = None) -> bool:
        args: dict[str, Any] = {"TableName": self.t.records, "Key": self._key(job_id), "UpdateExpression": expression,
                                "ExpressionAttributeValues": {k: to_attr(v) for k, v in values.items()}}
        if condition:
            args["ConditionExpression"] = condition
        if names:
            args["ExpressionAttributeNames"] = names
        try:
            self.t.db.update_item(**args)
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    def start_job(self, job_id: str, at: datetime) -> None:
        self._update(job_id, "SET #s = :running, updated_at = :at", {":running": "running", ":queued": "queued",
                     ":at": iso(at)}, "#s = :queued", {"#s": "state"})

    def commit_batch(self, job_id: str, index: int, progress: JobProgress, at: datetime) -> bool:
        counts = progress.model_dump()
        adds = ", ".join(f"#{k} :{k}" for k in self.COUNTS)  # names: some counts are reserved words
        return self._update(job_id, f"SET #next = :next, updated_at = :at ADD {adds}",
                            {":next": index + 1, ":at": iso(at), ":index": index}
                            | {f":{k}": counts[k] for k in self.COUNTS},
                            "#next = :index", {"#next": "next_batch"} | {f"#{k}": k for k in self.COUNTS})

    def finish_job(self, job_id: str, state: str, at: datetime, error: str = "") -> None:
        expression = "SET #s = :state, updated_at = :at, finished_at = :at" + (", #e = :error" if error else "")
        values: dict[str, Any] = {":state": state, ":at": iso(at)} | ({":error": error} if error else {})
        self._update(job_id, expression, values, names={"#s": "state"} | ({"#e": "error"} if error else {}))

    def note_failure(self, job_id: str, error: str, at: datetime) -> None:
        self._update(job_id, "SET #e = :error, updated_at = :at ADD failures :one",
                     {":error": error, ":at": iso(at), ":one": 1}, names={"#e": "error"})


class DynamoBooking:
    """BookingStore on the booking table: `LINK#<token>` and `REF#<ref>` items written together
    (both conditional), slot claims `CLAIM` / `<start UTC>#<provider>` (a conditional put per
    slot), each with an epoch `expires_ttl` so DynamoDB forgets them."""

    def __init__(self, tables: DynamoTables) -> None:
        self.t = tables

    @staticmethod
    def _ttl(at: datetime) -> int:
        return int(at.timestamp())

    def count_request(self, token: str, window: str, expires_at: datetime) -> int:
        got = self.t.db.update_item(
            TableName=self.t.booking, Key={"pk": {"S": f"RATE#{token}"}, "sk": {"S": window}},
            UpdateExpression="ADD hits :one SET expires_ttl = :ttl",
            ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": {"N": str(self._ttl(expires_at))}},
            ReturnValues="UPDATED_NEW")
        return int(got["Attributes"]["hits"]["N"])

    def put_link(self, link: BookingLink) -> bool:
        ttl = {"N": str(self._ttl(link.expires_at) + 30 * 86400)}  # kept a while: a late click gets 410, not 404
        item = _to_item(link.model_dump(mode="json") | {"pk": f"LINK#{link.token}", "sk": _SK})
        ref = {"pk": {"S": f"REF#{link.ref}"}, "sk": {"S": _SK}, "token": {"S": link.token}, "expires_ttl": ttl}
        try:
            self.t.db.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.t.booking, "Item": item | {"expires_ttl": ttl},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self.t.booking, "Item": ref, "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                return False
            raise

    def get_link(self, token: str) -> BookingLink | None:
        item = self.t.get(self.t.booking, {"pk": f"LINK#{token}", "sk": _SK})
        return BookingLink.model_validate(item) if item else None

    def link_for_ref(self, ref: str) -> BookingLink | None:
        item = self.t.get(self.t.booking, {"pk": f"REF#{ref}", "sk": _SK})
        return self.get_link(item["token"]) if item else None

    def spend_link(self, token: str, appointment_id: str, at: datetime) -> bool:
        try:
            self.t.db.update_item(
                TableName=self.t.booking, Key={"pk": {"S": f"LINK#{token}"}, "sk": {"S": _SK}},
                UpdateExpression="SET spent_at = :at, booked_appointment_id = :a",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(spent_at)",
                ExpressionAttributeValues={":at": {"S": iso(at)}, ":a": {"S": appointment_id}},
            )
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    @staticmethod
    def _claim_key(provider: str, start: datetime) -> dict[str, Any]:
        return {"pk": {"S": "CLAIM"}, "sk": {"S": f"{iso(start)}#{provider}"}}

    def claim_slot(self, claim: SlotClaim) -> bool:
        item = _to_item(claim.model_dump(mode="json")) | self._claim_key(claim.provider, claim.start)
        try:
            self.t.db.put_item(TableName=self.t.booking, Item=item | {"expires_ttl": {"N": str(self._ttl(claim.expires_at))}},
                               ConditionExpression="attribute_not_exists(pk)")
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    def release_slot(self, provider: str, start: datetime) -> None:
        self.t.db.delete_item(TableName=self.t.booking, Key=self._claim_key(provider, start))

    def claims_between(self, start: datetime, end: datetime) -> list[SlotClaim]:
        items: list[dict] = []
        for page in self.t.db.get_paginator("query").paginate(
            TableName=self.t.booking, ConsistentRead=True,
            KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={":p": {"S": "CLAIM"}, ":a": {"S": iso(start)}, ":b": {"S": iso(end)}},
        ):
            items.extend(_from_item(i) for i in page["Items"])
        claims = [SlotClaim.model_validate(i) for i in items]
        return [c for c in claims if start <= c.start < end]

    # -- rescheduling by text: offered times, `OFFERS#<patient id>` / `<offer id>`, kept a while
    # past their expiry (a late "2" is read as expired, not as nothing), then TTL --
    @staticmethod
    def _offer_key(patient_id: str, offer_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"OFFERS#{patient_id}"}, "sk": {"S": offer_id}}

    def put_offer(self, offer: SlotOffer) -> bool:
        item = _to_item(offer.model_dump(mode="json")) | self._offer_key(offer.patient_id, offer.offer_id)
        ttl = {"N": str(self._ttl(offer.expires_at) + 7 * 86400)}
        try:
            self.t.db.put_item(TableName=self.t.booking, Item=item | {"expires_ttl": ttl},
                               ConditionExpression="attribute_not_exists(pk)")
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    def latest_offer(self, patient_id: str) -> SlotOffer | None:
        items = self.t.query(self.t.booking, None, "pk", f"OFFERS#{patient_id}", ConsistentRead=True)
        offers = [SlotOffer.model_validate(i) for i in items]
        return max(offers, key=lambda o: (o.created_at, o.offer_id)) if offers else None

    def close_offer(self, offer: SlotOffer, by: str, choice: int | None, at: datetime) -> bool:
        names = {"#s": "status"}
        values: dict[str, Any] = {":closed": {"S": "closed"}, ":open": {"S": "open"}, ":at": {"S": iso(at)},
                                  ":by": {"S": by}}
        update = "SET #s = :closed, closed_at = :at, closed_by = :by"
        if choice is not None:
            update += ", choice = :c"
            values[":c"] = {"N": str(choice)}
        try:
            self.t.db.update_item(
                TableName=self.t.booking, Key=self._offer_key(offer.patient_id, offer.offer_id),
                UpdateExpression=update, ConditionExpression="#s = :open",
                ExpressionAttributeNames=names, ExpressionAttributeValues=values,
            )
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    # ---- filling gaps from the waitlist (careloop.booking.gaps) ----
    # The waitlist is one partition `WAITLIST` / <patient id> (a practice's list is short); a gap is
    # `GAP#<start UTC>#<provider>` / `A`, its offers beside it under `OFFER#<patient id>`, each
    # mirrored as `GAPS#<patient id>` / <gap key> so a reply finds the offer it answers.
    _GAP_DAYS = 7  # a gap and its offers are kept this long after the slot, then forgotten

    def _put_if_absent(self, item: dict[str, Any]) -> bool:
        try:
            self.t.db.put_item(TableName=self.t.booking, Item=item, ConditionExpression="attribute_not_exists(pk)")
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    def put_waitlist(self, entry: WaitlistEntry) -> bool:
        return self._put_if_absent(_to_item(entry.model_dump(mode="json") | {"pk": "WAITLIST", "sk": entry.patient_id}))

    def remove_waitlist(self, patient_id: str) -> bool:
        got = self.t.db.delete_item(TableName=self.t.booking, Key={"pk": {"S": "WAITLIST"}, "sk": {"S": patient_id}},
                                    ReturnValues="ALL_OLD")
        return "Attributes" in got

    def get_waitlist(self, patient_id: str) -> WaitlistEntry | None:
        item = self.t.get(self.t.booking, {"pk": "WAITLIST", "sk": patient_id})
        return WaitlistEntry.model_validate(item) if item else None

    def waitlist(self) -> list[WaitlistEntry]:
        entries = [WaitlistEntry.model_validate(i) for i in self.t.query(self.t.booking, None, "pk", "WAITLIST",
                                                                         ConsistentRead=True)]
        return sorted(entries, key=lambda e: (e.since, e.patient_id))

    def _gap_ttl(self, start: datetime) -> dict[str, str]:
        return {"N": str(self._ttl(start) + self._GAP_DAYS * 86400)}

    def open_gap(self, gap: Gap) -> bool:
        item = _to_item(gap.model_dump(mode="json") | {"pk": f"GAP#{gap.key}", "sk": _SK})
        try:
            self.t.db.put_item(
                TableName=self.t.booking, Item=item | {"expires_ttl": self._gap_ttl(gap.start)},
                # a slot taken and freed again (its new holder cancelled) opens again, once
                ConditionExpression="attribute_not_exists(pk) OR (#s = :taken AND #c <> :c)",
                ExpressionAttributeNames={"#s": "status", "#c": "cancelled"},
                ExpressionAttributeValues={":taken": {"S": "taken"}, ":c": {"S": gap.cancelled}})
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    def get_gap(self, key: str) -> Gap | None:
        item = self.t.get(self.t.booking, {"pk": f"GAP#{key}", "sk": _SK})
        return Gap.model_validate(item) if item else None

    def take_gap(self, key: str, patient_id: str, at: datetime) -> bool:
        try:
            self.t.db.update_item(
                TableName=self.t.booking, Key={"pk": {"S": f"GAP#{key}"}, "sk": {"S": _SK}},
                UpdateExpression="SET #s = :taken, taken_at = :at, taken_by = :p",
                ConditionExpression="#s = :open", ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":taken": {"S": "taken"}, ":open": {"S": "open"}, ":at": {"S": iso(at)},
                                           ":p": {"S": patient_id}})
            return True
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise

    def put_gap_offer(self, offer: GapOffer) -> bool:
        gap = self.get_gap(offer.gap)
        ttl = self._gap_ttl(gap.start if gap else offer.planned_at)
        item = _to_item(offer.model_dump(mode="json") | {"pk": f"GAP#{offer.gap}", "sk": f"OFFER#{offer.patient_id}"})
        mirror = {"pk": {"S": f"GAPS#{offer.patient_id}"}, "sk": {"S": offer.gap}, "expires_ttl": ttl}
        try:
            self.t.db.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.t.booking, "Item": item | {"expires_ttl": ttl},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self.t.booking, "Item": mirror, "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                return False
            raise

    def set_gap_offer(self, key: str, patient_id: str, **fields: object) -> None:
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": to_attr(value) for i, value in enumerate(fields.values())}
        try:
            self.t.db.update_item(
                TableName=self.t.booking, Key={"pk": {"S": f"GAP#{key}"}, "sk": {"S": f"OFFER#{patient_id}"}},
                UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
                ConditionExpression="attribute_exists(pk)", ExpressionAttributeNames=names,
                ExpressionAttributeValues=values)
        except ClientError as exc:
            if not _lost_race(exc):  # no such offer: nothing to update
                raise

    def gap_offers(self, key: str) -> list[GapOffer]:
        items = self.t.query(self.t.booking, None, "pk", f"GAP#{key}", ConsistentRead=True)
        return sorted((GapOffer.model_validate(i) for i in items if str(i["sk"]).startswith("OFFER#")),
                      key=lambda o: o.patient_id)

    def gap_offers_for_patient(self, patient_id: str) -> list[GapOffer]:
        keys = [str(i["sk"]) for i in self.t.query(self.t.booking, None, "pk", f"GAPS#{patient_id}", ConsistentRead=True)]
        offers = [self.t.get(self.t.booking, {"pk": f"GAP#{k}", "sk": f"OFFER#{patient_id}"}) for k in keys]
        return [GapOffer.model_validate(o) for o in offers if o]

class DynamoInbox:
    """InboxStore on the messages and records tables, through their adapters (the by_kind and
    by_patient indexes); no items of its own."""

    def __init__(self, tables: DynamoTables) -> None:
        self.t = tables
        self._messages = DynamoMessages(tables)
        self._records = DynamoRecords(tables)

    def conversations_since(self, since: datetime) -> dict[str, list[Message]]:
        by_key: dict[str, list[Message]] = {}
        for kind in CONVERSATION_KINDS:  # one index query per kind, the recent part only
            for m in self._messages.messages_of_kind(kind, since):
                by_key.setdefault(m.patient_id or f"phone:{m.phone}", []).append(m)
        for msgs in by_key.values():
            msgs.sort(key=lambda m: m.at)  # stable: same-time messages keep the kind order
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
            if m.needs_attention:  # a flagged text is unflagged; an open task or alert is done
                self._messages.update_message(m.message_id, needs_attention=False)
            else:
                self._messages.update_message(m.message_id, status=MessageStatus.DONE)
            n += 1
        return n

    def patients(self) -> list[Patient]:
        return self._records.all_patients()

    def next_appointments(self, after: datetime) -> dict[str, Appointment]:
        upcoming: dict[str, Appointment] = {}  # one read of all appointments, not one per patient
        for a in self._records.all_appointments():
            if a.start > after and a.status in UPCOMING_STATUSES:
                best = upcoming.get(a.patient_id)
                if best is None or a.start < best.start:
                    upcoming[a.patient_id] = a
        return upcoming

    def appointments_starting(self, start: datetime, end: datetime) -> list[Appointment]:
        return _starting(self._records.appointments_between(start, end), start, end)  # by_start: the window only


class DynamoAnalytics:
    """AnalyticsSource on the messages and records tables (by_kind from the period's start;
    appointments by type, or by patient for the few patients a no-show concerns)."""

    def __init__(self, tables: DynamoTables) -> None:
        self.t = tables
        self._messages = DynamoMessages(tables)
        self._records = DynamoRecords(tables)

    def messages_between(self, kind: str, start: datetime, end: datetime) -> list[Message]:
        return [m for m in self._messages.messages_of_kind(kind, start) if m.at < end]

    def appointments_starting(self, start: datetime, end: datetime) -> list[Appointment]:
        return _starting(self._records.appointments_between(start, end), start, end)  # by_start: the window only

    def appointments_of_patients(self, patient_ids: Iterable[str]) -> list[Appointment]:
        return [a for pid in sorted(set(patient_ids)) for a in self._records.appointments_for_patient(pid)]

    def patients_by_id(self, patient_ids: Iterable[str]) -> dict[str, Patient]:
        ids = sorted(set(patient_ids))
        return self._records.get_patients(ids) if ids else {}


def _starting(appointments: Iterable[Appointment], start: datetime, end: datetime) -> list[Appointment]:
    return sorted((a for a in appointments if start <= a.start < end), key=lambda a: a.start)


class DynamoAccessLog:
    """AccessLogStore on the records table: `ACCESS#<key>` items, put only where none is (the log
    is append-only: this adapter has no update or delete, and a rewrite of a key is refused)."""

    def __init__(self, tables: DynamoTables) -> None:
        self.t = tables

    def append_access(self, entry: dict) -> bool:
        item = {k: v for k, v in entry.items() if k != "key"} | {
            "pk": f"ACCESS#{entry['key']}", "sk": _SK, "record_type": "access"}
        try:
            self.t.db.put_item(TableName=self.t.records, Item=_to_item(item),
                               ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if _lost_race(exc):
                return False
            raise
        return True

    def access_entries(self) -> list[dict]:
        rows = [{k: v for k, v in i.items() if k not in ("pk", "sk", "record_type")} | {"key": i["pk"][7:]}
                for i in self.t.all_of_type("access")]
        return sorted(rows, key=lambda r: (r["at"], r["key"]))
