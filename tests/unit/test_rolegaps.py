"""The role gaps on the fakes: who can be assigned (the staff directory, not a list in the
profile), what each role sees of a patient, and each appointment's history of states."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from careloop import inbox, patients, roles
from careloop.agent import inbound
from careloop.errors import Conflict, NotFound, PayloadError
from careloop.models import Appointment, Message, MessageStatus, Patient
from careloop.records import ingest
from tests.conftest import NY

ANA = "+16175550101"
JO, SAM, LEE = "jo@practice.test", "sam@practice.test", "lee@practice.test"


@pytest.fixture
def desk(svc):
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", last_name="Reyes", phone=ANA)],
           [Appointment(id="a1", patient_id="p1", start=datetime(2026, 12, 3, 10, tzinfo=NY), provider="Dr. Lee")],
           svc.clock.now())
    return svc


# ---- assignable staff ---------------------------------------------------------------------------


def test_assignees_come_from_the_staff_directory_not_the_profile(desk):
    # Given a profile list that is out of date, and a directory with Jo (front desk) and Lee (clinical)
    desk.practice = desk.practice.model_copy(update={"staff_emails": (SAM,)})
    desk.staff.invite(JO, "front_desk")
    desk.staff.invite(LEE, "clinical")
    # Then the directory's accounts are assignable and the profile's stale name is not
    assert inbox.staff_users(desk, JO) == [JO, LEE]
    inbox.assign(desk, "p1", LEE, JO)
    with pytest.raises(PayloadError, match="assignee"):
        inbox.assign(desk, "p1", SAM, JO)


def test_a_disabled_account_is_not_assignable(desk):
    desk.staff.invite(JO, "front_desk")
    desk.staff.invite(LEE, "clinical")
    desk.staff.disable(LEE)
    assert inbox.staff_users(desk, JO) == [JO]
    with pytest.raises(PayloadError, match="assignee"):
        inbox.assign(desk, "p1", LEE, JO)


def test_the_profile_list_is_the_fallback_when_the_directory_is_empty(desk):
    desk.practice = desk.practice.model_copy(update={"staff_emails": (SAM, LEE)})
    assert inbox.staff_users(desk, JO) == [JO, LEE, SAM]
    desk.staff = None  # no directory at all (a simulation): the same
    assert inbox.staff_users(desk, JO) == [JO, LEE, SAM]


# ---- what each role sees of a patient --------------------------------------------------------------

BILLING, CLINICAL, FRONT_DESK, ADMIN = (frozenset({r}) for r in ("billing", "clinical", "front_desk", "admin"))


def _alert(svc, mid: str, team: str, body: str) -> None:
    svc.messages.put_message(Message(message_id=mid, kind="staff_alert", patient_id="p1", phone=ANA, body=body,
                                     at=svc.clock.now(), status=MessageStatus.OPEN, workflow="sms-agent", team=team))


def _words(view: dict) -> set[str]:
    return {e["body"] for e in view["entries"] if e["kind"] in ("text_in", "text_out", "alert", "task") and e["body"]}


def test_billing_sees_a_clinical_conversations_dates_not_its_words(desk):
    # Given Ana texted about a symptom and the agent routed it to the clinical team
    inbound.handle_inbound(desk, ANA, "my gum has been bleeding since the cleaning", "in-1")
    _alert(desk, "al-clin", "clinical", "Bleeding gum after cleaning")
    inbox.add_note(desk, "p1", "Told her to rinse with salt water", LEE, "req-note")
    for mine in (CLINICAL, FRONT_DESK, ADMIN):  # the caring roles see every word
        assert "Told her to rinse with salt water" in str(patients.timeline(desk, "p1", mine)["entries"])
        assert "my gum has been bleeding since the cleaning" in _words(patients.timeline(desk, "p1", mine))
    # When billing opens her page
    view = patients.timeline(desk, "p1", BILLING)
    # Then the texts and the alert are there, with their dates, but not what they say
    texts = [e for e in view["entries"] if e["kind"] in ("text_in", "alert")]
    assert texts and all(e["withheld"] and e["body"] == "" and not e["intent"] for e in texts)
    assert "my gum has been bleeding since the cleaning" not in str(view)
    assert "Bleeding gum" not in str(view)
    # and staff's internal note is listed as one, without its words
    (note,) = [e for e in view["entries"] if e["kind"] == "note"]
    assert note["withheld"] and "salt water" not in str(view)
    # and the visits, with no action billing may not take, and no consent form to offer
    assert [a["id"] for a in view["appointments"]] == ["a1"] and view["appointments"][0]["actions"] == []
    assert view["may"] == {"act_on_appointments": False, "change_consent": False, "open_conversation": False,
                           "all_words": False}
    assert patients.timeline(desk, "p1", FRONT_DESK)["may"]["change_consent"] is True


def test_billing_sees_every_word_of_a_conversation_routed_to_billing(desk):
    inbound.handle_inbound(desk, ANA, "why was I charged twice for my visit", "in-2")
    _alert(desk, "al-bill", "billing", "Charged twice")
    view = patients.timeline(desk, "p1", BILLING)
    assert "why was I charged twice for my visit" in _words(view) and "Charged twice" in _words(view)
    assert view["may"]["open_conversation"] is True and view["may"]["all_words"] is True


def test_billing_sees_its_own_teams_alert_on_a_clinical_conversation(desk):
    _alert(desk, "al-bill", "billing", "Asked about the bill")
    desk.clock.set(desk.clock.now() + timedelta(minutes=5))
    _alert(desk, "al-clin", "clinical", "Pain after the filling")  # the newest: the conversation is clinical's
    words = _words(patients.timeline(desk, "p1", BILLING))
    assert "Asked about the bill" in words and "Pain after the filling" not in words


def test_every_role_finds_patients_in_the_list(desk):
    # the list carries no conversation words, only what finding a patient needs
    assert roles.allowed_roles("GET", "/patients") == roles.EVERYONE
    row = inbox.patients(desk, "Reyes")[0]
    assert row["phone_masked"] != ANA and set(row) >= {"id", "first_name", "last_name", "next_appointment"}


# ---- each appointment's history of states -----------------------------------------------------------


def _history(svc, appointment_id: str) -> list[tuple[str, str, str]]:
    return [(c.event, c.source, c.by) for c in svc.records.get_appointment(appointment_id).history]


def test_the_ehr_booking_a_text_confirmation_and_a_staff_cancel_are_each_kept_in_order(desk):
    # Given the EHR booked Ana's visit (the fixture), When she confirms by text, then staff cancel it
    assert _history(desk, "a1") == [("booked", "ehr", "")]
    start = desk.clock.now()
    desk.clock.set(start + timedelta(minutes=10))
    inbound.handle_inbound(desk, ANA, "C", "in-c")
    desk.clock.set(start + timedelta(minutes=20))
    patients.appointment_action(desk, "a1", "cancel", JO)
    # Then the history has each change, with who and how, at its time
    appt = desk.records.get_appointment("a1")
    assert _history(desk, "a1") == [("booked", "ehr", ""), ("confirmed", "patient", "text"), ("cancelled", "staff", JO)]
    assert [c.at - start for c in appt.history] == [timedelta(0), timedelta(minutes=10), timedelta(minutes=20)]
    # and the patient page shows it, on the appointment and in the timeline
    page = patients.timeline(desk, "p1")
    assert [h["event"] for h in page["appointments"][0]["history"]] == ["booked", "confirmed", "cancelled"]
    entries = [(e["event"], e["source"], e["by"]) for e in page["entries"] if e["kind"] == "appointment"]
    assert entries == [("cancelled", "staff", JO), ("confirmed", "patient", "text"), ("created", "ehr", "")]


def test_an_ehr_change_of_status_or_time_is_added_and_a_redelivery_adds_nothing(desk):
    first = desk.records.get_appointment("a1")
    moved = Appointment(id="a1", patient_id="p1", start=datetime(2026, 12, 4, 15, tzinfo=NY), provider="Dr. Lee")
    ingest(desk.records, desk.consent, [], [moved], desk.clock.now())
    ingest(desk.records, desk.consent, [], [moved], desk.clock.now())  # the same payload again
    ingest(desk.records, desk.consent, [], [moved.model_copy(update={"status": "noshow"})], desk.clock.now())
    history = desk.records.get_appointment("a1").history
    assert [(c.event, c.source) for c in history] == [("booked", "ehr"), ("moved", "ehr"), ("noshow", "ehr")]
    assert history[1].detail == first.start.isoformat()  # what it moved from


def test_a_booking_through_a_link_says_the_patient_booked_it_that_way():
    from careloop.booking import service
    from tests.unit.test_booking_service import booking_services, token_for

    svc = booking_services()
    booked = service.book(svc, token_for(svc, purpose="rebook"), "cleaning", "2026-03-03T11:00:00-05:00")
    assert _history(svc, booked.appointment.id) == [("booked", "patient", "booking link")]


def test_the_history_keeps_its_first_entry_and_the_newest_when_it_is_long(desk):
    from careloop.records import HISTORY_LIMIT, with_change

    appt = desk.records.get_appointment("a1")
    for i in range(HISTORY_LIMIT + 5):
        appt = with_change(appt, "confirmed", desk.clock.now(), "staff", f"s{i}")
    assert len(appt.history) == HISTORY_LIMIT
    assert appt.history[0].source == "ehr" and appt.history[-1].by == f"s{HISTORY_LIMIT + 4}"


# ---- rescheduling from the patient page ---------------------------------------------------------------


def _with_visit():
    from tests.unit.test_booking_service import NOW, booking_services

    svc = booking_services()
    svc.records.put_appointment(Appointment(id="v1", patient_id="p2", start=NOW + timedelta(days=2), provider="lee",
                                            location="main", visit_type="cleaning"))
    return svc


def test_staff_text_a_link_that_moves_the_visit_and_the_history_says_so():
    from careloop.booking import service

    svc = _with_visit()
    page = patients.timeline(svc, "p2", FRONT_DESK)
    assert next(a for a in page["appointments"] if a["id"] == "v1")["reschedule"] is True
    # When the front desk sends the link (a retried request sends one text)
    for _ in range(2):
        sent = patients.send_reschedule_link(svc, "p2", "v1", JO, "req-move-1")
    texts = [m for m in svc.outbox.sent if m.message_id == sent["message_id"]]
    assert len(texts) == 1 and "/b/" in texts[0].body and "Cleaning" in texts[0].body and "EST" in texts[0].body
    assert texts[0].workflow == "staff" and texts[0].reason == f"sent by {JO}"
    # Then the patient's pick books the new time and cancels the old visit
    token = texts[0].body.split("/b/")[1].split()[0]
    booked = service.book(svc, token, "cleaning", "2026-03-05T10:00:00-05:00")
    old = svc.records.get_appointment("v1")
    assert old.status == "cancelled" and [c.event for c in old.history][-1] == "cancelled"
    assert _history(svc, booked.appointment.id) == [("booked", "patient", "booking link")]


def test_a_reschedule_link_is_refused_with_the_reason():
    svc = _with_visit()
    with pytest.raises(NotFound):
        patients.send_reschedule_link(svc, "p1", "v1", JO, "r1")  # not this patient's visit
    with pytest.raises(Conflict, match="upcoming"):
        patients.send_reschedule_link(svc, "p2", "old-p2", JO, "r2")  # a visit in the past
    assert not patients.timeline(svc, "p2", BILLING)["appointments"][0]["reschedule"]
    svc.booking_base_url = ""  # no online booking: nothing to send
    with pytest.raises(Conflict, match="online booking"):
        patients.send_reschedule_link(svc, "p2", "v1", JO, "r3")
