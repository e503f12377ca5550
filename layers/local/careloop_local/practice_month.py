"""A synthetic practice-month for `careloop simulate`: N patients at L locations, 30 days of
bookings, replies, questions, moves, cancellations, opt-outs and no-shows (cost and scale).

The mix is a steady state: every visit starting in the month is in the scenario, booked up to
four weeks ahead (those booked before the month are on the books at its start); the rates are
the module's constants, so a figure derived from a run names what it assumed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MONTH_DAYS = 30
MONTH_START = datetime(2026, 12, 1, 0, 0, tzinfo=ZoneInfo("America/New_York"))


@dataclass(frozen=True)
class MonthMix:
    """What a month of a practice holds, per patient and per visit (dental/primary-care rates)."""

    visits_per_patient_year: float = 2.4  # a recall every ~6 months, plus the odd extra visit
    providers_per_location: int = 2
    reply_rate: float = 0.45  # answers the reminder ("C", "Yes", "sí")
    move_rate: float = 0.10  # rescheduled by the front desk (the EHR sends the new time)
    cancel_rate: float = 0.07
    stop_rate: float = 0.02  # texts STOP
    question_rate: float = 0.06  # asks something (hours, insurance, parking, a refill)
    no_show_rate: float = 0.08

    def visits(self, patients: int) -> int:
        return round(patients * self.visits_per_patient_year * MONTH_DAYS / 365)


QUESTIONS = ("what time do you open on friday?", "do you take delta dental?", "where do I park?",
             "can I get a refill of my prescription", "is there a way to come earlier?",
             "¿a qué hora abren?", "can i bring my son to the same visit")
CONFIRMS = ("C", "Yes", "sí", "ok see you then")
VISIT_TYPES = ("cleaning", "checkup", "extraction", "exam")


def practice_section(locations: int, mix: MonthMix = MonthMix()) -> dict[str, Any]:
    """The profile's `locations` and `providers` for L locations (the demo's first location and
    providers kept, so its booking hours stay valid)."""
    locs = [{"id": "main", "name": "Main", "address": "12 Elm St, Suite 4, Boston MA 02116"}]
    locs += [{"id": f"loc-{i}", "name": f"Location {i}", "address": f"{100 + i} Main St, Boston MA 02116"}
             for i in range(2, locations + 1)]
    providers = [{"id": "lee", "name": "Dr. Lee", "title": "DDS"}, {"id": "patel", "name": "Dr. Patel", "title": "DMD"}]
    providers += [{"id": f"dr-{i}", "name": f"Dr. Provider{i}", "title": "DDS"}
                  for i in range(3, locations * mix.providers_per_location + 1)]
    return {"locations": locs, "providers": providers}


def practice_month(patients: int, locations: int = 1, seed: int = 7, mix: MonthMix = MonthMix(),
                   start: datetime = MONTH_START) -> dict[str, Any]:
    """The scenario (spec/simulate.md) of one practice-month; the same arguments give the same month."""
    if patients < 1 or locations < 1:
        raise ValueError("a practice-month needs at least one patient and one location")
    rng = random.Random(seed)
    section = practice_section(locations, mix)
    people = [{"id": f"p{i}", "first_name": f"P{i}", "last_name": "Test",
               "phone": f"+1617{2000000 + i:07d}", "language": "es" if i % 5 == 0 else "en",
               "timezone": rng.choice([None, None, None, "America/Chicago", "America/Los_Angeles"])}
              for i in range(patients)]
    until = start + timedelta(days=MONTH_DAYS)
    events: list[dict[str, Any]] = []
    per_location = mix.providers_per_location
    for a in range(mix.visits(patients)):
        pid = f"p{rng.randrange(patients)}"
        loc = rng.randrange(locations)
        provider = section["providers"][min(loc * per_location + rng.randrange(per_location), len(section["providers"]) - 1)]
        day = start + timedelta(days=rng.randrange(1, MONTH_DAYS))
        if day.weekday() >= 5:  # the practice is closed at weekends: the Friday before
            day -= timedelta(days=day.weekday() - 4)
        visit = day.replace(hour=rng.randint(8, 16), minute=rng.choice([0, 30]))
        booked = max(start, visit - timedelta(hours=rng.randint(6, 28 * 24)))
        base = {"id": f"a{a}", "patient": pid, "start": visit.isoformat(), "status": "booked",
                "provider": provider["name"], "location": section["locations"][loc]["id"],
                "visit_type": rng.choice(VISIT_TYPES)}
        events.append({"at": booked.isoformat(), "type": "appointment", "appointment": base})
        roll = rng.random()
        reply_at = visit - timedelta(hours=rng.randint(20, 40))
        if rng.random() < mix.question_rate:
            asked = booked + (visit - booked) / 4
            events.append({"at": asked.isoformat(), "type": "sms", "from": pid, "body": rng.choice(QUESTIONS)})
        if roll < mix.reply_rate:
            if reply_at > booked:
                events.append({"at": reply_at.isoformat(), "type": "sms", "from": pid, "body": rng.choice(CONFIRMS)})
        elif roll < mix.reply_rate + mix.move_rate:
            moved = visit + timedelta(days=rng.randint(1, 5))
            if moved.weekday() >= 5:
                moved += timedelta(days=7 - moved.weekday())
            base = dict(base, start=moved.isoformat())
            events.append({"at": (booked + (visit - booked) / 2).isoformat(), "type": "appointment", "appointment": base})
            visit = moved
        elif roll < mix.reply_rate + mix.move_rate + mix.cancel_rate:
            events.append({"at": (booked + (visit - booked) / 3).isoformat(), "type": "appointment",
                           "appointment": dict(base, status="cancelled")})
            continue
        elif roll < mix.reply_rate + mix.move_rate + mix.cancel_rate + mix.stop_rate:
            events.append({"at": max(reply_at, booked).isoformat(), "type": "sms", "from": pid, "body": "STOP"})
        outcome = "noshow" if rng.random() < mix.no_show_rate else "fulfilled"
        events.append({"at": (visit + timedelta(minutes=45)).isoformat(), "type": "appointment",
                       "appointment": dict(base, status=outcome)})
    events = [e for e in events if datetime.fromisoformat(e["at"]) <= until]
    return {"practice": section, "start": start.isoformat(), "until": until.isoformat(),
            "patients": people, "events": events}
