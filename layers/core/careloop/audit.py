"""Data-quality audit of the records Careloop holds: what would make a reminder wrong, useless or
misdirected, one row per problem with what to do about it (JSON for the API, CSV for people).
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from careloop import csvout
from careloop.models import ACTIVE_STATUSES, Appointment, Patient
from careloop.phones import mask, try_e164
from careloop.records import merged_into

if TYPE_CHECKING:
    from careloop.ports import AccessLogStore, RecordStore

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
DEFAULT_STALE_DAYS = 180
PAST_GRACE = timedelta(days=1)  # a visit that ended yesterday may not be closed out yet
# a proposed visit is worth checking too: it may be booked any moment
AUDITED_STATUSES = ACTIVE_STATUSES | {"proposed"}

# problem -> (severity, what a person should do). One place, so the CSV and the API agree.
PROBLEMS: dict[str, tuple[Severity, str]] = {
    "duplicate_identifier": ("error", "Merge the two records in the EHR (it then sends the merge to Careloop)."),
    "appointment_without_patient": ("error", "Send the patient from the EHR, or correct the appointment's patient."),
    "invalid_phone": ("error", "Correct the phone number in the EHR (it is not a valid number)."),
    "upcoming_not_textable": ("warning", "Call the patient about this appointment, or add a mobile number in the EHR."),
    "no_phone": ("warning", "Add a mobile number in the EHR, marked as mobile/cell."),
    "landline_only": ("warning", "Add a mobile number in the EHR; texts to a landline never arrive."),
    "undeliverable": ("warning", "Confirm the number with the patient and update it in the EHR."),
    "duplicate_name_phone": ("warning", "Check whether these are one person; if so merge them in the EHR."),
    "appointment_of_merged_patient": ("warning", "Re-send the appointment from the EHR (it points at a merged record)."),
    "past_still_booked": ("warning", "Close the visit in the EHR (fulfilled, no-show or cancelled)."),
    "not_updated": ("info", "Check the record is still current in the EHR (inactive patients can be archived)."),
}


@dataclass
class AuditRow:
    severity: Severity
    record: str  # "Patient/<id>" or "Appointment/<id>"
    problem: str  # a key of PROBLEMS
    detail: str  # what exactly is wrong; ids and masked numbers only
    action: str  # what to do about it
    patient_id: str | None = None
    appointment_id: str | None = None
    name: str = ""  # the patient's name, so a person can find the chart (staff-only report)
    related: list[str] = field(default_factory=list)  # other records involved ("Patient/p2")


@dataclass
class AuditReport:
    generated_at: datetime
    stale_days: int
    summary: dict
    rows: list[AuditRow]

    def to_json(self) -> dict:
        return {"generated_at": self.generated_at.isoformat(), "stale_days": self.stale_days,
                "summary": self.summary, "rows": [asdict(r) for r in self.rows]}

    @classmethod
    def from_json(cls, data: dict) -> AuditReport:
        return cls(datetime.fromisoformat(data["generated_at"]), int(data["stale_days"]), data["summary"],
                   [AuditRow(**row) for row in data["rows"]])

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csvout.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for r in self.rows:
            writer.writerow((r.severity, r.record, r.problem, r.name, r.detail, r.action, " ".join(r.related)))
        return out.getvalue()


CSV_COLUMNS = ("severity", "record", "problem", "patient", "detail", "what_to_do", "related")


def audit(records: RecordStore, now: datetime, *, stale_days: int = DEFAULT_STALE_DAYS,
          region: str = "US") -> AuditReport:
    patients = records.all_patients()
    appointments = records.all_appointments()
    return audit_records(patients, appointments, now, stale_days=stale_days, region=region)


def audit_records(
    patients: list[Patient], appointments: list[Appointment], now: datetime, *,
    stale_days: int = DEFAULT_STALE_DAYS, region: str = "US",
) -> AuditReport:
    rows: list[AuditRow] = []
    by_id = {p.id: p for p in patients}
    live = [p for p in patients if not merged_into(p)]
    upcoming: dict[str, list[Appointment]] = defaultdict(list)
    for a in appointments:
        if a.status in AUDITED_STATUSES and a.start >= now:
            upcoming[a.patient_id].append(a)

    def add(problem: str, record: str, detail: str, p: Patient | None = None, a: Appointment | None = None,
            related: list[str] | None = None) -> None:
        severity, action = PROBLEMS[problem]
        rows.append(AuditRow(severity, record, problem, detail, action, p.id if p else (a.patient_id if a else None),
                             a.id if a else None, _name(p), related or []))

    for p in live:
        who = f"Patient/{p.id}"
        textable = False
        if not p.phone:
            add("no_phone", who, "no SMS-capable phone number on file", p)
        elif try_e164(p.phone, region) != p.phone:
            add("invalid_phone", who, f"stored number {mask(p.phone)} is not a valid E.164 number", p)
        elif p.phone_kind == "landline":
            add("landline_only", who, f"the only number on file ({mask(p.phone)}) is a landline", p)
        elif p.undeliverable:
            add("undeliverable", who, f"the carrier could not deliver to {mask(p.phone)}", p)
        else:
            textable = True
        # an opted-out patient gets no reminder by choice: counted, not a data problem
        if not textable or "deceased" in p.tags:
            why = "is marked deceased" if "deceased" in p.tags else "has no number that can receive texts"
            for a in sorted(upcoming.get(p.id, []), key=lambda a: a.start):
                add("upcoming_not_textable", f"Appointment/{a.id}",
                    f"visit on {a.start.date().isoformat()}: the patient {why}; no reminder will go out", p, a)
        if p.updated_at is not None and now - p.updated_at > timedelta(days=stale_days):
            add("not_updated", who, f"no change from the EHR for {(now - p.updated_at).days} days", p)

    # duplicates: one identifier on two live records; or the same name on the same phone
    holders: dict[str, list[str]] = defaultdict(list)
    for p in live:
        for ident in p.identifiers:
            system, _, value = ident.partition("|")
            if system.strip() and value.strip():
                holders[ident].append(p.id)
    seen_pairs: set[tuple[str, ...]] = set()
    for ids in holders.values():
        group = tuple(sorted(set(ids)))
        if len(group) > 1 and group not in seen_pairs:
            seen_pairs.add(group)
            for pid in group:
                add("duplicate_identifier", f"Patient/{pid}",
                    f"shares an identifier with {len(group) - 1} other record(s)", by_id[pid],
                    related=[f"Patient/{o}" for o in group if o != pid])
    by_name_phone: dict[tuple, list[str]] = defaultdict(list)
    for p in live:
        if p.phone and (p.first_name or p.last_name):
            by_name_phone[(p.phone, p.first_name.casefold().strip(), p.last_name.casefold().strip())].append(p.id)
    for ids in by_name_phone.values():
        group = tuple(sorted(ids))
        if len(group) > 1 and group not in seen_pairs:
            seen_pairs.add(group)
            for pid in group:
                add("duplicate_name_phone", f"Patient/{pid}", "same name and phone number as another record",
                    by_id[pid], related=[f"Patient/{o}" for o in group if o != pid])

    for a in appointments:
        who = f"Appointment/{a.id}"
        owner = by_id.get(a.patient_id)
        if owner is None:
            add("appointment_without_patient", who, f"patient {a.patient_id} is not known to Careloop", a=a)
        elif merged_into(owner):
            add("appointment_of_merged_patient", who, f"patient {a.patient_id} was merged into "
                f"{merged_into(owner)}", owner, a, related=[f"Patient/{merged_into(owner)}"])
        if a.status == "booked" and a.end < now - PAST_GRACE:
            add("past_still_booked", who, f"visit on {a.start.date().isoformat()} is over and still 'booked'",
                owner, a)

    rows.sort(key=lambda r: (SEVERITY_ORDER[r.severity], r.problem, r.record))
    problems = Counter(r.problem for r in rows)
    summary = {
        "patients": len(live),
        "merged_records": len(patients) - len(live),
        "appointments": len(appointments),
        "upcoming_appointments": sum(len(v) for v in upcoming.values()),
        "opted_out": sum(1 for p in live if p.opted_out),
        "undeliverable": sum(1 for p in live if p.undeliverable),
        "textable": sum(1 for p in live if p.phone and p.phone_kind != "landline" and not p.undeliverable
                        and not p.opted_out and "deceased" not in p.tags),
        "by_severity": {s: sum(1 for r in rows if r.severity == s) for s in SEVERITY_ORDER},
        "by_problem": {k: problems.get(k, 0) for k in PROBLEMS},
    }
    return AuditReport(now, stale_days, summary, rows)


def _name(p: Patient | None) -> str:
    return " ".join(x for x in (p.first_name, p.last_name) if x) if p else ""


# ---- the PHI access log: who opened which patient or thread, who exported what -------------------
# Written once per access through AccessLogStore.append_access (a conditional put: an entry is never
# overwritten, and nothing updates or deletes one); exported by admins as CSV.

ACCESS_ACTIONS = ("open_thread", "open_patient", "export")
ACCESS_CSV_COLUMNS = ("at", "staff", "action", "subject", "detail", "request_id")


def access_entry(at: datetime, staff: str, action: str, subject: str, request_id: str, detail: str = "") -> dict:
    """One access, keyed by a digest of the request and what it opened: a redelivered request (same
    request id, a moment later) maps to the same key and is written once."""
    import hashlib

    if action not in ACCESS_ACTIONS:
        raise ValueError(f"access action {action!r}: one of {', '.join(ACCESS_ACTIONS)}")
    digest = hashlib.sha256(f"{request_id}|{staff}|{action}|{subject}".encode()).hexdigest()[:16]
    return {"key": digest, "at": at.isoformat(), "staff": staff, "action": action,
            "subject": subject, "detail": detail, "request_id": request_id}


def record_access(store: AccessLogStore, entry: dict) -> bool:
    """Append an access; False when that very entry was already written (nothing is overwritten)."""
    return store.append_access(entry)


def access_log_csv(entries: list[dict]) -> str:
    out = io.StringIO()
    writer = csvout.writer(out, lineterminator="\r\n")
    writer.writerow(ACCESS_CSV_COLUMNS)
    for e in sorted(entries, key=lambda e: (e["at"], e["key"])):
        writer.writerow(tuple(str(e.get(c, "")) for c in ACCESS_CSV_COLUMNS))
    return out.getvalue()
