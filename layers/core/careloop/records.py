"""Applying EHR data to Careloop's records, with one rule for who owns which field:
the EHR owns demographics, times and status; Careloop owns consent and confirmation.

Also where identity is kept straight: EHR merges (HL7 A40, FHIR Patient.link) re-point the
merged patient's appointments and leave a tombstone behind; a new patient id that carries an
identifier another patient already holds is recognised and flagged (never merged by Careloop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from careloop import consent
from careloop.models import Appointment, AppointmentChange, ChangeSource, Patient
from careloop.notices import Notice

if TYPE_CHECKING:  # the ports are types only here: no import cost on the Lambda path
    from careloop.ports import ConsentLedgerStore, RecordStore

MERGED_PREFIX = "merged-into:"  # tag on a merged (retired) patient record: merged-into:<surviving id>
MAX_MERGE_HOPS = 8  # a chain of merges longer than this is a data error, not a chain


@dataclass
class IngestResult:
    patients: list[str] = field(default_factory=list)
    appointments: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # older versions that were not applied
    unchanged: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # "merged_id->surviving_id", merges applied
    repointed: list[str] = field(default_factory=list)  # appointments moved to a surviving patient
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (new id, id already holding the identifier)
    orphans: list[str] = field(default_factory=list)  # appointments whose patient is not known (yet)
    skipped_merges: list[str] = field(default_factory=list)  # merges that would make a cycle
    grid: list[str] = field(default_factory=list)  # FHIR Schedules and Slots stored (Schedule/id, Slot/id)

    def warnings(self) -> list[Notice]:
        """What the sender (and the audit) should know; ids only, never names or phones."""
        out = [Notice("duplicate_identifier",
                      f"Patient/{new} shares an identifier with Patient/{old}: probably the same person, "
                      f"kept apart and listed by the data-quality audit; merge them in the EHR",
                      (f"Patient/{new}", f"Patient/{old}"))
               for new, old in self.duplicates]
        out += [Notice("unknown_patient", f"Appointment/{a}: its patient is not known to Careloop yet; no texts "
                       f"until the EHR sends the patient", (f"Appointment/{a}",)) for a in self.orphans]
        out += [Notice("merge_cycle", f"merge {m}: ignored, it would make a merge cycle") for m in self.skipped_merges]
        return out

    def counts(self) -> dict[str, int]:
        """How many records each outcome touched: the numbers every caller reports."""
        return {"patients": len(self.patients), "appointments": len(self.appointments),
                "unchanged": len(self.unchanged), "stale": len(self.stale), "merges": len(self.merged)}



def is_stale(incoming: str, stored: str) -> bool:
    """An EHR payload older than what is stored is not applied; nor is one without any version
    marker when the stored record has one (it cannot prove it is newer, and it used to revert a
    newer record)."""
    if not stored:
        return False
    return not incoming or stored > incoming

def merged_into(patient: Patient | None) -> str | None:
    """The surviving id if this record was merged away, else None."""
    if patient is None:
        return None
    for tag in patient.tags:
        if tag.startswith(MERGED_PREFIX):
            return tag[len(MERGED_PREFIX):]
    return None


def merge_patient(stored: Patient | None, incoming: Patient) -> Patient:
    """The EHR's demographics with Careloop's consent and delivery knowledge kept."""
    if stored is None:
        return incoming
    keep: dict = {"opted_out": stored.opted_out}
    # a new number deserves a new chance; the same number keeps its delivery flag
    keep["undeliverable"] = stored.undeliverable and stored.phone == incoming.phone
    if incoming.birth_date is None and stored.birth_date is not None:  # an update without it keeps it
        keep["birth_date"] = stored.birth_date
    target = merged_into(stored)
    if target:
        # a late update about a merged-away record does not bring it back to life
        keep |= {"phone": None, "phone_kind": "unknown",
                 "tags": [t for t in incoming.tags if not t.startswith(MERGED_PREFIX)] + [MERGED_PREFIX + target]}
    return incoming.model_copy(update=keep)


def merge_appointment(stored: Appointment | None, incoming: Appointment) -> Appointment:
    """The EHR's version over the stored one: Careloop's fields (confirmation, the history) kept,
    and what the EHR changed (a new visit, a status, a time) added to the history."""
    at = incoming.updated_at or incoming.start
    if stored is None:
        return with_change(incoming, "booked" if incoming.status == "booked" else incoming.status, at, "ehr")
    kept = {"history": stored.history}
    if stored.start != incoming.start:
        moved = incoming.model_copy(update=kept | {"confirmed": False, "confirmed_at": None, "declined": False})
        moved = with_change(moved, "moved", at, "ehr", detail=stored.start.isoformat())
        return moved if stored.status == incoming.status else with_change(moved, incoming.status, at, "ehr")
    merged = incoming.model_copy(
        update=kept | {"confirmed": stored.confirmed, "confirmed_at": stored.confirmed_at, "declined": stored.declined}
    )
    return merged if stored.status == incoming.status else with_change(merged, incoming.status, at, "ehr")


# an appointment's history is bounded (one DynamoDB item): its first entry (how it was booked)
# and the newest ones are kept
HISTORY_LIMIT = 40


def with_change(appointment: Appointment, event: str, at: datetime, source: ChangeSource, by: str = "",
                detail: str = "") -> Appointment:
    """The appointment with one more entry in its history: every writer of a state change (EHR
    ingest, the agent, staff, a booking) calls this on the record it puts."""
    change = AppointmentChange(at=at, event=event, source=source, by=by[:80], detail=detail[:200])
    history = [*appointment.history, change]
    if len(history) > HISTORY_LIMIT:
        history = history[:1] + history[-(HISTORY_LIMIT - 1):]
    return appointment.model_copy(update={"history": history})


def ingest(
    records: RecordStore,
    ledger: ConsentLedgerStore,
    patients: list[Patient],
    appointments: list[Appointment],
    now: datetime,
    *,
    merges: list[tuple[str, str]] | tuple = (),
    bulk: bool = False,
    live: set[str] | None = None,
    phone_opted_out: Callable[[str], bool] | None = None,
) -> IngestResult:
    """Apply what the EHR said. `merges` are (surviving id, merged id) pairs, applied after the
    patients and before the appointments. `bulk`: ids absent when read are written in batches
    (onboarding import); otherwise every write is a conditional put (webhooks, where two
    deliveries of the same record may race). `live`: a caller's cache of patient ids known to
    exist and not be merged, kept up to date here (an import's appointments then need no
    patient reads). `phone_opted_out`: whether the consent ledger has a number opted out
    (default: careloop.consent on `ledger`), asked for new and changed numbers only."""
    result = IngestResult()
    known, identity_changed = _apply_patients(
        records, patients, now, bulk, phone_opted_out or _ledger(ledger), result)
    versions = {p.id: p.source_version for p in patients}
    for surviving, merged_id in merges:
        apply_merge(records, surviving, merged_id, now, version=versions.get(surviving, ""),
                    known=known, result=result)
    _recognise_duplicates(records, identity_changed, known, result)
    live = set() if live is None else live
    live.update(pid for pid, p in known.items() if not merged_into(p))
    live.difference_update(merged_id for _, merged_id in merges)
    _apply_appointments(records, appointments, now, bulk, known, live, result)
    return result


def _apply_patients(records: RecordStore, patients: list[Patient], now: datetime, bulk: bool,
                    phone_opted_out: Callable[[str], bool], result: IngestResult
                    ) -> tuple[dict[str, Patient], list[Patient]]:
    """-> (every patient read or written, by id; those whose identifiers are new or changed)."""
    known = _get_patients(records, {p.id for p in patients})
    fresh: dict[str, Patient] = {}  # bulk: absent when read, written in one batch below
    identity_changed: list[Patient] = []
    for p in patients:
        stored = fresh.get(p.id) or known.get(p.id)
        if stored and is_stale(p.source_version, stored.source_version):
            result.stale.append(f"Patient/{p.id}")
            continue
        merged = merge_patient(stored, p.model_copy(update={"updated_at": now}))
        if merged.phone and not merged.opted_out and (stored is None or stored.phone != merged.phone) \
                and phone_opted_out(merged.phone):
            merged = merged.model_copy(update={"opted_out": True})  # consent follows the number
        if stored and _same(stored, merged):
            result.unchanged.append(f"Patient/{p.id}")
            continue
        if bulk and (p.id in fresh or stored is None):
            fresh[p.id] = merged
        elif not records.put_patient(merged):  # a newer version landed since we read
            result.stale.append(f"Patient/{p.id}")
            continue
        result.patients.append(p.id)
        known[p.id] = merged
        if stored is None or stored.identifiers != merged.identifiers:
            identity_changed.append(merged)
    if fresh:
        records.put_new_records(list(fresh.values()))
    return known, identity_changed


def _apply_appointments(records: RecordStore, appointments: list[Appointment], now: datetime, bulk: bool,
                        known: dict[str, Patient], live: set[str], result: IngestResult) -> None:
    """Appointments, each on the patient who survived any merge; one whose patient Careloop does
    not know is stored as sent (the patient may come later) and reported."""
    wanted = {a.patient_id for a in appointments} - known.keys() - live
    found = _get_patients(records, wanted)
    known |= found
    live.update(pid for pid, p in found.items() if not merged_into(p))
    unknown = wanted - found.keys()
    stored_appts = _get_appointments(records, {a.id for a in appointments})
    fresh: dict[str, Appointment] = {}
    for a in appointments:
        if a.patient_id in unknown:
            owner = None
        elif a.patient_id in live and a.patient_id not in known:
            owner = a.patient_id  # known to exist, not merged: no read needed
        else:
            owner = surviving_id(records, a.patient_id, known)
        if owner is None:
            result.orphans.append(a.id)
        elif owner != a.patient_id:
            a = a.model_copy(update={"patient_id": owner})
            result.repointed.append(a.id)
        stored = fresh.get(a.id) or stored_appts.get(a.id)
        if stored and is_stale(a.source_version, stored.source_version):
            result.stale.append(f"Appointment/{a.id}")
            continue
        merged = merge_appointment(stored, a.model_copy(update={"updated_at": now}))
        if stored and _same(stored, merged):
            result.unchanged.append(f"Appointment/{a.id}")
            continue
        if bulk and (a.id in fresh or stored is None):
            fresh[a.id] = merged
        elif not records.put_appointment(merged):
            result.stale.append(f"Appointment/{a.id}")
            continue
        result.appointments.append(a.id)
        stored_appts[a.id] = merged
    if fresh:
        records.put_new_records(list(fresh.values()))
    result.orphans = list(dict.fromkeys(result.orphans))
    result.repointed = list(dict.fromkeys(result.repointed))


def surviving_id(records: RecordStore, patient_id: str, known: dict[str, Patient] | None = None) -> str | None:
    """Follow merged-into tags to the patient who survived (the id itself if never merged);
    None if Careloop does not know the patient at all."""
    known = {} if known is None else known
    current = known.get(patient_id) or records.get_patient(patient_id)
    if current is None:
        return None
    known[patient_id] = current
    seen = {patient_id}
    while (target := merged_into(current)) and target not in seen and len(seen) <= MAX_MERGE_HOPS:
        seen.add(target)
        nxt = known.get(target) or records.get_patient(target)
        if nxt is None:
            return target  # the EHR named the survivor; it may arrive later
        known[target] = nxt
        current = nxt
    return current.id


def apply_merge(
    records: RecordStore,
    surviving: str,
    merged_id: str,
    now: datetime,
    *,
    version: str = "",
    known: dict[str, Patient] | None = None,
    result: IngestResult | None = None,
) -> IngestResult:
    """The EHR merged `merged_id` into `surviving`. Idempotent: a redelivered merge writes
    nothing. The merged record stays as a tombstone (tag merged-into:<id>, no phone, so
    nothing is ever sent to it and late messages about it are re-pointed)."""
    known = {} if known is None else known
    result = IngestResult() if result is None else result
    label = f"{merged_id}->{surviving}"
    if surviving == merged_id:
        return result
    target = surviving_id(records, surviving, known) or surviving  # the survivor may itself be merged
    if target == merged_id:
        result.skipped_merges.append(label)
        return result
    merged = known.get(merged_id) or records.get_patient(merged_id)
    survivor = known.get(target) or records.get_patient(target)

    # 1. consent travels to the survivor (either record's opt-out wins); a survivor Careloop has
    #    never seen starts as the merged record's details, until the EHR sends its own
    if survivor is None and merged is not None:
        survivor = merged.model_copy(update={
            "id": target, "tags": [t for t in merged.tags if not t.startswith(MERGED_PREFIX)],
            "source_version": "", "updated_at": now})
        if records.put_patient(survivor):
            result.patients.append(target)
    elif survivor is not None and merged is not None and merged.opted_out and not survivor.opted_out:
        survivor = survivor.model_copy(update={"opted_out": True, "updated_at": now})
        if records.put_patient(survivor):
            result.patients.append(target)
    if survivor is not None:
        known[target] = survivor

    # 2. the merged record becomes a tombstone pointing at the survivor
    base = merged or Patient(id=merged_id)
    tombstone = base.model_copy(update={
        "phone": None, "phone_kind": "unknown",
        "tags": [t for t in base.tags if not t.startswith(MERGED_PREFIX)] + [MERGED_PREFIX + target],
        "source_version": max(base.source_version, version), "updated_at": now})
    changed = merged is None or not _same(merged, tombstone)
    if changed and records.put_patient(tombstone):
        known[merged_id] = tombstone
        result.patients.append(merged_id)

    # 3. its appointments belong to the survivor now
    for appt in records.appointments_for_patient(merged_id):
        if records.put_appointment(appt.model_copy(update={"patient_id": target, "updated_at": now})):
            result.repointed.append(appt.id)
            changed = True

    # 4. and so do its identifiers, so they are not flagged as a duplicate of the survivor
    claims = {i: target for i in base.identifiers if _matchable(i)}
    if claims and changed:
        records.claim_identifiers(claims)
    if changed:
        result.merged.append(label)
    return result


def _recognise_duplicates(records: RecordStore, patients: list[Patient], known: dict[str, Patient],
                          result: IngestResult) -> None:
    """Claim each (system-qualified) identifier for its patient; one already held by another
    live patient is a probable duplicate: flagged, not merged (see README, "EHR integration")."""
    wanted: dict[str, str] = {}
    for p in patients:
        if merged_into(known.get(p.id) or p):
            continue
        for ident in p.identifiers:
            if not _matchable(ident):
                continue
            first = wanted.setdefault(ident, p.id)
            if first != p.id:
                _flag(result, p.id, first)
    if not wanted:
        return
    owners = records.identifier_owners(list(wanted))
    claims: dict[str, str] = {}
    for ident, pid in wanted.items():
        owner = owners.get(ident)
        if owner == pid:
            continue
        holder = surviving_id(records, owner, known) if owner else None
        if holder is None or holder == surviving_id(records, pid, known):
            claims[ident] = pid  # unclaimed, or its holder is gone / is this very person
        else:
            _flag(result, pid, holder)
    if claims:
        records.claim_identifiers(claims)


def _flag(result: IngestResult, new: str, old: str) -> None:
    if (new, old) not in result.duplicates:
        result.duplicates.append((new, old))


def _matchable(identifier: str) -> bool:
    """Only identifiers with a system (FHIR) / assigning authority (HL7): a bare number means
    nothing across systems. Long values are not keys."""
    system, _, value = identifier.partition("|")
    return bool(system.strip() and value.strip()) and len(identifier) <= 1000


def _ledger(ledger: ConsentLedgerStore) -> Callable[[str], bool]:
    return lambda phone: consent.is_opted_out(ledger, phone)


def _get_patients(records: RecordStore, ids: set[str]) -> dict[str, Patient]:
    if not ids:
        return {}
    return records.get_patients(ids)


def _get_appointments(records: RecordStore, ids: set[str]) -> dict[str, Appointment]:
    if not ids:
        return {}
    return records.get_appointments(ids)


def _same(stored, merged) -> bool:
    """Equal but for bookkeeping: a redelivered payload writes nothing (so no stream record)."""
    ignore = {"updated_at"}
    return stored.model_dump(exclude=ignore) == merged.model_dump(exclude=ignore)
