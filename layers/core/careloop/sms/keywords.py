"""Carrier and AWS consent keywords (English and Spanish). A keyword counts only when it is
the whole message, in any case, with trailing punctuation or emoji."""

from __future__ import annotations

import re
import unicodedata

OPT_OUT = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT-OUT", "OPT OUT",
     "REMOVE", "REVOKE", "ARRET", "TD", "ALTO", "PARAR", "BAJA"}
)
OPT_IN = frozenset({"START", "UNSTOP", "SUBSCRIBE", "RESUME", "ALTA"})
HELP = frozenset({"HELP", "INFO", "AYUDA"})

_TRAILING = re.compile(r"[\s\W_]+$", re.UNICODE)
_LEADING = re.compile(r"^[\s\W_]+", re.UNICODE)


def bare_word(text: str) -> str:
    """The message reduced to its words, upper-case, without accents, punctuation or emoji."""
    t = unicodedata.normalize("NFKD", text or "")
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = _LEADING.sub("", _TRAILING.sub("", t))
    return " ".join(t.upper().split())


def keyword_kind(text: str) -> str | None:
    word = bare_word(text)
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    if word in HELP:
        return "help"
    return None
