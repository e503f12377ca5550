"""Message templates: Jinja2 sandbox with strict undefined, and the fields a template may use.

A template naming an unknown field is rejected when a workflow is loaded, not at send time.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from careloop.errors import TemplateError
from careloop.models import Appointment, Patient
from careloop.practice import PracticeProfile

FIELDS = frozenset(
    {
        "first_name", "last_name", "provider", "date_time", "date", "time", "location",
        "visit_type", "practice_name", "practice_phone", "booking_url", "survey_url", "visit_day",
    }
)

_DAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
}
# North American zones as people say them ("11:00 AM ET"), whichever side of a clock change the
# visit falls on; Arizona keeps standard time all year, so its name stays "MST"
_GENERIC_ZONE = {"EST": "ET", "EDT": "ET", "CST": "CT", "CDT": "CT", "MST": "MT", "MDT": "MT", "PST": "PT",
                 "PDT": "PT", "AKST": "AKT", "AKDT": "AKT", "HST": "HT", "HDT": "HT", "AST": "AT", "ADT": "AT",
                 "NST": "NT", "NDT": "NT"}
_STANDARD_ALL_YEAR = frozenset({"America/Phoenix", "America/Creston", "Pacific/Honolulu"})


@lru_cache(maxsize=1)
def _env():
    """Jinja2 loads on first use, not at import: most handlers never render a template."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def format_time(dt: datetime, language: str) -> str:
    if language == "es":
        return dt.strftime("%H:%M")
    return dt.strftime("%I:%M %p").lstrip("0")


def format_date(dt: datetime, language: str) -> str:
    lang = language if language in _DAYS else "en"
    day, month = _DAYS[lang][dt.weekday()], _MONTHS[lang][dt.month - 1]
    return f"{day} {dt.day} {month}" if lang == "es" else f"{day} {month} {dt.day}"


def format_date_time(dt: datetime, language: str) -> str:
    """As people write it: "Thu Dec 5 at 10:00 AM" / "jue 5 dic a las 10:00"."""
    joiner = " a las " if language == "es" else " at "
    return format_date(dt, language) + joiner + format_time(dt, language)


def zone_label(local: datetime) -> str:
    """The short name of the zone a local time is in, as a patient reads it: "ET", "PT", "MST"
    (Arizona), else the zone's own abbreviation at that instant ("CET", "BST")."""
    name = local.tzname() or ""
    key = getattr(local.tzinfo, "key", "")
    if key in _STANDARD_ALL_YEAR:
        return name
    return _GENERIC_ZONE.get(name) or name or key


def named_zone(local: datetime) -> str:
    """The zone that texts which always name one carry after the time ("EST", "EDT": a booking
    confirmation, an offer of times), so a reader in any zone knows which clock is meant."""
    return local.tzname() or str(getattr(local.tzinfo, "key", ""))


def reads_the_same(at: datetime, zone: ZoneInfo, reader: ZoneInfo) -> bool:
    """Whether a reader in `reader` sees the same wall time as the clock at the visit, at that
    instant (Phoenix and Denver agree in winter, not in summer)."""
    return at.astimezone(zone).replace(tzinfo=None) == at.astimezone(reader).replace(tzinfo=None)


def location_zone(practice: PracticeProfile, location: str | None) -> ZoneInfo:
    """The zone a visit's time is kept in: its location's (by id or name), else the practice's."""
    for loc in practice.locations:
        if location and location in (loc.id, loc.name) and loc.timezone:
            return ZoneInfo(loc.timezone)
    return practice.zone


def reader_zone(practice: PracticeProfile, patient: Patient) -> ZoneInfo:
    """Where the patient reads the text: their own zone, else the practice's (as quiet hours assume)."""
    try:
        return ZoneInfo(patient.timezone) if patient.timezone else practice.zone
    except (ZoneInfoNotFoundError, ValueError):  # an unknown zone from an EHR: read as the practice's
        return practice.zone


def visit_time(at: datetime, zone: ZoneInfo, language: str, reader: ZoneInfo | None = None) -> str:
    """The one way a visit's time is written to a patient: in the patient's zone (spec), and when
    the visit's clock shows another time, both clocks named: "Tue Dec 8 at 8:00 AM PT (11:00 AM ET)"
    to a Los Angeles patient of a Boston visit (the visit's date too when it is another day)."""
    local = at.astimezone(zone)
    if reader is None or reads_the_same(at, zone, reader):
        return format_date_time(local, language)
    theirs = at.astimezone(reader)
    there = format_time(local, language) if local.date() == theirs.date() else format_date_time(local, language)
    return f"{format_date_time(theirs, language)} {zone_label(theirs)} ({there} {zone_label(local)})"


def clock_time(at: datetime, zone: ZoneInfo, language: str, reader: ZoneInfo | None = None) -> str:
    """The time alone, as `visit_time` writes it: "8:00 AM PT (11:00 AM ET)" across zones."""
    local = at.astimezone(zone)
    if reader is None or reads_the_same(at, zone, reader):
        return format_time(local, language)
    theirs = at.astimezone(reader)
    return f"{format_time(theirs, language)} {zone_label(theirs)} ({format_time(local, language)} {zone_label(local)})"


@lru_cache(maxsize=512)
def _compile(source: str):
    from jinja2 import TemplateSyntaxError

    try:
        return _env().from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}") from exc


def check_template(source: str) -> None:
    """Raise TemplateError if the template is malformed or names a field that does not exist."""
    from jinja2 import TemplateSyntaxError, meta

    try:
        names = meta.find_undeclared_variables(_env().parse(source))
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}") from exc
    unknown = sorted(names - FIELDS)
    if unknown:
        raise TemplateError(
            f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(FIELDS))}"
        )


def visit_day(start: datetime, now: datetime, language: str) -> str:
    """The appointment's day said truthfully from the moment of sending: "today", "yesterday",
    or "on Tue Dec 1" ("hoy", "ayer", "el mar 1 dic")."""
    days = (now.date() - start.date()).days
    if language == "es":
        return "hoy" if days == 0 else "ayer" if days == 1 else "el " + format_date(start, "es")
    return "today" if days == 0 else "yesterday" if days == 1 else "on " + format_date(start, "en")


def context_for(
    practice: PracticeProfile, patient: Patient, appointment: Appointment | None, now: datetime | None = None,
) -> dict[str, str]:
    reader = reader_zone(practice, patient)
    lang = patient.language
    ctx = {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "practice_name": practice.name,
        "practice_phone": _pretty_phone(practice.phone),
        "booking_url": practice.booking_url or "",
        "survey_url": practice.survey_url or "",
        "provider": "",
        "date_time": "",
        "date": "",
        "time": "",
        "location": "",
        "visit_type": "",
        "visit_day": "",
    }
    if appointment is not None:
        # the visit happens on the location's clock; a reader elsewhere is told which clock that is
        zone = location_zone(practice, appointment.location)
        local = appointment.start.astimezone(zone)
        ctx.update(
            provider=_provider_name(practice, appointment.provider),
            date_time=visit_time(local, zone, lang, reader),
            date=format_date(local.astimezone(reader), lang),  # the patient's day (spec)
            time=clock_time(local, zone, lang, reader),
            location=_location_name(practice, appointment.location),
            visit_type=appointment.visit_type or "",
            visit_day=visit_day(local, (now or local).astimezone(zone), lang),
        )
    return ctx


def render(source: str, ctx: dict[str, str]) -> str:
    from jinja2 import UndefinedError

    try:
        text = _compile(source).render(**ctx)
    except UndefinedError as exc:
        raise TemplateError(f"template field missing: {exc.message}") from exc
    return " ".join(text.split())


def _provider_name(practice: PracticeProfile, provider: str | None) -> str:
    """What a patient reads: an online booking stores the profile's provider id ("lee")."""
    return next((p.name for p in practice.providers if p.id == provider), provider or "")


def _location_name(practice: PracticeProfile, location: str | None) -> str:
    for loc in practice.locations:
        if location in (loc.id, loc.name):
            return loc.address or loc.name
    return location or ""


def _pretty_phone(e164: str) -> str:
    if e164.startswith("+1") and len(e164) == 12:
        return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    return e164
