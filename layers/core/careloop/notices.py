"""Coded warnings: a sentence for people that carries a stable machine code, so other modules
and the EHR read the code (and the records it names), never the wording.
"""

from __future__ import annotations

# code -> what it means. Codes are a contract (webhook answers, HL7 ACKs, import summaries):
# add new ones, never rename or reuse one.
CODES: dict[str, str] = {
    # mapping an EHR payload (careloop.ehr.fhir / hl7v2 / common)
    "invalid_phone": "a phone number that does not normalise to E.164; the next candidate was tried",
    "no_sms_phone": "the patient has no phone Careloop can text",
    "patient_deceased": "the EHR marks the patient deceased",
    "unknown_resource_type": "a resourceType that is not FHIR R4; the entry was skipped",
    "unused_resource": "resources Careloop does not use (Observation, Encounter...); skipped",
    "unknown_element": "elements the FHIR R4 model does not know; dropped",
    "fetch_required": "the payload names a resource without carrying it; it is fetched from the EHR",
    "entry_skipped": "a Bundle entry that cannot be applied as it is (a PATCH, no resource)",
    "delete_ignored": "a DELETE that Careloop does not apply (conditional, or not an appointment)",
    "no_start": "an appointment without a start yet; skipped until it has one",
    "end_before_start": "an appointment whose end is not after its start; a default length is used",
    "multiple_patients": "an appointment with several patients; the first is used",
    "not_a_segment": "an HL7 line that is not a segment; joined to the segment before it",
    "missing_version": "HL7 MSH-12 is empty; read as 2.5",
    "not_production": "HL7 MSH-11 says training or debugging, not production",
    "missing_timestamp": "HL7 MSH-7 is empty; the message cannot be ordered against others",
    "unknown_status": "a status Careloop does not know: read as the HL7 event's default, or (FHIR) refused",
    "status_contradicts_event": "a status that contradicts the HL7 trigger event; the event wins",
    "unusable_schedule": "a FHIR Schedule without an id; its slots are not used",
    "bad_slot": "a FHIR Slot without an id, a schedule, a SlotStatus or a start before its end; skipped",
    "birth_date_unreadable": "a birth date that is not a calendar date; the patient is kept without one",
    # refusals (PayloadError issues that have a code; the others stay plain sentences)
    "date_out_of_range": "a date before 1900, more than five years ahead, or a version stamped in the future",
    # applying it to the records (careloop.records)
    "duplicate_identifier": "a new patient shares an identifier with another: probably the same person",
    "unknown_patient": "an appointment whose patient Careloop does not know yet; no texts until it does",
    "merge_cycle": "a merge that would make a cycle; ignored",
}
# what applying to the records notices, as opposed to what mapping a payload does
RECORD_CODES = frozenset({"duplicate_identifier", "unknown_patient", "merge_cycle"})


class Notice(str):
    """A warning: equal to, hashed and printed as its sentence (so it goes wherever text went),
    plus `code` (one of CODES) and `refs`, the records it is about ("Patient/p1", ...)."""

    code: str
    refs: tuple[str, ...]

    def __new__(cls, code: str, message: str, refs: tuple[str, ...] = ()) -> Notice:
        if code not in CODES:
            raise ValueError(f"unknown notice code {code!r} (add it to careloop.notices.CODES)")
        notice = super().__new__(cls, message)
        notice.code, notice.refs = code, tuple(refs)
        return notice

    def __reduce__(self):
        return (Notice, (self.code, str(self), self.refs))

    @property
    def message(self) -> str:
        return str.__str__(self)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "refs": list(self.refs)}


def code_of(warning: str) -> str:
    """The code of a warning; "unclassified" for plain text (from before codes, or a test)."""
    return getattr(warning, "code", "unclassified")
