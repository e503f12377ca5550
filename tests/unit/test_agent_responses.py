"""The SMS agent's actions and replies per intent (the classifier is replaced by a fixed
prediction here, so these pin the behaviour of the agent, not the classifier's accuracy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from careloop.agent import inbound
from careloop.models import Appointment, Patient
from careloop.records import ingest
from tests.conftest import NY

PHONE = "+16175550101"


@dataclass(frozen=True)
class P:
    intent: str
    confidence: float = 0.97
    language: str = "en"
    escalate: bool = False
    urgent_kind: str | None = None
    reason: str = ""


@pytest.fixture
def agent(svc, monkeypatch):
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", last_name="Reyes", phone=PHONE)],
           [Appointment(id="a1", patient_id="p1", start=datetime(2026, 12, 5, 10, tzinfo=NY), provider="Dr. Lee")],
           svc.clock.now())

    def say(intent, body=None, at=None, **kw):
        monkeypatch.setattr(inbound, "classify", lambda text: P(intent, **kw))
        n = len(svc.messages.messages)
        # each text its own words: the same words again within a minute would be one text repeated
        return inbound.handle_inbound(svc, PHONE, body or f"text {n}", f"in-{n}-{intent}", at)

    return say


def alerts(svc):
    return svc.notifier.notified


def test_hours_location_insurance_come_from_the_profile(agent, svc):
    answers = {e.id: e.answer["en"] for e in svc.practice.knowledge}
    assert agent("hours").replies[0].body == f"{answers['hours']} Questions? Call (617) 555-0100."
    assert answers["address"] in agent("location", "where are you?").replies[0].body
    assert agent("location", "where do I park").replies[0].body.startswith(answers["parking"])
    assert agent("insurance").replies[0].body.startswith(answers["insurance"])
    assert alerts(svc) == []


def test_the_short_faq_form_keeps_its_replies(agent, svc):
    svc.practice = svc.practice.model_copy(update={"knowledge": ()})
    assert agent("hours").replies[0].body == f"Our hours: {svc.practice.faq['hours']}. Questions? Call (617) 555-0100."
    assert agent("location", "where do I park").replies[0].body == f"Parking: {svc.practice.faq['parking']}."


def test_a_missing_fact_goes_to_staff_never_invented(agent, svc):
    svc.practice = svc.practice.model_copy(update={"faq": {}, "knowledge": ()})
    out = agent("hours")
    assert out.needs_attention and "no answer" in out.reason
    assert "get back to you" in out.replies[0].body
    assert alerts(svc)[0].team == "front_desk"


def test_confirm_acts_on_the_conversation_appointment(agent, svc):
    out = agent("confirm", "C")
    assert svc.records.get_appointment("a1").confirmed and "Sat Dec 5 at 10:00 AM" in out.replies[0].body


def test_cancel_records_the_answer_tells_staff_offers_link_and_stops_reminders(agent, svc):
    out = agent("cancel", "cant make it")
    appt = svc.records.get_appointment("a1")
    assert appt.declined and appt.status == "booked"  # the EHR still owns the status
    assert "book.example.test" in out.replies[0].body and alerts(svc)[0].team == "front_desk"
    from careloop.engine.dispatcher import tick

    svc.clock.set(datetime(2026, 12, 3, 10, 5, tzinfo=NY))
    assert list(tick(svc).skipped.values()) == ["the patient said they will not come"]


def test_urgent_replies_at_any_hour_with_911_and_alerts_urgent(agent, svc):
    out = agent("urgent", "my face is swollen and I have a fever since the extraction",
                at=datetime(2026, 12, 2, 2, 30, tzinfo=NY))
    assert "911" in out.replies[0].body and "988" not in out.replies[0].body
    alert = alerts(svc)[0]
    assert (alert.priority, alert.team, alert.kind) == ("urgent", "clinical", "staff_alert")


def test_self_harm_gets_988(agent, svc):
    out = agent("urgent", "...", urgent_kind="self_harm")
    assert "988" in out.replies[0].body and "911" in out.replies[0].body


def test_results_never_disclosed_and_routed_to_clinical(agent, svc):
    out = agent("results", "are my xray results back?")
    assert "don't share results by text" in out.replies[0].body
    assert alerts(svc)[0].team == "clinical"


def test_billing_and_refill_routing(agent, svc):
    agent("billing")
    agent("refill")
    assert [a.team for a in alerts(svc)] == ["billing", "clinical"]


def test_low_confidence_goes_to_front_desk(agent, svc):
    out = agent("billing", confidence=0.3)
    assert out.needs_attention and alerts(svc)[0].team == "front_desk"


def test_handoff_says_when_in_office_hours_terms(agent, svc):
    # Friday 19:00: closed until Monday 8:00
    out = agent("human", at=datetime(2026, 12, 4, 19, 0, tzinfo=NY))
    assert "on Monday after 8:00 AM" in out.replies[0].body
    out = agent("human", at=datetime(2026, 12, 1, 10, 0, tzinfo=NY))
    assert "shortly" in out.replies[1 - 1].body


def test_spanish_patient_gets_spanish(agent, svc):
    p = svc.records.get_patient("p1")
    svc.records.put_patient(p.model_copy(update={"language": "es"}))
    out = agent("book")
    assert out.replies[0].body.startswith("Con gusto")


def test_thanks_needs_nothing(agent, svc):
    out = agent("thanks", "ok 👍")
    assert out.replies == [] and not out.needs_attention and alerts(svc) == []


def test_unknown_number_goes_to_staff(svc, monkeypatch):
    monkeypatch.setattr(inbound, "classify", lambda text: P("other"))
    out = inbound.handle_inbound(svc, "+16175550999", "hi is this the dentist", "x1")
    assert out.needs_attention and out.reason == "text from an unknown number"


def test_shared_phone_reply_goes_to_the_patient_the_last_text_was_about(svc, monkeypatch):
    now = svc.clock.now()
    ingest(svc.records, svc.consent, [Patient(id="mom", first_name="Maria", phone=PHONE), Patient(id="kid", first_name="Leo", phone=PHONE)],
           [Appointment(id="am", patient_id="mom", start=now + timedelta(days=3)),
            Appointment(id="ak", patient_id="kid", start=now + timedelta(days=4))], now)
    monkeypatch.setattr(inbound, "classify", lambda text: P("confirm"))
    # nobody texted yet: ambiguous -> staff
    assert inbound.handle_inbound(svc, PHONE, "C", "s1").needs_attention
    from careloop.engine.dispatcher import tick

    svc.clock.set(now + timedelta(days=2, hours=1))  # the kid's reminder goes out
    tick(svc)
    last = [m for m in svc.outbox.sent][-1]
    out = inbound.handle_inbound(svc, PHONE, "C", "s2", svc.clock.now())
    assert out.patient_id == last.patient_id
    assert svc.records.get_appointment(last.appointment_id).confirmed
