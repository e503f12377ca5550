"""The voice bot as data (careloop.voice.bot): the spec's intents and slots in en_US and es_US,
VisitType from the practice's appointment types, utterances Lex accepts, and the profile's voice section."""

from __future__ import annotations

import copy
import json
import re

import pytest

from careloop.agent.classifier import LABELS
from careloop.errors import ConfigError
from careloop.practice import DATA_DIR, demo_profile, parse_profile
from careloop.voice.bot import (
    BUILT_IN_SLOT_TYPES,
    FALLBACK_INTENT,
    VISIT_TYPE,
    bot_definition,
    lex_intent_for_sms_intent,
)

SPEC_INTENTS = ["BookAppointment", "ConfirmAppointment", "CancelAppointment", "RescheduleAppointment", "OfficeHours",
                "Directions", "RefillRequest", "SpeakToStaff", "UrgentHelp", "FallbackIntent"]
# Lex V2 sample utterances: words, apostrophes and {Slot} references; no other punctuation
UTTERANCE = re.compile(r"^[a-záéíóúüñ' ]*(\{[A-Za-z]+\}[a-záéíóúüñ' ]*)*$")


def _demo() -> dict:
    return json.loads((DATA_DIR / "demo-practice.json").read_text())


def test_both_locales_have_every_intent_of_the_spec() -> None:
    # Given the demo practice's bot
    bot = bot_definition(demo_profile())
    # Then English and Spanish each have the spec's intents, the fallback built on AMAZON.FallbackIntent
    assert [loc.locale_id for loc in bot.locales] == ["en_US", "es_US"]
    assert [loc.language for loc in bot.locales] == ["en", "es"]
    for loc in bot.locales:
        assert [i.name for i in loc.intents] == SPEC_INTENTS
        fallback = loc.intent(FALLBACK_INTENT)
        assert fallback is not None and fallback.parent_signature == "AMAZON.FallbackIntent" and not fallback.utterances
    assert bot.name == "careloop-demo"


def test_every_intent_has_a_few_dozen_distinct_lex_valid_utterances_per_locale() -> None:
    bot = bot_definition(demo_profile())
    for loc in bot.locales:
        seen: dict[str, str] = {}
        for intent in loc.intents:
            if intent.name == FALLBACK_INTENT:
                continue
            assert len(intent.utterances) >= 20, (loc.locale_id, intent.name)
            for text in intent.utterances:
                assert UTTERANCE.match(text), (loc.locale_id, intent.name, text)
                assert len(text) <= 200
                # one utterance trains one intent only
                assert seen.setdefault(text, intent.name) == intent.name, (loc.locale_id, text)
                for ref in re.findall(r"\{(\w+)\}", text):
                    slot = intent.slot(ref)
                    assert slot is not None, (intent.name, text)
                    assert slot.slot_type != "AMAZON.FreeFormInput"  # Lex refuses it in utterances


def test_the_slots_of_the_spec_with_their_types() -> None:
    en = bot_definition(demo_profile()).locale("en_US")

    def slots(name: str) -> dict[str, str]:
        intent = en.intent(name)
        assert intent is not None
        return {s.name: s.slot_type for s in intent.slots}

    assert slots("BookAppointment") == {"VisitType": VISIT_TYPE, "Date": "AMAZON.Date", "Time": "AMAZON.Time",
                                        "FirstName": "AMAZON.FirstName", "BirthDate": "AMAZON.Date",
                                        "LastName": "AMAZON.LastName"}
    identity = {"FirstName": "AMAZON.FirstName", "BirthDate": "AMAZON.Date"}
    assert slots("ConfirmAppointment") == identity
    assert slots("CancelAppointment") == identity
    assert slots("RescheduleAppointment") == {"Date": "AMAZON.Date", "Time": "AMAZON.Time"} | identity
    assert slots("RefillRequest") == {"Medication": "AMAZON.FreeFormInput"}
    for name in ("OfficeHours", "Directions", "SpeakToStaff", "UrgentHelp"):
        assert slots(name) == {}
    # identity is asked only when needed: the code hook decides, so Lex never requires it
    confirm = en.intent("ConfirmAppointment")
    assert confirm is not None and {s.constraint for s in confirm.slots} == {"Optional"}


def test_every_slot_has_a_prompt_in_its_locale_and_a_known_type() -> None:
    bot = bot_definition(demo_profile())
    for loc in bot.locales:
        custom = {t.name for t in loc.slot_types}
        for intent in loc.intents:
            for slot in intent.slots:
                assert slot.prompt.strip(), (loc.locale_id, intent.name, slot.name)
                assert slot.slot_type in BUILT_IN_SLOT_TYPES or slot.slot_type in custom
    en = bot.locale("en_US").intent("RefillRequest")
    es = bot.locale("es_US").intent("RefillRequest")
    assert en is not None and es is not None
    assert en.slots[0].prompt != es.slots[0].prompt and "medicamento" in es.slots[0].prompt


def test_visit_types_come_from_the_practices_online_appointment_types_in_each_language() -> None:
    # Given the demo practice (five types; emergency visits are not bookable by patients), with a
    # few ways of its own that its callers name two of them
    data = _demo()
    data["voice"]["visit_type_synonyms"] = {
        "cleaning": {"en": ["six month cleaning", "routine cleaning"], "es": ["limpieza de rutina"]},
        "exam": {"en": ["yearly exam"], "es": ["examen anual"]}}
    bot = bot_definition(parse_profile(data))
    en = bot.locale("en_US").slot_type(VISIT_TYPE)
    es = bot.locale("es_US").slot_type(VISIT_TYPE)
    assert en is not None and es is not None
    # Then each online type is one value resolving to its id, with its name in the locale's language
    assert [v.value for v in en.values] == ["cleaning", "exam", "new-patient-exam", "whitening-consult"]
    assert [v.value for v in es.values] == [v.value for v in en.values]
    en_words = {v.value: v.synonyms for v in en.values}
    es_words = {v.value: v.synonyms for v in es.values}
    assert "check up" in en_words["exam"] and "checkup" in en_words["exam"]
    assert "limpieza dental" in es_words["cleaning"]
    assert "examen revisión" in es_words["exam"] and "revisión" in es_words["exam"]
    # and the profile's own voice synonyms
    assert "six month cleaning" in en_words["cleaning"] and "limpieza de rutina" in es_words["cleaning"]
    # no synonym is shared by two values (Lex refuses that)
    for words in (en_words, es_words):
        flat = [w for ws in words.values() for w in ws]
        assert len(flat) == len(set(flat))
    # And callers' words resolve to the type id, as Lex's restricted resolution does
    assert en.resolve("I'd like a teeth cleaning next week") == "cleaning"
    assert en.resolve("just a check-up please") == "exam"
    assert en.resolve("a new patient exam for my son") == "new-patient-exam"
    assert es.resolve("quiero una limpieza dental") == "cleaning"
    assert es.resolve("una revision") == "exam"
    assert en.resolve("what time is it") is None


def test_a_renamed_type_changes_the_bot() -> None:
    # Given the practice renames its cleaning visit and adds a type
    data = _demo()
    data["booking"]["types"][0]["name"] = {"en": "Hygiene appointment", "es": "Cita de higiene"}
    data["booking"]["types"].append({"id": "ortho-consult", "name": {"en": "Braces consult", "es": "Consulta de frenos"},
                                     "minutes": 30, "providers": ["lee"]})
    bot = bot_definition(parse_profile(data))
    en = bot.locale("en_US").slot_type(VISIT_TYPE)
    es = bot.locale("es_US").slot_type(VISIT_TYPE)
    assert en is not None and es is not None
    # Then the new names are what callers may say
    assert "hygiene appointment" in {v.value: v.synonyms for v in en.values}["cleaning"]
    assert "ortho-consult" in [v.value for v in en.values]
    assert es.resolve("una consulta de frenos") == "ortho-consult"


def test_without_a_booking_section_there_is_no_visit_type() -> None:
    data = _demo()
    del data["booking"]
    bot = bot_definition(parse_profile(data))
    for loc in bot.locales:
        assert loc.slot_types == ()
        book = loc.intent("BookAppointment")
        assert book is not None and book.slot("VisitType") is None
        assert book.utterances and not any("{VisitType}" in u for u in book.utterances)


def test_sms_labels_map_onto_the_bots_intents() -> None:
    assert lex_intent_for_sms_intent("book") == "BookAppointment"
    assert lex_intent_for_sms_intent("confirm") == "ConfirmAppointment"
    assert lex_intent_for_sms_intent("cancel") == "CancelAppointment"
    assert lex_intent_for_sms_intent("reschedule") == "RescheduleAppointment"
    assert lex_intent_for_sms_intent("hours") == "OfficeHours"
    assert lex_intent_for_sms_intent("location") == "Directions"
    assert lex_intent_for_sms_intent("refill") == "RefillRequest"
    assert lex_intent_for_sms_intent("human") == "SpeakToStaff"
    assert lex_intent_for_sms_intent("urgent") == "UrgentHelp"
    for label in ("insurance", "billing", "results", "running_late", "opt_out", "thanks", "other", "nonsense"):
        assert lex_intent_for_sms_intent(label) == FALLBACK_INTENT
    # every classifier label lands on an intent the bot has
    names = {i.name for i in bot_definition(demo_profile()).locale("en_US").intents}
    assert {lex_intent_for_sms_intent(label) for label in LABELS} <= names


def test_the_demo_practice_turns_voice_on() -> None:
    voice = demo_profile().voice
    assert voice is not None and voice.enabled and voice.connect_instance_arn is None and voice.country == "US"


def test_office_closed_days_are_the_holidays_and_practice_wide_closures() -> None:
    data = _demo()
    data["voice"]["holidays"] = ["2026-12-31"]
    days = parse_profile(data).office_closed_days()
    assert "2026-12-31" in [d.isoformat() for d in days] and "2026-12-25" in [d.isoformat() for d in days]
    assert "2026-12-28" not in [d.isoformat() for d in days]  # only Dr. Patel is away that day
    assert list(days) == sorted(set(days))


INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/0f2b1a3c-1111-2222-3333-444455556666"
NUMBER = "arn:aws:connect:us-east-1:123456789012:phone-number/aaaaaaaa-1111-2222-3333-444455556666"


@pytest.mark.parametrize(("change", "field"), [
    ({"connect_instance_arn": "arn:aws:connect:us-east-1:1234:instance/x"}, "voice.connect_instance_arn"),
    ({"phone_number_arn": NUMBER}, "voice.phone_number_arn"),
    ({"connect_instance_arn": INSTANCE, "phone_number_arn": NUMBER.replace("us-east-1", "us-west-2")},
     "voice.phone_number_arn"),
    ({"connect_instance_arn": INSTANCE, "instance_alias": "my-clinic"}, "voice.instance_alias"),
    ({"number_type": "SHORT_CODE"}, "voice.number_type"),
    ({"number_prefix": "617"}, "voice.number_prefix"),
    ({"visit_type_synonyms": {"root-canal": {"en": ["root canal"]}}}, "voice.visit_type_synonyms.root-canal"),
    ({"visit_type_synonyms": {"exam": {"fr": ["examen"]}}}, "voice.visit_type_synonyms.exam.fr.[key]"),
    ({"holidays": ["christmas"]}, "voice.holidays.0"),
    ({"ring": 3}, "voice.ring"),
])
def test_a_wrong_voice_section_is_refused_naming_the_field(change: dict, field: str) -> None:
    data = copy.deepcopy(_demo())
    data["voice"] |= change
    with pytest.raises(ConfigError) as err:
        parse_profile(data, "demo.json")
    assert str(err.value).startswith(f"demo.json: {field}: "), str(err.value)


def test_voice_needs_office_hours_to_transfer_in() -> None:
    data = _demo()
    data["hours"] = {day: "closed" for day in data["hours"]}
    with pytest.raises(ConfigError) as err:
        parse_profile(data, "demo.json")
    assert str(err.value).startswith("demo.json: hours: "), str(err.value)
    data["voice"]["enabled"] = False
    assert parse_profile(data).voice is not None  # a practice without voice needs no hours


def test_an_existing_instance_and_number_are_accepted() -> None:
    data = _demo()
    data["voice"] |= {"connect_instance_arn": INSTANCE, "phone_number_arn": NUMBER}
    voice = parse_profile(data).voice
    assert voice is not None and voice.connect_instance_arn == INSTANCE and voice.phone_number_arn == NUMBER
