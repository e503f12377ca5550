"""The intent classifier against spec/intents.md: every labelling rule as explicit cases, each
label, Spanish and Spanglish, keyword traps, escalation and the Prediction contract."""

from __future__ import annotations

import pytest

from careloop.agent.classifier import (
    CONFIDENCE_THRESHOLD,
    LABELS,
    STAFF_INTENTS,
    Prediction,
    classify,
    detect_language,
)


def label(text: str) -> str:
    return classify(text).intent


def test_labels_are_exactly_the_eighteen_of_the_contract():
    # Given the table of spec/intents.md
    expected = {"confirm", "cancel", "reschedule", "book", "running_late", "hours", "location", "insurance",
                "billing", "refill", "results", "urgent", "opt_out", "opt_in", "help", "human", "thanks", "other"}
    # Then the classifier knows exactly those labels
    assert set(LABELS) == expected and len(LABELS) == 18


def test_prediction_carries_intent_confidence_language_escalate():
    # When a text is classified
    p = classify("Yes I'll be there")
    # Then the prediction has the contract's fields with sane types and ranges
    assert isinstance(p, Prediction)
    assert p.intent in LABELS and 0.0 <= p.confidence <= 1.0
    assert p.language in ("en", "es") and isinstance(p.escalate, bool)


# --- one clear example (or more) per label ------------------------------------------------
PER_LABEL = [
    ("confirm", "Yes, see you Thursday at 2"),
    ("confirm", "C"),
    ("cancel", "I need to cancel my appointment tomorrow"),
    ("reschedule", "Can we move my appointment to next week?"),
    ("book", "I'd like to make an appointment for a cleaning"),
    ("running_late", "Running 10 minutes late, sorry!"),
    ("hours", "What time do you open on Saturday?"),
    ("location", "What's your address?"),
    ("insurance", "Do you take Delta Dental?"),
    ("billing", "How much do I owe?"),
    ("refill", "I need a refill on my lisinopril"),
    ("results", "Are my lab results back?"),
    ("urgent", "I'm having chest pain"),
    ("opt_out", "STOP"),
    ("opt_in", "START"),
    ("help", "HELP"),
    ("human", "Can I talk to a real person?"),
    ("thanks", "Thank you!"),
    ("other", "Can I get a copy of my records?"),
]


@pytest.mark.parametrize(("expected", "text"), PER_LABEL)
def test_each_label_has_a_clear_example(expected, text):
    # Given a plain text of one intent / When classified / Then that intent
    assert label(text) == expected


# --- the labelling rules of intents.md, bullet by bullet ---------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("Yes I'll be there, what's the address?", "location"),  # the spec's own example
    ("Running late, also what's your address?", "running_late"),  # changes > specific requests
    ("Can't make it Thursday, can I come Friday instead?", "reschedule"),
    ("Thanks! Do you take Aetna?", "insurance"),  # specific request > thanks
    ("Yes confirmed, and I need a refill on my metformin", "refill"),  # specific request > confirm
    ("Stop texting me and cancel my appointment", "opt_out"),  # opt_out > appointment changes
    ("Can someone call me? I want to reschedule", "reschedule"),  # change > human
])
def test_priority_when_a_text_says_several_things(text, expected):
    # Given a text with several intents / When classified / Then the highest-priority one wins
    assert label(text) == expected


@pytest.mark.parametrize("text", [
    "STOP texting me, my chest hurts really bad",
    "CANCEL my appointment, I'm in the ER with chest pains",
    "stop. the bleeding won't stop",
    "my tooth is killing me",
    "pain is 10/10",
    "toothache so bad I can't sleep",
    "my face is swelling after the extraction",
    "I have a fever since my root canal",
    "the bleeding won't stop",
    "I can't breathe",
    "her face is drooping and her speech is slurred",
    "I fainted this morning",
    "my throat is closing up after the antibiotic",
    "my 4 month old has a fever of 102",
    "I'm pregnant and bleeding",
    "I want to kill myself",
    "Everyone would be better off if I was dead",
    "I just want to end it all",
    "I don't want to be here anymore",
])
def test_an_urgent_symptom_anywhere_wins(text):
    # Given an urgent symptom or self-harm statement, even beside STOP / CANCEL
    p = classify(text)
    # Then it is urgent and always escalated
    assert p.intent == "urgent" and p.escalate is True


@pytest.mark.parametrize("text", [
    "I have a mild toothache, can I come in this week?",
    "My tooth hurts a little, not urgent, can I get an appointment?",
    "Slight pain when I drink cold stuff, nothing serious, when can I come in?",
])
def test_mild_or_not_urgent_pain_is_book(text):
    # Given pain the patient calls mild or not urgent / Then book, not urgent
    assert label(text) == "book"


def test_self_harm_is_marked_so_the_agent_can_add_988():
    # When a self-harm statement is classified
    p = classify("no quiero vivir")
    # Then it is urgent with the self-harm kind; a medical emergency has the medical kind
    assert (p.intent, p.urgent_kind) == ("urgent", "self_harm")
    assert classify("I can't breathe").urgent_kind == "medical"


@pytest.mark.parametrize("text", [
    "STOP", "stop", "Stop.", "STOP!!!", "stop 🛑", "STOPALL", "Unsubscribe", "CANCEL", "cancel", "Cancel!",
    "END", "end.", "QUIT", "quit", "ALTO", "alto", "PARAR", "BAJA", "baja 👋",
])
def test_a_carrier_keyword_alone_is_opt_out(text):
    # Given a carrier keyword alone, any case, trailing punctuation / emoji
    p = classify(text)
    # Then opt_out, handled by the agent (no staff needed)
    assert p.intent == "opt_out" and p.escalate is False


@pytest.mark.parametrize(("text", "expected"), [
    ("cancel it", "cancel"),
    ("Cancel appt", "cancel"),
    ("cancel my appointment please", "cancel"),
    ("Can I stop by tomorrow to drop off my forms?", "other"),
    ("The bleeding won't stop", "urgent"),
    ("I'm not cancelling, see you Tuesday", "confirm"),
    ("Should I stop taking my aspirin before the extraction?", "other"),
])
def test_stop_or_cancel_inside_a_sentence_is_labelled_by_meaning(text, expected):
    assert label(text) == expected


@pytest.mark.parametrize("text", [
    "Please stop texting me",
    "stop the reminders for my mom, she passed",
    "Stop sending reminders for my son, he has his own phone now",
    "Please stop the marketing texts, appointment reminders are fine",
    "No me manden más mensajes",
    "Ya no quiero recibir mensajes",
    "Remove my number from your list",
    "Don't text me anymore",
])
def test_any_clear_request_to_stop_texts_is_opt_out(text):
    assert label(text) == "opt_out"


@pytest.mark.parametrize("text", [
    "Why do you guys text me so much?",
    "This is the 4th reminder this week, I got it already",
])
def test_complaining_about_the_number_of_texts_is_other(text):
    assert label(text) == "other"


@pytest.mark.parametrize(("text", "expected"), [
    ("YES", "confirm"), ("Yes", "confirm"), ("yes!", "confirm"), ("Y", "confirm"), ("Sí", "confirm"),
    ("START", "opt_in"), ("UNSTOP", "opt_in"), ("Please start sending me reminders again", "opt_in"),
    ("I replied STOP by mistake, I want the texts back", "opt_in"),
])
def test_bare_yes_is_confirm_and_opt_in_needs_start_unstop_or_clear_wording(text, expected):
    assert label(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("N", "cancel"), ("No", "cancel"), ("no.", "cancel"),
    ("N, can we do next week", "reschedule"), ("No, can we do next week?", "reschedule"),
    ("R", "reschedule"),
])
def test_n_no_is_cancel_and_n_with_a_new_time_is_reschedule(text, expected):
    assert label(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("ok", "thanks"), ("k", "thanks"), ("👍", "thanks"), ("thanks for the reminder", "thanks"),
    ("ok see you thursday", "confirm"), ("Ok see you then", "confirm"),
])
def test_acknowledgements_are_thanks_but_see_you_is_confirm(text, expected):
    assert label(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Please call me about my bill", "billing"),
    ("Can someone call me about my test results?", "results"),
    ("Call me back about a refill please", "refill"),
    ("Please call me", "human"),
    ("Can someone call me back?", "human"),
])
def test_a_call_back_about_a_topic_gets_the_topic(text, expected):
    assert label(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("My insurance should have covered this, why did I get a bill?", "billing"),
    ("Why do I owe $200 if insurance covers cleanings?", "billing"),
    ("What's my copay?", "billing"),
    ("Do you accept Blue Cross?", "insurance"),
    ("Is a crown covered by my plan?", "insurance"),
    ("I have a new insurance card", "insurance"),
])
def test_billing_versus_insurance(text, expected):
    assert label(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("I ran out of my blood pressure meds", "refill"),
    ("Out of my inhaler, no problems breathing, just need a refill", "refill"),
    ("Out of my inhaler and I can't breathe", "urgent"),
    ("Ran out of my heart pills and now I have chest pain", "urgent"),
])
def test_running_out_of_medication_is_refill_unless_acute_symptoms(text, expected):
    assert label(text) == expected


# --- Spanish and Spanglish ----------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("Sí, ahí estaré", "confirm"),
    ("No puedo ir mañana, cancele mi cita por favor", "cancel"),
    ("¿Puedo cambiar mi cita para el viernes?", "reschedule"),
    ("Quiero hacer una cita para una limpieza", "book"),
    ("Voy a llegar 10 minutos tarde", "running_late"),
    ("¿A qué hora abren el sábado?", "hours"),
    ("¿Cuál es la dirección?", "location"),
    ("¿Aceptan Medicaid?", "insurance"),
    ("¿Cuánto debo?", "billing"),
    ("Se me acabó la medicina de la presión", "refill"),
    ("¿Ya están mis resultados?", "results"),
    ("Tengo dolor en el pecho", "urgent"),
    ("No me manden más mensajes", "opt_out"),
    ("Llámenme por favor", "human"),
    ("Muchas gracias", "thanks"),
    ("Número equivocado", "other"),
    ("Si I'll be there", "confirm"),
    ("Can I change la cita para el viernes?", "reschedule"),
])
def test_spanish_and_spanglish(text, expected):
    assert label(text) == expected


@pytest.mark.parametrize(("text", "lang"), [
    ("Sí, nos vemos mañana", "es"), ("No me manden más mensajes", "es"), ("ALTO", "es"),
    ("Yes see you tomorrow", "en"), ("STOP", "en"), ("Quiero cambiar mi appointment", "es"),
])
def test_language_detection(text, lang):
    assert detect_language(text) == lang
    assert classify(text).language == lang


# --- robustness: typos, abbreviations, emoji, caps, long rambling texts -----------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("cancle my apt", "cancel"),
    ("wat time u open sat", "hours"),
    ("running l8 be ther in 10", "running_late"),
    ("RESCHEDULE PLEASE", "reschedule"),
    ("need refil on my bp meds", "refill"),
    ("👍👍", "thanks"),
    ("yesss see u tmrw 😊", "confirm"),
    ("Hi, so my daughter has her cleaning on Thursday but she has a school trip that day that "
     "we totally forgot about, would it be possible to move her to the following week, any "
     "afternoon after 3 works for us, thanks so much and sorry for the trouble", "reschedule"),
])
def test_typos_abbreviations_emoji_and_long_texts(text, expected):
    assert label(text) == expected


# --- escalation ---------------------------------------------------------------------------
def test_escalate_for_staff_intents_and_not_for_what_the_agent_handles():
    # Then staff intents escalate, agent-handled intents with good confidence do not
    assert classify("How much do I owe?").escalate is True
    assert classify("I need a refill on my lisinopril").escalate is True
    assert classify("Yes I'll be there").escalate is False
    assert classify("STOP").escalate is False
    assert {"urgent", "human", "other", "billing", "refill", "results"} <= STAFF_INTENTS
    assert not {"confirm", "opt_out", "opt_in", "help", "thanks", "hours", "location", "book"} & STAFF_INTENTS


def test_low_confidence_escalates():
    # Given gibberish the model cannot place
    p = classify("zxq vlorp grunt")
    # Then the confidence is low and staff must look
    assert p.escalate is True
    assert p.confidence < CONFIDENCE_THRESHOLD or p.intent in STAFF_INTENTS


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_text_goes_to_staff(text):
    p = classify(text)
    assert p.intent == "other" and p.escalate is True


# --- the fast alternations behave like the plain regular expressions ------------------------
def test_shortcut_alternations_agree_with_plain_regexes():
    import json
    import re
    from pathlib import Path

    from careloop.agent import cues, safety

    # Given every corpus text and every large pattern of the safety and cue layers
    corpus = Path(__file__).resolve().parents[1] / "corpus" / "texts.jsonl"
    texts = [safety.canonical(json.loads(x)["text"]) for x in corpus.read_text(encoding="utf-8").splitlines() if x]
    patterns = [*safety.WARNING_SIGNS.values(), safety.OPT_OUT, *cues.STRONG.values(), *cues.WEAK.values()]
    for fast in patterns:
        plain = re.compile(fast.pattern)
        # When both search / Then they find a match in exactly the same texts
        assert [bool(fast.search(t)) for t in texts] == [bool(plain.search(t)) for t in texts], fast.pattern[:60]


def test_stop_by_is_a_visit_not_an_opt_out():
    # intents.md: "stop by tomorrow?" is not opt_out; whether it reads as booking or a question, it
    # must never cost the patient their reminders
    assert label("Can I stop by tomorrow?") in ("book", "other")
