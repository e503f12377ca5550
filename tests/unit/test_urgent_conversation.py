"""An urgent text colours what the same number writes next (careloop.agent.inbound): "its getting
worse" after chest pain is the same emergency, and the follow-up keeps the conversation's kind, so
the patient gets the reply that fits it (911, or 988 too for self-harm). Real classifier."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from careloop.agent import inbound
from careloop.agent.safety import canonical, worsening
from careloop.models import Patient
from careloop.records import ingest
from tests.conftest import NY

PHONE = "+16175550101"
STRANGER = "+16175550199"
T0 = datetime(2026, 12, 2, 3, 0, tzinfo=NY)


@pytest.fixture
def text(svc):
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", last_name="Reyes", phone=PHONE)], [],
           svc.clock.now())
    n = iter(range(1000))

    def send(body, minutes=0, phone=PHONE):
        return inbound.handle_inbound(svc, phone, body, f"in-{next(n)}", T0 + timedelta(minutes=minutes))

    return send


def reply(out):
    return out.replies[0].body if out.replies else ""


@pytest.mark.parametrize("follow_up", ["It is getting worse", "its getting worse", "still bleeding a lot",
                                       "worse now", "nothing is helping", "sigue igual o peor", "no se me quita"])
def test_a_worsening_follow_up_to_a_medical_emergency_is_urgent_with_the_911_reply(text, svc, follow_up):
    first = text("my chest hurts and my left arm is numb")
    assert first.intent == "urgent" and "988" not in reply(first)
    out = text(follow_up, minutes=20)
    assert out.intent == "urgent", out.reason
    assert "911" in reply(out) and "988" not in reply(out)
    assert svc.notifier.notified[-1].priority == "urgent" and svc.notifier.notified[-1].team == "clinical"
    assert len(svc.notifier.notified) == 2  # a new page: it is worse


def test_a_follow_up_to_a_self_harm_text_keeps_the_988_reply(text, svc):
    first = text("I have the pills counted out and tonight I'm going to take them all")
    assert first.intent == "urgent" and "988" in reply(first)
    out = text("its getting worse", minutes=5)
    assert out.intent == "urgent" and "988" in reply(out)
    assert svc.messages.get_message(out.message_id).urgent_kind == "self_harm"


def test_a_model_only_urgent_follow_up_takes_the_conversations_kind(text, svc):
    text("my chest hurts and my left arm is numb")
    out = text("It is getting worse", minutes=3)
    assert "988" not in reply(out)
    assert svc.messages.get_message(out.message_id).urgent_kind == "medical"


def test_a_warning_sign_in_the_follow_up_keeps_its_own_kind(text, svc):
    text("my tooth got knocked out playing soccer")
    out = text("honestly I just want to die, everyone would be better off", minutes=10)
    assert out.intent == "urgent" and "988" in reply(out)


def follows(out):
    return inbound.FOLLOWS_URGENT in (out.reason or "")


def test_alone_or_long_after_worsening_words_are_read_on_their_own(text, svc):
    assert text("sigue igual o peor").intent != "urgent"  # nothing urgent before it
    # (the urgent model may doubt some such words alone: its own reading, not the conversation's)
    assert not follows(text("its getting worse"))
    text("my chest hurts and my left arm is numb")
    assert text("sigue igual o peor", minutes=13 * 60).intent != "urgent"  # a new day


def test_other_follow_ups_are_read_on_their_own(text, svc):
    text("my chest hurts and my left arm is numb")
    out = text("can I still come in tomorrow?", minutes=30)
    assert out.intent != "urgent"


def test_an_unknown_number_keeps_its_conversation_too(text, svc):
    first = text("my baby swallowed a battery", phone=STRANGER)
    assert first.intent == "urgent"
    assert text("shes still crying and drooling", minutes=4, phone=STRANGER).intent == "urgent"


def test_another_numbers_emergency_does_not_carry_over(text, svc):
    text("my chest hurts and my left arm is numb", phone=STRANGER)
    assert text("sigue igual o peor", minutes=5).intent != "urgent"


@pytest.mark.parametrize("t", ["It is getting worse", "still bleeding", "the swelling is spreading",
                               "nothing helps", "no better", "esta peor", "sigue sangrando", "no ha parado"])
def test_worsening_words(t):
    assert worsening(canonical(t))


@pytest.mark.parametrize("t", ["can I still come in tomorrow?", "thanks", "ok calling 911 now", "its better now",
                               "ya se me quito", "worse things have happened lol, see you friday"])
def test_not_worsening(t):
    assert not worsening(canonical(t))


def test_the_inbox_reason_names_the_earlier_texts_time_on_the_practices_clock(text, svc):
    text("my chest hurts and my left arm is numb")  # 03:00 in New York
    out = text("sigue igual o peor", minutes=7)
    assert out.reason == f"urgent: {inbound.FOLLOWS_URGENT} (medical, at 03:00) and says it is worse or goes on"
