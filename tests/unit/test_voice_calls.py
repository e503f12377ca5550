"""Every call in the staff inbox (issue 13, item 5): the voice agent's turns, then one entry per
call on the patient's thread or the unknown number's, with when, the outcome, the turns and a summary."""

from __future__ import annotations

from datetime import timedelta

import pytest

from careloop import inbox
from careloop.models import Patient
from careloop.records import ingest
from careloop.voice import calls

PHONE, SHARED, STRANGER = "+16175550101", "+16175550102", "+16175550199"


@pytest.fixture
def people(svc):
    ingest(svc.records, svc.consent, [
        Patient(id="p-ana", first_name="Ana", last_name="Reyes", phone=PHONE),
        Patient(id="p-bo", first_name="Bo", last_name="Lee", phone=SHARED),
        Patient(id="p-cy", first_name="Cy", last_name="Lee", phone=SHARED),
    ], [], svc.clock.now())


def _turn(svc, contact, phone, patient_id, caller, agent, intent, seconds, outcome=None):
    calls.record_turn(svc, contact_id=contact, caller_phone=phone, patient_id=patient_id, locale="en_US",
                      caller_text=caller, agent_text=agent, intent=intent,
                      at=svc.clock.now() + timedelta(seconds=seconds), outcome=outcome)


def test_a_known_callers_call_is_one_entry_on_their_thread_with_the_turns_and_outcome(svc, people):
    # Given two turns of a call from Ana's number, the second one confirming
    _turn(svc, "c-1", PHONE, "p-ana", "I want to confirm", "You're confirmed for Tuesday.", "ConfirmAppointment", 0)
    _turn(svc, "c-1", PHONE, "p-ana", "no thanks", "Goodbye.", None, 20, outcome="confirmed")
    assert calls.call_outcome(svc, "c-1") == "confirmed"
    # When the call ends (twice: contact events come more than once)
    now = svc.clock.now()
    entry = calls.finish_call(svc, contact_id="c-1", caller_phone=PHONE, outcome=None, reached_agent=False,
                              started_at=now, ended_at=now + timedelta(seconds=75))
    again = calls.finish_call(svc, contact_id="c-1", caller_phone=PHONE, outcome="unresolved", reached_agent=False,
                              started_at=now, ended_at=now + timedelta(seconds=90))
    # Then one entry, kept as first written, on Ana's thread: outcome, turns, summary
    assert again.message_id == entry.message_id and again.outcome == "confirmed"
    view = inbox.thread(svc, "p-ana")
    entries = [m for m in view["messages"] if m["kind"] == "call"]
    assert len(entries) == 1 and len(view["messages"]) == 1  # the turn log is not a message of its own
    call = entries[0]["call"]
    assert call["outcome"] == "confirmed" and [t["caller"] for t in call["turns"]] == ["I want to confirm", "no thanks"]
    assert entries[0]["body"] == ("Phone call: confirmed their appointment · 1 min 15 s · 2 turns with the voice agent")
    # and the shared inbox lists the conversation
    row = next(r for r in inbox.conversations(svc) if r["patient_id"] == "p-ana")
    assert row["last_body"].startswith("Phone call: confirmed") and row["last_direction"] == "in"


def test_a_missed_call_from_a_shared_number_goes_on_the_unknown_numbers_thread(svc, people):
    # Given no turn at all (the caller hung up before the bot) from a number two patients share
    now = svc.clock.now()
    entry = calls.finish_call(svc, contact_id="c-2", caller_phone=SHARED, outcome=None, reached_agent=False,
                              started_at=None, ended_at=now)
    # Then it is a missed call on nobody's record: the number's thread, which staff can open
    assert entry.outcome == "missed" and entry.patient_id is None and entry.at == now
    assert [m.kind for m in svc.messages.messages_for_patient("p-bo")] == []
    view = inbox.thread(svc, f"phone:{SHARED}")
    assert view["patient"] is None and [m["call"]["outcome"] for m in view["messages"]] == ["missed"]
    assert SHARED not in str(view["phone_masked"])
    row = next(r for r in inbox.conversations(svc) if r["patient_id"] == f"phone:{SHARED}")
    assert row["patient_name"] == "Unknown sender" and row["last_body"] == "Phone call: missed call"


def test_a_caller_who_proves_who_they_are_mid_call_lands_on_that_patients_thread(svc, people):
    _turn(svc, "c-3", SHARED, None, "cancel my appointment", "What is your first name?", "CancelAppointment", 0)
    _turn(svc, "c-3", SHARED, "p-cy", "Cy, May 2 1990", "Cancel your cleaning Tuesday?", "CancelAppointment", 15)
    now = svc.clock.now()
    entry = calls.finish_call(svc, contact_id="c-3", caller_phone=SHARED, outcome="cancelled", reached_agent=False,
                              started_at=None, ended_at=now + timedelta(seconds=40))
    assert entry.patient_id == "p-cy" and entry.started_at == now and len(entry.turns) == 2
    assert [m.kind for m in svc.messages.messages_for_patient("p-cy")] == ["call"]


def test_a_call_a_person_answered_without_an_outcome_counts_as_transferred(svc, people):
    _turn(svc, "c-4", STRANGER, None, "can I talk to someone", "Connecting you.", "SpeakToStaff", 0)
    entry = calls.finish_call(svc, contact_id="c-4", caller_phone=None, outcome=None, reached_agent=True,
                              started_at=None, ended_at=svc.clock.now() + timedelta(seconds=5))
    assert entry.outcome == "transferred" and entry.phone == STRANGER and entry.patient_id is None


def test_an_unknown_outcome_or_a_missing_contact_id_is_refused_by_name(svc, people):
    with pytest.raises(ValueError, match="outcome"):
        _turn(svc, "c-5", PHONE, "p-ana", "hi", "hello", None, 0, outcome="great")
    with pytest.raises(ValueError, match="contact_id"):
        calls.finish_call(svc, contact_id="", caller_phone=PHONE, outcome=None, reached_agent=False,
                          started_at=None, ended_at=svc.clock.now())
    assert calls.call_outcome(svc, "c-5") is None and calls.call_outcome(svc, "") is None
