"""Text normalisation and feature extraction for the intent model, shared by the build-time
trainer and the run-time scorer so that both see exactly the same features."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from careloop.agent.lexicon import concepts

if TYPE_CHECKING:
    from careloop.agent.text import InboundText

# Emoji that carry meaning in patient replies; every other pictograph becomes "emo".
_EMOJI = {
    "👍": "emo_ok", "👌": "emo_ok", "✅": "emo_check", "✔": "emo_check", "☑": "emo_check",
    "🙏": "emo_pray", "😊": "emo_happy", "🙂": "emo_happy", "😁": "emo_happy", "😀": "emo_happy",
    "😃": "emo_happy", "😄": "emo_happy", "🥰": "emo_happy", "😍": "emo_happy", "❤": "emo_happy",
    "💙": "emo_happy", "💕": "emo_happy", "🙌": "emo_happy", "😅": "emo_happy", "😂": "emo_happy",
    "🤣": "emo_happy", "😘": "emo_happy", "🎉": "emo_happy",
    "😡": "emo_angry", "🙄": "emo_angry", "😤": "emo_angry", "🤬": "emo_angry", "😠": "emo_angry",
    "😭": "emo_sad", "😢": "emo_sad", "😞": "emo_sad", "☹": "emo_sad", "🙁": "emo_sad", "😩": "emo_sad",
    "😔": "emo_sad", "🤒": "emo_sick", "🤕": "emo_sick", "😷": "emo_sick", "🤢": "emo_sick",
    "🛑": "emo_stop", "✋": "emo_stop", "🚫": "emo_stop", "⛔": "emo_stop", "👋": "emo_bye",
    "🚗": "emo_car", "🚙": "emo_car", "🚕": "emo_car", "🚌": "emo_car", "💨": "emo_car", "🏃": "emo_car",
    "⏰": "emo_clock", "🕐": "emo_clock", "⌚": "emo_clock", "🦷": "emo_tooth", "🩸": "emo_blood",
    "🤰": "emo_pregnant", "🫄": "emo_pregnant", "🆘": " sos ", "🚑": " ambulance ",
    "💊": "emo_pill", "🤷": "emo_shrug", "❓": "?", "❔": "?", "‼": "!", "❗": "!",
}

# Spellings, SMS abbreviations and common typos, mapped to one canonical word (EN and ES).
CANON = {
    # appointments and time
    "appt": "appointment", "appts": "appointment", "apt": "appointment", "apts": "appointment",
    "appointmnt": "appointment", "appoinment": "appointment", "appointement": "appointment",
    "appoitment": "appointment", "appointments": "appointment", "appt's": "appointment",
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow", "tomorow": "tomorrow",
    "tommorow": "tomorrow", "tommorrow": "tomorrow", "2morrow": "tomorrow", "2moro": "tomorrow",
    "tmw": "tomorrow", "2day": "today", "tdy": "today", "2nite": "tonight", "tonite": "tonight",
    "wk": "week", "wks": "weeks", "nxt": "next", "mins": "min", "minutes": "min", "minute": "min",
    "hr": "hour", "hrs": "hours", "mon": "monday", "tues": "tuesday", "tue": "tuesday",
    "wed": "wednesday", "thurs": "thursday", "thur": "thursday", "thu": "thursday", "fri": "friday",
    "sat": "saturday", "sun": "sunday", "l8": "late", "l8r": "later", "omw": "on my way",
    "asap": "asap",
    # chat speak
    "u": "you", "ur": "your", "urself": "yourself", "yurself": "yourself", "myslef": "myself", "mysef": "myself", "youre": "you are", "pls": "please", "plz": "please",
    "plzz": "please", "pleas": "please", "pleeze": "please", "thx": "thanks", "thnx": "thanks",
    "thanx": "thanks", "thnks": "thanks", "thks": "thanks", "tks": "thanks", "ty": "thank you",
    "tyvm": "thank you", "thankyou": "thank you", "thanku": "thank you", "b": "be", "ther": "there",
    "thr": "there", "cn": "can", "sum1": "someone", "some1": "someone", "smth": "something",
    "bc": "because", "cuz": "because", "coz": "because", "abt": "about", "w": "with", "wat": "what",
    "wht": "what", "whats": "what is", "whos": "who is", "wheres": "where is", "wut": "what", "dis": "this", "da": "the",
    "y'all": "you", "yall": "you", "im": "i am", "ive": "i have", "ill": "i will",
    "hv": "have", "gonna": "going to", "wanna": "want to", "gotta": "have to",
    "cant": "cant", "cannot": "cant", "dont": "dont", "wont": "wont", "didnt": "didnt",
    "doesnt": "doesnt", "isnt": "isnt", "hasnt": "hasnt", "havent": "havent", "shouldnt": "shouldnt",
    "yep": "yes", "yup": "yes", "yeah": "yes", "yea": "yes", "ye": "yes", "yas": "yes",
    "yess": "yes", "yse": "yes", "yessir": "yes", "nope": "no", "nah": "no", "noo": "no",
    "okay": "ok", "okey": "ok", "oki": "ok", "okie": "ok", "okk": "ok", "kk": "k",
    # domain words
    "dr": "doctor", "doc": "doctor", "rx": "prescription", "script": "prescription",
    "meds": "medication", "med": "medication", "medicine": "medication", "medications": "medication",
    "refil": "refill", "refils": "refill", "refills": "refill", "resched": "reschedule",
    "reschdule": "reschedule", "rescedule": "reschedule", "reshedule": "reschedule",
    "rescheduel": "reschedule", "reschedual": "reschedule", "cancle": "cancel", "cansel": "cancel",
    "cancell": "cancel", "cxl": "cancel", "cncl": "cancel", "canel": "cancel", "cancl": "cancel",
    "cancelled": "canceled", "cancelling": "canceling", "adress": "address", "addy": "address",
    "addr": "address", "ins": "insurance", "insurence": "insurance", "insurace": "insurance",
    "bal": "balance", "pymt": "payment", "pmt": "payment", "bcbs": "blue cross", "uhc": "united",
    "labs": "lab", "bloodwork": "blood work", "xray": "x ray", "xrays": "x ray", "x-ray": "x ray",
    "confrim": "confirm", "conform": "confirm", "comfirm": "confirm", "confirmd": "confirmed",
    "confrimed": "confirmed", "clening": "cleaning", "cleanin": "cleaning", "runnin": "running",
    "runing": "running", "breath": "breathe", "stoppp": "stop",
    "stopp": "stop", "st0p": "stop", "unsub": "unsubscribe", "unsubcribe": "unsubscribe",
    "unsuscribe": "unsubscribe", "unsubscibe": "unsubscribe", "strat": "start",
    "pharm": "pharmacy", "bp": "blood pressure",
    # Spanish spellings and SMS forms
    "q": "que", "xq": "porque", "pq": "porque", "porq": "porque", "xfa": "por favor",
    "porfa": "por favor", "porfavor": "por favor", "pf": "por favor", "grax": "gracias",
    "grasias": "gracias", "grcs": "gracias", "gracia": "gracias", "msj": "mensaje",
    "msjs": "mensajes", "mjs": "mensajes", "kiero": "quiero", "qiero": "quiero", "sita": "cita",
    "zita": "cita", "kita": "cita", "citas": "cita", "nesecito": "necesito", "nececito": "necesito",
    "medisina": "medicina", "medecina": "medicina", "dnd": "donde",
    "kedan": "quedan", "aki": "aqui", "aka": "aca", "tmb": "tambien", "tb": "tambien",
    "mnn": "manana", "mñn": "manana", "pa": "para", "pal": "para el", "kien": "quien",
    "sii": "si", "siii": "si", "sip": "si", "nel": "no", "camviar": "cambiar",
    "mober": "mover", "avail": "available", "mov": "move", "kancelar": "cancelar", "aseguranza": "seguro", "aseguransa": "seguro",
    "xfavor": "por favor",
}

_NEGATORS = {"not", "dont", "doesnt", "didnt", "never", "wont", "isnt", "no", "nunca", "ni", "without", "sin"}
_WE_D = re.compile(r"\bwe['’]d\b")
_APOSTROPHE = re.compile(r"[’'`´]")
_TOKEN = re.compile(r"emo_[a-z]+|[a-z]+|\d+(?::\d+)?(?:am|pm)?|[?!$]")
_REPEAT = re.compile(r"([a-z])\1{2,}")
_SPACES = re.compile(r"\s+")


def strip_accents(text: str) -> str:
    t = unicodedata.normalize("NFKD", text)
    return "".join(c for c in t if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lower-case, accent-free text with meaningful emoji as words and repeats squeezed.
    `ñ` becomes `n` (accents dropped) so `manana` and `mañana` meet."""
    out = []
    for ch in text or "":
        if ch in _EMOJI:
            out.append(f" {_EMOJI[ch]} ")
        elif ord(ch) >= 0x2190 and unicodedata.category(ch) in ("So", "Sk", "Cn"):
            out.append(" emo ")
        elif ch in "\ufe0f\u200d" or 0x1F3FB <= ord(ch) <= 0x1F3FF:
            continue  # variation selectors, skin tones
        else:
            out.append(ch)
    t = strip_accents("".join(out)).lower()
    t = _WE_D.sub("we would", t)  # "we'd" would read as "wed" (Wednesday) once apostrophes go
    t = _APOSTROPHE.sub("", t)
    t = _REPEAT.sub(r"\1\1", t)
    return _SPACES.sub(" ", t).strip()


def tokens(norm: str) -> list[str]:
    """Canonical word tokens of normalised text (abbreviations expanded, numbers bucketed)."""
    out: list[str] = []
    for raw in _TOKEN.findall(norm):
        if raw[0].isdigit():
            if ":" in raw or raw.endswith(("am", "pm")):
                out.append("<time>")
            else:
                out.append("<num>")
            continue
        canon = CANON.get(raw, raw)
        if " " in canon:
            out.extend(canon.split())
        else:
            out.append(canon)
    return out


# Feature groups are weighted: character n-grams are many and individually weak, the explicit
# cues are few and strong. The trainer folds these values into the shipped weights; the scorer
# only needs them for the length normalisation (`norm`).
CHAR_WEIGHT = 0.3
CUE_WEIGHT = 2.0


def value(feature: str) -> float:
    if feature.startswith("c:"):
        return CHAR_WEIGHT
    if feature.startswith(("cue:", "sign:", "lex:")):
        return CUE_WEIGHT
    return 1.0


def norm(feats: list[str]) -> float:
    """1 / L2 norm of the weighted binary feature vector."""
    total = 0.0
    for f in feats:
        v = value(f)
        total += v * v
    return 1.0 / total ** 0.5 if total else 0.0


def features(t: InboundText, cue_labels: tuple[str, ...] = (), weak_labels: tuple[str, ...] = (),
             signs: tuple[str, ...] = ()) -> list[str]:
    """Sparse binary features of one read text: words, word stems (five letters: "hinch",
    "overd"), negation-marked words, bigrams, char n-grams of each word (robust to typos), a few
    shape features, the cue labels of the intent rules and the warning signs of the safety layer
    (in scope or not), so both models read the same clinical concepts the rules do."""
    toks = t.tokens
    feats: set[str] = set()
    words = [w for w in toks if w not in ("?", "!", "$")]
    negate = 0
    prev = "<s>"
    for w in toks:
        if w in ("?", "!", "$"):
            feats.add("p:" + w)
            negate = 0
            continue
        feats.add("w:" + w)
        if negate:
            feats.add("n:" + w)
            negate -= 1
        if w in _NEGATORS:
            negate = 3
        feats.add(f"b:{prev}_{w}")
        prev = w
        if len(w) > 5 and not w.startswith(("<", "emo")):
            feats.add("s:" + w[:5])
        if len(w) > 2 and not w.startswith(("<", "emo")):
            padded = f"<{w}>"
            for n in (3, 4):
                for i in range(len(padded) - n + 1):
                    feats.add("c:" + padded[i:i + n])
    if words:
        feats.add(f"b:{prev}_</s>")
        feats.add("first:" + words[0])
    n = len(words)
    feats.add("len:" + ("0" if n == 0 else "1" if n == 1 else "2" if n <= 3 else "3" if n <= 8 else "4" if n <= 20 else "5"))
    for label in cue_labels:
        feats.add("cue:" + label)
    for label in weak_labels:
        feats.add("weak:" + label)
    for sign in signs:
        feats.add("sign:" + sign)
    found = concepts(toks)
    for group, count in found.items():
        feats.add(f"lex:{group}")
        if count > 1:
            feats.add(f"lex:{group}>1")
    groups = sorted(found)
    for i, a in enumerate(groups):  # concepts together mean more than apart ("means" + "finality")
        for b in groups[i + 1:]:
            feats.add(f"lex:{a}+{b}")
    return sorted(feats)
