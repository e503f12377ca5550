"""Request-mode bookings on the fakes: the front desk confirms (booked, claim, "you're booked",
task done) or declines (cancelled, hold released, a link to pick again), and the EHR's own copy
of the visit supersedes Careloop's so the planner keeps exactly one set of reminders."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from careloop.booking import requests, service
from careloop.ehr.payload import apply_batches, parse
from careloop.errors import Conflict, NotFound
from careloop.models import ActionStatus, MessageStatus
from careloop.workflows import default_library
from tests.unit.test_booking_service import NOW, booking_services, token_for

START = "2026-03-03T11:00:00-05:00"


def _requested(svc):
    svc.workflow_source = default_library()  # the planner plans the reminders, as deployed
    return service.book(svc, token_for(svc), "cleaning", START, "lee").appointment


def _pending_reminders(svc, appointment_id: str) -> list[str]:
    return sorted(a.step for a in svc.actions.actions_for_subject(f"APT#{appointment_id}")
                  if a.status == ActionStatus.PENDING and a.workflow == "appointment-reminder")


def _claims(svc):
    return [(c.provider, c.kind, c.appointment_id) for c in svc.booking.claims_between(NOW, datetime(2026, 4, 1, tzinfo=UTC))]


def test_confirming_a_request_books_it_claims_the_slot_texts_the_patient_and_closes_the_task():
    svc = booking_services(mode="request")
    pending = _requested(svc)
    assert _pending_reminders(svc, pending.id) == []  # a pending request is not reminded
    assert _claims(svc) == [("lee", "hold", pending.id)]
    # When the front desk confirms it
    booked = requests.confirm(svc, pending.id, "desk@maple.test")
    # Then it is booked, the hold is the booked claim, reminders are planned and the task is done
    assert booked.status == "booked" and svc.records.get_appointment(pending.id).status == "booked"
    assert _claims(svc) == [("lee", "booked", pending.id)]
    assert _pending_reminders(svc, pending.id) != []
    task = svc.messages.get_message(requests.request_task_id(pending.id))
    assert task.status == MessageStatus.DONE and task.status_detail == "confirmed by desk@maple.test"
    # and the patient (Spanish) is told at once, once, even when staff click twice
    requests.confirm(svc, pending.id, "desk@maple.test")
    texts = [m for m in svc.outbox.sent if m.step == "confirmed"]
    assert len(texts) == 1 and not texts[0].automated
    assert texts[0].body.startswith(f"{svc.practice.name}: su cita está reservada, Ana.") and "Limpieza" in texts[0].body


def test_declining_a_request_cancels_it_frees_the_slot_and_sends_a_link_to_pick_again():
    svc = booking_services(mode="request")
    pending = _requested(svc)
    cancelled = requests.decline(svc, pending.id, "desk@maple.test")
    assert cancelled.status == "cancelled" and _claims(svc) == []
    # the time is open again for anyone
    other = service.slots_for(svc, token_for(svc, "p2"), "cleaning", "2026-03-03", 1)["slots"]
    assert (START, "lee") in {(s["start"], s["provider"]) for s in other}
    (text,) = [m for m in svc.outbox.sent if m.step == "declined"]
    link = text.body.rsplit(" ", 1)[1]
    assert link.startswith("http://127.0.0.1:8000/b/") and "Elija otra hora" in text.body
    # the link in it is the patient's own, usable to book again
    token = link.rsplit("/", 1)[1]
    assert service.types_for(svc, token)
    assert svc.messages.get_message(requests.request_task_id(pending.id)).status == MessageStatus.DONE
    # declining again is harmless; confirming a declined one is a conflict
    requests.decline(svc, pending.id, "desk@maple.test")
    assert len([m for m in svc.outbox.sent if m.step == "declined"]) == 1
    with pytest.raises(Conflict, match="cancelled, not pending"):
        requests.confirm(svc, pending.id, "desk@maple.test")


def test_an_unknown_or_ehr_appointment_is_not_found():
    svc = booking_services(mode="request")
    with pytest.raises(NotFound):
        requests.confirm(svc, "nope", "desk")
    with pytest.raises(NotFound):
        requests.decline(svc, "old-p1", "desk")  # the EHR's own appointment, not an online booking


def _ehr_appointment(aid: str, start: str = START, provider: str = "lee", patient: str = "p1") -> bytes:
    return json.dumps({"resourceType": "Appointment", "id": aid, "meta": {"lastUpdated": "2026-03-02T13:30:00Z"},
                       "status": "booked", "start": start, "minutesDuration": 60,
                       "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"},
                                       {"actor": {"reference": f"Practitioner/{provider}", "display": f"Dr. {provider.title()}"},
                                        "status": "accepted"}]}).encode()


@pytest.mark.parametrize("confirmed_first", [False, True], ids=["pending", "confirmed"])
def test_the_ehrs_copy_of_a_request_supersedes_it_and_only_one_set_of_reminders_remains(confirmed_first):
    svc = booking_services(mode="request")
    pending = _requested(svc)
    if confirmed_first:
        requests.confirm(svc, pending.id, "desk")
        assert _pending_reminders(svc, pending.id) != []
    # When the EHR sends the appointment the front desk entered (its own id)
    apply_batches(svc, parse("fhir", _ehr_appointment("ehr-777"), svc), NOW)
    # Then Careloop's is cancelled for it, with the reason, and the EHR's is the one reminded
    ours = svc.records.get_appointment(pending.id)
    assert ours.status == "cancelled" and ours.superseded_by == "ehr-777"
    assert _pending_reminders(svc, pending.id) == []
    assert _pending_reminders(svc, "ehr-777") != []
    reminded = {a.appointment_id for a in svc.actions.actions_for_subject("APT#ehr-777")} | {
        a.appointment_id for a in svc.actions.actions_for_subject(f"APT#{pending.id}") if a.status == ActionStatus.PENDING}
    assert reminded == {"ehr-777"}
    assert _claims(svc) == []  # the EHR's appointment keeps the time busy now
    assert svc.messages.get_message(requests.request_task_id(pending.id)).status == MessageStatus.DONE
    with pytest.raises(Conflict, match="ehr-777"):
        requests.confirm(svc, pending.id, "desk")
    # And a redelivery changes nothing
    apply_batches(svc, parse("fhir", _ehr_appointment("ehr-777"), svc), NOW)
    assert svc.records.get_appointment(pending.id).superseded_by == "ehr-777"


@pytest.mark.parametrize("kwargs", [{"start": "2026-03-03T10:00:00-05:00"}, {"provider": "patel"},
                                    {"patient": "p2"}], ids=["other start", "other provider", "other patient"])
def test_an_ehr_appointment_that_is_not_the_same_visit_supersedes_nothing(kwargs):
    svc = booking_services(mode="request")
    pending = _requested(svc)
    apply_batches(svc, parse("fhir", _ehr_appointment("ehr-778", **kwargs), svc), NOW)
    assert svc.records.get_appointment(pending.id).status == "pending"


def _reschedule_request(svc):
    from careloop.models import Appointment

    svc.records.put_appointment(Appointment(id="e9", patient_id="p1", provider="lee", location="main",
                                            start=datetime(2026, 3, 5, 14, 0, tzinfo=UTC), minutes=60))
    token = token_for(svc, purpose="reschedule", appointment_id="e9")
    return service.book(svc, token, "cleaning", START, "lee").appointment


def test_a_reschedule_request_keeps_the_old_visit_until_the_front_desk_confirms_the_new_one():
    # Given a patient asks to move visit e9 in request mode
    svc = booking_services(mode="request")
    pending = _reschedule_request(svc)
    # Then the old visit is still theirs (nothing cancelled, the EHR not told) while staff decide
    assert svc.records.get_appointment("e9").status == "booked"
    assert ("appointment_cancelled", "e9") not in [(e.kind, e.appointment_id) for e in svc.writeback.events]
    # When the front desk confirms, the old visit is cancelled and the EHR told
    requests.confirm(svc, pending.id, "desk@maple.test")
    assert svc.records.get_appointment("e9").status == "cancelled"
    assert ("appointment_cancelled", "e9") in [(e.kind, e.appointment_id) for e in svc.writeback.events]


def test_a_declined_reschedule_request_leaves_the_patient_their_visit_and_says_so():
    svc = booking_services(mode="request")
    pending = _reschedule_request(svc)
    requests.decline(svc, pending.id, "desk@maple.test")
    assert svc.records.get_appointment("e9").status == "booked"
    (text,) = [m for m in svc.outbox.sent if m.step == "declined"]
    assert text.body.endswith("Su cita actual sigue igual.")


def test_a_reschedule_request_entered_in_the_ehr_as_a_new_visit_cancels_the_old_one():
    # Given a pending request to move e9, which the front desk enters in the EHR as a new visit
    svc = booking_services(mode="request")
    pending = _reschedule_request(svc)
    apply_batches(svc, parse("fhir", _ehr_appointment("ehr-778"), svc), NOW)
    # Then the request is superseded and the visit it replaces is cancelled (one visit remains)
    assert svc.records.get_appointment(pending.id).superseded_by == "ehr-778"
    assert svc.records.get_appointment("e9").status == "cancelled"
    assert svc.records.get_appointment("ehr-778").status == "booked"
