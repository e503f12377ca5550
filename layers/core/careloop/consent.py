"""The consent ledger: the authoritative, auditable record of who may be texted.

Consent follows the phone number (a parent's STOP covers the children on that number). Every
request is kept with its proof (when, which text, which words, from where); the latest entry
decides. The carrier-level opt-out list (End User Messaging) is kept in step by the SMS side.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from careloop import csvout

if TYPE_CHECKING:  # the ports are types only here: no import cost on the Lambda path
    from careloop.ports import ConsentLedgerStore, RecordStore

Action = Literal["opt_out", "opt_in"]


class ConsentEntry(BaseModel):
    phone: str
    action: Action
    at: datetime
    source: Literal["sms", "staff", "ehr", "import"]
    words: str = ""  # the keyword or the classifier's reading ("STOP", "free text: opt_out")
    text: str = ""  # the patient's own words, kept as proof (encrypted at rest, never logged)
    message_id: str = ""  # the inbound message it came from
    by: str = ""  # staff member, for source=staff
    patient_ids: list[str] = []
    arrival: str = ""  # the carrier's / queue's own timestamp of the request (ISO, ms), when known
    changed: bool = False  # it changed the number's state (then it was, or is to be, confirmed)

    @property
    def key(self) -> str:
        """Unique and time-ordered to the microsecond (the ledger item's sort key)."""
        return f"{self.at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{self.arrival}#{self.message_id or self.source}"

    @property
    def order(self) -> tuple:
        """The latest request wins: by time (microseconds), then the carrier's arrival time, and
        at an exact tie an opt-out counts as the later one (never text a number that may have
        said STOP). Never by a hash."""
        return (self.at.astimezone(UTC), self.arrival, self.action == "opt_out")


def entries(ledger: ConsentLedgerStore, phone: str) -> list[ConsentEntry]:
    return sorted((ConsentEntry.model_validate(e) for e in ledger.consent_entries(phone)), key=lambda e: e.order)


def is_opted_out(ledger: ConsentLedgerStore, phone: str | None) -> bool:
    if not phone:
        return False
    history = entries(ledger, phone)
    return bool(history) and history[-1].action == "opt_out"


def record(ledger: ConsentLedgerStore, records: RecordStore, entry: ConsentEntry) -> bool:
    """Append the request (always: it is proof) and apply it to every patient on the number.
    Returns True when it changed the number's state (then, and only then, confirm)."""
    history = entries(ledger, entry.phone)
    if entry.message_id:  # the same inbound message again (a redelivery): one proof row, same answer
        for seen in history:
            if seen.message_id == entry.message_id:
                return seen.changed
    was_out = bool(history) and history[-1].action == "opt_out"
    changed = was_out != (entry.action == "opt_out")
    patients = records.patients_by_phone(entry.phone)
    entry = entry.model_copy(update={"patient_ids": [p.id for p in patients], "changed": changed})
    ledger.append_consent(entry.model_dump(mode="json") | {"key": entry.key})
    want = entry.action == "opt_out"
    for p in patients:
        if p.opted_out != want:
            records.put_patient(p.model_copy(update={"opted_out": want}))
    return changed


def export_csv(ledger: ConsentLedgerStore) -> str:
    buf = io.StringIO()
    w = csvout.writer(buf)
    w.writerow(["at", "phone", "action", "source", "words", "text", "message_id", "by", "patients"])
    rows = sorted((ConsentEntry.model_validate(e) for e in ledger.all_consent_entries()), key=lambda e: (e.phone, e.order))
    for e in rows:
        w.writerow([e.at.isoformat(), e.phone, e.action, e.source, e.words, e.text, e.message_id, e.by,
                    " ".join(e.patient_ids)])
    return buf.getvalue()
