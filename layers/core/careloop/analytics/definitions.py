"""What every analytics figure means, in one table: the page shows these words next to each tile
and column, and the CSV and the printed report write the same words, so the three agree."""

from __future__ import annotations

from datetime import timedelta

# How far before the period a text about one of its visits may have gone out (reminders lead
# a visit by up to a week; a booking a few days more)
TEXT_LEAD = timedelta(days=14)
# A patient is "new" at a visit when no visit of theirs took place in this long before it
# (read as one window of the schedule, not per patient)
NEW_PATIENT_LOOKBACK = timedelta(days=365)
# A reply counts for a text when the patient wrote within this long after it
REPLY_WINDOW = timedelta(days=3)

DEFINITIONS: dict[str, str] = {
    "sent": "Texts Careloop handed to the carrier in the period (sent, delivered or failed), automated and staff replies alike.",
    "delivered": "Of the texts sent, those the carrier reported delivered to the handset.",
    "failed": "Of the texts sent, those the carrier reported failed.",
    "delivery_rate": "Delivered / sent.",
    "replies": "Texts received in the period from patients Careloop had texted automatically in the 3 days before (each text counts).",
    "responses": "Patients who replied: distinct patients with at least one reply in the period (one patient counts once).",
    "response_rate": "Patients who replied / patients Careloop texted automatically in the period.",
    "appointments": "Visits starting in the period (not entered in error, not a duplicate superseded by the EHR's copy).",
    "reminded": "Of the visits, those Careloop texted about automatically (from 14 days before the period to its end).",
    "confirmed": "Visits in the period the patient confirmed through Careloop (a reply, a call or a link).",
    "confirmation_rate": "Confirmed visits that Careloop reminded / visits Careloop reminded.",
    "no_shows": "Visits in the period that have passed and the EHR marked no-show.",
    "no_show_rate": "No-shows / visits that have passed with an outcome (fulfilled, arrived, checked in or no-show).",
    "cancelled": "Visits in the period that were cancelled (not a duplicate superseded by the EHR's copy).",
    "recovered": ("A no-show or cancelled visit in the period whose patient has another visit, written on or after the miss "
                  "or cancellation, that is booked or took place (a rebooking or a reschedule)."),
    "recovered_by_careloop": "Recovered visits whose rebooking Careloop made (a link, a text reply or a call).",
    "recovery_rate": "Recovered / (no-shows + cancelled).",
    "replied": "Of the visits Careloop reminded, those whose patient replied within 3 days of a text about it.",
    "reply_rate": "Visits whose patient replied / visits Careloop reminded.",
    "n": "Visits in the row (the sample size).",
    "new_patient": "New: no visit of the patient's took place in the 12 months before this one; otherwise returning.",
    "agent_texts": "Texts patients sent in the period that the SMS agent read.",
    "answered_automatically": "Texts the agent handled itself (answered, confirmed, booked or opted out) without a person.",
    "handed_to_staff": "Texts the agent handed to the staff inbox (a question it could not answer, urgent words, a person asked for).",
    "staff_replies": "Texts staff sent from the inbox in the period.",
    "handoffs": "Conversations handed to staff: the first handed-over text since the last staff reply starts one.",
    "handoffs_answered": "Handoffs a staff member replied to within the period.",
    "median_first_reply_minutes": "Median minutes from a handoff to the first staff reply (answered handoffs only).",
    "version_confirmation": ("Per workflow version: visits whose first text from that workflow came from the version, and the share "
                             "confirmed, with a 95% Wilson interval. The difference is clear when the intervals do not overlap."),
    "confirmed_attributable": "Visits Careloop reminded that the patient confirmed and did not miss or cancel.",
    "roi": "(Recovered by Careloop + confirmed attributable) × value per visit (the practice profile's analytics.value_per_visit).",
    "calls": "Phone calls that began in the period (the voice agent).",
}

# the chart series, in the order the page draws them
SERIES = ("sent", "delivered", "replies", "confirmed", "no_shows", "recovered")
# the columns of every "rates by" table
RATE_COLUMNS = ("n", "reminded", "confirmed", "confirmation_rate", "no_shows", "no_show_rate", "replied", "reply_rate")
# "rates by" tables: summary key -> the column that names the row
BREAKDOWNS = {"by_provider": "provider", "by_location": "location", "by_visit_type": "visit type",
              "by_language": "language", "by_patient_type": "patient type", "by_workflow": "workflow"}
