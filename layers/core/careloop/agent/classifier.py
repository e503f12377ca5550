"""Intent classifier for inbound patient texts (the 18 labels of spec/intents.md), EN and ES.

Three layers, in order: a recall-first safety layer (`safety`: urgent, opt-out), exact short
replies and consent keywords, then a logistic-regression model over word and character
features whose calibrated probabilities are reconciled with the explicit cues (`cues`) by the
priority rules of intents.md. Nothing heavy is imported, and the weights load on first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from careloop.agent import cues as _cues
from careloop.agent import features as _features
from careloop.agent import model as _model
from careloop.agent import safety
from careloop.agent.patterns import lazy
from careloop.sms.keywords import bare_word, keyword_kind

LABELS = (
    "confirm", "cancel", "reschedule", "book", "running_late", "hours", "location", "insurance",
    "billing", "refill", "results", "urgent", "opt_out", "opt_in", "help", "human", "thanks", "other",
)
# Intents the agent hands to a person ("what the agent does" in intents.md): cancel (tell
# staff), running_late (tell staff), insurance (beyond the profile's facts), billing, refill
# and results (clinical team), urgent, human and other.
STAFF_INTENTS = {"cancel", "billing", "refill", "results", "urgent", "human", "other", "insurance", "running_late"}
CONFIDENCE_THRESHOLD = 0.6

# Any model probability of urgent / opt_out at least this high is treated as that intent
# (recall first: a doubt goes to staff as urgent rather than being answered automatically).
URGENT_BACKSTOP = 0.30
OPT_OUT_BACKSTOP = 0.45

# Confidence reported for rule decisions (their precision on the training split).
RULE_CONFIDENCE = {"keyword": 0.99, "urgent": 0.97, "opt_out": 0.97, "short": 0.96, "opt_in": 0.93}


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    language: str
    escalate: bool
    urgent_kind: str | None = None  # "self_harm" | "medical" | None
    reason: str = ""
    details: dict = field(default_factory=dict)


# --- language ------------------------------------------------------------------------------
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
    "recordatorios textos vida morir hinchada hinchado respirar pecho embarazada"
).split())
_EN_WORDS = frozenset((  # noqa: SIM905
    "the i you my is are to for and can will be there please thanks thank appointment what when "
    "where do it have need this that your we am not see time open could would should just get got "
    "about how tomorrow today week next call back late running sorry with from they our at on in "
    "of an was were yes hi hey okay ok im dont cant wont bill pay insurance pain tooth help stop "
    "text texts who"
).split())


def detect_language(text: str) -> str:
    """"es" when Spanish words outweigh English ones (Spanglish leans Spanish), else "en"."""
    toks = re.findall(r"[a-z]+", _features.normalize(text))
    es = sum(1 for t in toks if t in _ES_WORDS)
    en = sum(1 for t in toks if t in _EN_WORDS)
    if not toks:
        return "en"
    if any(t in ("alto", "parar", "baja", "ayuda", "si") for t in toks) and len(toks) <= 2:
        return "es"
    return "es" if es * 1.3 > en and es > 0 else "en"


# --- short replies ---------------------------------------------------------------------------
_SHORT = {
    "confirm": {"Y", "YES", "YEP", "YUP", "YEAH", "YEA", "YA", "YE", "YAS", "YESS", "YSE", "C", "CONFIRM",
                "CONFIRMED", "CONFIRMING", "SI", "SII", "SIP", "SIMON", "CLARO", "CONFIRMO", "CONFIRMADO",
                "YES CONFIRM", "YES CONFIRMED", "C THANKS", "Y THANKS", "YES THANKS", "YES PLEASE", "SI GRACIAS",
                "YES SIR", "YES MAAM", "YESSIR", "YES YES", "YES YES YES", "SI SI", "OK YES", "OK CONFIRMED", "YES OK",
                "DEFINITELY", "ABSOLUTELY", "YES 100", "SI CONFIRMO", "CONFIRM PLEASE"},
    "cancel": {"CANCELL", "CANCLE", "CANSEL", "CANCEL APPT", "CANCEL APPOINTMENT", "N", "NO", "NOPE", "NAH", "NO THANKS", "NO THANK YOU", "NO GRACIAS", "NEL", "NOO", "NO SORRY", "N SORRY"},
    "reschedule": {"R", "R PLEASE", "RESCHEDULE", "RESCHEDULE PLEASE", "REPROGRAMAR", "CAMBIAR", "CAMBIAR CITA"},
    "thanks": {"OK", "K", "KK", "OKAY", "OKK", "OKI", "OKIE", "THANKS", "THANK YOU", "THX", "TY", "TYSM", "TYVM",
               "GRACIAS", "OK THANKS", "OK THANK YOU", "OK GRACIAS", "MUCHAS GRACIAS", "GOT IT", "NOTED",
               "COOL", "GREAT", "PERFECT", "ALRIGHT", "SOUNDS GOOD", "WILL DO", "ROGER", "10 4", "GRAX", "NO PROBLEM",
               "NP", "LOL OK", "DE ACUERDO", "ENTENDIDO", "TX", "OK GREAT", "OK COOL", "OK SOUNDS GOOD", "OK GOT IT",
               "VALE", "LISTO", "SALE", "OK PERFECTO", "PERFECTO", "EXCELENTE", "GOTCHA", "AWESOME", "NICE", "ESTA BIEN",
               "OK ESTA BIEN", "BUENO", "ESTA BIEN GRACIAS", "OK BUENO"},
    "other": {"HI", "HELLO", "HEY", "HOLA", "HI THERE", "HELLO THERE", "GOOD MORNING", "GOOD AFTERNOON", "GOOD EVENING",
              "BUENOS DIAS", "BUENAS TARDES", "BUENAS NOCHES", "BUENAS", "HOLA BUENAS", "TEST", "HELLO ANYONE THERE"},
    "opt_in": {"START", "UNSTOP", "RESUME", "SUBSCRIBE", "START AGAIN", "UNSTOP ME"},
    "human": {"AGENT", "REPRESENTATIVE", "OPERATOR", "HUMAN", "PERSON", "REAL PERSON", "CALL ME"},
    "help": {"HELP", "INFO", "AYUDA", "MORE INFO", "WHO IS THIS", "WHO DIS", "WHO IS DIS", "WHO R U", "WHO ARE YOU", "QUIEN ES", "QUIEN HABLA", "HUH"},
}
_SHORT_LOOKUP = {w: label for label, words in _SHORT.items() for w in words}
_POSITIVE_EMOJI = lazy(r"^(?:emo_(?:ok|pray|happy)\s*)+$")
_CHECK_EMOJI = lazy(r"^(?:emo_check\s*)+$")

# Clear wording that asks for texts again (START / UNSTOP are keywords, a bare YES is not).
OPT_IN = lazy(
    r"\b(?:text|message|txt|remind) me again\b|\b(?:texts?|messages?|reminders?) (?:again|back on)\b"
    r"|\b(?:start|resume|restart) (?:sending|texting|getting|receiving)\b|\b(?:resume|restart|reactivate) (?:my |the )?(?:text|texts|reminders|messages|sms)\b|\bopt (?:me )?(?:back )?in\b|\bresubscribe\b|\bre subscribe\b"
    r"|\bsign me (?:back )?up\b|\b(?:turn|put) (?:\w+ ){0,3}back on\b|\badd me back\b|\bback on the (?:\w+ )?list\b"
    r"|\b(?:start|resume) (?:texts|again)\b|\b(?:by mistake|accidentally|didnt mean to|did not mean to)\b|\bme equivoque\b|\bpor error\b|\bwant (?:to (?:get|receive) )?(?:the )?(?:text )?(?:reminders|texts|messages) (?:again|back)\b"
    r"|\b(?:would|id|i would) like to (?:receive|get) (?:text )?(?:reminders|texts|messages)\b|\bwant (?:the )?(?:\w+ )?(?:reminders|texts|messages) back\b|\bopt in\b|\bsubscribe\b(?! me from)"
    r"|\b(?:recibir|mandarme|mandenme|enviarme|envienme) (?:\w+ ){0,3}(?:otra vez|de nuevo)\b|\bvolver a recibir\b|\bvuelvan a (?:mandar|enviar)"
    r"|\b(?:otra vez|de nuevo)\b.*\b(?:mensajes|recordatorios|textos)\b|\b(?:mensajes|recordatorios|textos)\b.*\b(?:otra vez|de nuevo)\b"
    r"|\bsi quiero (?:recibir )?(?:los )?(?:mensajes|recordatorios|textos)\b|\bpueden (?:mandarme|enviarme|escribirme)\b"
    r"|\byou (?:can|may) (?:now )?(?:send|text)\b|\b(?:ok|okay) to (?:text|send)\b|\bplease (?:text|send) (?:me )?(?:the )?reminders\b"
)


_POLITE = lazy(r"^(?:PLEASE|PLS|OK|OH|UM|HI|HEY) |(?: (?:PLEASE|PLS|PLZ|POR FAVOR|PORFA|THANKS|THANK YOU|GRACIAS|THX|TY))+$")
_EMO_ONLY = lazy(r"^(?:emo_\w+\s*)+$")


# The model's urgent / opt-out doubts count only next to words of distress / of contact.
_DISTRESS = lazy(
    r"pain|hurt|ache|bleed|blood(?! pressure| work| test| sugar| draw)|swell|swollen|fever|breath|chest|dizz|faint|vomit|throw\w* up|numb|\bdie\b|dead|"
    r"death|hospital|\ber\b|911|emergenc(?!y contact)|urgent|sick|worse|bad|severe|awful|terrible|help|scared|afraid|hopeless|"
    r"dolor|duele|sangr|fiebre|calentura|hinch|respir|mareo|mareado|desmay|morir|muert|emergencia|urgente|ayuda|peor"
)
# Complaints about the number of texts are `other`, not a request to stop.
_COMPLAINT = lazy(r"\bwrong (?:number|person)\b|\bnumero equivocado\b|\bse equivoc|\b(?:why|por que|porque)\b.*\b(?:so many|so much|tantos|tanto|again|keep|twice|\d+ times)\b|\btoo many\b|\bso many\b|\btantos\b")
_CONTACT = lazy(
    r"text|txt|messag|msg|remind|notif|number|list|stop|unsub|contact|alert|sms|mensaj|recordatorio|numero|lista|baja|alto|escrib|mand"
)


def _short_reply(text: str, canon: str) -> str | None:
    """Whole-message replies: Y / C / SI, N / NO, R, OK / K / thanks, emoji only, "??"."""
    stripped = re.sub(r"[^\w\s]", " ", canon).strip()
    if not stripped:
        return "help" if "?" in text else None
    if _EMO_ONLY.match(stripped):
        if _CHECK_EMOJI.match(stripped):
            return "confirm"
        return "thanks" if _POSITIVE_EMOJI.match(stripped) else None
    stripped = re.sub(r"\s*emo_\w+", "", stripped).strip()
    word = bare_word(stripped)
    label = _SHORT_LOOKUP.get(word)
    if label is None:
        word = _POLITE.sub("", word).strip()
        label = _SHORT_LOOKUP.get(word) if word else None
    return label


# --- the classifier ------------------------------------------------------------------------
def _result(intent: str, confidence: float, language: str, reason: str, urgent_kind: str | None = None,
            details: dict | None = None) -> Prediction:
    escalate = intent in STAFF_INTENTS or confidence < CONFIDENCE_THRESHOLD
    return Prediction(intent, round(confidence, 4), language, escalate, urgent_kind, reason, details or {})


def classify(text: str, model: _model.IntentModel | None = None) -> Prediction:
    """Label one inbound text. `model` is for the trainer's cross-validation; the agent and
    `careloop classify` always use the shipped weights."""
    text = text if isinstance(text, str) else ""
    canon = safety.canonical(text)
    language = detect_language(text)
    if not canon.strip():
        return _result("other", 0.3, language, "empty message")

    hit = safety.urgent(canon)
    if hit:
        return _result("urgent", RULE_CONFIDENCE["urgent"], language, hit.reason, hit.kind)
    hit = safety.opt_out(text, canon)
    if hit:
        return _result("opt_out", RULE_CONFIDENCE["opt_out"], language, hit.reason)
    kind = keyword_kind(text)
    if kind:
        return _result(kind, RULE_CONFIDENCE["keyword"], language, "carrier keyword")
    short = _short_reply(text, canon)
    if short:
        return _result(short, RULE_CONFIDENCE["short"], language, "short reply")
    if OPT_IN.search(canon):
        return _result("opt_in", RULE_CONFIDENCE["opt_in"], language, "asks for texts again")

    found = _cues.cue_labels(canon)
    feats = _features.features(text, found, _cues.weak_labels(canon))
    scorer = model or _model.load()
    known, words = scorer.known_words(feats)
    if words and not known and not found:
        return _result("other", 0.2, language, "no word the model knows")
    probs = scorer.probabilities(feats)
    if probs["urgent"] >= URGENT_BACKSTOP and _DISTRESS.search(canon) and not safety.mild(canon):
        return _result("urgent", max(probs["urgent"], 0.5), language, "model: possibly urgent", "medical")
    if probs["opt_out"] >= OPT_OUT_BACKSTOP and _CONTACT.search(safety.without_traps(canon)) \
            and not _COMPLAINT.search(canon) and not safety.keeps_texts(canon):
        return _result("opt_out", probs["opt_out"], language, "model: possibly asks to stop texts")
    # urgent / opt_out / opt_in are the rules' to decide; a label the text negates cannot win
    probs = _without(probs, ("urgent", "opt_out", "opt_in") + _cues.negated_labels(canon))
    intent, reason = resolve(probs, found)
    confidence = probs[intent] if reason == "model" else max(probs[intent], PRIORITY_CONFIDENCE)
    return _result(intent, confidence, language, reason, details={"cues": list(found)})


def warm() -> None:
    """Load the weights and compile the patterns now (e.g. in a Lambda's init phase) instead of
    on the first inbound text. Importing this module never does it."""
    classify("warm up: can I move my appointment?")


def _without(probs: dict[str, float], labels: tuple[str, ...]) -> dict[str, float]:
    rest = 1.0 - sum(probs[x] for x in labels)
    if rest <= 1e-9:
        return {k: (0.0 if k in labels else 1.0 / (len(probs) - len(labels))) for k in probs}
    return {k: (0.0 if k in labels else v / rest) for k, v in probs.items()}


def resolve(probs: dict[str, float], found: tuple[str, ...]) -> tuple[str, str]:
    """The model's label, unless the text also carries an explicit cue of higher priority
    (intents.md: appointment changes > specific requests > human > confirm > help > thanks),
    or of the same priority group while the model's label has no cue of its own."""
    best = max(probs, key=probs.get)
    rank = _cues.GROUP_RANK
    candidates = [c for c in found if rank[c] < rank[best] or (rank[c] == rank[best] and best not in found)]
    candidates = [c for c in candidates if c != best]
    if not candidates:
        return best, "model"
    top = min(candidates, key=lambda c: (rank[c], -probs[c]))
    return top, f"priority: {top} over {best}"


# Measured accuracy of priority decisions in cross-validation (see tests/corpus/train.py).
PRIORITY_CONFIDENCE = 0.9
