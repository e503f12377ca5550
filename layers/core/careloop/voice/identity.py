"""Who is calling (voice.md, "Who is calling"): a number that belongs to exactly one patient names
them; any other caller proves who they are with a first name and a birth date that match.

Nothing here says whose record matched or why one did not: the hook only hears a patient or None.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from careloop.models import Patient
from careloop.ports import Services
from careloop.records import merged_into

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def fold(text: str) -> str:
    """Lower case, no accents, no punctuation: how spoken names are compared."""
    plain = unicodedata.normalize("NFKD", (text or "").lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def caller_number(value: object) -> str | None:
    """The caller's E.164 number from the flow's session attribute; None when withheld or malformed."""
    return value if isinstance(value, str) and _E164.match(value) else None


def patients_on(services: Services, phone: str | None) -> list[Patient]:
    """The live records (not merged away) that have this number."""
    if not phone:
        return []
    return [p for p in services.records.patients_by_phone(phone) if not merged_into(p)]


def known_caller(services: Services, phone: str | None) -> Patient | None:
    """The one patient a number belongs to; None for an unknown, withheld or shared number."""
    found = patients_on(services, phone)
    return found[0] if len(found) == 1 else None


def spoken_birth_date(value: str | None, lang: str = "en") -> date | None:
    """A birth date as Lex resolves it (AMAZON.Date: 1990-05-02) or as a caller says it ("May 2 1990",
    "2 de mayo de 1990", "05/02/1990"; day first in Spanish); None when it is not one full date."""
    if not value:
        return None
    text = fold(value).replace(" de ", " ").replace(" del ", " ")
    try:
        if m := re.fullmatch(r"(\d{4}) (\d{1,2}) (\d{1,2})", text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2}) (\d{1,2}) (\d{4})", text):
            a, b = int(m[1]), int(m[2])
            month, day = (b, a) if lang == "es" else (a, b)
            return date(int(m[3]), month, day)
        words = text.split()
        if len(words) == 3 and words[0] in _MONTHS and words[1].isdigit() and words[2].isdigit():
            return date(int(words[2]), _MONTHS[words[0]], int(words[1]))
        if len(words) == 3 and words[1] in _MONTHS and words[0].isdigit() and words[2].isdigit():
            return date(int(words[2]), _MONTHS[words[1]], int(words[0]))
    except ValueError:
        return None
    return None


def _same_first_name(said: str, patient: Patient) -> bool:
    said, on_file = fold(said), fold(patient.first_name)
    if not said or not on_file:
        return False
    # "Mary" matches "Mary Ann" on file, and "Mary Ann" matches "Mary": the first given name decides
    return said == on_file or said.split()[0] == on_file.split()[0]


def verified_caller(services: Services, phone: str | None, first_name: str | None,
                    birth: date | None) -> Patient | None:
    """The one patient whose first name and birth date match: among those on a shared number, or
    (an unknown number) among all patients. Two matches, or none, prove nothing."""
    if not first_name or birth is None:
        return None
    pool = patients_on(services, phone) or [p for p in services.records.all_patients() if not merged_into(p)]
    hits = [p for p in pool if p.birth_date == birth and _same_first_name(first_name, p)]
    return hits[0] if len(hits) == 1 else None
