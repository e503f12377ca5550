"""One reading of an inbound text, made once and passed along every stage of the agent
(safety, consent keywords, model, LLM tier, action): canonical text, tokens, language, keyword.

Nothing downstream normalises again; each stage reads the fields it needs from `InboundText`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from careloop.agent.features import CANON, normalize, tokens
from careloop.sms.keywords import bare_word, keyword_kind

_WORD = re.compile(r"[a-z]+")

_ES_WORDS = frozenset((  # noqa: SIM905 (a word list reads better as text)
    "que de la el los las por favor para con mi mis su sus cita citas gracias hola quiero "
    "necesito puedo tengo manana hoy es esta estoy voy llego tarde ya muy pero donde cuando cual "
    "como hora horario abren cierran dolor muela me mas nos ahi alli estare estaremos bueno "
    "buenos buenas dias tardes noches senora senor medicina receta seguro cuanto debo pagar "
    "llamen llamenme hablar ayuda mensajes mensaje una un del al se le lo sangre sangrando fiebre "
    "bebe hijo hija mama papa esposo esposa si claro vemos confirmo cancelar cambiar otra otro "
    "dia semana proxima viernes lunes martes miercoles jueves sabado domingo tiene tienen hay "
    "esto quien habla numero equivocado resultados pastillas farmacia doctora podemos podria "
    "puede nada mejor siento perdon disculpe porque pa aqui aca tambien todavia recordatorio "
    "recordatorios textos vida morir hinchada hinchado respirar pecho embarazada ustedes todo "
    "todos cosas familia hijos nunca siempre despues antes hacer tambien bien mal"
).split())
_EN_WORDS = frozenset((  # noqa: SIM905
    "the i you my is are to for and can will be there please thanks thank appointment what when "
    "where do it have need this that your we am not see time open could would should just get got "
    "about how tomorrow today week next call back late running sorry with from they our at on in "
    "of an was were yes hi hey okay ok im dont cant wont bill pay insurance pain tooth help stop "
    "text texts who"
).split())
_ES_SHORT = frozenset(("alto", "parar", "baja", "ayuda", "si"))


def canonical(norm: str) -> str:
    """Normalised text with SMS abbreviations expanded, punctuation kept (what rules read)."""
    return _WORD.sub(lambda m: CANON.get(m.group(), m.group()), norm)


def detect_language(norm: str) -> str:
    """"es" when Spanish words outweigh English ones (Spanglish leans Spanish), else "en"."""
    toks = _WORD.findall(norm)
    if not toks:
        return "en"
    es = sum(1 for t in toks if t in _ES_WORDS)
    en = sum(1 for t in toks if t in _EN_WORDS)
    if len(toks) <= 2 and any(t in _ES_SHORT for t in toks):
        return "es"
    return "es" if es * 1.3 > en and es > 0 else "en"


@dataclass(frozen=True)
class InboundText:
    raw: str  # as the patient wrote it
    norm: str  # lower case, no accents or apostrophes, meaningful emoji as words
    canon: str  # norm with abbreviations expanded: what the rule layers match
    tokens: tuple[str, ...]  # canonical word tokens (numbers bucketed): what the model reads
    language: str  # "en" | "es"
    keyword: str | None  # carrier keyword: "opt_out" | "opt_in" | "help" | None
    bare: str  # upper-case words only (for whole-message replies)

    @property
    def empty(self) -> bool:
        return not self.canon.strip()


def read(text: str) -> InboundText:
    """The one normalisation of an inbound text."""
    raw = text if isinstance(text, str) else ""
    norm = normalize(raw)
    canon = canonical(norm)
    return InboundText(raw=raw, norm=norm, canon=canon, tokens=tuple(tokens(norm)),
                       language=detect_language(norm), keyword=keyword_kind(raw), bare=bare_word(canon))
