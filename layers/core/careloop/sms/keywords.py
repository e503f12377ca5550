"""Carrier and AWS consent keywords (English and Spanish). A keyword counts when it is the whole
message, or a line of its own ("Thanks\nSTOP"), in any case, with trailing punctuation or emoji,
also spelled out letter by letter ("S T O P", "S.T.O.P")."""

from __future__ import annotations

import re
import unicodedata

OPT_OUT = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT-OUT", "OPT OUT",
     "REMOVE", "REVOKE", "ARRET", "TD", "ALTO", "PARAR", "BAJA"}
)
OPT_IN = frozenset({"START", "UNSTOP", "SUBSCRIBE", "RESUME", "ALTA"})
HELP = frozenset({"HELP", "INFO", "AYUDA"})
_ALL = OPT_OUT | OPT_IN | HELP

_TRAILING = re.compile(r"[\s\W_]+$", re.UNICODE)
_LEADING = re.compile(r"^[\s\W_]+", re.UNICODE)


def bare_word(text: str) -> str:
    """The message reduced to its words, upper-case, without accents, punctuation or emoji."""
    t = unicodedata.normalize("NFKD", text or "")
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = _LEADING.sub("", _TRAILING.sub("", t))
    return " ".join(t.upper().split())


_SPELLED = re.compile(r"^(?:[A-Z][\s.\-_*]+)+[A-Z]$")
_SPLIT = re.compile(r"^[A-Z]{1,8}(?: [A-Z]{1,8}){1,2}$")  # one keyword broken by a stray space or two


def _kind(word: str) -> str | None:
    if _SPELLED.match(word):
        word = re.sub(r"[^A-Z]", "", word)  # "S T O P", "S.T.O.P" -> STOP
    elif _SPLIT.match(word) and word.replace(" ", "") in _ALL:
        word = word.replace(" ", "")  # a thumb on the space bar: "ST OP", "UNSUB SCRIBE"
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    if word in HELP:
        return "help"
    return None


def keyword_kind(text: str) -> str | None:
    """opt_out / opt_in / help when the message is that keyword; for a message of several lines,
    an opt-out or opt-in keyword alone on one of its lines counts too (opt-out first)."""
    kind = _kind(bare_word(text))
    if kind or "\n" not in (text or ""):
        return kind
    kinds = {_kind(bare_word(line)) for line in text.splitlines() if line.strip()}
    return "opt_out" if "opt_out" in kinds else "opt_in" if "opt_in" in kinds else None
