"""The bulk engine: FHIR resources mapped and written a chunk at a time, one path for the
onboarding import (`careloop ehr import`) and the worker of large webhook payloads (ehr_import).

A chunk's bad resources are found one by one and reported; the rest of the chunk goes ahead.
"""

from __future__ import annotations

import re
from typing import Any

from careloop.ehr.fhir import parse_fhir
from careloop.ehr.payload import apply_batches, fhir_merges
from careloop.errors import PayloadError
from careloop.notices import code_of
from careloop.ports import ConsentLedgerStore, Services
from careloop.practice import PracticeProfile

CHUNK = 500  # resources per mapping/write batch
CONTEXT_TYPES = frozenset({"Practitioner", "PractitionerRole", "Location"})  # names for appointments
_REF = re.compile(r"(?:^|/)(Practitioner|PractitionerRole|Location)/([A-Za-z0-9\-.]{1,64})$")


def chunk_bundle(entries: list[dict], context: dict[str, dict], shell: dict | None = None) -> dict:
    """A Bundle of the chunk's entries (each `{"resource": ...}`, with its fullUrl and request if
    it had them), plus the practitioners/roles/locations its appointments name that are not in it
    (so provider and location names resolve the same way the webhook resolves them inside one
    Bundle). `shell`: the original Bundle's other members (type, id); default a collection."""
    resources: list[dict] = [r for e in entries if isinstance(r := e.get("resource"), dict)]
    present = {f"{r.get('resourceType')}/{r.get('id')}" for r in resources}
    extra: dict[str, dict] = {}
    for r in resources:
        if r.get("resourceType") != "Appointment":
            continue
        for part in r.get("participant") or []:
            ref = ((part or {}).get("actor") or {}).get("reference") if isinstance(part, dict) else None
            m = _REF.search(ref) if isinstance(ref, str) else None
            key = f"{m[1]}/{m[2]}" if m else None
            if m and key and key not in present and key in context:
                extra[key] = context[key]
                role_of = ((context[key].get("practitioner") or {}).get("reference") or "") if m[1] == "PractitionerRole" else ""
                pm = _REF.search(role_of) if role_of else None
                if pm and f"{pm[1]}/{pm[2]}" in context and f"{pm[1]}/{pm[2]}" not in present:
                    extra[f"{pm[1]}/{pm[2]}"] = context[f"{pm[1]}/{pm[2]}"]
    base = dict(shell or {"type": "collection"})
    return base | {"resourceType": "Bundle", "entry": [{"resource": v} for v in extra.values()] + list(entries)}


def remember_context(context: dict[str, dict], resource: Any) -> None:
    """Keep a practitioner, role or location for the appointments of later chunks."""
    if isinstance(resource, dict) and resource.get("resourceType") in CONTEXT_TYPES \
            and isinstance(resource.get("id"), str):
        context[f"{resource['resourceType']}/{resource['id']}"] = resource


def map_chunk(chunk: list[tuple[str, dict]], context: dict[str, dict], profile: PracticeProfile,
              shell: dict | None = None, *, merges: bool = False
              ) -> tuple[Any, list[tuple[str, dict]], list[tuple[str, str]]]:
    """(where, entry) pairs -> (the EhrBatch of the good ones or None, the good pairs, (where,
    issue) of each refused entry). One parse for a clean chunk; a chunk that fails is parsed
    entry by entry to find the bad ones, then the rest together. `merges`: the merges its
    Patient.link elements declare are applied too (the webhook's rule)."""
    bundle = chunk_bundle([e for _, e in chunk], context, shell)
    try:
        return _parsed(bundle, profile, merges), chunk, []
    except PayloadError:
        pass
    good: list[tuple[str, dict]] = []
    refused: list[tuple[str, str]] = []
    for where, entry in chunk:
        try:
            alone = entry.get("resource")
            parse_fhir(alone if isinstance(alone, dict) else chunk_bundle([entry], context, shell), profile)
            good.append((where, entry))
        except PayloadError as exc:
            refused.append((where, "; ".join(exc.issues)))
    if not good:
        return None, [], refused
    try:
        return _parsed(chunk_bundle([e for _, e in good], context, shell), profile, merges), good, refused
    except PayloadError as exc:  # only wrong together (should not happen): refuse them all
        return None, [], refused + [(where, "; ".join(exc.issues)[:500]) for where, _ in good]


def _parsed(bundle: dict, profile: PracticeProfile, merges: bool):
    batch = parse_fhir(bundle, profile)
    if merges:
        batch.merges += [m for m in fhir_merges(bundle) if m not in batch.merges]
    return batch


class StoreWriter:
    """Writes a mapped chunk through `careloop.ehr.payload.apply_batches` in bulk mode (absent
    records in batch writes, present ones by version) into the services' store."""

    def __init__(self, services: Services, *, supersede_online: bool = False) -> None:
        self.services = services
        self.supersede_online = supersede_online  # a webhook's online bookings are replaced by the EHR's copy
        self.live: set[str] = set()  # patients known to exist and not be merged, this run
        self.opted_out_phones = opted_out_phones(services.consent)  # the consent ledger, read once

    def write(self, bundle: dict, batch) -> dict[str, Any]:
        if len(self.live) > 2_000_000:  # bound the memory of a very large import
            self.live.clear()
        r = apply_batches(self.services, [batch], self.services.clock.now(), bulk=True, live=self.live,
                          phone_opted_out=self.opted_out_phones.__contains__,
                          supersede_online=self.supersede_online)
        return r.counts() | {"duplicates": r.duplicates,
                             "orphans": [(a.id, a.patient_id) for a in batch.appointments if a.id in set(r.orphans)],
                             "warning_codes": [code_of(w) for w in batch.warnings]}

    def known_patients(self, ids: set[str]) -> set[str]:
        return set(self.services.records.get_patients(ids))


def opted_out_phones(ledger: ConsentLedgerStore) -> set[str]:
    """Numbers whose latest consent-ledger entry is an opt-out (careloop.consent's rule)."""
    latest: dict[str, dict] = {}
    for e in ledger.all_consent_entries():
        if e["phone"] not in latest or e["key"] > latest[e["phone"]]["key"]:
            latest[e["phone"]] = e
    return {phone for phone, e in latest.items() if e["action"] == "opt_out"}
