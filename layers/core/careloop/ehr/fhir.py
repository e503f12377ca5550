"""FHIR R4 webhook payloads (one resource, any Bundle, Subscription notifications) become an
EhrBatch; structure is checked with fhir.resources R4B models, value sets by this module.
"""

from __future__ import annotations

import calendar
import importlib
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from careloop.clock import now as clock_now
from careloop.ehr.common import (
    MAX_IDENTIFIER,
    MAX_SLOT,
    MAX_TEXT,
    EhrBatch,
    EhrSchedule,
    EhrSlot,
    PhoneCandidate,
    PhoneKind,
    dedupe_latest,
    future_marker,
    is_sensitive_identifier,
    language_of,
    outside_window,
    pick_phone,
    profile_location,
    profile_provider,
    too_long,
    version_marker,
    visit_type_of,
)
from careloop.errors import PayloadError
from careloop.models import APPOINTMENT_STATUSES, Appointment, Patient
from careloop.notices import Notice
from careloop.practice import PracticeProfile

MAPPED = ("Patient", "Appointment", "Practitioner", "PractitionerRole", "Location")
QUIET = frozenset({"Schedule", "Slot"})  # the EHR's booking grid: mapped by hand, not model-validated
SLOT_STATUSES = frozenset({"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"})
STATUS_ENTRY = frozenset({"Parameters", "SubscriptionStatus"})  # notification status, skipped
NOTIFICATION_BUNDLES = frozenset({"history", "subscription-notification"})
BUNDLE_TYPES = frozenset({
    "document", "message", "transaction", "transaction-response", "batch", "batch-response",
    "history", "searchset", "collection", "subscription-notification",
})
HTTP_VERBS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"})
START_REQUIRED = frozenset({"booked", "arrived", "fulfilled", "checked-in", "noshow"})
CANCELLED_WITHOUT_START = frozenset({"cancelled", "entered-in-error"})
DEFAULT_MINUTES = 30

# R4 (4.0.1) and R4B resource types: a name outside this set is not FHIR at all.
R4_RESOURCE_TYPES = frozenset("""
Account ActivityDefinition AdministrableProductDefinition AdverseEvent AllergyIntolerance
Appointment AppointmentResponse AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure
Bundle CapabilityStatement CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition
Citation Claim ClaimResponse ClinicalImpression ClinicalUseDefinition CodeSystem Communication
CommunicationRequest CompartmentDefinition Composition ConceptMap Condition Consent Contract
Coverage CoverageEligibilityRequest CoverageEligibilityResponse DetectedIssue Device
DeviceDefinition DeviceMetric DeviceRequest DeviceUseStatement DiagnosticReport DocumentManifest
DocumentReference EffectEvidenceSynthesis Encounter Endpoint EnrollmentRequest
EnrollmentResponse EpisodeOfCare EventDefinition Evidence EvidenceReport EvidenceVariable
ExampleScenario ExplanationOfBenefit FamilyMemberHistory Flag Goal GraphDefinition Group
GuidanceResponse HealthcareService ImagingStudy Immunization ImmunizationEvaluation
ImmunizationRecommendation ImplementationGuide Ingredient InsurancePlan Invoice Library Linkage
List Location ManufacturedItemDefinition Measure MeasureReport Media Medication
MedicationAdministration MedicationDispense MedicationKnowledge MedicationRequest
MedicationStatement MedicinalProduct MedicinalProductAuthorization
MedicinalProductContraindication MedicinalProductDefinition MedicinalProductIndication
MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect
MessageDefinition MessageHeader MolecularSequence NamingSystem NutritionOrder NutritionProduct
Observation ObservationDefinition OperationDefinition OperationOutcome Organization
OrganizationAffiliation PackagedProductDefinition Parameters Patient PaymentNotice
PaymentReconciliation Person PlanDefinition Practitioner PractitionerRole Procedure Provenance
Questionnaire QuestionnaireResponse RegulatedAuthorization RelatedPerson RequestGroup
ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment
RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen SpecimenDefinition
StructureDefinition StructureMap Subscription SubscriptionStatus SubscriptionTopic Substance
SubstanceDefinition SubstanceNucleicAcid SubstancePolymer SubstanceProtein
SubstanceReferenceInformation SubstanceSourceMaterial SubstanceSpecification SupplyDelivery
SupplyRequest Task TerminologyCapabilities TestReport TestScript ValueSet VerificationResult
VisionPrescription
""".split())  # noqa: SIM905 (a word list reads better)

_MODEL_MODULES = {
    "Bundle": "fhir.resources.R4B.bundle",
    "Patient": "fhir.resources.R4B.patient",
    "Appointment": "fhir.resources.R4B.appointment",
    "Practitioner": "fhir.resources.R4B.practitioner",
    "PractitionerRole": "fhir.resources.R4B.practitionerrole",
    "Location": "fhir.resources.R4B.location",
}

_REF = re.compile(
    r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)
_INSTANT = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:\d{2})"
)
_LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?")
# FHIR's id type: Schedules and Slots skip the model's check (they are read loosely), and their ids
# become table keys, so they are held to it here
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def parse_fhir(body: bytes | str | dict, profile: PracticeProfile) -> EhrBatch:
    """Map a FHIR R4 resource or Bundle. Raises PayloadError naming every problem found."""
    data = _load(body)
    rtype = data.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        raise PayloadError("resourceType: missing; the body is not a FHIR resource")
    if rtype not in R4_RESOURCE_TYPES:
        raise PayloadError(f"resourceType: {_short(rtype)!r} is not a FHIR R4 resource type")
    return _Mapper(profile).run(data)


# ---- input -----------------------------------------------------------------------------------


def _load(body: bytes | str | dict) -> dict:
    if isinstance(body, dict):
        return body
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            text = bytes(body).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PayloadError(f"body is not UTF-8 text (bad byte at offset {exc.start})") from exc
    elif isinstance(body, str):
        text = body.lstrip("\ufeff")
    else:
        raise PayloadError(f"body: expected JSON text, got {type(body).__name__}")
    if not text.strip():
        raise PayloadError("body is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"body is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise PayloadError("body is not valid JSON: nested too deeply") from exc
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(data), "a number"
        )
        raise PayloadError(
            f"body: expected a JSON object (a FHIR resource or Bundle), got {kind}"
        )
    return data


@dataclass(slots=True)
class _Entry:
    index: int | None  # position in Bundle.entry; None for a lone resource
    path: str  # "Bundle.entry[2].resource" or "Appointment"
    resource: Any
    full_url: str | None = None
    method: str | None = None
    url: str | None = None


class _Mapper:
    def __init__(self, profile: PracticeProfile) -> None:
        self.profile = profile
        self.region = profile.sms.country
        self.now = clock_now()
        self.issues: list[str] = []
        self.batch = EhrBatch(source="fhir")
        self.warnings = self.batch.warnings
        self.by_url: dict[str, tuple[str, str]] = {}  # fullUrl (and Type/id) -> (type, mapped id)
        self.roles: dict[str, tuple[str | None, str | None]] = {}  # role id -> (practitioner, display)
        self.focus: list[str] = []
        self.history = False

    # -- driver --------------------------------------------------------------------------------

    def run(self, data: dict) -> EhrBatch:
        rtype = data["resourceType"]
        if rtype == "Bundle":
            entries = self._bundle_entries(data)
        else:
            self.batch.event = rtype
            entries = [_Entry(None, rtype, data)]

        valid: list[tuple[_Entry, str, dict]] = []
        grid: list[tuple[_Entry, str, dict]] = []  # Schedules and Slots
        skipped: Counter[str] = Counter()
        for e in entries:
            if e.method == "DELETE":
                self._delete(e)
                continue
            if e.method == "PATCH":
                self._announce(e, f"Bundle.entry[{e.index}] is a PATCH (Careloop needs whole resources)")
                continue
            if e.resource is None:
                if e.method not in ("GET", "HEAD"):
                    self._announce(e, f"Bundle.entry[{e.index}] has no resource")
                continue
            if not isinstance(e.resource, dict):
                self.issues.append(f"{e.path}: expected a JSON object")
                continue
            rt = e.resource.get("resourceType")
            if not isinstance(rt, str) or not rt:
                self.issues.append(f"{e.path}.resourceType: missing")
                continue
            if rt not in R4_RESOURCE_TYPES:
                self.warnings.append(Notice("unknown_resource_type", f"{e.path}: unknown resource type {_short(rt)!r}; skipped"))
                continue
            self._index(e, rt, e.resource)
            if rt in MAPPED:
                cleaned = self._validate(rt, e.resource, e.path)
                if cleaned is not None:
                    valid.append((e, rt, cleaned))
            elif rt in QUIET:
                grid.append((e, rt, e.resource))
            else:
                skipped[rt] += 1

        if len(entries) == 1 and entries[0].index is None and skipped:
            rt = entries[0].resource["resourceType"]
            rid = entries[0].resource.get("id") or "?"
            self.warnings.append(Notice("unused_resource", f"{rt}/{rid}: {rt} resources are not used by Careloop; skipped",
                                        (f"{rt}/{rid}",)))
        else:
            for rt, n in sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])):
                self.warnings.append(Notice("unused_resource", f"Bundle: skipped {n} {rt} resource(s) (not used by Careloop)"))

        by_type: dict[str, list[tuple[_Entry, dict]]] = {t: [] for t in MAPPED}
        for e, rt, res in valid:
            by_type[rt].append((e, res))
        for _, res in by_type["Practitioner"]:
            self._practitioner(res)
        for _, res in by_type["Location"]:
            self._location(res)
        for _, res in by_type["PractitionerRole"]:
            self._role(res)
        for e, rt, res in sorted(grid, key=lambda g: g[1]):  # Schedules before Slots
            if rt == "Schedule":
                self._schedule(res, e.path)
            else:
                self._slot(res, e.path)
        patients = [p for e, res in by_type["Patient"] if (p := self._patient(res, e.path))]
        appointments = [a for e, res in by_type["Appointment"] if (a := self._appointment(res, e.path))]
        self._unfetched_focus(entries)

        if self.issues:
            raise PayloadError(self.issues)
        self.batch.patients = dedupe_latest(patients + self.batch.patients, self.history)
        self.batch.appointments = dedupe_latest(appointments, self.history)
        self.batch.cancelled_appointment_ids = list(dict.fromkeys(self.batch.cancelled_appointment_ids))
        return self.batch

    # -- bundles -------------------------------------------------------------------------------

    def _bundle_entries(self, data: dict) -> list[_Entry]:
        raw = data.get("entry")
        raw = [] if raw is None else raw
        shell = {k: v for k, v in data.items() if k != "entry"}
        if isinstance(raw, list):
            shell_entries = []
            for i, e in enumerate(raw):
                if isinstance(e, dict):
                    shell_entries.append({k: v for k, v in e.items() if k != "resource"})
                else:
                    self.issues.append(f"Bundle.entry[{i}]: expected a JSON object")
                    shell_entries.append({})
            if shell_entries:
                shell["entry"] = shell_entries
        else:
            self.issues.append("Bundle.entry: expected an array")
            raw = []
        self._validate("Bundle", shell, "Bundle")

        btype = data.get("type")
        if isinstance(btype, str) and btype not in BUNDLE_TYPES:
            self.issues.append(f"Bundle.type: {_short(btype)!r} is not a BundleType")
        self.batch.message_id = data.get("id") if isinstance(data.get("id"), str) else None
        self.batch.event = btype if isinstance(btype, str) else None
        self.history = isinstance(btype, str) and btype in NOTIFICATION_BUNDLES

        entries: list[_Entry] = []
        for i, e in enumerate(raw):
            if not isinstance(e, dict):
                continue
            request = e["request"] if isinstance(e.get("request"), dict) else {}
            method = request.get("method")
            if method is not None and (not isinstance(method, str) or method not in HTTP_VERBS):
                self.issues.append(
                    f"Bundle.entry[{i}].request.method: {_short(str(method))!r} is not an HTTPVerb"
                )
                continue
            entries.append(_Entry(i, f"Bundle.entry[{i}].resource", e.get("resource"),
                                  _str(e.get("fullUrl")), method, _str(request.get("url"))))

        if self.history and entries and entries[0].index == 0:
            first = entries[0].resource
            if isinstance(first, dict) and _str(first.get("resourceType")) in STATUS_ENTRY:
                self._notification_status(first)
                entries = entries[1:]
        return entries

    def _notification_status(self, status: dict) -> None:
        """Backport (R4 Parameters) or R4B SubscriptionStatus: the event type and its focus."""
        if status.get("resourceType") == "SubscriptionStatus":
            kind = status.get("type")
            for ev in _list(status.get("notificationEvent")):
                ref = _obj(_obj(ev).get("focus")).get("reference")
                if isinstance(ref, str):
                    self.focus.append(ref)
        else:  # not validated (it is not mapped): read defensively
            kind = None
            for p in map(_obj, _list(status.get("parameter"))):
                if p.get("name") == "type":
                    kind = p.get("valueCode")
                elif p.get("name") == "notification-event":
                    for part in map(_obj, _list(p.get("part"))):
                        if part.get("name") == "focus":
                            ref = _obj(part.get("valueReference")).get("reference")
                            if isinstance(ref, str):
                                self.focus.append(ref)
        if isinstance(kind, str) and kind:
            self.batch.event = kind

    def _unfetched_focus(self, entries: list[_Entry]) -> None:
        for ref in self.focus:
            m = _REF.search(ref)
            if not m or m[1] not in ("Patient", "Appointment"):
                continue
            if ref in self.by_url or f"{m[1]}/{m[2]}" in self.by_url:
                continue
            self._to_fetch(f"{m[1]}/{m[2]}", "notification focus was not included")

    def _to_fetch(self, ref: str, why: str) -> None:
        if ref not in self.batch.to_fetch:
            self.batch.to_fetch.append(ref)
            self.warnings.append(Notice("fetch_required", f"{ref}: {why}; fetch it from the EHR", (ref,)))

    def _announce(self, e: _Entry, what: str) -> None:
        m = _REF.search((e.url or "").split("?")[0]) or _REF.search(e.full_url or "")
        if m and m[1] in ("Patient", "Appointment"):
            self._to_fetch(f"{m[1]}/{m[2]}", what)
        else:
            self.warnings.append(Notice("entry_skipped", f"{what}; skipped"))

    def _delete(self, e: _Entry) -> None:
        url = e.url or ""
        m = _REF.search(url.split("?")[0])
        where = f"Bundle.entry[{e.index}].request.url"
        if "?" in url or not m:
            kind = "Appointment " if url.startswith("Appointment") else ""
            self.warnings.append(Notice("delete_ignored", f"{where}: conditional or unreadable {kind}DELETE ignored"))
        elif m[1] == "Appointment":
            self.batch.cancelled_appointment_ids.append(m[2])
        else:
            self.warnings.append(Notice("delete_ignored", f"{where}: DELETE of {m[1]}/{m[2]} ignored", (f"{m[1]}/{m[2]}",)))

    def _index(self, e: _Entry, rtype: str, res: dict) -> None:
        rid = _resource_id(res, contained=False)
        if not rid:
            return
        if e.full_url:
            self.by_url[e.full_url] = (rtype, rid)
            m = _REF.search(e.full_url)
            if m and m[1] == rtype:
                self.by_url[f"{rtype}/{m[2]}"] = (rtype, rid)
        if isinstance(res.get("id"), str):
            self.by_url[f"{rtype}/{res['id']}"] = (rtype, rid)

    # -- validation ----------------------------------------------------------------------------

    def _validate(self, rtype: str, data: dict, path: str) -> dict | None:
        """Structure check with the R4B model. Unknown elements are warnings (and dropped);
        anything else is an issue naming its path."""
        from pydantic import ValidationError

        handled = self._precheck(rtype, data, path)
        model = getattr(importlib.import_module(_MODEL_MODULES[rtype]), rtype)
        try:
            model.model_validate(data)
            return None if handled else data
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
        except Exception:  # a validator bug must not become a 500; the payload is quarantined
            self.issues.append(f"{path}: cannot be read as an R4 {rtype}")
            return None
        extras = [e for e in errors if e["type"] == "extra_forbidden"]
        real = [e for e in errors if e["type"] != "extra_forbidden" and tuple(e["loc"]) not in handled]
        for e in real:
            self.issues.append(f"{path}{_loc(e['loc'], data)}: {_msg(e)}")
        if extras:
            names = ", ".join(_loc(e["loc"], data).lstrip(".") for e in extras)
            self.warnings.append(Notice("unknown_element", f"{path}: ignored unknown element(s) {names}"))
        if real or handled:
            return None
        cleaned = _without(data, [tuple(e["loc"]) for e in extras])
        try:
            model.model_validate(cleaned)
        except ValidationError as exc:
            for e in exc.errors(include_url=False, include_input=False):
                self.issues.append(f"{path}{_loc(e['loc'], cleaned)}: {_msg(e)}")
            return None
        return cleaned

    def _precheck(self, rtype: str, data: dict, path: str) -> set[tuple]:
        """Checks whose wording matters more than the model's: instants without an offset."""
        handled: set[tuple] = set()
        if rtype != "Appointment":
            return handled
        for key in ("start", "end"):
            value = data.get(key)
            if not isinstance(value, str):
                continue
            if _LOCAL_DATETIME.fullmatch(value):
                self.issues.append(
                    f"{path}.{key}: has no UTC offset (a FHIR instant needs one, e.g. 'Z' or '-05:00')"
                )
                handled.add((key,))
            elif not _INSTANT.fullmatch(value):
                self.issues.append(f"{path}.{key}: not a FHIR instant (date, time and UTC offset)")
                handled.add((key,))
        return handled

    # -- reference data ------------------------------------------------------------------------

    def _practitioner(self, res: dict) -> None:
        rid = _resource_id(res, contained=False)
        name = _display_name(res.get("name"))
        if rid and name:
            self.batch.practitioners[rid] = name

    def _location(self, res: dict) -> None:
        rid = _resource_id(res, contained=False)
        alias = res.get("alias") or []
        name = res.get("name") or (alias[0] if alias else None) or res.get("description")
        if rid and name:
            self.batch.locations[rid] = name

    def _role(self, res: dict) -> None:
        rid = _resource_id(res, contained=False)
        ref = res.get("practitioner")
        rtype, pid, _ = self._resolve(ref, res)
        display = ref.get("display") if isinstance(ref, dict) else None
        if rid:
            self.roles[rid] = (pid if rtype in (None, "Practitioner") else None, display)
        if pid and display and pid not in self.batch.practitioners:
            self.batch.practitioners[pid] = display

    # -- Schedule / Slot (spec/booking.md: free Slots are authoritative for their schedule) --------

    def _schedule(self, res: dict, path: str) -> None:
        sid = _resource_id(res, contained=False)
        if not sid or not _FHIR_ID.fullmatch(sid):
            problem = "has no id" if not sid else "has an id that is not a FHIR id"
            self.warnings.append(Notice("unusable_schedule", f"{path}: Schedule {problem}; its slots are not used"))
            return
        provider = location = None
        for ref in map(_obj, _list(res.get("actor"))):
            rtype, rid, _ = self._resolve(ref, res)
            if rtype == "PractitionerRole" and rid in self.roles:
                rtype, rid = "Practitioner", self.roles[rid][0]
            if rtype == "Location":
                location = location or self._booking_location(rid, _str(ref.get("display")))
            if rtype not in (None, "Practitioner"):
                continue  # a Location or HealthcareService actor says where, not who
            display = _str(ref.get("display")) or self.batch.practitioners.get(rid or "")
            provider = provider or self._booking_provider(rid, display)
        # no provider the profile knows (a room's or another clinic's schedule): kept as None,
        # quietly, so booking ignores its slots
        self.batch.schedules[sid] = provider if res.get("active") is not False else None
        at, version = _meta(res)
        self.batch.schedule_records.append(EhrSchedule(sid, self.batch.schedules[sid], location,
                                                       version_marker(at, version)))

    def _booking_location(self, ehr_id: str | None, display: str | None) -> str | None:
        """The profile location id for an EHR Location: matched by id, else by name."""
        wanted = {k.strip().casefold() for k in (ehr_id, display) if k and k.strip()}
        return next((loc.id for loc in self.profile.locations
                     if loc.id.casefold() in wanted or loc.name.casefold() in wanted), None)

    def _booking_provider(self, ehr_id: str | None, display: str | None) -> str | None:
        """The profile provider id for an EHR practitioner: matched by id, else by name."""
        wanted = {k.strip().casefold() for k in (ehr_id, display) if k and k.strip()}
        return next((p.id for p in self.profile.providers if p.id.casefold() in wanted or p.name.casefold() in wanted), None)

    def _slot(self, res: dict, path: str) -> None:
        sid = _resource_id(res, contained=False)
        rtype, schedule, _ = self._resolve(res.get("schedule"), res)
        status = res.get("status")
        start, end = _parse_instant(res.get("start")), _parse_instant(res.get("end"))
        well_formed = bool(sid and _FHIR_ID.fullmatch(sid))
        who = f"Slot/{sid}" if well_formed else path
        if not well_formed or not schedule or rtype not in (None, "Schedule") or not _FHIR_ID.fullmatch(schedule):
            problem = ("has no id" if not sid else "has an id that is not a FHIR id" if not well_formed
                       else "has no Schedule reference" if not schedule or rtype not in (None, "Schedule")
                       else "names a Schedule whose id is not a FHIR id")
        elif not isinstance(status, str) or status not in SLOT_STATUSES:  # a list or object is unhashable
            problem = f"status {_short(str(status))!r} is not a SlotStatus"
        elif start is None or end is None or end <= start:
            problem = "needs a start and a later end (instants with an offset)"
        elif end - start > MAX_SLOT:
            problem = f"is longer than {MAX_SLOT.days} day (the slot store looks one day back)"
        elif sid:
            at, version = _meta(res)
            self.batch.slots.append(EhrSlot(sid, schedule, start, end, status, version_marker(at, version)))
            return
        self.warnings.append(Notice("bad_slot", f"{who}: {problem}; skipped", (who,) if well_formed else ()))

    def _resolve(self, ref: Any, container: dict | None) -> tuple[str | None, str | None, dict | None]:
        """(resource type, Careloop id, contained resource) of a Reference; Nones if unknown."""
        if not isinstance(ref, dict):
            return None, None, None
        hint = ref.get("type") if isinstance(ref.get("type"), str) else None
        reference = ref.get("reference")
        if isinstance(reference, str) and reference:
            if reference.startswith("#"):
                for c in _list((container or {}).get("contained")):
                    if isinstance(c, dict) and c.get("id") == reference[1:]:
                        return c.get("resourceType"), None, c
                return hint, None, None
            if reference in self.by_url:
                return (*self.by_url[reference], None)
            m = _REF.search(reference)
            if m:
                return (*self.by_url.get(f"{m[1]}/{m[2]}", (m[1], m[2])), None)
            return hint, None, None
        ident = ref.get("identifier")
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            return hint, ident["value"], None
        return hint, None, None

    # -- Patient -------------------------------------------------------------------------------

    def _patient(self, res: dict, path: str, *, contained: bool = False) -> Patient | None:
        pid = _resource_id(res, contained=contained)
        if not pid:
            what = ("a contained Patient needs an identifier (its id is local to the resource)"
                    if contained else "Patient has no id and no identifier")
            self.issues.append(f"{path}: {what}")
            return None
        who = f"Patient/{pid}"
        first, last = _person_name(res.get("name"))
        phone, kind = pick_phone(self._telecom(res.get("telecom")), self.region, who, self.warnings)
        tags = []
        if res.get("deceasedBoolean") is True or res.get("deceasedDateTime"):
            tags.append("deceased")
            self.warnings.append(Notice("patient_deceased", f"{who}: the EHR marks this patient deceased", (who,)))
        if res.get("active") is False:
            tags.append("inactive")
        at, version = _meta(res)
        if (why := future_marker(at)) is not None:
            self.issues.append(Notice("date_out_of_range", f"{path}.meta.lastUpdated: {why}"))
            return None
        for label, value in (("name.given", first), ("name.family", last)):
            if too_long(value):
                self.issues.append(f"{path}.{label}: longer than {MAX_TEXT} characters")
                return None
        idents = _identifiers(res.get("identifier"))
        if any(too_long(i, MAX_IDENTIFIER) for i in idents):
            self.issues.append(f"{path}.identifier: longer than {MAX_IDENTIFIER} characters")
            return None
        try:
            return Patient(
                id=pid, first_name=first, last_name=last, phone=phone, phone_kind=kind,
                language=language_of(_language_values(res.get("communication"))),
                identifiers=idents, tags=tags, birth_date=self._birth_date(res.get("birthDate"), who),
                source_version=version_marker(at, version), updated_at=at,
            )
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            self.issues.append(f"{path}: cannot be mapped ({_first_error(exc)})")
            return None

    def _birth_date(self, value: Any, who: str) -> date | None:
        """A full FHIR date; a partial one ("1974", "1974-12") cannot prove a caller's identity, so
        it is kept as unknown, and an unreadable one is a warning (without the value: it is PHI)."""
        if value is None:
            return None
        if isinstance(value, str) and re.fullmatch(r"\d{4}(-\d{2})?", value):
            return None
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.warnings.append(Notice("birth_date_unreadable", f"{who}: birthDate is not a date YYYY-MM-DD", (who,)))
        return None

    def _telecom(self, telecom: Any) -> list[PhoneCandidate]:
        out = []
        for i, t in enumerate(telecom or []):
            if not isinstance(t, dict):
                continue
            system, use, value = t.get("system"), t.get("use"), t.get("value")
            if not value or system not in ("phone", "sms") or use == "old":
                continue
            if _ended(t.get("period"), self.now):
                continue
            kind: PhoneKind
            if system == "phone" and use == "mobile":
                tier, kind = 0, "mobile"
            elif system == "sms":
                tier, kind = 1, "mobile"
            elif use in ("home", "work"):
                tier, kind = 3, "landline"
            else:
                tier, kind = 2, "unknown"
            rank = t.get("rank") if isinstance(t.get("rank"), int) else 10**9
            out.append(PhoneCandidate(tier, (rank, i), value, kind, f"telecom[{i}]"))
        return out

    # -- Appointment ---------------------------------------------------------------------------

    def _appointment(self, res: dict, path: str) -> Appointment | None:
        aid = _resource_id(res, contained=False)
        if not aid:
            self.issues.append(f"{path}: Appointment has no id and no identifier")
            return None
        who = f"Appointment/{aid}"
        status = res.get("status")
        if status not in APPOINTMENT_STATUSES:
            self.issues.append(Notice("unknown_status", f"{path}.status: {_short(str(status))!r} is not an AppointmentStatus"))
            return None
        start = _parse_instant(res.get("start"))
        if start is not None and (why := outside_window(start)) is not None:
            self.issues.append(Notice("date_out_of_range", f"{path}.start: {why}"))
            return None
        if start is None:
            if status in START_REQUIRED:
                self.issues.append(f"{path}.start: missing (required when status is {status!r})")
            elif status in CANCELLED_WITHOUT_START:
                self.batch.cancelled_appointment_ids.append(aid)
            else:
                self.warnings.append(Notice("no_start", f"{who}: status {status!r} and no start yet; skipped", (who,)))
            return None

        patient_id = self._appointment_patient(res, path, who)
        if patient_id is None:
            return None
        end = _parse_instant(res.get("end"))
        minutes = DEFAULT_MINUTES
        if isinstance(res.get("minutesDuration"), int) and res["minutesDuration"] > 0:
            minutes = res["minutesDuration"]
        elif end is not None:
            span = (end - start).total_seconds() / 60
            if span > 0:
                minutes = max(1, round(span))
            else:
                self.warnings.append(Notice("end_before_start", f"{who}: end is not after start; {DEFAULT_MINUTES} minutes assumed",
                                                (who,)))
        at, version = _meta(res)
        if (why := future_marker(at)) is not None:
            self.issues.append(Notice("date_out_of_range", f"{path}.meta.lastUpdated: {why}"))
            return None
        provider, location, visit_type = self._provider(res), self._appointment_location(res), _visit_type(res)
        for label, value in (("participant (practitioner)", provider), ("participant (location)", location),
                             ("serviceType", visit_type)):
            if too_long(value):
                self.issues.append(f"{path}.{label}: longer than {MAX_TEXT} characters")
                return None
        try:
            return Appointment(
                id=aid, patient_id=patient_id, start=start, minutes=minutes, status=status,
                provider=provider, location=location,
                visit_type=visit_type, source_version=version_marker(at, version),
                updated_at=at,
            )
        except ValueError as exc:
            self.issues.append(f"{path}: cannot be mapped ({_first_error(exc)})")
            return None

    def _appointment_patient(self, res: dict, path: str, who: str) -> str | None:
        found: list[str] = []
        unresolved: list[str] = []
        for i, part in enumerate(res.get("participant") or []):
            actor = part.get("actor") if isinstance(part, dict) else None
            rtype, pid, contained = self._resolve(actor, res)
            if rtype is None and isinstance(actor, dict) and isinstance(actor.get("reference"), str):
                unresolved.append(f"{path}.participant[{i}].actor.reference")
            if rtype != "Patient":
                continue
            where = f"{path}.participant[{i}].actor"
            if contained is not None:
                j = res["contained"].index(contained)
                patient = self._patient(contained, f"{path}.contained[{j}]", contained=True)
                if patient is None:
                    return None
                self.batch.patients.append(patient)
                pid = patient.id
            if pid is None:
                self.issues.append(f"{where}.reference: the Patient it names is not in this payload")
                return None
            found.append(pid)
        if not found:
            if unresolved:
                self.issues += [f"{u}: not found in this payload" for u in unresolved]
            self.issues.append(f"{path}.participant: no Patient participant")
            return None
        if len(set(found)) > 1:
            self.warnings.append(Notice("multiple_patients", f"{who}: {len(set(found))} patients take part; the first is used",
                                        (who,)))
        return found[0]

    def _provider(self, res: dict) -> str | None:
        for part in res.get("participant") or []:
            actor = part.get("actor") if isinstance(part, dict) else None
            rtype, rid, _ = self._resolve(actor, res)
            if rtype not in ("Practitioner", "PractitionerRole"):
                continue
            role_display = None
            if rtype == "PractitionerRole":
                rid, role_display = self.roles.get(rid or "", (None, None))
            name = (profile_provider(self.profile, rid) or (actor or {}).get("display")
                    or self.batch.practitioners.get(rid or "") or role_display)
            if name:
                return name
        return None

    def _appointment_location(self, res: dict) -> str | None:
        for part in res.get("participant") or []:
            actor = part.get("actor") if isinstance(part, dict) else None
            rtype, rid, _ = self._resolve(actor, res)
            if rtype != "Location":
                continue
            name = (profile_location(self.profile, [rid]) or (actor or {}).get("display")
                    or self.batch.locations.get(rid or ""))
            if name:
                return name
        return None


# ---- small readers ---------------------------------------------------------------------------


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _resource_id(res: dict, *, contained: bool) -> str | None:
    """The resource id; for a contained resource (or one without id) the first identifier that
    is not a national id or the like."""
    if not contained and isinstance(res.get("id"), str) and res["id"]:
        return res["id"]
    for ident in map(_obj, _list(res.get("identifier"))):  # also used on unvalidated resources
        if not isinstance(ident.get("value"), str) or not ident["value"]:
            continue
        if not is_sensitive_identifier(_type_code(ident), _str(ident.get("system"))):
            return ident["value"]
    return None


def _type_code(ident: dict) -> str | None:
    for coding in map(_obj, _list(_obj(ident.get("type")).get("coding"))):
        if isinstance(coding.get("code"), str) and coding["code"]:
            return coding["code"]
    return None


def _identifiers(idents: Any) -> list[str]:
    out = []
    for ident in idents or []:
        if not isinstance(ident, dict) or not ident.get("value"):
            continue
        if is_sensitive_identifier(_type_code(ident), ident.get("system")):
            continue
        out.append(f"{ident.get('system') or ''}|{ident['value']}")
    return out


def _choose_name(names: Any) -> dict | None:
    names = [n for n in names or [] if isinstance(n, dict)]
    official = [n for n in names if n.get("use") == "official"]
    current = [n for n in names if n.get("use") not in ("old", "maiden")]
    pool = official or current or names
    return pool[0] if pool else None


def _person_name(names: Any) -> tuple[str, str]:
    n = _choose_name(names)
    if n is None:
        return "", ""
    given = [g for g in n.get("given") or [] if g]
    family = n.get("family") or ""
    if given or family:
        return (given[0] if given else ""), family
    words = (n.get("text") or "").split()
    if not words:
        return "", ""
    return words[0], (words[-1] if len(words) > 1 else "")


def _display_name(names: Any) -> str | None:
    """"Dr Adam Careful": prefix, first given name, family; else the text."""
    n = _choose_name(names)
    if n is None:
        return None
    given = [g for g in n.get("given") or [] if g]
    parts = [*(n.get("prefix") or []), *(given[:1]), n.get("family") or ""]
    text = " ".join(p for p in parts if p)
    return text or n.get("text") or None


def _language_values(comms: Any) -> list[str | None]:
    comms = [c for c in comms or [] if isinstance(c, dict)]
    if not comms:
        return []
    chosen = next((c for c in comms if c.get("preferred") is True), comms[0])
    lang = chosen.get("language") or {}
    values: list[str | None] = [lang.get("text")]
    for coding in lang.get("coding") or []:
        if isinstance(coding, dict):
            values += [coding.get("code"), coding.get("display")]
    return values


def _visit_type(res: dict) -> str | None:
    atype = res.get("appointmentType") or {}
    coding: dict = next(iter(atype.get("coding") or []), {}) or {}
    found = visit_type_of(coding.get("code"), coding.get("display"), atype.get("text"))
    if found:
        return found
    service: dict = next(iter(res.get("serviceType") or []), {}) or {}
    scoding: dict = next(iter(service.get("coding") or []), {}) or {}
    return visit_type_of(service.get("text"), scoding.get("display"), scoding.get("code"))


def _meta(res: dict) -> tuple[datetime | None, str | None]:
    meta = _obj(res.get("meta"))  # Schedules and Slots are read without the model's check
    version = meta.get("versionId") if isinstance(meta.get("versionId"), str) else None
    return _parse_instant(meta.get("lastUpdated")), version


def _parse_instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    m = _INSTANT.fullmatch(value)
    if not m:
        return None
    frac = (m[2] or "")[:7]  # Python keeps microseconds; FHIR allows more digits
    tz = "+00:00" if m[3] == "Z" else m[3]
    seconds = "" if m[1].count(":") == 2 else ":00"
    try:
        return datetime.fromisoformat(m[1] + seconds + frac + tz)
    except ValueError:
        return None


def _ended(period: Any, now: datetime) -> bool:
    """Period.end is in the past. Partial dates end at the end of their year / month / day."""
    if not isinstance(period, dict) or not isinstance(period.get("end"), str):
        return False
    end = period["end"]
    instant = _parse_instant(end)
    if instant is not None:
        return instant < now
    try:
        parts = [int(p) for p in end[:10].split("-")]
        if len(parts) == 1:
            last = date(parts[0], 12, 31)
        elif len(parts) == 2:
            last = date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
        else:
            last = date(parts[0], parts[1], parts[2])
    except (ValueError, IndexError):
        return False
    return last < now.astimezone(UTC).date()


def _loc(loc: tuple, data: Any) -> str:
    """A pydantic error location as a FHIR path suffix: ('participant', 0, 'actor') ->
    '.participant[0].actor'. Validator tags that are not JSON names are left out."""
    out, cur = [], data
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out.append(f"[{part}]")
            cur = cur[part] if isinstance(cur, list) and -len(cur) <= part < len(cur) else None
        elif isinstance(cur, dict) and part in cur:
            out.append(f".{part}")
            cur = cur[part]
        elif i == len(loc) - 1 or re.fullmatch(r"[a-z_][A-Za-z0-9_]*", str(part)):
            out.append(f".{part}")
            cur = None
    return "".join(out)


def _msg(error: Mapping[str, object]) -> str:
    text = " ".join(str(error.get("msg", "invalid")).split())
    text = text.removeprefix("Value error, ")
    return _short(text, 200)


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors(include_url=False, include_input=False)[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {_msg(first)}"
    return _short(str(exc), 200)


def _without(data: Any, locs: list[tuple]) -> Any:
    """A copy of data without the elements at locs (unknown elements the model refused)."""
    import copy

    cleaned = copy.deepcopy(data)
    for loc in locs:
        cur = cleaned
        for part in loc[:-1]:
            try:
                cur = cur[part]
            except (KeyError, IndexError, TypeError):
                cur = None
                break
        if isinstance(cur, dict):
            cur.pop(loc[-1], None)
    return cleaned
