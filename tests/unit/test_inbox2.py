"""The rest of the inbox on the fakes: assignment, team views, internal notes (never sent),
saved replies in the patient's language and unread markers per staff user."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from careloop import inbox
from careloop.agent import inbound
from careloop.errors import NotFound, PayloadError
from careloop.models import Appointment, Message, MessageStatus, Patient
from careloop.practice import SavedReply
from careloop.records import ingest
from tests.conftest import NY

ANA, LUIS, STRANGER = "+16175550101", "+16175550102", "+16175550999"
JO, SAM = "jo@practice.test", "sam@practice.test"


@pytest.fixture
def desk(svc):
    # Ana (English) and Luis (Spanish) are patients; Jo and Sam are on staff
    svc.practice = svc.practice.model_copy(update={"staff_emails": (JO, SAM)})
    ingest(svc.records, svc.consent,
           [Patient(id="p1", first_name="Ana", last_name="Reyes", phone=ANA),
            Patient(id="p2", first_name="Luis", last_name="Soto", phone=LUIS, language="es")],
           [Appointment(id="a1", patient_id="p1", start=datetime(2026, 12, 3, 10, tzinfo=NY), provider="Dr. Lee")],
           svc.clock.now())
    return svc


def later(svc, **delta):
    svc.clock.set(svc.clock.now() + timedelta(**delta))


def alert(svc, mid, patient_id, phone, team, priority="normal"):
    svc.messages.put_message(Message(message_id=mid, kind="staff_alert", patient_id=patient_id, phone=phone,
                                     body="routed", at=svc.clock.now(), status=MessageStatus.OPEN, workflow="sms-agent",
                                     priority=priority, team=team, reason="question", automated=False))


def row(svc, key, viewer=JO, view="all"):
    return next((r for r in inbox.inbox_view(svc, viewer, view) if r["patient_id"] == key), None)


def keys(svc, view, viewer=JO):
    return {r["patient_id"] for r in inbox.inbox_view(svc, viewer, view)}


# ---- assignment ----------------------------------------------------------------------------------

def test_assign_reassign_and_unassign_show_on_the_list_and_the_thread(desk):
    inbound.handle_inbound(desk, ANA, "Can I bring my daughter along?", "in-1")
    assert row(desk, "p1")["assignee"] is None
    # When Jo assigns Ana's conversation to Sam, then reassigns it to herself
    inbox.assign(desk, "p1", SAM, JO)
    assert row(desk, "p1")["assignee"] == SAM and inbox.thread(desk, "p1")["assignee"] == SAM
    inbox.assign(desk, "p1", JO, JO)
    assert row(desk, "p1")["assignee"] == JO
    # Then unassigning clears it everywhere
    inbox.assign(desk, "p1", None, JO)
    assert row(desk, "p1")["assignee"] is None and inbox.thread(desk, "p1")["assignee"] is None


def test_assignment_names_a_staff_user_of_an_existing_conversation(desk):
    inbound.handle_inbound(desk, ANA, "Can I bring my daughter along?", "in-1")
    with pytest.raises(PayloadError, match="assignee"):
        inbox.assign(desk, "p1", "stranger@example.com", JO)
    with pytest.raises(NotFound):
        inbox.assign(desk, "p-nobody", SAM, JO)
    with pytest.raises(NotFound):
        inbox.assign(desk, f"phone:{STRANGER}", SAM, JO)  # no conversation with that number
    assert row(desk, "p1")["assignee"] is None


def test_an_unknown_numbers_conversation_can_be_assigned(desk):
    inbound.handle_inbound(desk, STRANGER, "Do you take new patients?", "in-9")
    inbox.assign(desk, f"phone:{STRANGER}", SAM, JO)
    assert row(desk, f"phone:{STRANGER}")["assignee"] == SAM


# ---- team views ----------------------------------------------------------------------------------

def test_views_route_by_team_urgency_assignee_and_attention(desk):
    # Given Ana's bill question (billing), Luis's urgent symptom (clinical, urgent), a stranger's
    # question (front desk) and Ana's resolved-at-once nothing-to-do text on another day
    inbound.handle_inbound(desk, ANA, "Hello", "in-0")
    alert(desk, "al-bill", "p1", ANA, "billing")
    inbound.handle_inbound(desk, LUIS, "I have crushing chest pain and can't breathe", "in-2")
    alert(desk, "al-desk", None, STRANGER, "front_desk")
    inbox.assign(desk, "p2", JO, JO)
    stranger = f"phone:{STRANGER}"
    assert keys(desk, "all") == {"p1", "p2", stranger}
    assert keys(desk, "attention") == {"p1", "p2", stranger}
    assert keys(desk, "urgent") == {"p2"}
    assert keys(desk, "billing") == {"p1"}
    assert keys(desk, "clinical") == {"p2"}
    assert keys(desk, "front_desk") == {stranger}
    assert keys(desk, "mine") == {"p2"} and keys(desk, "mine", viewer=SAM) == set()
    assert keys(desk, "unassigned") == {"p1", stranger}
    # When Ana's billing alert is resolved she leaves "needs attention" but stays billing's
    inbox.resolve(desk, "p1")
    assert "p1" not in keys(desk, "attention") and "p1" in keys(desk, "billing")


def test_an_unknown_view_is_a_clear_error(desk):
    with pytest.raises(PayloadError, match="view: one of all, attention, urgent"):
        inbox.inbox_view(desk, JO, "everything")


# ---- internal notes ------------------------------------------------------------------------------

def test_a_note_is_shown_with_author_and_time_and_never_sent(desk):
    inbound.handle_inbound(desk, ANA, "Can I bring my daughter along?", "in-1")
    sent_before = list(desk.outbox.sent)
    later(desk, minutes=5)
    note = inbox.add_note(desk, "p1", "  Called her back, daughter is welcome. ", JO, "req-n1")
    inbox.add_note(desk, "p1", "Called her back, daughter is welcome.", JO, "req-n1")  # a retried request
    # Then nothing went to the patient and the note is in the thread once, as a note by Jo
    assert desk.outbox.sent == sent_before
    shown = [m for m in inbox.thread(desk, "p1")["messages"] if m["kind"] == "note"]
    assert shown == [{**shown[0], "message_id": note.message_id, "body": "Called her back, daughter is welcome.",
                      "author": JO, "at": desk.clock.now().isoformat()}]
    # and the list's preview is still what the patient said
    assert row(desk, "p1")["last_body"] == "Can I bring my daughter along?"
    assert desk.messages.get_message(note.message_id).status == MessageStatus.DONE


def test_notes_and_assignee_of_an_unknown_number_follow_it_to_the_patient_it_is_linked_to(desk):
    inbound.handle_inbound(desk, STRANGER, "This is Ana's new phone", "in-7")
    key = f"phone:{STRANGER}"
    inbox.add_note(desk, key, "Probably Ana Reyes, check on the phone", SAM, "req-n2")
    assert [m["body"] for m in inbox.thread(desk, key)["messages"] if m["kind"] == "note"] == [
        "Probably Ana Reyes, check on the phone"]
    inbox.assign(desk, key, SAM, JO)
    inbox.link_to_patient(desk, key, "p1")
    assert [m["author"] for m in inbox.thread(desk, "p1")["messages"] if m["kind"] == "note"] == [SAM]
    assert inbox.thread(desk, "p1")["assignee"] == SAM and key not in inbox.assignments(desk)


def test_an_empty_or_huge_note_is_refused(desk):
    with pytest.raises(PayloadError, match="empty"):
        inbox.add_note(desk, "p1", "   ", JO, "r1")
    with pytest.raises(PayloadError, match="2000"):
        inbox.add_note(desk, "p1", "x" * 2001, JO, "r2")
    assert not [m for m in desk.messages.messages_for_patient("p1") if m.kind == "note"]


# ---- unread --------------------------------------------------------------------------------------

def test_unread_is_per_staff_user_and_returns_when_the_patient_writes_again(desk):
    inbound.handle_inbound(desk, ANA, "Can I bring my daughter along?", "in-1")
    assert row(desk, "p1", JO)["unread"] and row(desk, "p1", SAM)["unread"]
    later(desk, minutes=1)
    inbox.mark_read(desk, "p1", JO)
    assert not row(desk, "p1", JO)["unread"] and row(desk, "p1", SAM)["unread"]
    # a staff reply or a note is not the patient's words: still read for Jo
    later(desk, minutes=1)
    inbox.staff_reply(desk, "p1", "Of course!", SAM, "req-r1")
    inbox.add_note(desk, "p1", "told her yes", SAM, "req-n1")
    assert not row(desk, "p1", JO)["unread"]
    # When Ana writes again, it is unread for Jo once more
    later(desk, minutes=1)
    inbound.handle_inbound(desk, ANA, "Thank you, see you Thursday", "in-2")
    assert row(desk, "p1", JO)["unread"]


def test_marking_an_unknown_conversation_read_needs_it_to_exist(desk):
    with pytest.raises(NotFound):
        inbox.mark_read(desk, f"phone:{STRANGER}", JO)


# ---- saved replies -------------------------------------------------------------------------------

def test_default_saved_replies_come_in_the_patients_language_filled_in(desk):
    en = inbox.saved_replies(desk, "p1")
    es = inbox.saved_replies(desk, "p2")
    assert en["language"] == "en" and es["language"] == "es"
    assert len(en["replies"]) == len(inbox.DEFAULT_SAVED_REPLIES) == len(es["replies"])
    assert en["replies"][0]["body"].startswith("Hi Ana,") and desk.practice.name in en["replies"][0]["body"]
    assert es["replies"][0]["body"].startswith("Hola Luis,")
    assert all("{" not in r["body"] for r in en["replies"] + es["replies"])


def test_the_practice_profile_saved_replies_replace_the_defaults(desk):
    desk.practice = desk.practice.model_copy(update={"saved_replies": (
        SavedReply(title="Parking", en="Hi {first_name}, park in lot B.", es="Hola {first_name}, estacione en el lote B."),
        SavedReply(title="Forms", en="Please fill in {unknown} forms before you come."),
    )})
    assert [r["body"] for r in inbox.saved_replies(desk, "p2")["replies"]] == [
        "Hola Luis, estacione en el lote B.", "Please fill in {unknown} forms before you come."]
    assert [r["title"] for r in inbox.saved_replies(desk, "p1")["replies"]] == ["Parking", "Forms"]
