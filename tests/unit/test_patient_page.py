"""The patient page on the fakes: the timeline, newest first, of texts, calls, appointments, consent
and delivery; staff's appointment actions (write-back, planner) and consent changes with a note."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from careloop import consent, inbox, patients
from careloop.agent import inbound
from careloop.ehr.writeback import ListWritebackQueue, requests_for
from careloop.errors import Conflict, NotFound, PayloadError
from careloop.models import Appointment, MessageStatus, Patient
from careloop.records import ingest
from careloop_local.fakes import demo_profile, memory_services
from tests.conftest import NY

PHONE = "+16175550101"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=NY)
STAFF = "jo@practice.test"


def _services(writeback: bool = True):
    practice = demo_profile()
    if writeback:
        practice = practice.model_copy(update={"ehr": practice.ehr.model_copy(
            update={"writeback": True, "fhir_base_url": "https://ehr.test/fhir"})})
    svc = memory_services(NOW, practice=practice)
    svc.writeback = ListWritebackQueue()
    # Ana: a cleaning on Dec 3 at 10:00 (ahead), a check-up on Nov 29 at 14:00 (past, never closed out)
    # and an x-ray this morning at 8:00 (an hour ago: she did not come, or did)
    ingest(svc.records, svc.consent, [Patient(id="p1", first_name="Ana", last_name="Reyes", phone=PHONE)],
           [Appointment(id="a1", patient_id="p1", start=datetime(2026, 12, 3, 10, tzinfo=NY), provider="Dr. Lee"),
            Appointment(id="a0", patient_id="p1", start=datetime(2026, 11, 29, 14, tzinfo=NY), provider="Dr. Lee"),
            Appointment(id="a2", patient_id="p1", start=datetime(2026, 12, 1, 8, tzinfo=NY), provider="Dr. Lee")],
           svc.clock.now())
    return svc


@pytest.fixture
def svc():
    return _services()


def events(svc):
    return [(e.kind, e.appointment_id) for e in svc.writeback.events]


def pending_steps(svc, appointment_id):
    return {(a.workflow, a.step) for a in svc.actions.actions_for_subject(f"APT#{appointment_id}")
            if a.status == "pending"}


# ---- the timeline ------------------------------------------------------------------------------


def test_the_timeline_holds_texts_appointments_consent_and_delivery_newest_first(svc):
    inbox.staff_reply(svc, "p1", "Your cleaning is on Thursday", STAFF, "req-1")
    svc.clock.set(NOW + timedelta(minutes=5))
    inbound.handle_inbound(svc, PHONE, "STOP", "in-stop")
    page = patients.timeline(svc, "p1")
    kinds = [e["kind"] for e in page["entries"]]
    assert {"text_out", "text_in", "appointment", "consent"} <= set(kinds)
    ats = [datetime.fromisoformat(e["at"]) for e in page["entries"]]
    assert ats == sorted(ats, reverse=True)
    # the opt-out is there with its proof, and the staff text with its delivery outcome
    stop = next(e for e in page["entries"] if e["kind"] == "consent")
    assert stop["action"] == "opt_out" and stop["source"] == "sms" and stop["text"] == "STOP"
    sent = next(e for e in page["entries"] if e["kind"] == "text_out" and e["body"] == "Your cleaning is on Thursday")
    assert sent["delivery"]["status"] == sent["status"]
    assert page["patient"]["opted_out"] is True
    # each appointment once, with what staff can do: confirm/cancel ahead, close out once started
    actions = {a["id"]: a["actions"] for a in page["appointments"]}
    assert actions == {"a1": ["confirm", "cancel"], "a0": ["noshow", "fulfilled"], "a2": ["noshow", "fulfilled"]}


def test_a_failed_delivery_shows_its_outcome(svc):
    msg = inbox.staff_reply(svc, "p1", "See you Thursday", STAFF, "req-2")
    svc.messages.update_message(msg.message_id, status=MessageStatus.FAILED, status_detail="unreachable")
    entry = next(e for e in patients.timeline(svc, "p1")["entries"] if e["id"] == msg.message_id)
    assert entry["delivery"] == {"status": "failed", "detail": "unreachable", "parts": entry["delivery"]["parts"]}


def test_the_timeline_of_an_unknown_patient_is_not_found(svc):
    with pytest.raises(NotFound):
        patients.timeline(svc, "nobody")


def test_the_data_quality_findings_of_that_patient_only(svc):
    ingest(svc.records, svc.consent, [Patient(id="p2", first_name="Bo", last_name="Lin", phone=None)], [],
           svc.clock.now())
    found = patients.timeline(svc, "p1")["findings"]
    # Ana's check-up of Nov 29 was never closed out in the EHR; Bo's missing phone is not hers
    assert [f["problem"] for f in found] == ["past_still_booked"]
    assert found[0]["appointment_id"] == "a0"
    assert "no_phone" in [f["problem"] for f in patients.timeline(svc, "p2")["findings"]]


# ---- appointment actions -----------------------------------------------------------------------


def test_staff_confirm_is_stored_told_to_the_ehr_and_recorded_on_the_timeline(svc):
    done = patients.appointment_action(svc, "a1", "confirm", STAFF)
    assert done["changed"] and done["ehr_told"]
    assert svc.records.get_appointment("a1").confirmed is True
    assert events(svc) == [("appointment_confirmed", "a1")]
    # the EHR hears staff confirmed it, not the patient by text
    assert "by staff" in requests_for(svc.writeback.events[0])[0].body["comment"]  # type: ignore[index]
    entry = next(e for e in patients.timeline(svc, "p1")["entries"] if e["kind"] == "staff_action")
    assert entry["step"] == "appointment_confirm" and entry["reason"] == f"by {STAFF}"
    # confirming again changes nothing and tells the EHR nothing more
    assert patients.appointment_action(svc, "a1", "confirm", STAFF)["changed"] is False
    assert len(svc.writeback.events) == 1


def test_staff_cancel_stops_the_reminders_and_tells_the_ehr(svc):
    assert ("appointment-reminder", "reminder-48h") in pending_steps(svc, "a1")
    patients.appointment_action(svc, "a1", "cancel", STAFF)
    appt = svc.records.get_appointment("a1")
    assert appt.status == "cancelled" and appt.declined and not appt.confirmed
    assert events(svc) == [("appointment_cancelled", "a1")]
    assert pending_steps(svc, "a1") == set()
    with pytest.raises(Conflict):
        patients.appointment_action(svc, "a1", "confirm", STAFF)


def test_a_no_show_starts_no_show_recovery_and_is_written_back(svc):
    patients.appointment_action(svc, "a2", "noshow", STAFF)
    assert svc.records.get_appointment("a2").status == "noshow"
    assert events(svc) == [("appointment_noshow", "a2")]
    assert {s for w, s in pending_steps(svc, "a2") if w == "no-show-recovery"} == {"recovery-sms", "rebook-alert"}
    req = requests_for(svc.writeback.events[0])
    assert [(r.method, r.path, r.body) for r in req] == [
        ("PATCH", "Appointment/a2", [{"op": "replace", "path": "/status", "value": "noshow"}])]


def test_fulfilled_starts_the_post_visit_steps_and_is_written_back(svc):
    patients.appointment_action(svc, "a2", "fulfilled", STAFF)
    assert svc.records.get_appointment("a2").status == "fulfilled"
    assert events(svc) == [("appointment_fulfilled", "a2")]
    assert any(w == "post-visit" for w, _ in pending_steps(svc, "a2"))
    assert requests_for(svc.writeback.events[0])[0].body == [{"op": "replace", "path": "/status", "value": "fulfilled"}]


def test_without_write_back_in_the_profile_the_ehr_is_not_told_but_the_change_stands():
    svc = _services(writeback=False)
    done = patients.appointment_action(svc, "a0", "noshow", STAFF)
    assert done["ehr_told"] is False and svc.writeback.events == []
    assert svc.records.get_appointment("a0").status == "noshow"


@pytest.mark.parametrize("appt,action,why", [
    ("a1", "noshow", "has not started"),
    ("a1", "fulfilled", "has not started"),
    ("a0", "confirm", "already started"),
    ("a0", "cancel", "already started"),
])
def test_an_action_that_does_not_fit_the_visit_is_a_conflict_and_changes_nothing(svc, appt, action, why):
    before = svc.records.get_appointment(appt)
    with pytest.raises(Conflict, match=why):
        patients.appointment_action(svc, appt, action, STAFF)
    assert svc.records.get_appointment(appt) == before and svc.writeback.events == []


def test_an_unknown_action_or_appointment_is_not_found(svc):
    with pytest.raises(NotFound, match="confirm, cancel, noshow, fulfilled"):
        patients.appointment_action(svc, "a1", "delete", STAFF)
    with pytest.raises(NotFound, match="appointment"):
        patients.appointment_action(svc, "zzz", "confirm", STAFF)


# ---- consent changed by staff ------------------------------------------------------------------


def test_a_staff_opt_out_is_in_the_ledger_with_source_staff_the_member_and_the_note(svc):
    out = patients.staff_consent(svc, "p1", {"opted_out": True, "note": "Asked on the phone  to stop texts"}, STAFF)
    assert out == {"changed": True, "opted_out": True}
    last = consent.entries(svc.consent, PHONE)[-1]
    assert (last.action, last.source, last.by, last.text) == ("opt_out", "staff", STAFF, "Asked on the phone to stop texts")
    assert ("patient_opted_out", None) in events(svc)
    entry = next(e for e in patients.timeline(svc, "p1")["entries"] if e["kind"] == "consent")
    assert entry["by"] == STAFF and entry["note"] == "Asked on the phone to stop texts"


@pytest.mark.parametrize("body,field", [
    ({"note": "x"}, "opted_out"),
    ({"opted_out": True}, "note"),
    ({"opted_out": True, "note": "   "}, "note"),
    ({"opted_out": True, "note": "x" * 501}, "note"),
    ({"opted_out": False, "note": "She called"}, "documented_consent"),
])
def test_a_consent_change_without_what_it_needs_names_the_field_and_records_nothing(svc, body, field):
    before = consent.entries(svc.consent, PHONE)
    with pytest.raises(PayloadError, match=f"^{field}:"):
        patients.staff_consent(svc, "p1", body, STAFF)
    assert consent.entries(svc.consent, PHONE) == before


def test_an_opt_in_needs_documented_consent_and_then_is_recorded(svc):
    patients.staff_consent(svc, "p1", {"opted_out": True, "note": "On the phone"}, STAFF)
    out = patients.staff_consent(svc, "p1", {"opted_out": False, "note": "Signed the SMS consent form",
                                             "documented_consent": True}, STAFF)
    assert out == {"changed": True, "opted_out": False}
    assert consent.entries(svc.consent, PHONE)[-1].action == "opt_in"
    assert svc.records.get_patient("p1").opted_out is False


def test_at_one_instant_the_booking_reads_before_what_followed_it(svc):
    patients.appointment_action(svc, "a1", "confirm", STAFF)
    mine = [e for e in patients.timeline(svc, "p1")["entries"]
            if e.get("appointment_id") == "a1" or (e.get("appointment") or {}).get("id") == "a1"]
    # newest first: the confirmation (and staff's record of it) above the booking
    assert mine[-1]["kind"] == "appointment" and mine[-1]["event"] == "created"
    assert {e.get("event") or e["kind"] for e in mine[:-1]} == {"confirmed", "staff_action"}
