"""`careloop local --seed-history`: ~90 days of past for the demo practice, made by running the
real pipeline (EHR intake, planner, dispatcher, SMS agent, booking service) on the local clock.

The plan (who books what, who replies what, who misses a visit) is drawn from a seeded random
generator, so every run tells the same story; the stack then lives it day by day: the clock is
set back `days`, and each day's bookings, replies and visit outcomes happen at their hour while
`LocalStack.advance` runs every reminder that came due, as the every-minute schedule would.
"""

from __future__ import annotations

import random
import time as _time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from careloop.models import Appointment, Patient
from careloop.records import ingest

if TYPE_CHECKING:
    from careloop.ports import Services
    from careloop_local.runtime import LocalStack

FIRST_NAMES = ["Avery", "Blake", "Casey", "Dana", "Eli", "Frankie", "Gray", "Harper", "Indy", "Jules",
               "Kai", "Lane", "Morgan", "Noa", "Oakley", "Parker", "Quinn", "Reese", "Sky", "Tatum"]
LAST_NAMES = ["Demo", "Sample", "Testwell", "Placeholder", "Fakename", "Mockford", "Example", "Dummy",
              "Trialson", "Pretend", "Synthetic", "Madeup"]
SPANISH_FIRST = ["Lucia", "Mateo", "Sofia", "Diego", "Valeria", "Javier", "Camila", "Tomas"]
# 555-0100..0199 is the range NANP keeps fictional; several area codes give room for hundreds
AREA_CODES = ["857", "781", "339", "508", "978"]
PROVIDERS = ["Dr. Lee", "Dr. Patel"]
VISIT_TYPES = [("cleaning", 60), ("exam", 30), ("cleaning", 60), ("new-patient-exam", 60)]

# What patients text back (canned, run through the real SMS agent); weights are out of 100
REPLIES: dict[str, dict[str, list[str]]] = {
    "confirm": {"en": ["C", "Yes, I'll be there", "Confirmed, thanks!"], "es": ["C", "Sí, ahí estaré"]},
    "cancel": {"en": ["I need to cancel my appointment"], "es": ["Necesito cancelar mi cita"]},
    "reschedule": {"en": ["Can I move my appointment to next week?"], "es": ["¿Puedo cambiar mi cita para la próxima semana?"]},
    "question": {"en": ["Is there parking?", "What are your hours?", "Do you take Delta Dental?"],
                 "es": ["¿Cuál es su horario?", "¿Aceptan Delta Dental?"]},
    "urgent": {"en": ["My jaw is really swollen and I have a fever, it hurts a lot"],
               "es": ["Tengo la cara muy hinchada y fiebre, me duele mucho"]},
}
REPLY_WEIGHTS = {"confirm": 55, "none": 25, "question": 8, "reschedule": 5, "cancel": 5, "urgent": 2}
CALL_WORDS = {"en": "I want to confirm my appointment", "es": "Quiero confirmar mi cita"}
CALL_RATE = 0.08
NO_SHOW_RATE = 0.12
RECOVERY_RATE = 0.5  # of the no-shows, who book again through their link a few days later


@dataclass
class Visit:
    id: str
    patient: str
    booked_on: int  # day index of the booking
    start: datetime
    minutes: int
    provider: str
    visit_type: str
    reply: str  # a REPLIES key, or "none"
    reply_text: str
    no_show: bool
    rebooks: bool
    calls: bool = False  # the patient also phones the day before (the voice hook, Lex + Connect stand-ins)


@dataclass
class HistoryPlan:
    first_day: date
    days: int
    patients: list[Patient]
    visits: list[Visit]


@dataclass
class HistoryResult:
    days: int = 0
    patients: int = 0
    visits: int = 0
    replies: int = 0
    no_shows: int = 0
    rebooked: int = 0
    calls: int = 0
    texts_sent: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def _business_day(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def plan(today: date, zone: Any, *, days: int = 90, patients: int = 40, seed: int = 14) -> HistoryPlan:
    """The story of the last `days` days up to `today` (practice-local), drawn from `seed` alone."""
    rng = random.Random(seed)
    first_day = today - timedelta(days=days)
    people: list[Patient] = []
    for i in range(patients):
        spanish = rng.random() < 0.2
        first = rng.choice(SPANISH_FIRST if spanish else FIRST_NAMES)
        phone = f"+1{AREA_CODES[i // 100 % len(AREA_CODES)]}555{100 + i % 100:04d}"
        people.append(Patient(id=f"hist-{i:04d}", first_name=first, last_name=rng.choice(LAST_NAMES),
                              phone=phone, phone_kind="mobile", language="es" if spanish else "en"))
    visits: list[Visit] = []
    labels, weights = list(REPLY_WEIGHTS), list(REPLY_WEIGHTS.values())
    for p in people:
        # one or two visits each, booked on a day in the window, 3-12 days ahead
        for _ in range(1 if rng.random() < 0.7 else 2):
            booked_on = rng.randrange(days)
            day = _business_day(first_day + timedelta(days=booked_on + rng.randint(3, 12)))
            kind, minutes = rng.choice(VISIT_TYPES)
            start = datetime.combine(day, time(rng.choice([8, 9, 10, 11, 13, 14, 15, 16]), rng.choice([0, 30])), tzinfo=zone)
            reply = rng.choices(labels, weights)[0]
            text = rng.choice(REPLIES[reply][p.language]) if reply != "none" else ""
            no_show = reply not in ("cancel", "reschedule") and rng.random() < NO_SHOW_RATE
            visits.append(Visit(id=f"hist-v{len(visits):04d}", patient=p.id, booked_on=booked_on, start=start,
                                minutes=minutes, provider=rng.choice(PROVIDERS), visit_type=kind, reply=reply,
                                reply_text=text, no_show=no_show, rebooks=no_show and rng.random() < RECOVERY_RATE,
                                calls=rng.random() < CALL_RATE))
    return HistoryPlan(first_day=first_day, days=days, patients=people, visits=visits)


def _appointment(v: Visit, status: str = "booked") -> Appointment:
    return Appointment(id=v.id, patient_id=v.patient, start=v.start, minutes=v.minutes, status=status,
                       provider=v.provider, location="main", visit_type=v.visit_type)


def _rebook(services: Services, patient: Patient, v: Visit) -> bool:
    """A no-show books again through their personal link, by the booking service the routes use."""
    from careloop.booking import links, service
    from careloop.errors import CareloopError

    if services.booking is None or services.practice.booking is None:
        return False
    try:
        link = links.mint(services, patient, "book", ref=f"history-rebook-{v.id}")
        type_id = v.visit_type if v.visit_type != "new-patient-exam" else "exam"
        first = services.clock.now().astimezone(services.practice.zone).date() + timedelta(days=2)
        slots = service.slots_for(services, link.token, type_id, first.isoformat(), 7)["slots"]
        if not slots:
            return False
        slot = slots[len(slots) // 3]  # not always the first: the demo's days fill unevenly
        service.book(services, link.token, type_id, slot["start"], slot["provider"])
    except CareloopError:
        return False  # a slot taken by an earlier rebooking: the story goes on without this one
    return True


def seed_history(stack: LocalStack, *, days: int = 90, patients: int = 40, seed: int = 14) -> HistoryResult:
    """Live `plan(...)` on `stack` from `days` ago up to now. Call right after `stack.start()`,
    before anything else is written (the clock is moved back, which only a fresh stack allows)."""
    from careloop.adapters.aws import services as build_services

    began = _time.monotonic()
    services = build_services()
    zone = services.practice.zone
    real_now = stack.clock.now()
    story = plan(real_now.astimezone(zone).date(), zone, days=days, patients=patients, seed=seed)
    # back to the first morning of the window: nothing is stored yet, so nothing can be "later"
    # than what the moved clock says (the clock otherwise only moves forward)
    stack.clock.offset -= real_now - datetime.combine(story.first_day, time(7), tzinfo=zone).astimezone(UTC)
    by_id = {p.id: p for p in story.patients}
    booked_on: dict[int, list[Visit]] = {}
    for v in story.visits:
        booked_on.setdefault(v.booked_on, []).append(v)
    by_visit_day: dict[date, list[Visit]] = {}
    for v in story.visits:
        by_visit_day.setdefault(v.start.date(), []).append(v)
    result = HistoryResult(days=days, patients=len(story.patients), visits=len(story.visits))
    ingested: set[str] = set()
    # One instant a day, late morning: the whole day's events happen there and one dispatcher run
    # sends what came due since yesterday's (a moto round trip costs ~0.3 s; a tick per due minute
    # would take minutes, so history's texts go out at the day's tick rather than their minute).
    for index in range(days + 1):
        day = story.first_day + timedelta(days=index)
        at = datetime.combine(day, time(11), tzinfo=zone)
        if at >= real_now:
            break
        stack.clock.advance_to(at)
        now = stack.clock.now()
        if index == days // 2:  # halfway, the manager edits the reminder: analytics compares v1 with v2
            _edit_reminder(services, now)
        # replies to the reminders for tomorrow's visits (sent at an earlier tick)
        texted = rebooked = 0
        for v in by_visit_day.get(day + timedelta(days=1), []):
            phone = by_id[v.patient].phone or ""
            if v.reply != "none" and v.patient in ingested and _was_texted(stack, phone):
                stack.standin.receive(phone, stack.res.phone_number, v.reply_text)
                result.replies += 1
                texted += 1
            if v.calls and v.patient in ingested:
                _call(stack, v, phone, by_id[v.patient].language)
                result.calls += 1
        # yesterday's visits: attended or missed (the EHR marks them)
        outcomes = []
        for v in by_visit_day.get(day - timedelta(days=1), []):
            stored = services.records.get_appointment(v.id)
            if stored is None or stored.status != "booked" or stored.declined:
                continue
            outcomes.append(_appointment(v, "noshow" if v.no_show else "fulfilled"))
            result.no_shows += v.no_show
        # the EHR sends the day's new bookings (the demo's own intake path, as demo.seed)
        new = booked_on.get(index, [])
        people = [by_id[v.patient] for v in new if v.patient not in ingested]
        ingested.update(p.id for p in people)
        if new or outcomes:
            ingest(services.records, services.consent, people, [_appointment(v) for v in new] + outcomes, now)
        # no-shows from three days ago book again through their link
        for v in by_visit_day.get(day - timedelta(days=3), []):
            if v.rebooks and _rebook(services, by_id[v.patient], v):
                result.rebooked += 1
                rebooked += 1
        # a quiet day (nothing said, nothing due) costs nothing: no pump pass, no dispatcher run
        if texted or new or outcomes or rebooked:
            stack.drain()
        if services.actions.due_actions(now, limit=1):
            stack.dispatch()
            stack.drain()
    stack.advance(max(0.0, (datetime.now(UTC) - stack.clock.now()).total_seconds() / 60))
    result.texts_sent = len(stack.standin.outbox())
    result.seconds = round(_time.monotonic() - began, 1)
    return result


# The manager's edit halfway through the story (a shorter reminder, the time first)
REMINDER_EDIT = {
    "en": ("Hi {{ first_name }}! Your {{ practice_name }} {% if visit_type %}{{ visit_type }} {% endif %}visit is "
           "{{ date_time }}. Reply C to confirm or R to reschedule. Reply STOP to opt out."),
    "why": "Shorter reminder with the visit time first (change one thing and measure)",
}


def _edit_reminder(services: Services, now: datetime) -> None:
    """Save v2 of the appointment reminder through the registry, as the workflow editor does."""
    from careloop.workflows import registry

    current = next((w for w in registry.current(services.configs) if w.id == "appointment-reminder"), None)
    if current is None or current.version > 1:
        return  # already edited (a stack seeded twice): the story has one edit
    definition = current.model_dump(mode="json")
    for step in definition["steps"]:
        if step["id"] == "reminder-48h":
            step["action"]["template"]["en"] = REMINDER_EDIT["en"]
    registry.save(services.configs, definition, "manager@demo.careloop.test", REMINDER_EDIT["why"], now)
    invalidate = getattr(services.workflow_source, "invalidate", None)
    if invalidate:  # the functions share this process's services: the next dispatch sends v2
        invalidate()


def _call(stack: LocalStack, v: Visit, phone: str, language: str) -> None:
    """A short phone call through the voice hook, as `careloop call` makes one, then hang-up
    (Connect's DISCONNECTED event records it on the thread)."""
    from careloop_local import voice_console

    turn = {"call": f"history-{v.id}", "from": phone, "text": CALL_WORDS[language],
            "locale": "es_US" if language == "es" else "en_US"}
    voice_console.say(stack, turn)
    voice_console.hang_up(stack, {"call": turn["call"]})


def _was_texted(stack: LocalStack, phone: str | None) -> bool:
    return any(m["destination"] == phone for m in stack.standin.outbox()[-400:])
