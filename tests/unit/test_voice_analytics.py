"""Voice analytics (issue 13, item 7): calls the agent answered, booked by voice, transferred,
callbacks, missed calls, text-backs and bookings that followed a text-back, in the summary and CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from careloop import inbox
from careloop.models import Appointment, Patient
from careloop.records import ingest
from careloop.voice import calls
from careloop.voice.contact import CallContact
from careloop.voice.missed import handle_contact_event
from tests.conftest import NY
from tests.connect_samples import missed_call_event

INSTANCE = "12345678-1234-1234-1234-123456789012"


def _agent_call(svc, contact, phone, patient_id, outcome, reached_agent=False):
    calls.record_turn(svc, contact_id=contact, caller_phone=phone, patient_id=patient_id, locale="en_US",
                      caller_text="hello", agent_text="Hi, this is Maple's automated assistant.", intent="BookAppointment",
                      at=svc.clock.now(), outcome=outcome)
    calls.finish_call(svc, contact_id=contact, caller_phone=phone, outcome=outcome, reached_agent=reached_agent,
                      started_at=svc.clock.now(), ended_at=svc.clock.now() + timedelta(minutes=2))


def _missed_call(svc, contact, phone):
    ended = svc.clock.now()
    svc.contacts.contacts[(INSTANCE, contact)] = CallContact(
        contact_id=contact, caller_phone=phone, disconnected_at=ended, initiated_at=ended - timedelta(seconds=30))
    return handle_contact_event(svc, missed_call_event(contact, INSTANCE, at=ended.astimezone(UTC).isoformat()))


def _careloop_booking(svc, appointment_id, patient_id, start):
    """An appointment booked through Careloop (the text-back's link, a reply, a call) now."""
    svc.records.put_appointment(Appointment(id=appointment_id, patient_id=patient_id, start=start, source="careloop",
                                            updated_at=svc.clock.now()))


def test_an_ehr_resend_or_a_confirmation_after_a_text_back_is_no_booking_after_it(svc):
    t0 = svc.clock.now()
    # Given a patient with an EHR appointment made before the missed call
    ingest(svc.records, svc.consent, [Patient(id="p0", first_name="P0", phone="+16175552300", phone_kind="mobile")],
           [Appointment(id="a-ehr", patient_id="p0", start=t0 + timedelta(days=12))], t0)
    assert _missed_call(svc, "v-miss", "+16175552300").action == "texted"
    # When the EHR re-sends it the next day and the patient confirms it: its updated_at moves
    svc.clock.set(t0 + timedelta(days=1))
    ingest(svc.records, svc.consent, [], [Appointment(id="a-ehr", patient_id="p0", start=t0 + timedelta(days=12),
                                                      source_version="2")], svc.clock.now())
    appt = svc.records.get_appointment("a-ehr")
    svc.records.put_appointment(appt.model_copy(update={"confirmed": True, "confirmed_at": svc.clock.now(),
                                                        "updated_at": svc.clock.now()}))
    assert svc.records.get_appointment("a-ehr").updated_at > t0
    period = (datetime(2026, 11, 20, tzinfo=NY), datetime(2026, 12, 31, tzinfo=NY))
    # Then nothing was booked after the text-back
    out = inbox.analytics(svc, *period)["voice"]
    assert (out["text_backs"], out["booked_after_text_back"]) == (1, 0)
    # And a booking Careloop makes for the patient within the week does count
    _careloop_booking(svc, "a-new", "p0", t0 + timedelta(days=20))
    assert inbox.analytics(svc, *period)["voice"]["booked_after_text_back"] == 1


def test_voice_metrics_count_each_kind_of_call_and_the_bookings_after_a_text_back(svc):
    t0 = svc.clock.now()
    ingest(svc.records, svc.consent, [
        Patient(id=f"p{i}", first_name=f"P{i}", phone=f"+1617555{2000 + i}", phone_kind="mobile") for i in range(6)
    ], [], t0)
    # Given calls the agent handled: a booking, a transfer, a callback and an urgent one
    _agent_call(svc, "v-book", "+16175552000", "p0", "booked")
    _agent_call(svc, "v-xfer", "+16175552001", "p1", "transferred", reached_agent=True)
    _agent_call(svc, "v-cb", "+16175552002", "p2", "callback")
    _agent_call(svc, "v-urg", "+16175552003", "p3", "urgent")
    # And two missed calls texted back, one of which led to a booking (Careloop's) three days later
    assert _missed_call(svc, "v-miss1", "+16175552004").action == "texted"
    assert _missed_call(svc, "v-miss2", "+16175552005").action == "texted"
    svc.clock.set(t0 + timedelta(days=3))
    _careloop_booking(svc, "a-after", "p4", t0 + timedelta(days=10))
    # And a booking of the other patient long after the week had passed does not count
    svc.clock.set(t0 + timedelta(days=20))
    _careloop_booking(svc, "a-late", "p5", t0 + timedelta(days=30))

    out = inbox.analytics(svc, datetime(2026, 11, 20, tzinfo=NY), datetime(2026, 12, 31, tzinfo=NY))["voice"]

    assert (out["calls"], out["answered_by_agent"]) == (6, 4)
    assert (out["booked_by_voice"], out["transferred"], out["callbacks"], out["urgent"], out["missed"]) == (1, 1, 1, 1, 2)
    assert (out["text_backs"], out["booked_after_text_back"], out["text_back_booking_rate"]) == (2, 1, 0.5)
    assert {r["outcome"]: r["calls"] for r in out["by_outcome"]} == {
        "booked": 1, "transferred": 1, "callback": 1, "urgent": 1, "missed": 2}


def test_the_period_bounds_the_voice_metrics_and_the_csv_lists_them(svc):
    _agent_call(svc, "v-1", "+16175552100", None, "booked")
    before = inbox.analytics(svc, datetime(2026, 10, 1, tzinfo=NY), datetime(2026, 11, 1, tzinfo=NY))
    assert before["voice"]["calls"] == 0 and before["voice"]["text_back_booking_rate"] == 0.0
    now = inbox.analytics(svc, datetime(2026, 11, 20, tzinfo=NY), datetime(2026, 12, 31, tzinfo=NY))
    csv_text = inbox.analytics_csv(now)
    assert "voice metric,value" in csv_text and "booked_by_voice,1" in csv_text and "text_backs,0" in csv_text
