"""Concept lexicon of the safety layer: words and stems (EN / ES) grouped by what they signal,
taken from the 988 Lifeline's warning signs, the C-SSRS items and the ADA / MedlinePlus / AHA
emergency lists. Each group is one model feature ("lex:finality"), so a phrasing never seen in
training still lights the concept through any of its words: that is how the models generalise
from "goodbye" to "adios" to "bye forever" and from "bridge" to "puente"."""

from __future__ import annotations

# group -> words (canonical tokens) or stems (ending in "*")
GROUPS: dict[str, tuple[str, ...]] = {
    # 988: saying goodbye, no future, "won't be needed"
    "finality": ("goodbye", "bye", "farewell", "adios", "forever", "siempre", "last", "ultima", "ultimo", "gone",
                 "over", "done", "decided", "decidido", "arrangements", "estate", "loose", "ends", "cielo", "heaven",
                 "mundo", "world", "existir", "exist", "existing", "remember", "recuerden", "despido", "despedir*",
                 "forgive", "estuvo", "never", "nunca", "irme", "decision", "decidi", "peace", "paz",
                 "plan", "ganas", "vivir", "viviendo", "living", "alive", "desped*", "hoping", "still"),
    # C-SSRS: method and means
    "means": ("bridge", "puente", "edge", "orilla", "gun", "guns", "pistola", "arma", "rope", "cuerda", "soga",
              "pills", "pastillas", "bottle", "frasco", "garage", "cochera", "engine", "blade",
              "navaja", "razor", "knife", "cuchillo", "jump", "aventar", "tracks", "vias", "rooftop", "overpass", "cliff",
              "overdose", "sobredosis", "percs", "xanax", "lighter", "encendedor", "poison", "veneno"),
    # 988: hopeless, worthless, a burden, trapped, unbearable
    "worthless": ("worthless", "waste", "burden", "carga", "estorbo", "sirvo", "nothing", "nada", "useless", "inutil",
                  "failure", "fracaso", "deserve", "merezco", "merecer*", "castig*", "punish*", "hate", "odio", "worth",
                  "vale", "valgo", "hopeless", "esperanza", "future", "futuro", "point", "sentido", "caso", "trapped",
                  "atrapad*", "relief", "alivio", "tired", "cansad*", "exhausted", "harto", "harta"),
    # C-SSRS: self-harm acts
    "self_injury": ("cutting", "cut", "cortando", "corte", "cortes", "burning", "quemando", "quemo", "scratch*",
                    "rasguñ*", "bled", "sangrar", "blood", "sangre", "hit", "pegue", "golpe*", "myself", "herself",
                    "himself", "mismo", "misma", "unalive", "safe", "seguro", "segura", "harm", "dano", "lastim*"),
    # medical: breathing, heart, neuro, consciousness
    "cardio_neuro": ("chest", "pecho", "heart", "corazon", "breath*", "breathe", "respir*", "aire", "faint*", "desmay*",
                     "dizzy", "mareo", "mareado", "mareada", "numb", "dormid*", "entumid*", "weak", "debil", "slurr*",
                     "chueca", "crooked", "droop*", "blurry", "borros*", "double", "doble", "vision", "vista", "confus*",
                     "seizure", "convuls*", "collapse*", "unresponsive", "pressure", "presion", "racing", "pounding"),
    # medical: bleeding, pregnancy, infants, fever, poisoning, allergy
    "acute_body": ("bleeding", "sangrando", "sangrado", "vomit*", "vomitando", "throwing", "fever", "fiebre", "calentura",
                   "temp", "temperature", "hot", "weeks", "semanas", "semanitas", "newborn", "recien", "baby", "bebe",
                   "pregnant", "embarazada", "cramps", "colicos", "swallowed", "trago", "drank", "tomo", "batteries",
                   "pilas", "bleach", "cloro", "hives", "ronchas", "swelling", "hinch*", "inflamad*", "swollen",
                   "ketones", "cetonas", "sugar", "azucar", "glucose", "glucosa", "screaming", "gritando"),
    # dental trauma and infection
    "dental_acute": ("knocked", "tumbo", "salio", "cayo", "root", "raiz", "milk", "leche", "jaw", "quijada", "mandibula",
                     "cheek", "cachete", "mejilla", "eye", "ojo", "neck", "cuello", "pus", "abscess", "absceso",
                     "extraction", "extraccion", "conducto", "canal", "crown", "corona", "globo", "balloon", "spreading"),
    # intensity
    "intensity": ("worst", "peor", "severe", "horrible", "awful", "terrible", "unbearable", "insoportable", "screaming",
                  "sudden*", "repente", "worse", "empeor*", "bigger", "grande", "all", "night",
                  "everywhere", "gacho", "loca", "loco", "killing", "matando"),
}

_EXACT: dict[str, tuple[str, ...]] = {}
_STEMS: list[tuple[str, str]] = []
for _group, _words in GROUPS.items():
    for _w in _words:
        if _w.endswith("*"):
            _STEMS.append((_w[:-1], _group))
        else:
            _EXACT[_w] = (*_EXACT.get(_w, ()), _group)


def concepts(tokens: tuple[str, ...] | list[str]) -> dict[str, int]:
    """How many words of each group the text holds."""
    out: dict[str, int] = {}
    for tok in tokens:
        groups = _EXACT.get(tok)
        if groups is None and len(tok) > 3:
            groups = tuple(g for stem, g in _STEMS if tok.startswith(stem))
        for g in groups or ():
            out[g] = out.get(g, 0) + 1
    return out
