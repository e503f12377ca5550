"""The analytics a manager acts on, computed from one read of a period: tiles, series over time,
rates by dimension, the SMS agent's volumes, each workflow version side by side, and the ROI."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from careloop.analytics.definitions import (
    DEFINITIONS,
    NEW_PATIENT_LOOKBACK,
    REPLY_WINDOW,
    SERIES,
    TEXT_LEAD,
)
from careloop.analytics.stats import compare_sentence, median, rate, wilson
from careloop.models import ACTIVE_STATUSES, Appointment, Message, MessageStatus, Patient
from careloop.ports import AnalyticsSource
from careloop.practice import PracticeProfile
from careloop.voice.analytics import voice_summary

Bucket = Literal["day", "week"]
SENT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED)
OUTCOME_STATUSES = frozenset({"fulfilled", "noshow", "arrived", "checked-in"})
ATTENDED = frozenset({"fulfilled", "arrived", "checked-in"})
# a missed or cancelled visit is recovered by another that is on or that took place
BOOKED_AGAIN = ACTIVE_STATUSES | {"fulfilled"}
STAFF_WORKFLOW = "staff"  # careloop.inbox.staff_reply's texts


class PeriodReads:
    """The period's reads, each made once, answering the AnalyticsSource questions the voice
    summary asks from what was already read (so the whole page costs one read of the range)."""

    def __init__(self, source: AnalyticsSource, start: datetime, end: datetime) -> None:
        self.source, self.start, self.end = source, start, end
        self.window_start = start - TEXT_LEAD
        # a workflow editor's test send is no figure
        self.sms_out = [m for m in source.messages_between("sms_out", self.window_start, end) if not m.test]
        self.sms_in = source.messages_between("sms_in", self.window_start, end)
        self.appointments = source.appointments_starting(start, end)
        self._earlier: list[Appointment] | None = None
        self._of_patients: dict[frozenset[str], list[Appointment]] = {}

    def earlier_visits(self) -> list[Appointment]:
        """The visits of the year before the period (new vs returning), one window read."""
        if self._earlier is None:
            self._earlier = self.source.appointments_starting(self.start - NEW_PATIENT_LOOKBACK, self.start)
        return self._earlier

    # -- AnalyticsSource, from the reads above where they cover the question --
    def messages_between(self, kind: str, start: datetime, end: datetime) -> list[Message]:
        held = {"sms_out": self.sms_out, "sms_in": self.sms_in}.get(kind)
        if held is not None and start >= self.window_start and end <= self.end:
            return [m for m in held if start <= m.at < end]
        return self.source.messages_between(kind, start, end)

    def appointments_starting(self, start: datetime, end: datetime) -> list[Appointment]:
        if start >= self.start and end <= self.end:
            return [a for a in self.appointments if start <= a.start < end]
        return self.source.appointments_starting(start, end)

    def appointments_of_patients(self, patient_ids: Iterable[str]) -> list[Appointment]:
        key = frozenset(patient_ids)
        if key not in self._of_patients:
            self._of_patients[key] = self.source.appointments_of_patients(key) if key else []
        return self._of_patients[key]

    def patients_by_id(self, patient_ids: Iterable[str]) -> dict[str, Patient]:
        return self.source.patients_by_id(patient_ids)


@dataclass
class _Visit:
    """One visit of the period with what the messages say about it."""

    appt: Appointment
    reminded: bool
    replied: bool
    past: bool  # over, with an outcome
    recovered: bool
    recovered_by_careloop: bool
    new_patient: bool
    language: str

    @property
    def confirmed(self) -> bool:
        return self.appt.confirmed and self.reminded

    @property
    def no_show(self) -> bool:
        return self.past and self.appt.status == "noshow"

    @property
    def cancelled(self) -> bool:
        return self.appt.status == "cancelled"


def _counted(a: Appointment) -> bool:
    return a.status != "entered-in-error" and not a.superseded_by


def _rate_row(name: str, visits: list[_Visit]) -> dict[str, Any]:
    reminded = [v for v in visits if v.reminded]
    past = [v for v in visits if v.past]
    row: dict[str, Any] = {"name": name, "n": len(visits), "appointments": len(visits), "reminded": len(reminded),
           "confirmed": sum(v.confirmed for v in visits), "past": len(past),
           "no_shows": sum(v.no_show for v in visits), "replied": sum(v.replied for v in reminded)}
    return row | {"confirmation_rate": rate(row["confirmed"], row["reminded"]),
                  "no_show_rate": rate(row["no_shows"], row["past"]),
                  "reply_rate": rate(row["replied"], row["reminded"])}


def _breakdown(visits: list[_Visit], key: Callable[[_Visit], str | None]) -> list[dict[str, Any]]:
    groups: dict[str, list[_Visit]] = {}
    for v in visits:
        groups.setdefault(key(v) or "(none)", []).append(v)
    return [_rate_row(name, groups[name]) for name in sorted(groups)]


def _provider_label(practice: PracticeProfile, provider: str | None) -> str | None:
    """A provider by the name people know: the EHR sends a name, a Careloop booking the profile's id."""
    for p in practice.providers:
        if provider in (p.id, p.name):
            return p.name
    return provider


def _location_label(practice: PracticeProfile, location: str | None) -> str | None:
    for loc in practice.locations:
        if location in (loc.id, loc.name):
            return loc.name
    return location


def _buckets(practice: PracticeProfile, start: datetime, end: datetime, bucket: Bucket) -> list[date]:
    """The first day of every bucket the period touches, in the practice's calendar."""
    first = start.astimezone(practice.zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(practice.zone).date()
    if bucket == "week":
        first -= timedelta(days=first.weekday())
    step = timedelta(days=7 if bucket == "week" else 1)
    days, day = [], first
    while day <= last:
        days.append(day)
        day += step
    return days


def build(source: AnalyticsSource, practice: PracticeProfile, now: datetime, start: datetime, end: datetime,
          bucket: Bucket = "day") -> dict[str, Any]:
    """Everything the analytics page, its CSV and the monthly report show, for [start, end);
    `now` decides which visits are already past."""
    if end <= start:
        raise ValueError("the period's end must be after its start")
    reads = PeriodReads(source, start, end)
    out_in_period = [m for m in reads.sms_out if m.at >= start]
    in_period_in = [m for m in reads.sms_in if m.at >= start]
    sent = [m for m in out_in_period if m.status in SENT_STATUSES]
    delivered = [m for m in sent if m.status == MessageStatus.DELIVERED]
    automated_all = [m for m in reads.sms_out if m.automated and m.patient_id]
    automated = [m for m in automated_all if m.at >= start]

    # replies: a patient's text within REPLY_WINDOW after an automated text to them
    texts_to: dict[str, list[datetime]] = {}
    for m in automated_all:
        texts_to.setdefault(m.patient_id or "", []).append(m.at)
    replies_all = [m for m in reads.sms_in if m.patient_id and any(
        t <= m.at <= t + REPLY_WINDOW for t in texts_to.get(m.patient_id, ()))]
    replies = [m for m in replies_all if m.at >= start]  # a visit's reply may come before the period
    patients_texted = {m.patient_id for m in automated}
    replied_by = {m.patient_id for m in replies}

    visits = _visits(reads, now, automated_all, replies_all)
    counted = [v for v in visits if _counted(v.appt)]
    reminded = [v for v in counted if v.reminded]
    past = [v for v in counted if v.past]
    misses = [v for v in counted if v.no_show or v.cancelled]
    recovered = [v for v in misses if v.recovered]
    attributable = [v for v in reminded if v.confirmed and not v.no_show and not v.cancelled]

    value = practice.analytics.value_per_visit
    roi_visits = sum(v.recovered_by_careloop for v in misses) + len(attributable)
    summary: dict[str, Any] = {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "bucket": bucket,
        "sent": len(sent), "delivered": len(delivered), "failed": sum(m.status == MessageStatus.FAILED for m in sent),
        "delivery_rate": rate(len(delivered), len(sent)),
        "replies": len(replies),
        "responses": len(replied_by & patients_texted), "response_rate": rate(len(replied_by & patients_texted), len(patients_texted)),
        "patients_texted": len(patients_texted),
        "appointments": len(counted), "reminded": len(reminded),
        "confirmed": sum(v.appt.confirmed for v in counted),
        "confirmation_rate": rate(sum(v.confirmed for v in reminded), len(reminded)),
        "no_shows": sum(v.no_show for v in past), "no_show_rate": rate(sum(v.no_show for v in past), len(past)),
        "cancelled": sum(v.cancelled for v in counted),
        "recovered": len(recovered), "recovered_by_careloop": sum(v.recovered_by_careloop for v in misses),
        "recovery_rate": rate(len(recovered), len(misses)),
        "series": _series(practice, start, end, bucket, sent, delivered, replies, counted),
        "by_workflow": _by_workflow(out_in_period, automated_all, counted),
        "by_provider": _breakdown(counted, lambda v: _provider_label(practice, v.appt.provider)),
        "by_location": _breakdown(counted, lambda v: _location_label(practice, v.appt.location)),
        "by_visit_type": _breakdown(counted, lambda v: v.appt.visit_type),
        "by_language": _breakdown(counted, lambda v: v.language),
        "by_patient_type": _breakdown(counted, lambda v: "new" if v.new_patient else "returning"),
        "by_week": _by_week(practice, automated, in_period_in),
        "agent": _agent(in_period_in, [m for m in out_in_period if m.workflow == STAFF_WORKFLOW]),
        "versions": _versions(automated_all, {v.appt.id: v for v in counted}),
        "roi": {"recovered_by_careloop": roi_visits - len(attributable), "confirmed_attributable": len(attributable),
                "visits": roi_visits, "value_per_visit": value, "currency": practice.analytics.currency,
                "value": round(roi_visits * value, 2),
                "formula": (f"({roi_visits - len(attributable)} recovered by Careloop + {len(attributable)} confirmed attributable)"
                            f" × {value:,.2f} {practice.analytics.currency} per visit")},
        "voice": voice_summary(reads, start, end),
        "definitions": DEFINITIONS,  # the page shows these words; the CSV and the report write the same
    }
    return summary


def _visits(reads: PeriodReads, now: datetime, automated: list[Message],
            replies: list[Message]) -> list[_Visit]:
    texted_about: dict[str, list[datetime]] = {}
    for m in automated:
        if m.appointment_id:
            texted_about.setdefault(m.appointment_id, []).append(m.at)
    replies_of: dict[str, list[datetime]] = {}
    for m in replies:
        replies_of.setdefault(m.patient_id or "", []).append(m.at)
    appts = reads.appointments
    missed = [a for a in appts if _counted(a) and (a.status == "cancelled" or (a.status == "noshow" and a.start < now))]
    later = reads.appointments_of_patients({a.patient_id for a in missed}) if missed else []
    rebooked_by: dict[str, list[Appointment]] = {}
    for b in later:
        rebooked_by.setdefault(b.patient_id, []).append(b)
    seen_before = {a.patient_id: a.start for a in sorted(reads.earlier_visits(), key=lambda a: a.start)
                   if a.status in ATTENDED}
    seen_in_period: dict[str, list[datetime]] = {}
    for a in appts:
        if a.status in ATTENDED:
            seen_in_period.setdefault(a.patient_id, []).append(a.start)
    patients = reads.patients_by_id({a.patient_id for a in appts}) if appts else {}

    def rebooking(a: Appointment) -> Appointment | None:
        for b in sorted(rebooked_by.get(a.patient_id, []), key=lambda b: (b.source != "careloop", b.start)):
            if (b.id != a.id and b.status in BOOKED_AGAIN and _counted(b) and b.updated_at and a.updated_at
                    and b.updated_at >= a.updated_at):
                return b
        return None

    visits = []
    for a in appts:
        texts = texted_about.get(a.id, [])
        first_text = min(texts) if texts else None
        again = rebooking(a) if a in missed else None
        earlier_seen = a.patient_id in seen_before or any(s < a.start for s in seen_in_period.get(a.patient_id, ()))
        patient = patients.get(a.patient_id)
        visits.append(_Visit(
            appt=a, reminded=first_text is not None,
            replied=any(t <= r <= t + REPLY_WINDOW for t in texts for r in replies_of.get(a.patient_id, ())),
            past=a.start < now and a.status in OUTCOME_STATUSES,
            recovered=again is not None, recovered_by_careloop=again is not None and again.source == "careloop",
            new_patient=not earlier_seen, language=patient.language if patient else "(unknown)"))
    return visits


def _series(practice: PracticeProfile, start: datetime, end: datetime, bucket: Bucket, sent: list[Message],
            delivered: list[Message], replies: list[Message], visits: list[_Visit]) -> list[dict[str, Any]]:
    days = _buckets(practice, start, end, bucket)
    rows: dict[date, dict[str, Any]] = {d: {"bucket": d.isoformat(), **{k: 0 for k in SERIES}} for d in days}

    def key(at: datetime) -> date:
        d = at.astimezone(practice.zone).date()
        return d - timedelta(days=d.weekday()) if bucket == "week" else d

    def add(at: datetime, series: str) -> None:
        row = rows.get(key(at))
        if row is not None:
            row[series] += 1

    for m in sent:
        add(m.at, "sent")
    for m in delivered:
        add(m.at, "delivered")
    for m in replies:
        add(m.at, "replies")
    for v in visits:  # a visit's figures fall on the day it was (or is) booked for
        if v.appt.confirmed:
            add(v.appt.start, "confirmed")
        if v.no_show:
            add(v.appt.start, "no_shows")
        if v.recovered:
            add(v.appt.start, "recovered")
    return [rows[d] for d in days]


def _by_workflow(out_in_period: list[Message], automated: list[Message], visits: list[_Visit]) -> list[dict[str, Any]]:
    by_id = {v.appt.id: v for v in visits}
    texted: dict[str, set[str]] = {}
    for m in automated:
        if m.workflow and m.appointment_id in by_id:
            texted.setdefault(m.workflow, set()).add(m.appointment_id or "")
    rows: dict[str, dict[str, Any]] = {}
    for m in out_in_period:
        if not m.automated or not m.workflow:
            continue
        row = rows.setdefault(m.workflow, {"workflow": m.workflow, "sent": 0, "delivered": 0})
        row["sent"] += m.status in SENT_STATUSES
        row["delivered"] += m.status == MessageStatus.DELIVERED
    for wf in texted:
        rows.setdefault(wf, {"workflow": wf, "sent": 0, "delivered": 0})
    return [rows[wf] | _rate_row(wf, [by_id[i] for i in sorted(texted.get(wf, ()))]) for wf in sorted(rows)]


def _by_week(practice: PracticeProfile, automated: list[Message], inbound: list[Message]) -> list[dict[str, Any]]:
    weeks: dict[str, dict[str, Any]] = {}
    for m in automated:
        week = m.at.astimezone(practice.zone).strftime("%G-W%V")
        row = weeks.setdefault(week, {"week": week, "sent": 0, "delivered": 0, "responses": 0})
        row["sent"] += 1
        row["delivered"] += m.status == MessageStatus.DELIVERED
    for m in inbound:
        week = m.at.astimezone(practice.zone).strftime("%G-W%V")
        weeks.setdefault(week, {"week": week, "sent": 0, "delivered": 0, "responses": 0})["responses"] += 1
    return [weeks[k] for k in sorted(weeks)]


def _agent(inbound: list[Message], staff_replies: list[Message]) -> dict[str, Any]:
    """Answered by the agent vs handed to staff (an escalation leaves its reason on the text), by
    intent, and how long a handed-over conversation waited for its first staff reply."""
    handed = [m for m in inbound if m.reason]
    by_intent: dict[str, dict[str, Any]] = {}
    for m in inbound:
        row = by_intent.setdefault(m.intent or "(none)", {"intent": m.intent or "(none)", "texts": 0,
                                                          "answered_automatically": 0, "handed_to_staff": 0})
        row["texts"] += 1
        row["handed_to_staff" if m.reason else "answered_automatically"] += 1

    def conversation(m: Message) -> str:
        return m.patient_id or f"phone:{m.phone}"

    events: dict[str, list[tuple[datetime, bool]]] = {}  # (at, is a staff reply), per conversation
    for m in handed:
        events.setdefault(conversation(m), []).append((m.at, False))
    for m in staff_replies:
        events.setdefault(conversation(m), []).append((m.at, True))
    waits: list[float] = []
    handoffs = 0
    for timeline in events.values():
        waiting_since: datetime | None = None
        for at, is_reply in sorted(timeline):
            if not is_reply and waiting_since is None:
                waiting_since, handoffs = at, handoffs + 1
            elif is_reply and waiting_since is not None:
                waits.append((at - waiting_since).total_seconds() / 60)
                waiting_since = None
    middle = median(waits)
    return {"texts": len(inbound), "answered_automatically": len(inbound) - len(handed), "handed_to_staff": len(handed),
            "automation_rate": rate(len(inbound) - len(handed), len(inbound)),
            "staff_replies": len(staff_replies), "handoffs": handoffs, "handoffs_answered": len(waits),
            "median_first_reply_minutes": round(middle, 1) if middle is not None else None,
            "by_intent": sorted(by_intent.values(), key=lambda r: (-r["texts"], r["intent"]))}


def _versions(automated: list[Message], visits: dict[str, _Visit]) -> list[dict[str, Any]]:
    """Per workflow, the version that sent each visit its first text from that workflow, and the
    share of those visits confirmed (Wilson 95%); the newest two versions compared in a sentence."""
    first: dict[tuple[str, str], Message] = {}
    for m in sorted(automated, key=lambda m: m.at):
        if m.workflow and m.appointment_id in visits:
            first.setdefault((m.workflow, m.appointment_id or ""), m)
    groups: dict[str, dict[int | None, list[_Visit]]] = {}
    for (wf, appt_id), m in first.items():
        groups.setdefault(wf, {}).setdefault(m.workflow_version, []).append(visits[appt_id])
    out = []
    for wf in sorted(groups):
        rows: list[dict[str, Any]] = []
        for version in sorted(groups[wf], key=lambda v: (v is None, v or 0), reverse=True):
            vs = groups[wf][version]
            k, n = sum(v.appt.confirmed for v in vs), len(vs)
            lo, hi = wilson(k, n)
            rows.append({"version": version, "label": f"v{version}" if version is not None else "version not recorded",
                         "n": n, "confirmed": k, "confirmation_rate": rate(k, n), "ci_low": lo, "ci_high": hi})
        known = [r for r in rows if r["version"] is not None]
        sentence = (compare_sentence((known[0]["label"], known[0]["confirmed"], known[0]["n"]),
                                     (known[1]["label"], known[1]["confirmed"], known[1]["n"]))
                    if len(known) >= 2 else
                    f"Only {known[0]['label'] if known else 'one version'} sent texts in this period: nothing to compare yet.")
        out.append({"workflow": wf, "versions": rows, "sentence": sentence})
    return out
