"""Answers from the practice's own knowledge (issue #9, item 6): a scored retrieval over the
profile's entries, tested on paraphrases in both languages; a Spanish speaker gets the Spanish
entry; a missing translation or a question no entry answers goes to staff."""

from __future__ import annotations

from datetime import datetime

import pytest

from careloop.agent import inbound
from careloop.agent.classifier import classify
from careloop.agent.knowledge import KnowledgeIndex, index_for
from careloop.errors import ConfigError
from careloop.models import Appointment, Patient
from careloop.practice import KnowledgeEntry, demo_profile, parse_profile
from careloop.records import ingest
from tests.conftest import NY

# (text, the classifier's label for it, the entry that must answer) - paraphrases none of the
# entries' own example questions spell out
PARAPHRASES = [
    ("u guys open saturdays?", "hours", "hours"),
    ("till what time r u open on fridays", "hours", "hours"),
    ("hasta que hora atienden los viernes", "hours", "hours"),
    ("whats the street address of the office", "location", "address"),
    ("en que calle queda el consultorio", "location", "address"),
    ("any place to leave my car?", "location", "parking"),
    ("se puede estacionar ahi?", "location", "parking"),
    ("is MetLife one of the plans you accept", "insurance", "insurance"),
    ("do you guys put in dental implants", "other", "services"),
    ("ustedes hacen blanqueamiento?", "other", "services"),
    ("what age can my toddler start coming to you", "other", "kids"),
    ("a mi nino de 3 anos lo pueden atender?", "other", "kids"),
    ("what do I need to bring with me on my first visit", "other", "what-to-bring"),
    ("tengo que traer mi tarjeta de seguro?", "other", "what-to-bring"),
    ("do you accept care credit", "other", "payment"),
    ("is there a number for the dentist on call on weekends", "other", "after-hours"),
]
NO_ANSWER = [
    ("can I get a copy of my x-rays emailed to me", "other"),
    ("do you sell electric toothbrushes", "other"),
    ("my kid's school needs a note that he was here", "other"),
    ("me pueden mandar mis radiografias por correo", "other"),
]


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return index_for(demo_profile())


@pytest.mark.parametrize(("text", "intent", "entry"), PARAPHRASES)
def test_paraphrases_find_their_entry(index, text, intent, entry):
    match = index.best(text, intent)
    assert match is not None and match.entry.id == entry, [(m.entry.id, round(m.score, 2)) for m in index.scores(text)[:3]]


@pytest.mark.parametrize(("text", "intent"), NO_ANSWER)
def test_questions_no_entry_answers_find_nothing(index, text, intent):
    assert index.best(text, intent) is None


@pytest.fixture
def agent(svc):
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", last_name="Reyes", phone="+16175550101", language="es"),
                       Patient(id="p2", first_name="Bob", last_name="Stone", phone="+16175550102")],
           [Appointment(id="a1", patient_id="p1", start=datetime(2026, 12, 5, 10, tzinfo=NY))], svc.clock.now())

    def say(phone, body):
        return inbound.handle_inbound(svc, phone, body, f"k-{phone}-{body}")

    return say


def test_a_spanish_speaker_gets_the_spanish_entry(agent, svc):
    out = agent("+16175550101", "¿ustedes hacen implantes?")
    spanish = next(e for e in svc.practice.knowledge if e.id == "services").answer["es"]
    assert out.replies[0].body.startswith(spanish) and not out.needs_attention


def test_an_english_question_about_services_is_answered_without_staff(agent, svc):
    out = agent("+16175550102", "do you guys do invisalign?")
    assert classify("do you guys do invisalign?").intent in ("other", "book")
    assert "Invisalign" in out.replies[0].body and svc.notifier.notified == []


def test_a_missing_translation_goes_to_staff_not_english(agent, svc):
    english_only = tuple(e.model_copy(update={"answer": {"en": e.answer["en"]}}) for e in svc.practice.knowledge)
    svc.practice = svc.practice.model_copy(update={"knowledge": english_only})
    out = agent("+16175550101", "¿a qué hora abren el sábado?")
    assert out.needs_attention and "no Spanish answer" in out.reason
    assert svc.notifier.notified[0].team == "front_desk"


def test_an_unanswerable_question_goes_to_staff(agent, svc):
    out = agent("+16175550102", "do you sell electric toothbrushes?")
    assert out.needs_attention


def test_knowledge_entries_are_validated_naming_the_field():
    data = demo_profile().model_dump()
    data["knowledge"] = [{"id": "x", "topic": "weather", "answer": {"en": "sunny"}}]
    with pytest.raises(ConfigError, match=r"knowledge\.0\.topic"):
        parse_profile(data)
    data["knowledge"] = [{"id": "x", "answer": {"fr": "oui"}}]
    with pytest.raises(ConfigError, match=r"knowledge\.0\.answer"):
        parse_profile(data)
    assert KnowledgeEntry(id="y", answer={"en": "ok"}).topic == "other"
