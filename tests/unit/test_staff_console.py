"""The staff console's inbox on the fakes: the agent yields to staff in a conversation, unknown
numbers get threads staff can answer and link, previews, search, urgent alerts and ordering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from careloop import consent, inbox
from careloop.agent import inbound
from careloop.agent.replies import ANONYMOUS, REPLIES, render_reply
from careloop.errors import NotFound, PayloadError
from careloop.models import Appointment, MessageStatus, Patient
from careloop.practice import AgentSettings
from careloop.records import ingest
from tests.conftest import NY

PHONE = "+16175550101"
STRANGER = "+16175550999"


@pytest.fixture
def ana(svc):
    # Ana has a cleaning on Dec 3 at 10:00; the front desk texts her on Dec 1
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", last_name="Reyes", phone=PHONE)],
           [Appointment(id="a1", patient_id="p1", start=datetime(2026, 12, 3, 10, tzinfo=NY), provider="Dr. Lee")],
           svc.clock.now())
    return svc


def agent_replies(svc):
    return [m.body for m in svc.outbox.sent if m.workflow == "sms-agent"]


def say(svc, body, ref, phone=PHONE):
    return inbound.handle_inbound(svc, phone, body, ref)


def later(svc, **delta):
    svc.clock.set(svc.clock.now() + timedelta(**delta))


# ---- the agent yields to staff -------------------------------------------------------------------

def test_yes_to_the_time_staff_offered_goes_to_staff_not_the_agent(ana):
    # Given the front desk offered Ana 4 pm by text
    inbox.staff_reply(ana, "p1", "We can see you today at 4 pm instead, does that work?", "jo@practice.test", "req-1")
    later(ana, minutes=20)
    # When she answers YES
    out = say(ana, "YES", "yes-1")
    # Then the agent does not answer, confirms nothing, and the thread waits for staff
    assert out.replies == [] and agent_replies(ana) == []
    assert ana.records.get_appointment("a1").confirmed is False
    assert out.needs_attention and out.reason == f"{inbound.STAFF_YIELD_REASON} (jo@practice.test)"
    conv = next(c for c in inbox.conversations(ana) if c["patient_id"] == "p1")
    assert conv["needs_attention"] and conv["last_body"] == "YES" and conv["last_direction"] == "in"
    assert conv["reason"].startswith("patient replied while staff are in the conversation")
    assert inbox.thread(ana, "p1")["staff_in_conversation"]["by"] == "jo@practice.test"


def test_an_offer_pick_and_a_question_also_wait_for_staff(ana):
    inbox.staff_reply(ana, "p1", "Which works: 1) Tue 9 AM 2) Wed 3 PM?", "jo@practice.test", "req-1")
    for i, body in enumerate(("2", "what are your hours?", "I need to reschedule")):
        out = say(ana, body, f"t-{i}")
        assert out.replies == [] and out.reason.startswith(inbound.STAFF_YIELD_REASON)
    assert agent_replies(ana) == []


def test_urgent_is_still_answered_while_staff_are_in_the_conversation(ana):
    inbox.staff_reply(ana, "p1", "See you at 4 pm", "jo@practice.test", "req-1")
    out = say(ana, "I have severe chest pain and can't breathe", "u-1")
    assert out.intent == "urgent" and "911" in out.replies[0].body
    assert out.alert is not None and out.alert.priority == "urgent"


def test_stop_is_still_honoured_and_help_answered(ana):
    inbox.staff_reply(ana, "p1", "See you at 4 pm", "jo@practice.test", "req-1")
    assert "Call" in say(ana, "HELP", "h-1").replies[0].body
    out = say(ana, "STOP", "s-1")
    assert out.replies and "no longer receive texts" in out.replies[0].body
    assert consent.is_opted_out(ana.consent, PHONE)


def test_after_the_window_the_agent_answers_again(ana):
    inbox.staff_reply(ana, "p1", "See you at 4 pm", "jo@practice.test", "req-1")
    later(ana, hours=12, minutes=1)
    out = say(ana, "YES", "yes-2")
    assert out.replies and out.replies[0].body.startswith("Thanks Ana, you're confirmed")
    assert ana.records.get_appointment("a1").confirmed is True


def test_the_window_is_the_practices_setting(ana):
    ana.practice = ana.practice.model_copy(update={"agent": ana.practice.agent.model_copy(update={"staff_window_hours": 1})})
    inbox.staff_reply(ana, "p1", "See you at 4 pm", "jo@practice.test", "req-1")
    later(ana, minutes=30)
    assert say(ana, "YES", "y-a").replies == []
    later(ana, minutes=31)
    assert say(ana, "YES", "y-b").replies
    with pytest.raises(ValidationError, match="staff_window_hours"):
        AgentSettings.model_validate({"staff_window_hours": -1})


def test_the_agents_own_replies_do_not_make_it_yield(ana):
    assert say(ana, "what are your hours?", "q-1").replies  # the agent answered: not a staff reply
    out = say(ana, "YES", "yes-3")
    assert out.replies and out.replies[0].body.startswith("Thanks Ana")


def test_hand_back_lets_the_agent_answer_again(ana):
    inbox.staff_reply(ana, "p1", "See you at 4 pm", "jo@practice.test", "req-1")
    assert inbox.hand_back(ana, "p1", "jo@practice.test") == {"handed_back": True}
    assert inbox.hand_back(ana, "p1", "jo@practice.test") == {"handed_back": False}  # nothing left to hand back
    thread = inbox.thread(ana, "p1")
    assert thread["staff_in_conversation"] is None
    assert any(m["kind"] == "task" and m["step"] == "hand_back" and m["status"] == "done" for m in thread["messages"])
    later(ana, minutes=5)
    out = say(ana, "YES", "yes-4")
    assert out.replies and ana.records.get_appointment("a1").confirmed is True
    # a new staff reply after the hand-back: the agent yields again
    inbox.staff_reply(ana, "p1", "Also bring your insurance card", "jo@practice.test", "req-2")
    later(ana, minutes=1)
    assert say(ana, "ok thanks", "ok-1").reason.startswith(inbound.STAFF_YIELD_REASON)


# ---- defects -------------------------------------------------------------------------------------

def test_an_unknown_number_gets_a_thread_staff_can_answer_and_resolve(svc):
    say(svc, "hi is this the dentist? I need a cleaning", "u-1", STRANGER)
    key = f"phone:{STRANGER}"
    conv = next(c for c in inbox.conversations(svc) if c["patient_id"] == key)
    assert conv["needs_attention"] and conv["last_body"] == "hi is this the dentist? I need a cleaning"
    msg = inbox.staff_reply(svc, key, "Yes! What name should we look for?", "jo@practice.test", "r-1")
    assert msg.phone == STRANGER and msg.patient_id is None and svc.outbox.sent[-1] is msg
    thread = inbox.thread(svc, key)
    assert [m["kind"] for m in thread["messages"]][-1] == "sms_out"
    assert thread["staff_in_conversation"]["by"] == "jo@practice.test"
    # the staff reply settled the question; the agent now leaves the next text to staff
    assert not next(c for c in inbox.conversations(svc) if c["patient_id"] == key)["needs_attention"]
    out = say(svc, "Maria Lopez", "u-2", STRANGER)
    assert out.replies == [] and out.reason.startswith(inbound.STAFF_YIELD_REASON)
    assert inbox.resolve(svc, key) >= 1
    assert not next(c for c in inbox.conversations(svc) if c["patient_id"] == key)["needs_attention"]


def test_an_unknown_number_that_opted_out_cannot_be_texted(svc):
    say(svc, "who is this", "u-1", STRANGER)
    say(svc, "STOP", "u-2", STRANGER)
    with pytest.raises(PayloadError, match="opted out"):
        inbox.staff_reply(svc, f"phone:{STRANGER}", "Hello", "jo@practice.test", "r-1")
    with pytest.raises(NotFound):
        inbox.staff_reply(svc, "phone:+16175550000", "Hello", "jo@practice.test", "r-2")


def test_an_unknown_number_links_to_a_patient(ana):
    say(ana, "hi it's Ana, new phone", "u-1", STRANGER)
    inbox.staff_reply(ana, f"phone:{STRANGER}", "Thanks Ana!", "jo@practice.test", "r-1")
    linked = inbox.link_to_patient(ana, f"phone:{STRANGER}", "p1")
    assert linked["patient_id"] == "p1" and linked["moved"] >= 3  # text, alert, reply (and the agent's answer)
    bodies = [m["body"] for m in inbox.thread(ana, "p1")["messages"]]
    assert "hi it's Ana, new phone" in bodies and "Thanks Ana!" in bodies
    assert all(c["patient_id"] != f"phone:{STRANGER}" for c in inbox.conversations(ana))
    with pytest.raises(NotFound):
        inbox.link_to_patient(ana, f"phone:{STRANGER}", "p1")  # nothing left under the number
    with pytest.raises(NotFound):
        inbox.link_to_patient(ana, "phone:+16175550000", "nobody")


def test_unknown_senders_are_never_greeted_there(svc):
    out = say(svc, "can someone call me back", "u-1", STRANGER)
    assert out.replies and "there" not in out.replies[0].body
    assert out.replies[0].body.startswith("Thanks for your message. A member of our team")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_reply_reads_well_without_a_name(lang):
    ctx = {k: "X" for k in ("practice_name", "practice_phone", "date_time", "when", "fact", "booking_url",
                            "options", "zone", "choices")} | {"first_name": ""}
    for key in REPLIES:
        text = render_reply(key, lang, ctx)
        assert "there" not in text and ", ." not in text and " ," not in text and ",." not in text, (key, text)
        assert not text.startswith((",", " ")), (key, text)
    named = [k for k, v in REPLIES.items() if "{first_name}" in v[lang]]
    assert set(named) <= set(ANONYMOUS)
    assert render_reply("handoff", lang, ctx | {"first_name": "Ana"}) == REPLIES["handoff"][lang].format(**ctx | {"first_name": "Ana"})


def test_the_preview_is_what_the_patient_wrote_not_the_alert(ana):
    say(ana, "I have severe chest pain", "u-1")
    conv = next(c for c in inbox.conversations(ana) if c["patient_id"] == "p1")
    assert conv["last_body"] == "I have severe chest pain" and conv["last_direction"] == "in"
    assert "Ana Reyes:" not in conv["last_body"]


def test_a_staff_reply_does_not_close_an_urgent_alert(ana):
    say(ana, "I have severe chest pain", "u-1")
    inbox.staff_reply(ana, "p1", "Please call 911 now; we are calling you", "jo@practice.test", "r-1")
    conv = next(c for c in inbox.conversations(ana) if c["patient_id"] == "p1")
    assert conv["needs_attention"] and conv["priority"] == "urgent"
    alert = next(m for m in ana.messages.messages.values() if m.kind == "staff_alert")
    assert alert.status == MessageStatus.OPEN
    inbox.resolve(ana, "p1")  # closed on purpose
    assert ana.messages.get_message(alert.message_id).status == MessageStatus.DONE
    assert not next(c for c in inbox.conversations(ana) if c["patient_id"] == "p1")["needs_attention"]


def test_a_staff_reply_still_settles_a_normal_question(ana):
    say(ana, "is my bill paid?", "b-1")
    inbox.staff_reply(ana, "p1", "Yes, all paid", "jo@practice.test", "r-1")
    assert not next(c for c in inbox.conversations(ana) if c["patient_id"] == "p1")["needs_attention"]


def test_alert_cards_follow_the_message_that_raised_them(ana):
    say(ana, "I have severe chest pain", "u-1")
    kinds = [m["kind"] for m in inbox.thread(ana, "p1")["messages"]]
    assert kinds.index("sms_in") < kinds.index("staff_alert") < kinds.index("sms_out")


@pytest.mark.parametrize("query", ["+1 617 555 0101", "(617) 555-0101", "6175550101", "617-555-0101", "+16175550101",
                                   "ana", "Reyes", "reyes ana", "Ana Reyes"])
def test_patient_search_by_name_or_any_form_of_phone(ana, query):
    # Bo's number ends the same way, in another area code: only the last 4 digits find both
    ingest(ana.records, ana.consent, [Patient(id="p2", first_name="Bo", last_name="Chen", phone="+15085550101")], [],
           ana.clock.now())
    assert [p["id"] for p in inbox.patients(ana, query)] == ["p1"]
    assert [p["id"] for p in inbox.patients(ana, "0101")] == ["p2", "p1"]


def test_patient_search_without_a_match_is_empty(ana):
    assert inbox.patients(ana, "(617) 555-0199") == [] and inbox.patients(ana, "zed") == []
    assert [p["id"] for p in inbox.patients(ana, "")] == ["p1"]


def test_a_call_from_an_unknown_number_opens_a_thread_staff_can_answer_and_link(ana):
    from careloop.voice.contact import CallContact
    from careloop.voice.missed import handle_contact_event
    from tests.connect_samples import missed_call_event
    from tests.unit.test_voice_missed import INSTANCE

    # Given a missed call from a number no record has
    ended = ana.clock.now() - timedelta(minutes=1)
    ana.contacts.contacts[(INSTANCE, "c-1")] = CallContact(
        contact_id="c-1", caller_phone=STRANGER, practice_phone="+16175550100", attributes={}, reached_agent=False,
        initiated_at=ended - timedelta(minutes=2), disconnected_at=ended)
    handle_contact_event(ana, missed_call_event("c-1", INSTANCE, at=ended.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")))
    key = f"phone:{STRANGER}"
    # Then its thread shows the call and takes a staff reply to that number
    assert "call" in [m["kind"] for m in inbox.thread(ana, key)["messages"]]
    assert inbox.staff_reply(ana, key, "Sorry we missed you! How can we help?", "jo@practice.test", "r-1").phone == STRANGER
    # and the call moves with the conversation to the patient staff link it to
    inbox.link_to_patient(ana, key, "p1")
    assert "call" in [m["kind"] for m in inbox.thread(ana, "p1")["messages"]]
