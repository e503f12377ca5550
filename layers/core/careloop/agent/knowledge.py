"""Answers from the practice's own knowledge: a scored retrieval over the profile's entries.

Each entry's example questions (both languages) and answer are read the way inbound texts are
(canonical tokens, five-letter stems, stop words out) and weighted by how rare each stem is among
the entries. A text is answered from an entry only when one matches well: the classifier's topic
(hours, location, insurance...) picks among that topic's entries, and any other question needs a
similarity of `THRESHOLD`. The answer is the entry's own text in the patient's language; without
that translation the text goes to staff.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from careloop.agent.text import read
from careloop.practice import KnowledgeEntry, PracticeProfile

THRESHOLD = 0.3  # cosine similarity a question must reach without a topic from the classifier
STRONG = 0.5  # ... and the similarity at which it is answered even when the classifier was unsure
MARGIN = 0.04  # ... and its lead over the best entry of another topic

# the classifier's label -> the entry topics it may be answered from
TOPICS_OF = {
    "hours": ("hours", "after_hours"), "location": ("location", "parking"), "insurance": ("insurance",),
    "billing": ("payment",), "book": ("new_patients", "services"),
    "other": ("services", "new_patients", "what_to_bring", "after_hours", "payment", "other"),
}
_STOP = frozenset((  # noqa: SIM905
    "the a an i you my your we our is are am be do does did to for of in on at and or it this that me "
    "can could would will what when where how who which there here please thanks thank hi hello hey "
    "el la los las un una de del que y o en es son mi mis su sus me te se le lo por para con a al "
    "como cual cuando donde quien hola gracias favor us they them is it if any some want know "
    # words every question at a practice uses: they say nothing about which entry answers it
    "guys u ur put get got just also really like ok okay dental dentist doctor office appointment appt "
    "visit cita consulta consultorio clinic practice ustedes pueden puedo puede tienen tiene hay have has "
    "with con mine mio ahi there one uno"
).split())


# Words patients use for the same thing, in both languages: each also counts as its concept, so
# "leave my car" meets "parking" and "mi nino" meets "children" (stems of five letters, or less).
_CONCEPTS = {
    "PARK": ("park", "parki", "parqu", "estac", "car", "carro", "coche", "auto", "garag", "lot"),
    "CHILD": ("kid", "kids", "child", "toddl", "baby", "babie", "nino", "nina", "ninos", "ninas", "hijo", "hija",
              "hijos", "bebe", "infan", "pedia", "son", "daugh", "peque"),
    "BRING": ("bring", "traer", "traig", "lleva", "llevo", "need"),
    "AGE": ("age", "edad", "anos", "old", "years"),
    "HOURS": ("open", "abren", "abier", "horar", "hours", "hour", "close", "cierr", "till"),
    "INSUR": ("insur", "segur", "asegu", "plan", "plans", "netwo", "cover", "cubre", "accep", "acept", "take"),
    "PAY": ("pay", "payme", "pagar", "pago", "pagos", "card", "cards", "tarje", "credi", "cash", "efect", "hsa", "fsa"),
    "SERV": ("impla", "white", "blanq", "brace", "freno", "invis", "canal", "endod", "extra", "wisdo", "juici",
             "crown", "coron", "filli", "empas", "clean", "limpi", "veneer", "carill"),
    "AFTER": ("emerg", "guard", "weeke", "fines", "call", "llamo", "llame", "night", "noche"),
    "NEW": ("new", "nuevo", "nueva", "first", "prime"),
    "ADDR": ("addre", "direc", "locat", "ubica", "calle", "stree", "queda", "floor", "piso", "eleva", "build", "edifi"),
}
_CONCEPT_OF = {stem: c for c, group in _CONCEPTS.items() for stem in group}


def stems(text: str) -> list[str]:
    out = []
    for t in read(text).tokens:
        if not t.isalpha() or t in _STOP or len(t) < 2:
            continue
        stem = (t[:-1] if len(t) > 3 and t.endswith("s") else t)[:5]  # "ninos" meets "nino"
        out.append(stem)
        concept = _CONCEPT_OF.get(stem) or _CONCEPT_OF.get(t[:4]) or _CONCEPT_OF.get(t[:3] if len(t) == 3 else "")
        if concept:
            out.append(concept)
    return out


@dataclass(frozen=True)
class Match:
    entry: KnowledgeEntry
    score: float


class KnowledgeIndex:
    def __init__(self, entries: Iterable[KnowledgeEntry]) -> None:
        self.entries = tuple(entries)
        docs = []
        for e in self.entries:
            texts = [q for qs in e.questions.values() for q in qs] + list(e.answer.values())
            docs.append([stems(t) for t in texts])
        df: dict[str, int] = {}
        for doc in docs:
            for stem in {s for text in doc for s in text}:
                df[stem] = df.get(stem, 0) + 1
        n = max(1, len(self.entries))
        self.idf = {s: math.log(1 + n / c) for s, c in df.items()}
        self.vectors = [[self._vector(text) for text in doc if text] for doc in docs]

    def _vector(self, toks: list[str]) -> dict[str, float]:
        v: dict[str, float] = {}
        for t in toks:
            v[t] = v.get(t, 0.0) + self.idf.get(t, math.log(3))
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {k: x / norm for k, x in v.items()}

    def scores(self, text: str) -> list[Match]:
        """Each entry's best cosine over its questions, discounted when the entry explains less
        than half of the question's weight (an unknown subject: "can I bring my dog")."""
        toks = stems(text)
        q = self._vector(toks)
        unseen = math.log(3)  # a word no entry uses weighs like a common one: it may be filler
        total = sum(self.idf.get(t, unseen) for t in set(toks)) or 1.0
        out = []
        for e, vecs in zip(self.entries, self.vectors, strict=True):
            best = 0.0
            for v in vecs:
                cosine = sum(w * v.get(k, 0.0) for k, w in q.items())
                coverage = sum(self.idf.get(t, unseen) for t in set(toks) if t in v) / total
                best = max(best, cosine if coverage >= 0.5 else cosine * coverage)
            out.append(Match(e, best))
        return sorted(out, key=lambda m: -m.score)

    def best(self, text: str, intent: str) -> Match | None:
        """The entry to answer from, or None (then a person answers)."""
        ranked = self.scores(text)
        topics = TOPICS_OF.get(intent, ())
        on_topic = [m for m in ranked if m.entry.topic in topics]
        if intent in ("hours", "location", "insurance") and on_topic:
            # the classifier named the topic: pick among its entries (the first topic when no word decides)
            top = on_topic[0]
            if top.score == 0.0:
                first = [m for m in on_topic if m.entry.topic == topics[0]]
                return first[0] if len(first) == 1 else None
            return top
        if not on_topic:
            return None
        top = on_topic[0]
        rival = next((m.score for m in ranked if m.entry.topic != top.entry.topic), 0.0)
        return top if top.score >= THRESHOLD and top.score - rival >= MARGIN else None


_indexes: dict[int, tuple[PracticeProfile, KnowledgeIndex]] = {}


def index_for(practice: PracticeProfile) -> KnowledgeIndex:
    """The index of a profile, built once per profile object (profiles are immutable)."""
    hit = _indexes.get(id(practice))
    if hit is None or hit[0] is not practice:
        if len(_indexes) > 16:
            _indexes.clear()
        hit = _indexes[id(practice)] = (practice, KnowledgeIndex(practice.knowledge_entries))
    return hit[1]
