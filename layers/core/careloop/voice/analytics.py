"""Voice analytics for the staff summary (issue 13, item 7): calls the agent answered, booked by
voice, transferred, callbacks, missed calls, text-backs and the bookings that followed a text-back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from careloop.models import ACTIVE_STATUSES
from careloop.voice.missed import TEXT_BACK_STEP, TEXT_BACK_WORKFLOW

if TYPE_CHECKING:
    from careloop.ports import AnalyticsSource

# A booking counts as following a text-back when it was made within this long of the text.
TEXT_BACK_BOOKING_WINDOW = timedelta(days=7)
BOOKED_STATUSES = ACTIVE_STATUSES | {"fulfilled"}
METRICS = ("calls", "answered_by_agent", "booked_by_voice", "transferred", "callbacks", "urgent", "missed",
           "text_backs", "booked_after_text_back")


def voice_summary(source: AnalyticsSource, start: datetime, end: datetime) -> dict:
    """The calls that began in [start, end) and the text-backs sent in it, counted."""
    calls = source.messages_between("call", start, end)
    text_backs = [m for m in source.messages_between("sms_out", start, end)
                  if m.workflow == TEXT_BACK_WORKFLOW and m.step == TEXT_BACK_STEP]
    texted = [m for m in text_backs if m.patient_id]
    later = source.appointments_of_patients({m.patient_id for m in texted if m.patient_id}) if texted else []
    # only a booking Careloop made (the link in the text, a reply, a call): an EHR appointment's
    # updated_at moves on every re-send and confirmation, which books nothing
    followed = [m for m in texted if any(
        a.patient_id == m.patient_id and a.source == "careloop" and a.status in BOOKED_STATUSES and a.start > m.at
        and a.updated_at is not None and m.at <= a.updated_at <= m.at + TEXT_BACK_BOOKING_WINDOW
        for a in later)]
    by_outcome: dict[str, int] = {}
    for call in calls:
        by_outcome[call.outcome or "missed"] = by_outcome.get(call.outcome or "missed", 0) + 1
    answered = [c for c in calls if c.turns]  # the agent spoke with the caller at least once

    def rate(a: int, b: int) -> float:
        return round(a / b, 4) if b else 0.0

    return {
        "calls": len(calls),
        "answered_by_agent": len(answered),
        "booked_by_voice": by_outcome.get("booked", 0),
        "transferred": by_outcome.get("transferred", 0),
        "callbacks": by_outcome.get("callback", 0),
        "urgent": by_outcome.get("urgent", 0),
        "missed": by_outcome.get("missed", 0),
        "text_backs": len(text_backs),
        "booked_after_text_back": len(followed),
        "text_back_booking_rate": rate(len(followed), len(text_backs)),
        "by_outcome": [{"outcome": k, "calls": v} for k, v in sorted(by_outcome.items())],
    }
