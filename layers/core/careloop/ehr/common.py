"""What both EHR mappers share: the batch they return, version markers, phone choice, language,
visit-type wording and the practice-profile lookups. Pure: no I/O, no logging.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol, TypeVar

from careloop import clock
from careloop.models import Appointment, Patient
from careloop.notices import Notice
from careloop.phones import try_e164
from careloop.practice import PracticeProfile

PhoneKind = Literal["mobile", "landline", "unknown"]

# Identifiers Careloop has no use for and should not hold (data minimisation): national ids,
# driver's licences, passports. Matched on the FHIR/HL7 identifier type code or the system.
SENSITIVE_ID_TYPES = frozenset({"SS", "SB", "DL", "PPN", "SSN"})
SENSITIVE_ID_SYSTEMS = ("us-ssn", "ssn", "passport", "2.16.840.1.113883.4.1")


@dataclass(slots=True)
class Hl7Header:
    """The parts of an HL7 MSH an ACK needs (raw field text, components intact)."""

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    control_id: str = ""
    message_type: str = ""
    trigger: str = ""
    version: str = ""
    processing_id: str = ""


MAX_SLOT = timedelta(days=1)  # a Slot longer than this is not a bookable slot (and the store looks back one day)


@dataclass(frozen=True)
class EhrSlot:
    """A FHIR Slot: time on one EHR Schedule that is free or not; the EHR's own booking grid,
    authoritative for that schedule's provider when the practice sends it."""

    id: str
    schedule: str  # the Schedule id
    start: datetime
    end: datetime
    status: str  # free | busy | busy-unavailable | busy-tentative | entered-in-error
    # `source_version` of the Slot (meta): an older delivery never overwrites a newer one
    version: str = field(default="", compare=False)


@dataclass(frozen=True)
class EhrSchedule:
    """A FHIR Schedule: whose booking grid its Slots are (the profile provider id, None for a
    room's, another clinic's or an inactive schedule) and where, with its version marker."""

    id: str
    provider: str | None
    location: str | None = None
    version: str = field(default="", compare=False)


@dataclass(slots=True)
class EhrBatch:
    """Everything one EHR message (a FHIR resource/Bundle, or one HL7 message) said."""

    source: Literal["fhir", "hl7v2"]
    message_id: str | None = None  # Bundle.id / MSH-10
    event: str | None = None  # "SIU^S12", "ADT^A40", Bundle.type, notification type, resourceType
    version: str | None = None  # MSH-12 for HL7; None for FHIR
    patients: list[Patient] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    practitioners: dict[str, str] = field(default_factory=dict)  # id -> display name
    locations: dict[str, str] = field(default_factory=dict)  # id -> display name
    warnings: list[Notice] = field(default_factory=list)  # non-fatal, coded; ids only, never names/phones
    merges: list[tuple[str, str]] = field(default_factory=list)  # (surviving_id, merged_id)
    # Appointments known only by id that the EHR deleted or cancelled without sending a start
    # (FHIR DELETE, cancelled Appointment with no start, SIU cancel without timing).
    cancelled_appointment_ids: list[str] = field(default_factory=list)
    # References a notification announced but did not include (id-only / empty payloads).
    to_fetch: list[str] = field(default_factory=list)
    hl7_header: Hl7Header | None = None
    # FHIR Schedules: id -> the profile provider id it is for (None: no provider the profile
    # knows); with `slots`, the free time that replaces working hours for that provider
    schedules: dict[str, str | None] = field(default_factory=dict)
    slots: list[EhrSlot] = field(default_factory=list)
    # the same Schedules as stored (location and version too), in the order they came
    schedule_records: list[EhrSchedule] = field(default_factory=list)


# ---- sane values -----------------------------------------------------------------------------
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
FUTURE_YEARS = 5  # an appointment further ahead than this is a typo, not a booking
MARKER_SKEW = timedelta(minutes=10)  # a version marker this far in the future is refused
MAX_TEXT = 200  # names, provider, location, visit type: longer is not a name
MAX_IDENTIFIER = 256


def outside_window(at: datetime, now: datetime | None = None) -> str | None:
    """Why a date cannot be an appointment's (or a version's), or None: before 1900, more than
    five years ahead, or so close to year 1 / 9999 that converting it overflows."""
    now = now or clock.now()  # the process clock: the local stack's moved clock too
    try:
        utc = at.astimezone(UTC)
        latest = now.astimezone(UTC).replace(year=now.year + FUTURE_YEARS)
    except (OverflowError, ValueError):
        return "outside the dates Careloop accepts"
    if utc < EARLIEST:
        return "before 1900"
    if utc > latest:
        return f"more than {FUTURE_YEARS} years ahead"
    return None


def future_marker(at: datetime | None, now: datetime | None = None) -> str | None:
    """A version marker (lastUpdated, MSH-7) in the future beyond a small skew would freeze the
    record: every later update would look older. Why it is refused, or None."""
    if at is None:
        return None
    why = outside_window(at, now)
    if why:
        return why
    if at.astimezone(UTC) > (now or clock.now()) + MARKER_SKEW:
        return "in the future (clocks may differ by minutes, not more)"
    return None


def too_long(value: str | None, limit: int = MAX_TEXT) -> bool:
    return value is not None and len(value) > limit


# ---- versions --------------------------------------------------------------------------------


def utc_stamp(at: datetime) -> str:
    """Fixed-width UTC ISO with microseconds, so string order is time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_marker(at: datetime | None, version: str | None = None) -> str:
    """`source_version`: newer sorts greater. Timestamp first, then the version id zero-padded
    (numeric ids) so that two versions written in the same instant still order. '' = unknown."""
    stamp = utc_stamp(at) if at else ""
    v = (version or "").strip()
    if not v:
        return stamp
    return f"{stamp}#{v.zfill(12) if v.isdigit() else v}"


# ---- phones ----------------------------------------------------------------------------------


@dataclass(slots=True)
class PhoneCandidate:
    tier: int  # lower is preferred
    order: tuple  # tie-break inside a tier (rank, position)
    raw: str
    kind: PhoneKind
    label: str  # where it came from, for warnings ("telecom[2]", "PID-13 repetition 1")


def pick_phone(
    candidates: list[PhoneCandidate], region: str, who: str, warnings: list[Notice]
) -> tuple[str | None, PhoneKind]:
    """First candidate (by tier, then order) that normalises to E.164. Unreadable numbers are
    warnings, never errors, and the number itself never appears in the warning."""
    for c in sorted(candidates, key=lambda c: (c.tier, c.order)):
        e164 = try_e164(c.raw, region)
        if e164:
            return e164, c.kind
        warnings.append(Notice("invalid_phone", f"{who}: {c.label} is not a valid phone number for region {region}",
                               (who,)))
    warnings.append(Notice("no_sms_phone", f"{who}: no SMS-capable phone", (who,)))
    return None, "unknown"


# ---- language, visit type --------------------------------------------------------------------

_SPANISH_WORDS = ("spanish", "español", "espanol", "castellano")


def is_spanish(value: str | None) -> bool:
    text = (value or "").strip().lower()
    if not text:
        return False
    if text in ("es", "spa", "esp") or text.startswith(("es-", "es_")):
        return True
    return text.startswith(_SPANISH_WORDS)


def language_of(values: list[str | None]) -> Literal["en", "es"]:
    """'es' if any code/text of the chosen language says Spanish; English otherwise (the only
    two languages Careloop writes in)."""
    return "es" if any(is_spanish(v) for v in values) else "en"


_SHORT_WORD = re.compile(r"[A-Za-z][A-Za-z_-]{1,30}")


def visit_type_of(*candidates: str | None) -> str | None:
    """The first candidate that is a single short word, lower-cased ("CHECKUP" -> "checkup");
    otherwise the first display text as it is (numeric codes are not wording)."""
    present = [c.strip() for c in candidates if c and c.strip()]
    for c in present:
        if _SHORT_WORD.fullmatch(c):
            return c.lower()
    for c in present:
        if not c.isdigit():
            return c
    return present[0] if present else None


# ---- identifiers -----------------------------------------------------------------------------


def is_sensitive_identifier(type_code: str | None, system: str | None) -> bool:
    if (type_code or "").upper() in SENSITIVE_ID_TYPES:
        return True
    s = (system or "").lower()
    return any(mark in s for mark in SENSITIVE_ID_SYSTEMS)


# ---- practice profile lookups ----------------------------------------------------------------


def profile_provider(profile: PracticeProfile, key: str | None) -> str | None:
    """The practice's own name for a provider whose EHR id the practice used as its id."""
    if not key:
        return None
    k = key.strip().casefold()
    for p in profile.providers:
        if p.id.casefold() == k:
            return p.name
    return None


def profile_location(profile: PracticeProfile, keys: list[str | None]) -> str | None:
    """The practice's own name for a location matched by id or name."""
    wanted = {k.strip().casefold() for k in keys if k and k.strip()}
    if not wanted:
        return None
    for loc in profile.locations:
        if loc.id.casefold() in wanted or loc.name.casefold() in wanted:
            return loc.name
    return None


class _Versioned(Protocol):
    id: str
    source_version: str


V = TypeVar("V", bound=_Versioned)


def dedupe_latest(items: list[V], keep_first_on_tie: bool = False) -> list[V]:
    """One record per id: the greatest source_version wins. On a tie the later item wins,
    except in history bundles (newest first), where the earlier one does."""
    chosen: dict[str, V] = {}
    for item in items:
        current = chosen.get(item.id)
        if current is None:
            chosen[item.id] = item
            continue
        if item.source_version > current.source_version or (
            item.source_version == current.source_version and not keep_first_on_tie
        ):
            chosen[item.id] = item
    return list(chosen.values())
