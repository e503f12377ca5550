"""Intent classifier for inbound texts (labels of spec/intents.md).

This first version decides the consent keywords and the short appointment replies (C / Y /
N / R) with certainty and hands everything else to staff as `other` with low confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from careloop.sms.keywords import bare_word, keyword_kind

LABELS = (
    "confirm", "cancel", "reschedule", "book", "running_late", "hours", "location", "insurance",
    "billing", "refill", "results", "urgent", "opt_out", "opt_in", "help", "human", "thanks", "other",
)
STAFF_INTENTS = {"cancel", "billing", "refill", "results", "urgent", "human", "other", "insurance", "running_late"}
CONFIDENCE_THRESHOLD = 0.6

_CONFIRM = {"C", "Y", "YES", "SI", "CONFIRM", "CONFIRMED", "CONFIRMO", "OK SEE YOU", "YES CONFIRM"}
_CANCEL = {"N", "NO"}
_RESCHEDULE = {"R", "RESCHEDULE", "CAMBIAR", "REPROGRAMAR"}
_THANKS = {"OK", "K", "THANKS", "THANK YOU", "THX", "GRACIAS", "OKAY"}
_SPANISH = re.compile(r"\b(hola|gracias|cita|si|sí|por favor|quiero|necesito|mañana|manana)\b", re.I)


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    language: str
    escalate: bool


def detect_language(text: str) -> str:
    return "es" if _SPANISH.search(text or "") else "en"


def classify(text: str) -> Prediction:
    language = detect_language(text)
    kind = keyword_kind(text)
    if kind:
        return Prediction(kind, 0.99, language, False)
    word = bare_word(text)
    for words, label in ((_CONFIRM, "confirm"), (_CANCEL, "cancel"), (_RESCHEDULE, "reschedule"), (_THANKS, "thanks")):
        if word in words:
            return Prediction(label, 0.95, language, label in STAFF_INTENTS)
    return Prediction("other", 0.3, language, True)
