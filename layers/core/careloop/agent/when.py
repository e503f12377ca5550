"""Reads the time a patient asks for ("next tuesday", "later this week", "el viernes a las 3",
"12/14 in the morning") as a window of local days, a part of the day and a time of day.

Rescheduling by text offers slots near it, and the voice stand-in fills Lex's Date and Time slots
from it. English and Spanish words are read in either language (Spanglish mixes them); the
language only decides whether 12/1 is December 1 (en) or January 12 (es).
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Literal

from careloop.agent.features import normalize
from careloop.agent.text import canonical

PartOfDay = Literal["morning", "afternoon", "evening"]

OPEN_WINDOW_DAYS = 14  # "in the morning", "later": no day named, so the next two weeks


@dataclass(frozen=True)
class When:
    first_day: date  # local dates: the inclusive window the patient asked for
    last_day: date
    part_of_day: PartOfDay | None = None
    time: time | None = None  # an exact time of day ("at 3", "a las 10:30")
    later: bool = False  # "later", "más tarde" with no day: after the current appointment
    after_time: bool = False  # `time` is a lower bound ("after 3", "después de las 4")

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("last_day is before first_day")


_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6,
}
_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    "ene": 1, "abr": 4, "ago": 8, "dic": 12,
}
_WEEKDAY = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))

_NEXT = r"(?:next|this coming|coming|proximo|proxima|que viene)"
_NEXT_WEEK = re.compile(r"\b(?:next week|week after this|(?:la |el )?(?:proxima|siguiente) semana|"
                        r"(?:la )?semana (?:que viene|proxima|entrante))\b")
_WEEK_AFTER_NEXT = re.compile(r"\b(?:week after next|in (?:two|2) weeks|en (?:dos|2) semanas|"
                              r"(?:dentro de|en) (?:quince|15) dias)\b")
_IN_DAYS = re.compile(r"\b(?:in|en|dentro de) (\d{1,2}|a couple(?: of)?|a few|unos|un par de) (?:days|dias)\b")
_LATER_THIS_WEEK = re.compile(r"\b(?:later (?:this|in the) week|end of (?:the|this) week|"
                              r"(?:mas )?(?:tarde|adelante) (?:esta|en la) semana|a fin(?:al)?(?:es)? de (?:la|esta) semana)\b")
_THIS_WEEK = re.compile(r"\b(?:this week|esta semana)\b")
_WEEKEND = re.compile(r"\b(?:this weekend|the weekend|weekend|(?:este |el )?fin de semana)\b")
_NEXT_MONTH = re.compile(r"\b(?:next month|(?:el )?(?:proximo|siguiente) mes|(?:el )?mes (?:que viene|proximo|entrante))\b")
_DAY_AFTER = re.compile(r"\b(?:day after tomorrow|pasado manana)\b")
_TOMORROW_ES = re.compile(r"\bmanana\b(?! (?:temprano\b))")
_TODAY = re.compile(r"\b(?:today|tonight|this (?:morning|afternoon|evening)|hoy|esta (?:manana|tarde|noche))\b")
_ASAP = re.compile(r"\b(?:asap|as soon as (?:possible|you can)|soonest|earliest|first (?:available|opening)|"
                   r"lo (?:mas|antes) pronto posible|lo antes posible|cuanto antes|lo mas pronto)\b")
_LATER = re.compile(r"\b(?:later|mas tarde|mas adelante|another (?:day|time)|otro dia|otra fecha)\b")
_WEEKDAY_RE = re.compile(rf"\b(?:(?P<next>{_NEXT}) )?(?:(?:el|this|on) )?(?P<day>{_WEEKDAY})\b"
                         rf"(?P<nextweek> (?:next week|de la (?:proxima|siguiente) semana|de la semana que viene))?"
                         rf"(?: (?P<next2>proximo|que viene))?")
_MONTH_DAY = re.compile(rf"\b(?P<month>{_MONTH})\.? (?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b")
_DAY_MONTH = re.compile(rf"\b(?:el )?(?P<day>\d{{1,2}})(?:st|nd|rd|th)? (?:de |of )?(?P<month>{_MONTH})\b")
_NUMERIC_DATE = re.compile(r"(?<![\d:])(?P<a>\d{1,2})[/-](?P<b>\d{1,2})(?:[/-](?P<y>\d{2}|\d{4}))?(?![\d:])")
_DAY_OF_MONTH = re.compile(r"\b(?:the|el|dia) (?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?! ?(?:am|pm|de la|:|h\b))")

_TIME = re.compile(
    r"(?:(?P<after>after|despues de(?: las?)?|from|desde las?|no earlier than) )?"
    r"(?:\b(?:at|@|a las?|around|como a las?|tipo|by)\s*)?"
    r"\b(?P<h>\d{1,2})(?::(?P<m>[0-5]\d))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?|am|pm|h|hrs)?\b"
    r"(?: ?(?P<es>de la manana|de la tarde|de la noche|en la manana|en la tarde|por la manana|por la tarde))?")
_NOON = re.compile(r"\b(?:noon|midday|mediodia|medio dia)\b")
_MORNING = re.compile(r"\b(?:morning|mornings|am|early|before (?:lunch|noon)|(?:en|por|de|esta) la manana|esta manana|temprano)\b")
_AFTERNOON = re.compile(r"\b(?:afternoon|afternoons|pm|after lunch|(?:en|por|de) la tarde|despues del almuerzo)\b")
_EVENING = re.compile(r"\b(?:evening|evenings|tonight|after work|late(?:r)? in the day|(?:en|por|de) la noche|"
                      r"despues del trabajo)\b")


def _read(text: str) -> str:
    return re.sub(r"\s+", " ", canonical(normalize(text))).strip()


def _coming(today: date, weekday: int) -> date:
    """The next such weekday strictly after today."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _dated(today: date, month: int, day: int, year: int | None = None) -> date | None:
    """A calendar date; without a year, the next one on or after today."""
    try:
        if year is not None:
            return date(year if year > 99 else 2000 + year, month, day)
        candidate = date(today.year, month, day)
        return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


def _days(norm: str, today: date, lang: str) -> tuple[date, date] | None:
    """The window of days the text names, or None."""
    if _DAY_AFTER.search(norm):
        d = today + timedelta(days=2)
        return d, d
    m = _MONTH_DAY.search(norm) or _DAY_MONTH.search(norm)
    if m:
        named = _dated(today, _MONTHS[m.group("month")], int(m.group("day")))
        if named:
            return named, named
    m = _NUMERIC_DATE.search(norm)
    if m:
        a, b = int(m.group("a")), int(m.group("b"))
        month, day = (b, a) if lang == "es" or a > 12 else (a, b)
        written = _dated(today, month, day, int(m.group("y")) if m.group("y") else None)
        if written:
            return written, written
    m = _WEEKDAY_RE.search(norm)
    if m:
        d = _coming(today, _WEEKDAYS[m.group("day")])
        if m.group("nextweek") and d < _monday(today) + timedelta(days=7):
            d += timedelta(days=7)
        return d, d
    if _WEEK_AFTER_NEXT.search(norm):
        start = _monday(today) + timedelta(days=14)
        return start, start + timedelta(days=6)
    if _NEXT_WEEK.search(norm):
        start = _monday(today) + timedelta(days=7)
        return start, start + timedelta(days=6)
    if _LATER_THIS_WEEK.search(norm):
        sunday = _monday(today) + timedelta(days=6)
        first = today + timedelta(days=1)
        return (first, sunday) if first <= sunday else (first, first + timedelta(days=6))
    if _THIS_WEEK.search(norm):
        return today, _monday(today) + timedelta(days=6)
    if _WEEKEND.search(norm):
        saturday = _monday(today) + timedelta(days=5)
        if saturday < today:
            saturday += timedelta(days=7)
        return max(saturday, today), saturday + timedelta(days=1)
    if _NEXT_MONTH.search(norm):
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return date(year, month, 1), date(year, month, monthrange(year, month)[1])
    m = _IN_DAYS.search(norm)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else (2 if "couple" in m.group(1) or "par" in m.group(1) else 3)
        d = today + timedelta(days=n)
        return d, d
    if re.search(r"\btomorrow\b", norm) or _TOMORROW_ES.search(_strip_morning(norm)):
        d = today + timedelta(days=1)
        return d, d
    if _TODAY.search(norm):
        return today, today
    m = _DAY_OF_MONTH.search(norm)
    if m and 1 <= int(m.group("day")) <= 31:
        day = int(m.group("day"))
        for months_ahead in range(3):
            year, month = today.year + (today.month - 1 + months_ahead) // 12, (today.month - 1 + months_ahead) % 12 + 1
            if day <= monthrange(year, month)[1] and date(year, month, day) >= today:
                return date(year, month, day), date(year, month, day)
    if _ASAP.search(norm):
        return today, today + timedelta(days=6)
    return None


def _strip_morning(norm: str) -> str:
    """"mañana" as "morning" ("por la mañana", "de la mañana", "esta mañana") is not "tomorrow"."""
    return re.sub(r"\b(?:por|en|de|esta) la manana\b|\besta manana\b", " ", norm)


def _clock(norm: str) -> tuple[time | None, bool, PartOfDay | None]:
    """An exact time (and whether it is a lower bound) and the part of day it implies."""
    if _NOON.search(norm):
        return time(12, 0), bool(re.search(r"\b(?:after|despues del?) (?:noon|mediodia)\b", norm)), None
    for m in _TIME.finditer(norm):
        h, minute, ampm, es = int(m.group("h")), int(m.group("m") or 0), (m.group("ampm") or "").replace(".", ""), m.group("es")
        anchored = bool(m.group("m") or ampm or es or m.group("after") or re.search(r"(?:at|@|a las?|around|como a las?|tipo|by)\s*$",
                                                                 norm[:m.start("h")]))
        if not anchored or h > 23:
            continue  # a bare number ("2", "in 3 days") is not a time
        if ampm in ("h", "hrs") and m.group("m") is None and h < 7:
            continue  # "2 hrs" is a length, not a time
        if ampm == "pm" and h < 12:
            h += 12
        elif ampm == "am" and h == 12:
            h = 0
        elif not ampm and es in ("de la tarde", "en la tarde", "por la tarde", "de la noche") and h < 12:
            h += 12
        elif not ampm and not es and 1 <= h <= 6:
            h += 12  # "at 3": a practice's day, so the afternoon
        if h > 23:
            continue
        part: PartOfDay = "morning" if h < 12 else "afternoon" if h < 17 else "evening"
        return time(h, minute), bool(m.group("after")), part
    return None, False, None


def _part(norm: str) -> PartOfDay | None:
    # "this afternoon" / "mañana en la tarde": the part of day wins over the morning word "mañana"
    if _EVENING.search(norm):
        return "evening"
    if _AFTERNOON.search(norm):
        return "afternoon"
    if _MORNING.search(norm):
        return "morning"
    return None


def parse_when(text: str, today: date, lang: str = "en") -> When | None:
    """The window the patient asked for, or None when the text names no day, time or part of day.
    `today` is the local date where the patient is (the location's zone)."""
    if not isinstance(text, str) or not text.strip():
        return None
    norm = _read(text)
    days = _days(norm, today, lang)
    at, after, clock_part = _clock(norm)
    part = _part(norm) if at is None else None
    later = days is None and bool(_LATER.search(norm))
    if days is None and at is None and part is None and not later:
        return None
    first, last = days if days is not None else (today, today + timedelta(days=OPEN_WINDOW_DAYS - 1))
    return When(first_day=first, last_day=last, part_of_day=part or (clock_part if at is not None and not after else None),
                time=at, later=later, after_time=after)

