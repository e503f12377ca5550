"""Id-only FHIR Subscription notifications (issue #10, item 11): the resources they name are queued
for the EHR worker, fetched from the EHR's FHIR API and applied like any payload; without a FHIR
base URL nothing is queued (and the answer already says what to fetch)."""

from __future__ import annotations

from careloop.ehr import writeback
from careloop.ehr.writeback import ListWritebackQueue, WritebackError, fetch_request
from careloop.intake import apply_fetched, parse, queue_fetches
from tests.unit.test_ehr_fhir import backport_status, bundle


class FakeArchive:
    def __init__(self):
        self.put_keys = []

    def put(self, key, body, meta):
        self.put_keys.append(key)


def _with_ehr(svc):
    ehr = svc.practice.ehr.model_copy(update={"fhir_base_url": "https://ehr.example/fhir"})
    svc.practice = svc.practice.model_copy(update={"ehr": ehr})
    svc.writeback = ListWritebackQueue()


def test_an_id_only_notification_is_fetched_and_applied(svc):
    _with_ehr(svc)
    body = bundle("history", backport_status("event-notification", "https://ehr.example/fhir/Appointment/77"))
    batches = parse("fhir", body.encode() if isinstance(body, str) else body, svc)
    # When it is received / Then a fetch of Appointment/77 is queued for the EHR worker
    assert queue_fetches(svc, batches, svc.clock.now()) == 1
    (event,) = svc.writeback.events
    assert (event.kind, event.ref) == ("fetch_resource", "Appointment/77")
    request = fetch_request(event)
    assert (request.method, request.path, request.body) == ("GET", "Appointment/77", None)
    # and what the EHR returns is applied like a webhook payload (the patient first, then it)
    archive = FakeArchive()
    patient = {"resourceType": "Patient", "id": "pat-77", "meta": {"lastUpdated": "2026-11-30T10:00:00Z"},
               "name": [{"family": "Reyes", "given": ["Ana"]}],
               "telecom": [{"system": "phone", "value": "617-555-0177", "use": "mobile"}]}
    appointment = {"resourceType": "Appointment", "id": "77", "status": "booked", "minutesDuration": 30,
                   "meta": {"lastUpdated": "2026-11-30T10:00:00Z"}, "start": "2026-12-10T10:00:00-05:00",
                   "participant": [{"actor": {"reference": "Patient/pat-77"}, "status": "accepted"}]}
    assert apply_fetched(svc, archive, patient, svc.clock.now()) is not None
    assert apply_fetched(svc, archive, appointment, svc.clock.now()) is not None
    assert svc.records.get_appointment("77").patient_id == "pat-77" and len(archive.put_keys) == 2


def test_a_fetched_resource_that_cannot_be_read_is_quarantined_not_applied(svc):
    archive = FakeArchive()
    assert apply_fetched(svc, archive, {"resourceType": "Appointment", "status": "whenever"}, svc.clock.now()) is None
    assert archive.put_keys and archive.put_keys[0].startswith("quarantine/")


def test_without_a_fhir_base_url_nothing_is_queued_and_a_bad_reference_is_refused(svc):
    svc.writeback = ListWritebackQueue()
    body = bundle("history", backport_status("event-notification", "https://ehr.example/fhir/Appointment/77"))
    assert queue_fetches(svc, parse("fhir", body.encode() if isinstance(body, str) else body, svc), svc.clock.now()) == 0
    bad = writeback.WritebackEvent(kind="fetch_resource", patient_id="", ref="../admin", at=svc.clock.now())
    try:
        fetch_request(bad)
    except WritebackError as exc:
        assert exc.permanent
    else:
        raise AssertionError("a bad reference must be refused")
