"""HL7 v2 (2.3–2.8) SIU scheduling and ADT patient messages, single or batched, become EhrBatches;
plus the ACK that answers them. Times without a UTC offset are in the practice's zone.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import hl7

from careloop.clock import now as clock_now
from careloop.ehr.common import (
    MAX_IDENTIFIER,
    MAX_TEXT,
    EhrBatch,
    Hl7Header,
    PhoneCandidate,
    PhoneKind,
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
from careloop.models import Appointment, Patient
from careloop.notices import Notice, code_of
from careloop.practice import PracticeProfile

SUPPORTED_VERSIONS = frozenset(
    {"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2"}
)
# SIU trigger -> the status it means when SCH-25 says nothing (or for the fixed ones, always).
SIU_STATUS = {
    "S12": "booked", "S13": "booked", "S14": "booked", "S15": "cancelled", "S16": "cancelled",
    "S17": "cancelled", "S26": "noshow",
}
FIXED_STATUS = frozenset({"S15", "S16", "S17", "S26"})  # the event itself says what happened
ADT_PATIENT = frozenset({"A04", "A08", "A28", "A31"})
ADT_MERGE = frozenset({"A40"})
# HL7 table 0278 (filler status codes) -> FHIR AppointmentStatus.
FILLER_STATUS = {
    "pending": "pending", "waitlist": "waitlist", "booked": "booked", "overbook": "booked",
    "started": "arrived", "complete": "fulfilled", "completed": "fulfilled",
    "cancelled": "cancelled", "canceled": "cancelled", "dc": "cancelled",
    "discontinued": "cancelled", "deleted": "cancelled", "noshow": "noshow",
    "no show": "noshow", "no-show": "noshow",
}
BATCH_SEGMENTS = frozenset({"FHS", "BHS", "BTS", "FTS"})
NOT_A_PHONE_EQUIPMENT = frozenset({"INTERNET", "X.400", "FX", "BP", "MD", "TDD", "TTY"})
NOT_A_PHONE_USE = frozenset({"NET", "X.400", "BPN"})
DEFAULT_MINUTES = 30
HL7_ERRORS = {  # table 0357
    "100": "Segment sequence error", "101": "Required field missing", "102": "Data type error",
    "103": "Table value not found", "200": "Unsupported message type",
    "201": "Unsupported event code", "202": "Unsupported processing id",
    "203": "Unsupported version id", "207": "Application internal error",
}
STANDARD_ENCODING = "^~\\&"

# python-hl7 logs raw field values (PHI) when it meets a malformed escape sequence; Careloop's
# logs carry ids only, so its loggers stay silent.
for _module in (hl7.util, hl7.containers):
    _module.logger.disabled = True

_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_DTM = re.compile(
    r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?"
)
_TQ_DURATION = re.compile(r"([SMHDWL])(\d+)", re.IGNORECASE)
_UNIT_MINUTES = {
    "s": 1 / 60, "sec": 1 / 60, "secs": 1 / 60, "second": 1 / 60, "seconds": 1 / 60,
    "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
    "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
    "d": 1440, "day": 1440, "days": 1440,
}


def parse_hl7v2(body: bytes | str, profile: PracticeProfile) -> list[EhrBatch]:
    """Map one message or a batch (FHS/BHS…BTS/FTS, or several MSH) to one EhrBatch each.
    Raises PayloadError naming every problem ("MSH-9: …", "message 2: PID-3: …")."""
    messages, issues = _split(_decode(body))
    if not messages and not issues:
        raise PayloadError("MSH: missing; the body is not an HL7 v2 message")
    batches = []
    for n, (segments, notes) in enumerate(messages, 1):
        mapper = _MessageMapper(profile, f"message {n}: " if len(messages) > 1 else "")
        batch = mapper.run(segments)
        batch.warnings[:0] = notes
        issues += mapper.issues
        batches.append(batch)
    if issues:
        raise PayloadError(issues)
    return batches


def read_header(body: bytes | str) -> Hl7Header | None:
    """The first MSH of a body, read leniently (for answering even what cannot be parsed)."""
    headers = _headers(body)
    return headers[0] if headers else None


def build_ack(
    message_control_id: str,
    code: str,
    text: str,
    profile: PracticeProfile,
    *,
    version: str = "2.5.1",
    reply_to: Hl7Header | None = None,
    error_code: str | None = None,
    warnings: tuple[str, ...] = (),
) -> str:
    """An HL7 ACK: MSH (sender and receiver of the original swapped), MSA, and for AE/AR an ERR
    (table 0357 code, default 207). Segments end in CR."""
    if code not in ("AA", "AE", "AR"):
        raise ValueError(f"ACK code must be AA, AE or AR, not {code!r}")
    h = reply_to or Hl7Header()
    trigger = h.trigger
    if trigger:
        msg_type = f"ACK^{trigger}^ACK" if _version_tuple(version) >= (2, 3, 1) else f"ACK^{trigger}"
    else:
        msg_type = "ACK"
    stamp = clock_now().astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")
    msh = "|".join([
        "MSH", STANDARD_ENCODING, h.receiving_application or "CARELOOP",
        h.receiving_facility or _escape(profile.id), h.sending_application, h.sending_facility,
        stamp, "", msg_type, _ack_id(message_control_id, stamp), h.processing_id or "P", version,
    ])
    segments = [msh, f"MSA|{code}|{_escape(message_control_id)}|{_escape(text)[:80]}"]
    if code != "AA":
        err = error_code or "207"
        err_text = HL7_ERRORS.get(err, "Application error")
        if _version_tuple(version) < (2, 5):
            segments.append(f"ERR|^^^{err}&{err_text}&HL70357")
        else:
            segments.append(f"ERR|||{err}^{err_text}^HL70357|E||||{_escape(text)}")
    for warning in warnings[:20]:  # accepted with something to fix: ERR with severity W (2.5+)
        if _version_tuple(version) < (2, 5):
            segments.append(f"ERR|^^^207&{_escape(warning)[:200]}&HL70357")
        else:
            # ERR-5 (application error code) carries the warning's machine code for the EHR to read
            coded = f"{code}^^CARELOOP" if (code := code_of(warning)) != "unclassified" else ""
            segments.append(f"ERR|||207^Application error^HL70357|W|{coded}|||{_escape(warning)[:200]}")
    return "\r".join(segments) + "\r"


def ack_for(
    body: bytes | str, code: str, text: str, profile: PracticeProfile, *, error_code: str | None = None,
    warnings: tuple[str, ...] = (),
) -> str:
    """ACKs for every message in a body (one per MSH; one with an empty MSA-2 if none is legible);
    an accepted message's warnings go back as ERR segments of severity W."""
    headers = _headers(body) or [Hl7Header()]
    return "".join(
        build_ack(h.control_id, code, text, profile, version=h.version or "2.5.1", reply_to=h,
                  error_code=error_code, warnings=warnings)
        for h in headers
    )


# ---- splitting -------------------------------------------------------------------------------


def _decode(body: bytes | str) -> str:
    if isinstance(body, (bytes, bytearray, memoryview)):
        raw = bytes(body)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # 8859-1 is the common v2 default (MSH-18)
    elif isinstance(body, str):
        text = body
    else:
        raise PayloadError(f"body: expected HL7 text, got {type(body).__name__}")
    return text.strip("\ufeff\x0b\x1c \t\r\n")  # BOM and MLLP framing


def _lines(text: str) -> list[str]:
    """Segments end in CR, LF or CRLF. With any CR present, CR ends segments and a stray LF is
    content; with none, LF does."""
    if "\r" in text:
        lines = text.replace("\r\n", "\r").split("\r")
        lines = [line.replace("\n", " ") for line in lines]
    else:
        lines = text.split("\n")
    return [line.lstrip("\ufeff") for line in lines]


def _split(text: str) -> tuple[list[tuple[list[str], list[Notice]]], list[str]]:
    """-> ([(segments, warnings) per message], issues)."""
    messages: list[tuple[list[str], list[Notice]]] = []
    issues: list[str] = []
    if not text:
        return messages, ["body is empty"]
    current: list[str] | None = None
    sep = "|"
    for n, line in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        sid = line[:3]
        if sid == "MSH":
            sep = line[3:4] or "|"
            current = [line]
            messages.append((current, []))
            continue
        is_segment = bool(_SEGMENT_ID.fullmatch(sid)) and (len(line) == 3 or line[3] == sep)
        if sid in BATCH_SEGMENTS and is_segment:
            current = None
            continue
        if current is None:
            what = f"segment {sid}" if is_segment else "text that is not an HL7 segment"
            issues.append(f"line {n}: {what} where an MSH was expected")
            continue
        if is_segment:
            current.append(line)
        else:  # a line break inside a field (LF-only bodies): keep the text with its segment
            current[-1] += " " + line
            messages[-1][1].append(Notice("not_a_segment", f"line {n}: not a segment; joined to the segment before it"))
    return messages, issues


def _headers(body: bytes | str) -> list[Hl7Header]:
    try:
        text = _decode(body)
    except PayloadError:
        return []
    return [_header_from_line(line) for line in _lines(text) if line.startswith("MSH") and len(line) > 8]


def _header_from_line(line: str) -> Hl7Header:
    if len(line) < 8:
        return Hl7Header()
    sep = line[3]
    fields = line.split(sep)
    enc = fields[1] if len(fields) > 1 else STANDARD_ENCODING
    enc = (enc + STANDARD_ENCODING[len(enc):])[:4] if len(enc) < 4 else enc[:4]
    to_standard = str.maketrans(enc, STANDARD_ENCODING) if enc != STANDARD_ENCODING else None

    def f(n: int) -> str:  # MSH-n (MSH-1 is the separator itself, MSH-2 is fields[1])
        value = fields[n - 1] if n - 1 < len(fields) else ""
        return value.translate(to_standard) if to_standard else value

    msg_type = f(9).split("^")
    return Hl7Header(
        sending_application=f(3), sending_facility=f(4), receiving_application=f(5),
        receiving_facility=f(6), control_id=f(10).split("^")[0],
        message_type=msg_type[0], trigger=msg_type[1] if len(msg_type) > 1 else "",
        version=f(12).split("^")[0], processing_id=f(11).split("^")[0],
    )


# ---- one message -----------------------------------------------------------------------------


class _Msg:
    """Safe 1-based access to a python-hl7 message: missing things are ''."""

    def __init__(self, message: hl7.Message) -> None:
        self.m = message

    def count(self, seg: str) -> int:
        try:
            return len(self.m.segments(seg))
        except KeyError:
            return 0

    def get(self, seg: str, field: int, rep: int = 1, comp: int = 1, sub: int = 1, n: int = 1) -> str:
        try:
            value = self.m.extract_field(seg, n, field, rep, comp, sub)
        except (KeyError, IndexError, TypeError, ValueError):
            return ""
        return str(value).strip() if value else ""

    def reps(self, seg: str, field: int, n: int = 1) -> int:
        try:
            segment = self.m.segments(seg)(n)
        except (KeyError, IndexError):
            return 0
        if field >= len(segment):
            return 0
        value = segment[field]
        if isinstance(value, str):
            return 1 if value else 0
        if value and all(isinstance(r, hl7.Repetition) for r in value):
            return len(value)
        return 1


class _MessageMapper:
    def __init__(self, profile: PracticeProfile, prefix: str) -> None:
        self.profile = profile
        self.zone: ZoneInfo = profile.zone
        self.region = profile.sms.country
        self.prefix = prefix
        self.issues: list[str] = []
        self.now = clock_now()

    def issue(self, text: str, code: str | None = None) -> None:
        self.issues.append(Notice(code, self.prefix + text) if code else self.prefix + text)

    def run(self, segments: list[str]) -> EhrBatch:
        header = _header_from_line(segments[0])
        batch = EhrBatch(source="hl7v2", message_id=header.control_id or None,
                         version=header.version or None, hl7_header=header)
        self.batch, self.warnings = batch, batch.warnings
        if len(segments[0]) < 8 or segments[0][3] in segments[0][4:8]:
            self.issue("MSH-1/MSH-2: missing field separator or encoding characters")
            return batch
        try:
            msg = _Msg(hl7.parse("\r".join(segments)))
        except Exception as exc:  # python-hl7 raises several kinds on malformed input
            self.issue(f"MSH: the message cannot be parsed ({type(exc).__name__})")
            return batch
        self.msg = msg
        mtype, trigger = msg.get("MSH", 9, 1, 1), msg.get("MSH", 9, 1, 2)
        batch.event = f"{mtype}^{trigger}" if trigger else (mtype or None)
        if not mtype:
            self.issue("MSH-9: missing message type")
        if not header.control_id:
            self.issue("MSH-10: missing message control id")
        if not header.version:
            self.warnings.append(Notice("missing_version", "MSH-12: missing version id; read as 2.5"))
        elif header.version not in SUPPORTED_VERSIONS:
            self.issue(f"MSH-12: unsupported HL7 version {header.version!r} (2.3 to 2.8 are)")
        if header.processing_id in ("T", "D"):
            kind = "training" if header.processing_id == "T" else "debugging"
            self.warnings.append(Notice("not_production", f"MSH-11: processing id {header.processing_id} ({kind} message)"))
        self.sent_at = self.time("MSH-7", msg.get("MSH", 7), need_time=False)
        if self.sent_at is None and not msg.get("MSH", 7):
            self.warnings.append(Notice("missing_timestamp", "MSH-7: missing; this message cannot be ordered against others"))
        self.version = version_marker(self.sent_at)

        if mtype == "SIU" and trigger in SIU_STATUS:
            self.siu(trigger)
        elif mtype == "ADT" and trigger in ADT_PATIENT:
            self.adt()
        elif mtype == "ADT" and trigger in ADT_MERGE:
            self.merge()
        elif mtype:
            self.issue(f"MSH-9: unsupported message type {batch.event}")
        return batch

    # -- times ---------------------------------------------------------------------------------

    def time(self, label: str, value: str, *, need_time: bool) -> datetime | None:
        if not value:
            return None
        m = _DTM.fullmatch(value)
        if not m:
            self.issue(f"{label}: not an HL7 date/time (YYYYMMDDHHMM[SS][+/-ZZZZ])")
            return None
        y, mo, d, hh, mi, ss, frac, off = m.groups()
        if need_time and hh is None:
            self.issue(f"{label}: has a date but no time of day")
            return None
        try:
            naive = datetime(int(y), int(mo or 1), int(d or 1), int(hh or 0), int(mi or 0),
                             int(ss or 0), int((frac or "0").ljust(6, "0")))
            if off:
                hours, minutes = int(off[1:3]), int(off[3:5])
                if hours > 14 or minutes > 59:
                    raise ValueError("offset out of range")
                sign = 1 if off[0] == "+" else -1
                tz: Any = timezone(sign * timedelta(hours=hours, minutes=minutes))
            else:
                tz = self.zone  # no offset: the practice's wall clock
        except ValueError:
            self.issue(f"{label}: not a valid date/time")
            return None
        at = naive.replace(tzinfo=tz)
        why = future_marker(at) if label == "MSH-7" else outside_window(at)
        if why:
            self.issue(f"{label}: {why}", "date_out_of_range")
            return None
        return at

    # -- SIU -----------------------------------------------------------------------------------

    def siu(self, trigger: str) -> None:
        msg = self.msg
        if not msg.count("SCH"):
            self.issue(f"SCH: missing (SIU^{trigger} needs a schedule activity segment)")
            return
        appt_id = msg.get("SCH", 1) or msg.get("SCH", 2)
        if not appt_id:
            self.issue("SCH-1: missing appointment id (neither SCH-1 placer nor SCH-2 filler id)")
            return
        status = self.siu_status(trigger)
        start, end, start_label = self.siu_times()
        if start is None:
            if status == "cancelled" and not self.issues:
                self.batch.cancelled_appointment_ids.append(appt_id)
                return
            if start_label is None:
                self.issue("SCH-11: missing appointment start (TQ1-7, SCH-11.4 or AIS-4)")
            return
        if not msg.count("PID"):
            if status == "cancelled":
                self.batch.cancelled_appointment_ids.append(appt_id)
            else:
                self.issue(f"PID: missing (SIU^{trigger} needs the patient)")
            return
        patient = self.patient()
        if patient is None:
            return
        self.batch.patients.append(patient)
        provider = self.provider()
        location = self.location()
        try:
            appointment = Appointment(
                id=appt_id, patient_id=patient.id, start=start,
                minutes=self.siu_minutes(start, end), status=status, provider=provider,
                location=location, visit_type=self.visit_type(), source_version=self.version,
                updated_at=self.sent_at,
            )
        except ValueError as exc:
            self.issue(f"SCH: the appointment cannot be mapped ({type(exc).__name__})")
            return
        self.batch.appointments.append(appointment)

    def siu_status(self, trigger: str) -> str:
        default = SIU_STATUS[trigger]
        raw = self.msg.get("SCH", 25) or self.msg.get("SCH", 25, 1, 2)
        if not raw:
            return default
        mapped = FILLER_STATUS.get(raw.strip().lower())
        if mapped is None:
            self.warnings.append(Notice("unknown_status", f"SCH-25: unknown filler status {raw[:20]!r}; read as {default}"))
            return default
        if trigger in FIXED_STATUS and mapped != default:
            self.warnings.append(Notice(
                "status_contradicts_event", f"SCH-25: {raw[:20]!r} contradicts SIU^{trigger}; read as {default}"))
            return default
        return mapped

    def siu_times(self) -> tuple[datetime | None, datetime | None, str | None]:
        """Start and (same-source) end: TQ1-7/8 (2.5+), else SCH-11.4/5, else AIS-4."""
        msg = self.msg
        if msg.get("TQ1", 7):
            start = self.time("TQ1-7", msg.get("TQ1", 7), need_time=True)
            end = self.time("TQ1-8", msg.get("TQ1", 8), need_time=True) if start else None
            return start, end, "TQ1-7"
        if msg.get("SCH", 11, 1, 4):
            start = self.time("SCH-11.4", msg.get("SCH", 11, 1, 4), need_time=True)
            end = self.time("SCH-11.5", msg.get("SCH", 11, 1, 5), need_time=True) if start else None
            return start, end, "SCH-11.4"
        for n in range(1, msg.count("AIS") + 1):
            if msg.get("AIS", 4, n=n):
                return self.time("AIS-4", msg.get("AIS", 4, n=n), need_time=True), None, "AIS-4"
        return None, None, None

    def siu_minutes(self, start: datetime, end: datetime | None) -> int:
        msg = self.msg
        if end is not None:
            span = (end - start).total_seconds() / 60
            if span > 0:
                return max(1, round(span))
            self.warnings.append(Notice("end_before_start", "appointment end is not after its start; ignored"))
        m = _TQ_DURATION.fullmatch(msg.get("SCH", 11, 1, 3))
        if m:
            factor = {"S": 1 / 60, "M": 1, "H": 60, "D": 1440, "W": 10080, "L": 43200}[m[1].upper()]
            return max(1, math.ceil(int(m[2]) * factor))
        for amount, unit in (
            (msg.get("SCH", 9), msg.get("SCH", 10)),
            *((msg.get("AIS", 7, n=n), msg.get("AIS", 8, n=n)) for n in range(1, msg.count("AIS") + 1)),
            (msg.get("TQ1", 13), msg.get("TQ1", 13, 1, 2)),
        ):
            minutes = _minutes(amount, unit)
            if minutes:
                return minutes
        return DEFAULT_MINUTES

    def provider(self) -> str | None:
        msg = self.msg
        sources = [("AIP", 3, n) for n in range(1, msg.count("AIP") + 1)] + [("PV1", 7, 1)]
        for seg, field, n in sources:
            pid = msg.get(seg, field, 1, 1, n=n)
            family, given = msg.get(seg, field, 1, 2, n=n), msg.get(seg, field, 1, 3, n=n)
            prefix = msg.get(seg, field, 1, 6, n=n)
            name = " ".join(p for p in (prefix, given, family) if p)
            chosen = profile_provider(self.profile, pid) or name
            if chosen:
                if pid:
                    self.batch.practitioners[pid] = chosen
                return chosen
        return None

    def location(self) -> str | None:
        msg = self.msg
        sources = [("AIL", 3, n) for n in range(1, msg.count("AIL") + 1)] + [("PV1", 3, 1)]
        for seg, field, n in sources:
            poc, room = msg.get(seg, field, 1, 1, n=n), msg.get(seg, field, 1, 2, n=n)
            facility, description = msg.get(seg, field, 1, 4, n=n), msg.get(seg, field, 1, 9, n=n)
            name = (profile_location(self.profile, [poc, facility, description, room])
                    or description or ", ".join(p for p in (facility, poc, room) if p))
            if name:
                self.batch.locations[poc or facility or room or description] = name
                return name
        return None

    def visit_type(self) -> str | None:
        msg = self.msg
        found = visit_type_of(msg.get("SCH", 7, 1, 1), msg.get("SCH", 7, 1, 2))
        if found:
            return found
        for n in range(1, msg.count("AIS") + 1):
            found = visit_type_of(msg.get("AIS", 3, 1, 2, n=n), msg.get("AIS", 3, 1, 1, n=n))
            if found:
                return found
        return None

    # -- ADT -----------------------------------------------------------------------------------

    def adt(self) -> None:
        if not self.msg.count("PID"):
            self.issue(f"PID: missing ({self.batch.event} needs the patient)")
            return
        patient = self.patient()
        if patient is not None:
            self.batch.patients.append(patient)

    def merge(self) -> None:
        msg = self.msg
        pids, mrgs = msg.count("PID"), msg.count("MRG")
        if not pids:
            self.issue("PID: missing (ADT^A40 needs the surviving patient)")
            return
        if not mrgs:
            self.issue("MRG: missing (ADT^A40 needs the merged patient)")
            return
        for n in range(1, pids + 1):
            label = "" if pids == 1 else f" (group {n})"
            patient = self.patient(n)
            merged = msg.get("MRG", 1, 1, 1, n=n) if n <= mrgs else ""
            if not merged:
                self.issue(f"MRG-1{label}: missing merged patient identifier")
            if patient is None or not merged:
                continue
            self.batch.patients.append(patient)
            self.batch.merges.append((patient.id, merged))

    # -- PID -----------------------------------------------------------------------------------

    def patient(self, n: int = 1) -> Patient | None:
        msg = self.msg
        identifiers, patient_id = [], None
        for r in range(1, max(1, msg.reps("PID", 3, n)) + 1):
            value = msg.get("PID", 3, r, 1, n=n)
            if not value:
                continue
            authority = msg.get("PID", 3, r, 4, 1, n=n) or msg.get("PID", 3, r, 4, 2, n=n)
            if is_sensitive_identifier(msg.get("PID", 3, r, 5, n=n), authority):
                continue
            patient_id = patient_id or value
            identifiers.append(f"{authority}|{value}")
        if not patient_id:
            self.issue("PID-3: missing patient identifier")
            return None
        who = f"Patient/{patient_id}"
        phone, kind = pick_phone(self.phones(n), self.region, who, self.warnings)
        language = language_of([msg.get("PID", 15, 1, c, n=n) for c in (1, 2, 4, 5)])
        tags = []
        if msg.get("PID", 30, n=n).upper() == "Y":
            tags.append("deceased")
            self.warnings.append(Notice("patient_deceased", f"{who}: the EHR marks this patient deceased", (who,)))
        first, last = msg.get("PID", 5, 1, 2, n=n), msg.get("PID", 5, 1, 1, 1, n=n)
        for label, value in (("PID-5.2", first), ("PID-5.1", last)):
            if too_long(value):
                self.issue(f"{label}: longer than {MAX_TEXT} characters")
                return None
        if any(too_long(i, MAX_IDENTIFIER) for i in identifiers):
            self.issue(f"PID-3: longer than {MAX_IDENTIFIER} characters")
            return None
        try:
            return Patient(
                id=patient_id, first_name=first,
                last_name=last, phone=phone, phone_kind=kind,
                language=language, identifiers=identifiers, tags=tags, birth_date=self.birth_date(n, who),
                source_version=self.version, updated_at=self.sent_at,
            )
        except ValueError as exc:
            self.issue(f"PID: the patient cannot be mapped ({type(exc).__name__})")
            return None

    def birth_date(self, n: int, who: str) -> date | None:
        """PID-7 (DTM): its calendar date as written, YYYYMMDD[HHMM...][+ZZZZ]; the time and offset
        do not move a birthday. Shorter precision (YYYY, YYYYMM) is unknown; garbage a warning."""
        value = self.msg.get("PID", 7, 1, 1, n=n)
        if not value or re.fullmatch(r"\d{4}(\d{2})?", value):
            return None
        try:
            if not re.match(r"\d{8}", value):
                raise ValueError("not a DTM")
            return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        except ValueError:
            self.warnings.append(Notice("birth_date_unreadable", f"{who}: PID-7 is not a date YYYYMMDD", (who,)))
            return None

    def phones(self, n: int) -> list[PhoneCandidate]:
        """PID-13 (home) and PID-40 (2.7+) before PID-14 (business); cellular first."""
        msg = self.msg
        out: list[PhoneCandidate] = []
        for field, business in ((13, False), (40, False), (14, True)):
            for r in range(1, msg.reps("PID", field, n) + 1):
                def c(i: int, r: int = r, field: int = field) -> str:
                    return msg.get("PID", field, r, i, n=n)

                use, equipment = c(2).upper(), c(3).upper()
                if use in NOT_A_PHONE_USE or equipment in NOT_A_PHONE_EQUIPMENT:
                    continue
                expires = _date_only(c(14))
                if expires is not None and expires < self.now.date():
                    continue
                if c(6) or c(7):
                    raw = (f"+{c(5).lstrip('+')}" if c(5) else "") + c(6) + c(7)
                else:
                    raw = c(12) or re.split(r"(?<=\d)[BC]", c(1))[0]
                if not raw:
                    continue
                cellular = "CP" in (use, equipment)
                work = business or use == "WPN"
                kind: PhoneKind
                if cellular:
                    tier, kind = (1 if work else 0), "mobile"
                elif work:
                    tier, kind = 4, "landline"
                elif equipment == "PH":
                    tier, kind = 3, "landline"
                else:
                    tier, kind = 2, "unknown"
                pref = int(c(18)) if c(18).isdigit() else 10**9
                out.append(PhoneCandidate(tier, (pref, field, r), raw, kind,
                                          f"PID-{field} repetition {r}"))
        return out


# ---- helpers ---------------------------------------------------------------------------------


def _minutes(amount: str, unit: str) -> int | None:
    try:
        value = float(amount)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    factor = _UNIT_MINUTES.get(unit.strip().lower()) if unit else 1
    if factor is None:
        return None
    return max(1, math.ceil(value * factor))


def _date_only(value: str):
    m = re.match(r"(\d{4})(\d{2})(\d{2})", value or "")
    if not m:
        return None
    try:
        return datetime(int(m[1]), int(m[2]), int(m[3])).date()
    except ValueError:
        return None


def _version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (2, 5)


def _escape(text: str) -> str:
    """HL7 escapes for free text in a field; line breaks become spaces."""
    out = (text or "").replace("\\", "\\E\\")
    for char, esc in (("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\")):
        out = out.replace(char, esc)
    return " ".join(out.split())


def _ack_id(control_id: str, stamp: str) -> str:
    """Deterministic for a given original (redeliveries get the same id), at most 20 chars."""
    if control_id and len(control_id) <= 17 and _escape(control_id) == control_id:
        return "ACK" + control_id
    return "ACK" + hashlib.sha1((control_id or stamp).encode()).hexdigest()[:17]
