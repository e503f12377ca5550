"""Compliance gates every automated text passes at fire time: consent, quiet hours in the
patient's zone, and frequency caps (1 a calendar day, 3 a rolling week)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from careloop.models import Appointment, Message, Patient
from careloop.practice import PracticeProfile

DAILY_CAP = 1
WEEKLY_CAP = 3
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Verdict:
    """send now, defer to `until`, or drop with `reason`."""

    action: str  # "send" | "defer" | "drop"
    reason: str = ""
    until: datetime | None = None


SEND = Verdict("send")


def patient_zone(practice: PracticeProfile, patient: Patient) -> ZoneInfo:
    return ZoneInfo(patient.timezone) if patient.timezone else practice.zone


def next_opening(at: datetime, zone: ZoneInfo, opens: time, closes: time) -> datetime:
    """`at` itself if inside the window, else the next time the window opens (DST-safe)."""
    local = at.astimezone(zone)
    if opens <= local.time() < closes:
        return at
    day = local.date() if local.time() < opens else local.date() + timedelta(days=1)
    return datetime.combine(day, opens, tzinfo=zone)


def start_of_next_day(at: datetime, zone: ZoneInfo, opens: time) -> datetime:
    local = at.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), opens, tzinfo=zone)


def check(
    practice: PracticeProfile,
    patient: Patient,
    appointment: Appointment | None,
    sent_before: list[Message],
    now: datetime,
    *,
    pre_appointment: bool,
) -> Verdict:
    """`sent_before`: this patient's earlier automated texts (for the caps)."""
    if patient.opted_out:
        return Verdict("drop", "opted out")
    if "deceased" in patient.tags:
        return Verdict("drop", "patient is deceased")
    if not patient.phone:
        return Verdict("drop", "no SMS-capable phone")
    if pre_appointment and appointment is not None and appointment.declined:
        return Verdict("drop", "the patient said they will not come")
    if patient.undeliverable:
        return Verdict("drop", "number flagged undeliverable")

    zone = patient_zone(practice, patient)
    opens, closes = practice.quiet_hours.opens, practice.quiet_hours.closes
    when = next_opening(now, zone, opens, closes)

    # caps: push `when` forward until both hold (bounded loop: each step moves >= 1 day or
    # past the oldest counted message)
    automated = sorted(m.at for m in sent_before if m.kind == "sms_out" and m.automated)
    for _ in range(14):
        local_day = when.astimezone(zone).date()
        today = [t for t in automated if t.astimezone(zone).date() == local_day]
        week = [t for t in automated if when - WEEK < t <= when]
        if len(today) >= DAILY_CAP:
            when = next_opening(start_of_next_day(when, zone, opens), zone, opens, closes)
            continue
        if len(week) >= WEEKLY_CAP:
            when = next_opening(max(when, week[-WEEKLY_CAP] + WEEK + timedelta(seconds=1)), zone, opens, closes)
            continue
        break
    else:
        return Verdict("drop", "frequency cap: no allowed day found")

    if when == now:
        return SEND
    if pre_appointment and appointment is not None and when >= appointment.start:
        return Verdict("drop", "would land after the appointment starts")
    reason = "quiet hours" if when == next_opening(now, zone, opens, closes) else "frequency cap"
    return Verdict("defer", reason, when)
