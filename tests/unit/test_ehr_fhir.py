"""FHIR R4 mapping (careloop.ehr.fhir): every vendored FHIR sample, Subscription notifications,
transaction bundles with urn:uuid references, and hostile payloads."""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from careloop.clock import FixedClock, use_clock
from careloop.ehr import EhrBatch
from careloop.ehr.fhir import parse_fhir
from careloop.errors import PayloadError
from careloop.practice import demo_profile, parse_profile
from tests.conftest import DATA

EXAMPLES = DATA / "fhir-r4-examples"
SYNTHEA = DATA / "smart-generated-sample-data-synthea-r4"
CONVERTED = DATA / "microsoft-FHIR-Converter" / "expected-fhir"


@pytest.fixture(autouse=True)
def fixed_clock():
    previous = use_clock(FixedClock(datetime(2025, 3, 3, 15, 0, tzinfo=UTC)))
    yield
    use_clock(previous)


@pytest.fixture
def profile():
    return demo_profile()  # US numbers, America/New_York


def profile_for(country: str):
    data = demo_profile().model_dump(mode="json")
    data["sms"]["country"] = country
    return parse_profile(data)


def sample(path: Path) -> bytes:
    return path.read_bytes()


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def issues_of(body, profile) -> list[str]:
    with pytest.raises(PayloadError) as caught:
        parse_fhir(body, profile)
    return caught.value.issues


def appointment(**overrides) -> dict:
    base = {
        "resourceType": "Appointment", "id": "a1", "status": "booked",
        "start": "2025-03-10T14:00:00Z", "end": "2025-03-10T14:45:00Z",
        "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}],
    }
    base.update(overrides)
    return base


def bundle(btype: str, *entries: dict, bundle_id: str | None = "b1") -> dict:
    out = {"resourceType": "Bundle", "type": btype, "entry": list(entries)}
    if bundle_id:
        out["id"] = bundle_id
    return out


# ---- every FHIR R4 spec example ---------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_every_spec_example_is_understood(path, profile):
    # Given any of the shared R4 spec examples
    # When it arrives on the FHIR webhook
    batch = parse_fhir(sample(path), profile)
    # Then it is accepted (mapped or skipped), never a PayloadError
    assert isinstance(batch, EhrBatch) and batch.source == "fhir"


def test_patient_example_takes_the_mobile_and_the_official_name():
    # Given the spec's Patient "example" (Australian numbers: work ranked 1, mobile ranked 2,
    # an old number whose period ended) and a practice that texts in Australia
    batch = parse_fhir(sample(EXAMPLES / "patient-example.json"), profile_for("AU"))
    # Then the official name is used (not the usual "Jim"), and the mobile wins over the
    # better-ranked work number
    (p,) = batch.patients
    assert (p.id, p.first_name, p.last_name) == ("example", "Peter", "Chalmers")
    assert (p.phone, p.phone_kind) == ("+61334105613", "mobile")
    assert p.identifiers == ["urn:oid:1.2.36.146.595.217.0.1|12345"]
    assert p.language == "en" and p.source_version == "" and p.updated_at is None
    assert batch.warnings == [] and batch.event == "Patient" and batch.message_id is None


def test_patient_example_with_foreign_numbers_is_a_warning_without_the_number(profile):
    # Given the same Patient, but a practice that texts in the US
    batch = parse_fhir(sample(EXAMPLES / "patient-example.json"), profile)
    # Then no phone is stored, the reasons are warnings, and no digits of a number leak
    (p,) = batch.patients
    assert p.phone is None and p.phone_kind == "unknown"
    assert batch.warnings == [
        "Patient/example: telecom[2] is not a valid phone number for region US",
        "Patient/example: telecom[1] is not a valid phone number for region US",
        "Patient/example: no SMS-capable phone",
    ]
    assert not any(d in " ".join(batch.warnings) for d in ("3410", "5613", "6473", "8834"))


def test_patient_example_a_has_no_phone(profile):
    # Given Patient "pat1" (Donald Duck), who has no telecom at all
    batch = parse_fhir(sample(EXAMPLES / "patient-example-a.json"), profile)
    # Then it maps, with a warning that there is nothing to text
    (p,) = batch.patients
    assert (p.id, p.first_name, p.last_name, p.phone) == ("pat1", "Duck", "Donald", None)
    assert p.identifiers == ["urn:oid:0.1.2.3.4.5.6.7|654321"]
    assert batch.warnings == ["Patient/pat1: no SMS-capable phone"]


def test_pieter_gets_his_dutch_mobile_not_his_contacts():
    # Given Pieter van de Heuvel (Dutch mobile, Dutch language, a contact with her own mobile)
    batch = parse_fhir(sample(EXAMPLES / "patient-example-f001-pieter.json"), profile_for("NL"))
    # Then his own mobile is the SMS number, Dutch reads as English (Careloop writes en/es), and
    # the identifier without a value is dropped
    (p,) = batch.patients
    assert (p.id, p.first_name, p.last_name) == ("f001", "Pieter", "van de Heuvel")
    assert (p.phone, p.phone_kind, p.language) == ("+31648352638", "mobile", "en")
    assert p.identifiers == ["urn:oid:2.16.840.1.113883.2.4.6.3|738472983"]
    assert batch.warnings == []


def test_appointment_example(profile):
    # Given the spec's booked Appointment "example"
    batch = parse_fhir(sample(EXAMPLES / "appointment-example.json"), profile)
    # Then every Careloop field is filled from it
    (a,) = batch.appointments
    assert (a.id, a.patient_id, a.status) == ("example", "example", "booked")
    assert a.start == datetime(2013, 12, 10, 9, 0, tzinfo=UTC)
    assert a.minutes == 120  # end - start; no minutesDuration
    assert a.provider == "Dr Adam Careful"
    assert a.location == "South Wing, second floor"
    assert a.visit_type == "followup"  # appointmentType FOLLOWUP, a short code
    assert batch.patients == [] and batch.warnings == []


def test_appointment_with_two_doctors_takes_the_first(profile):
    # Given an appointment with two practitioners and a display-only "Phone Call" actor
    (a,) = parse_fhir(sample(EXAMPLES / "appointment-example2doctors.json"), profile).appointments
    # Then the first practitioner is the provider and nothing is taken as a location
    assert (a.id, a.provider, a.location, a.visit_type) == ("2docs", "Dr Adam Careful", None, "walkin")
    assert a.start == datetime(2013, 12, 9, 9, 0, tzinfo=UTC) and a.minutes == 120


def test_proposed_appointment_without_start_is_skipped_with_a_warning(profile):
    # Given the spec's appointment request (status proposed, only a requestedPeriod)
    batch = parse_fhir(sample(EXAMPLES / "appointment-example-request.json"), profile)
    # Then there is nothing to remind about yet
    assert batch.appointments == [] and batch.cancelled_appointment_ids == []
    assert batch.warnings == ["Appointment/examplereq: status 'proposed' and no start yet; skipped"]


@pytest.mark.parametrize("name, expected", [
    ("practitioner-example.json", {"example": "Dr Adam Careful"}),
    ("practitioner-example-f201-ab.json", {"f201": "Dr. Arend Bronsig"}),
    ("practitionerrole-example.json", {"example": "Dr Adam Careful"}),
])
def test_practitioners(name, expected, profile):
    # Given a Practitioner (or a PractitionerRole naming one)
    batch = parse_fhir(sample(EXAMPLES / name), profile)
    # Then its display name is known by practitioner id
    assert batch.practitioners == expected and batch.warnings == []


@pytest.mark.parametrize("name, expected", [
    ("location-example.json", {"1": "South Wing, second floor"}),
    ("location-example-room.json", {"2": "South Wing Neuro OR 1"}),
])
def test_locations(name, expected, profile):
    assert parse_fhir(sample(EXAMPLES / name), profile).locations == expected


@pytest.mark.parametrize("path", sorted([*EXAMPLES.glob("schedule-*.json"), *EXAMPLES.glob("slot-*.json")]),
                         ids=lambda p: p.name)
def test_schedules_and_slots_are_accepted_quietly(path, profile):
    # Given a Schedule or Slot (not used yet)
    batch = parse_fhir(sample(path), profile)
    # Then it is accepted with nothing mapped and nothing to warn about
    assert (batch.patients, batch.appointments, batch.warnings) == ([], [], [])


@pytest.mark.parametrize("name, ref", [
    ("subscription-example.json", "Subscription/example"),
    ("subscription-example-error.json", "Subscription/example-error"),
    ("appointmentresponse-example.json", "AppointmentResponse/example"),
    ("appointmentresponse-example-req.json", "AppointmentResponse/exampleresp"),
    ("communication-example.json", "Communication/example"),
    ("communicationrequest-example.json", "CommunicationRequest/example"),
    ("encounter-example.json", "Encounter/example"),
])
def test_unsupported_resources_are_skipped_with_a_warning(name, ref, profile):
    # Given a valid FHIR resource Careloop does not use
    batch = parse_fhir(sample(EXAMPLES / name), profile)
    # Then it is skipped with one warning naming it
    kind = ref.split("/")[0]
    assert batch.warnings == [f"{ref}: {kind} resources are not used by Careloop; skipped"]
    assert batch.patients == [] and batch.appointments == []


# ---- Synthea transaction bundles ----------------------------------------------------------------


def test_synthea_patient_bundle(profile):
    # Given a Synthea transaction bundle (urn:uuid fullUrls, 66 resources, one Patient)
    batch = parse_fhir(sample(SYNTHEA / "Buster_Hoeger_ad2e3fc5-2b5d-4cb9-8d03-9ea0f4ac8423.json"), profile)
    # Then the patient maps, the national ids are not kept, and the rest is skipped per type
    (p,) = batch.patients
    assert (p.id, p.first_name, p.last_name) == ("e4531916-b162-4f4b-90c2-ce37e132b8d4", "Buster", "Hoeger")
    assert p.identifiers == [
        "https://github.com/synthetichealth/synthea|ad2e3fc5-2b5d-4cb9-8d03-9ea0f4ac8423",
        "http://hospital.smarthealthit.org|ad2e3fc5-2b5d-4cb9-8d03-9ea0f4ac8423",
    ]  # SSN, driver's licence and passport numbers are dropped
    assert p.phone is None  # 555-866-2259: 555 is not a US area code
    assert "Patient/e4531916-b162-4f4b-90c2-ce37e132b8d4: no SMS-capable phone" in batch.warnings
    assert batch.practitioners == {"34ef92a2-f1a5-4324-b274-4ccf96f9f2d1": "Dr. Antonia Stark"}
    assert batch.event == "transaction" and batch.appointments == []
    assert "Bundle: skipped 33 Observation resource(s) (not used by Careloop)" in batch.warnings
    assert sum("Bundle: skipped" in w for w in batch.warnings) == 10  # one line per type


def test_synthea_second_patient_speaks_chinese(profile):
    batch = parse_fhir(sample(SYNTHEA / "Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json"), profile)
    (p,) = batch.patients
    assert (p.first_name, p.last_name, p.language) == ("Clemente", "Kreiger", "en")


def test_synthea_reference_bundles(profile):
    # Given Synthea's hospital and practitioner bundles (102 Organizations, 102 Practitioners)
    hospitals = parse_fhir(sample(SYNTHEA / "hospitalInformation1559319163815.json"), profile)
    doctors = parse_fhir(sample(SYNTHEA / "practitionerInformation1559319163815.json"), profile)
    # Then organisations are skipped and every practitioner gets a display name
    assert hospitals.warnings == ["Bundle: skipped 102 Organization resource(s) (not used by Careloop)"]
    assert len(doctors.practitioners) == 102
    assert doctors.practitioners["f4bf5265-8d8e-4055-a4e5-b34853f1099f"] == "Dr. Noe Dibbert"


# ---- FHIR-Converter output (batch bundles) -------------------------------------------------------


def test_converted_siu_s12_bundle(profile):
    # Given the FHIR batch bundle Microsoft's converter made from SIU-S12-01
    batch = parse_fhir(sample(CONVERTED / "SIU-S12-01-expected.json"), profile)
    (a,) = batch.appointments
    # Then the appointment keeps its instant (09:30+02:15 written as 12:45+05:30) and status
    assert a.start == datetime(2021, 9, 24, 7, 15, tzinfo=UTC)
    assert a.status == "booked" and a.patient_id == "9e909e52-61a1-be50-1878-a12ef8c36346"
    assert a.minutes == 1  # the converter's minutesDuration (SCH-9/10 "60 s"), which wins
    assert (a.provider, a.visit_type) == ("Robert GE", "emergency")
    (p,) = batch.patients
    assert (p.first_name, p.last_name) == ("stanley", "Josh")  # the official (legal) name
    assert "deceased" in p.tags
    assert p.source_version == "2005-01-09T22:35:14.000000Z"


def test_converted_siu_s15_bundle_is_cancelled(profile):
    (a,) = parse_fhir(sample(CONVERTED / "SIU-S15-01-expected.json"), profile).appointments
    assert a.status == "cancelled" and a.start == datetime(2021, 9, 24, 7, 15, tzinfo=UTC)


def test_converted_adt_bundle(profile):
    batch = parse_fhir(sample(CONVERTED / "ADT04-251-expected.json"), profile)
    (p,) = batch.patients
    assert (p.first_name, p.last_name, p.identifiers) == ("Jane", "Doe", ["|MRN12345"])
    assert batch.event == "batch" and batch.message_id == "a04e38af-61c9-8af1-875d-ea2b4c1ffac6"


# ---- Subscription notifications -----------------------------------------------------------------


def backport_status(kind: str, focus: str | None = None) -> dict:
    """The Subscriptions Backport IG's R4 status Parameters (BackportNotificationR4.fsh)."""
    params = [
        {"name": "subscription", "valueReference": {"reference": "https://example.org/fhir/Subscription/admission"}},
        {"name": "topic", "valueCanonical": "http://hl7.org/SubscriptionTopic/admission"},
        {"name": "status", "valueCode": "active"},
        {"name": "type", "valueCode": kind},
        {"name": "events-since-subscription-start", "valueString": "2"},
    ]
    if focus:
        params.append({"name": "notification-event", "part": [
            {"name": "event-number", "valueString": "2"},
            {"name": "timestamp", "valueInstant": "2020-05-29T11:44:13.1882432-05:00"},
            {"name": "focus", "valueReference": {"reference": focus}},
        ]})
    return {
        "fullUrl": "urn:uuid:292d3c72-edc1-4d8a-afaa-d85e19c7f563",
        "resource": {"resourceType": "Parameters", "id": "292d3c72-edc1-4d8a-afaa-d85e19c7f563",
                     "meta": {"profile": ["http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4"]},
                     "parameter": params},
        "request": {"method": "GET", "url": "https://example.org/fhir/Subscription/admission/$status"},
        "response": {"status": "200"},
    }


def test_backport_full_resource_notification(profile):
    # Given a Backport IG history bundle: status Parameters, then the Appointment (POST) and
    # its Patient (GET), linked by urn:uuid
    body = bundle(
        "history",
        backport_status("event-notification", "urn:uuid:aaaa0000-0000-0000-0000-000000000001"),
        {"fullUrl": "urn:uuid:aaaa0000-0000-0000-0000-000000000001",
         "resource": appointment(id="apt-9", participant=[
             {"actor": {"reference": "urn:uuid:bbbb0000-0000-0000-0000-000000000002"}, "status": "accepted"}]),
         "request": {"method": "POST", "url": "Appointment"}, "response": {"status": "201"}},
        {"fullUrl": "urn:uuid:bbbb0000-0000-0000-0000-000000000002",
         "resource": {"resourceType": "Patient", "id": "pat-9", "name": [{"family": "Rivera", "given": ["Ana"]}],
                      "telecom": [{"system": "phone", "value": "(617) 555-0101", "use": "mobile"}],
                      "communication": [{"language": {"coding": [{"code": "es-MX"}]}, "preferred": True}]},
         "request": {"method": "GET", "url": "Patient/pat-9"}, "response": {"status": "200"}},
    )
    batch = parse_fhir(json.dumps(body), profile)
    # Then the status entry is skipped silently, the urn:uuid resolves to the Patient's id
    assert batch.event == "event-notification" and batch.warnings == []
    (a,) = batch.appointments
    assert (a.id, a.patient_id, a.minutes) == ("apt-9", "pat-9", 45)
    (p,) = batch.patients
    assert (p.phone, p.phone_kind, p.language) == ("+16175550101", "mobile", "es")


def test_backport_id_only_notification_asks_for_a_fetch(profile):
    # Given an id-only notification: only the status, whose focus is an Appointment
    body = bundle("history", backport_status("event-notification", "https://ehr.example/fhir/Appointment/77"))
    batch = parse_fhir(body, profile)
    # Then nothing maps, and the caller learns what to fetch
    assert batch.to_fetch == ["Appointment/77"]
    assert batch.warnings == ["Appointment/77: notification focus was not included; fetch it from the EHR"]


def test_backport_handshake_is_empty(profile):
    batch = parse_fhir(bundle("history", backport_status("handshake")), profile)
    assert (batch.event, batch.warnings, batch.patients, batch.to_fetch) == ("handshake", [], [], [])


def test_plain_rest_hook_history_bundle(profile):
    # Given a rest-hook notification that is a history bundle without a status entry
    body = bundle("history", {"fullUrl": "https://ehr.example/fhir/Appointment/a1", "resource": appointment(),
                              "request": {"method": "PUT", "url": "Appointment/a1"}})
    # Then the first entry is data, not a status
    (a,) = parse_fhir(body, profile).appointments
    assert a.id == "a1"


def test_history_bundle_keeps_the_newest_version(profile):
    # Given a history bundle (newest first) with two versions of the same appointment
    v2 = appointment(status="cancelled", meta={"versionId": "2", "lastUpdated": "2025-03-02T10:00:00Z"})
    v1 = appointment(status="booked", meta={"versionId": "1", "lastUpdated": "2025-03-01T10:00:00Z"})
    body = bundle("history", {"resource": v2}, {"resource": v1})
    # Then one appointment comes out: the newer one
    (a,) = parse_fhir(body, profile).appointments
    assert a.status == "cancelled"
    assert a.source_version == "2025-03-02T10:00:00.000000Z#000000000002"
    assert a.updated_at == datetime(2025, 3, 2, 10, 0, tzinfo=UTC)


# ---- transaction bundles ---------------------------------------------------------------------------


def test_transaction_bundle_resolves_urn_uuid_references(profile):
    # Given a Synthea-style transaction: no ids on Patient, urn:uuid everywhere, a
    # PractitionerRole pointing at a Practitioner, and a Location
    pat, prac, role, loc = (f"urn:uuid:{n}0000000-0000-4000-8000-000000000000" for n in "1234")
    body = bundle(
        "transaction",
        {"fullUrl": pat, "resource": {"resourceType": "Patient",
                                      "identifier": [{"system": "urn:mrn", "value": "MRN-42"}],
                                      "name": [{"use": "official", "family": "Okafor", "given": ["Chidi"]}],
                                      "telecom": [{"system": "phone", "value": "617-555-0123", "use": "home"}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": prac, "resource": {"resourceType": "Practitioner", "id": "doc-1",
                                       "name": [{"family": "Lee", "given": ["Ana"], "prefix": ["Dr."]}]},
         "request": {"method": "POST", "url": "Practitioner"}},
        {"fullUrl": role, "resource": {"resourceType": "PractitionerRole", "id": "role-1",
                                       "practitioner": {"reference": prac}},
         "request": {"method": "POST", "url": "PractitionerRole"}},
        {"fullUrl": loc, "resource": {"resourceType": "Location", "id": "loc-1", "name": "Elm St"},
         "request": {"method": "POST", "url": "Location"}},
        {"fullUrl": "urn:uuid:50000000-0000-4000-8000-000000000000",
         "resource": appointment(id="apt-1", minutesDuration=20, serviceType=[{"text": "Cleaning"}],
                                 participant=[{"actor": {"reference": ref}, "status": "accepted"} for ref in (pat, role, loc)]),
         "request": {"method": "POST", "url": "Appointment"}},
    )
    batch = parse_fhir(body, profile)
    # Then the patient id comes from its identifier and every reference resolves
    (p,) = batch.patients
    assert (p.id, p.phone, p.phone_kind) == ("MRN-42", "+16175550123", "landline")
    (a,) = batch.appointments
    assert (a.patient_id, a.provider, a.location) == ("MRN-42", "Dr. Ana Lee", "Elm St")
    assert (a.minutes, a.visit_type) == (20, "cleaning")  # minutesDuration wins over end
    assert batch.practitioners == {"doc-1": "Dr. Ana Lee"} and batch.locations == {"loc-1": "Elm St"}


def test_transaction_delete_cancels_a_known_appointment(profile):
    # Given a transaction that deletes an appointment by id, one by search, and a patient
    body = bundle(
        "transaction",
        {"request": {"method": "DELETE", "url": "Appointment/apt-5"}},
        {"request": {"method": "DELETE", "url": "Appointment?identifier=urn:x|9"}},
        {"request": {"method": "DELETE", "url": "Patient/p1"}},
    )
    batch = parse_fhir(body, profile)
    # Then the known one is cancelled by id; the others are warnings, not errors
    assert batch.cancelled_appointment_ids == ["apt-5"]
    assert batch.warnings == [
        "Bundle.entry[1].request.url: conditional or unreadable Appointment DELETE ignored",
        "Bundle.entry[2].request.url: DELETE of Patient/p1 ignored",
    ]


def test_cancelled_appointment_without_start_is_a_cancellation_by_id(profile):
    batch = parse_fhir(appointment(status="cancelled", start=None, end=None), profile)
    assert batch.appointments == [] and batch.cancelled_appointment_ids == ["a1"]


def test_contained_patient_is_mapped_by_identifier(profile):
    # Given an appointment whose patient is contained ("#p")
    body = appointment(
        contained=[{"resourceType": "Patient", "id": "p", "identifier": [{"system": "urn:mrn", "value": "77"}],
                    "name": [{"family": "Ng", "given": ["Mai"]}],
                    "telecom": [{"system": "sms", "value": "+1 617 555 0199"}]}],
        participant=[{"actor": {"reference": "#p"}, "status": "accepted"}],
    )
    batch = parse_fhir(body, profile)
    # Then the contained patient maps under its identifier (its id is local to the appointment)
    (p,) = batch.patients
    assert (p.id, p.first_name, p.phone, p.phone_kind) == ("77", "Mai", "+16175550199", "mobile")
    assert batch.appointments[0].patient_id == "77"


def test_unknown_resource_in_a_bundle_is_a_warning(profile):
    body = bundle("collection", {"resource": {"resourceType": "Frobnicator", "id": "x"}},
                  {"resource": appointment()})
    batch = parse_fhir(body, profile)
    assert len(batch.appointments) == 1
    assert batch.warnings == ["Bundle.entry[0].resource: unknown resource type 'Frobnicator'; skipped"]


# ---- patient details ---------------------------------------------------------------------------------


@pytest.mark.parametrize("telecom, expected", [
    ([{"system": "phone", "value": "617-555-0111", "use": "home"}], ("+16175550111", "landline")),
    ([{"system": "phone", "value": "617-555-0111", "use": "work"},
      {"system": "phone", "value": "617-555-0112"}], ("+16175550112", "unknown")),
    ([{"system": "phone", "value": "617-555-0111", "use": "home"},
      {"system": "sms", "value": "617-555-0113"}], ("+16175550113", "mobile")),
    ([{"system": "phone", "value": "617-555-0114", "use": "mobile", "period": {"end": "2024-12"}},
      {"system": "phone", "value": "617-555-0115", "use": "home"}], ("+16175550115", "landline")),
    ([{"system": "phone", "value": "617-555-0116", "use": "mobile", "rank": 2},
      {"system": "phone", "value": "617-555-0117", "use": "mobile", "rank": 1}], ("+16175550117", "mobile")),
    ([{"system": "email", "value": "a@b.example"}, {"system": "fax", "value": "617-555-0118"}], (None, "unknown")),
])
def test_phone_choice(telecom, expected, profile):
    # Given a patient with these telecoms (today is 2025-03-03)
    body = {"resourceType": "Patient", "id": "p", "telecom": telecom}
    # Then the SMS-capable number and its kind are chosen as documented
    (p,) = parse_fhir(body, profile).patients
    assert (p.phone, p.phone_kind) == expected


@pytest.mark.parametrize("communication, expected", [
    ([{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es"}]}}], "es"),
    ([{"language": {"text": "Español"}}], "es"),
    ([{"language": {"coding": [{"code": "spa"}]}}], "es"),
    ([{"language": {"coding": [{"code": "en"}]}}, {"language": {"text": "Spanish"}, "preferred": True}], "es"),
    ([{"language": {"coding": [{"code": "es"}]}}, {"language": {"text": "English"}, "preferred": True}], "en"),
    ([{"language": {"coding": [{"code": "vi"}]}}], "en"),
])
def test_language(communication, expected, profile):
    body = {"resourceType": "Patient", "id": "p", "communication": communication}
    assert parse_fhir(body, profile).patients[0].language == expected


def test_source_version_sorts_newer_greater(profile):
    # Given three versions of one patient
    def version(last_updated, version_id):
        body = {"resourceType": "Patient", "id": "p", "meta": {"lastUpdated": last_updated, "versionId": version_id}}
        return parse_fhir(body, profile).patients[0].source_version
    older = version("2025-03-01T09:00:00-05:00", "9")
    same_instant_newer = version("2025-03-01T14:00:00Z", "10")
    later = version("2025-03-01T14:00:00.5Z", "1")
    # Then string order is version order (offsets normalised, ids zero-padded)
    assert older < same_instant_newer < later
    assert older == "2025-03-01T14:00:00.000000Z#000000000009"


def test_deceased_patient_is_tagged(profile):
    batch = parse_fhir({"resourceType": "Patient", "id": "p", "deceasedBoolean": True}, profile)
    assert batch.patients[0].tags == ["deceased"]
    assert "Patient/p: the EHR marks this patient deceased" in batch.warnings


def test_profile_provider_name_wins_for_a_matching_id():
    # Given a practice whose provider id is the EHR's practitioner id
    data = demo_profile().model_dump(mode="json")
    data["providers"] = [{"id": "example", "name": "Dr. Careful", "title": "DDS"}]
    data["booking"] = None  # its hours name the demo's dentists, replaced here
    (a,) = parse_fhir(sample(EXAMPLES / "appointment-example.json"), parse_profile(data)).appointments
    # Then the practice's own wording is used
    assert a.provider == "Dr. Careful"


def test_unknown_elements_are_warnings(profile):
    # Given an R4 Patient carrying an element R4 does not define (an R5 server, say)
    body = {"resourceType": "Patient", "id": "p", "name": [{"family": "Ng"}], "someR5Thing": {"x": 1}}
    batch = parse_fhir(body, profile)
    # Then it still maps and the unknown element is named in a warning
    assert batch.patients[0].last_name == "Ng"
    assert "Patient: ignored unknown element(s) someR5Thing" in batch.warnings


def test_str_and_dict_bodies_are_accepted(profile):
    text = (EXAMPLES / "appointment-example.json").read_text()
    assert parse_fhir(text, profile).appointments[0].id == "example"
    assert parse_fhir(json.loads(text), profile).appointments[0].id == "example"
    assert parse_fhir(b"\xef\xbb\xbf" + text.encode(), profile).appointments[0].id == "example"  # BOM


# ---- hostile payloads --------------------------------------------------------------------------------


def test_invalid_json(profile):
    assert issues_of(b'{"resourceType": "Patient",, }', profile) == [
        "body is not valid JSON: line 1 column 28: Expecting property name enclosed in double quotes"
    ]


@pytest.mark.parametrize("body", [b"", "   \n", b"\xef\xbb\xbf"])
def test_empty_body(body, profile):
    assert issues_of(body, profile) == ["body is empty"]


@pytest.mark.parametrize("body, kind", [(b"[]", "an array"), (b'"Patient"', "a string"), (b"42", "a number"),
                                        (b"null", "null")])
def test_json_that_is_not_an_object(body, kind, profile):
    assert issues_of(body, profile) == [f"body: expected a JSON object (a FHIR resource or Bundle), got {kind}"]


def test_not_utf8(profile):
    assert issues_of(b'{"resourceType": "Patient", "id": "\xff"}', profile) == [
        "body is not UTF-8 text (bad byte at offset 35)"
    ]


@pytest.mark.parametrize("body, issue", [
    ({"resourceType": "Patinet", "id": "p"}, "resourceType: 'Patinet' is not a FHIR R4 resource type"),
    ({"id": "p"}, "resourceType: missing; the body is not a FHIR resource"),
    ({"resourceType": 7}, "resourceType: missing; the body is not a FHIR resource"),
])
def test_wrong_resource_type(body, issue, profile):
    assert issues_of(body, profile) == [issue]


def test_bad_status_is_named_by_bundle_path(profile):
    # Given a bundle whose third entry is an appointment with a misspelt status
    body = bundle("batch", {"resource": {"resourceType": "Patient", "id": "p1"}}, {"resource": appointment(id="a0")},
                  {"resource": appointment(status="bookd")})
    # Then the issue names the entry and the value
    assert issues_of(body, profile) == ["Bundle.entry[2].resource.status: 'bookd' is not an AppointmentStatus"]


def test_start_without_offset(profile):
    issues = issues_of(appointment(start="2025-03-10T14:00:00"), profile)
    assert issues == ["Appointment.start: has no UTC offset (a FHIR instant needs one, e.g. 'Z' or '-05:00')"]


def test_date_only_start(profile):
    assert issues_of(appointment(start="2025-03-10"), profile) == [
        "Appointment.start: not a FHIR instant (date, time and UTC offset)"
    ]


def test_booked_without_start(profile):
    body = appointment()
    del body["start"]
    assert issues_of(body, profile) == ["Appointment.start: missing (required when status is 'booked')"]


def test_appointment_without_a_patient(profile):
    body = appointment(participant=[{"actor": {"reference": "Practitioner/d1"}, "status": "accepted"}])
    assert issues_of(body, profile) == ["Appointment.participant: no Patient participant"]


def test_urn_reference_missing_from_bundle(profile):
    body = bundle("transaction", {"resource": appointment(participant=[{"actor": {"reference": "urn:uuid:dead"}, "status": "accepted"}]),
                                  "request": {"method": "POST", "url": "Appointment"}})
    assert issues_of(body, profile) == [
        "Bundle.entry[0].resource.participant[0].actor.reference: not found in this payload",
        "Bundle.entry[0].resource.participant: no Patient participant",
    ]


def test_structure_errors_name_their_path(profile):
    # Given a patient whose given name is a string, not a list, and a bad birth date
    body = {"resourceType": "Patient", "id": "p", "name": [{"given": "Ana"}], "birthDate": "1999-13-40"}
    issues = issues_of(body, profile)
    # Then each structural problem is its own issue, with its FHIR path
    assert "Patient.name[0].given: Input should be a valid list" in issues
    assert "Patient.birthDate: Date value string does not match spec regex." in issues


def test_every_problem_is_reported_at_once(profile):
    body = bundle("transaction",
                  {"resource": appointment(status="nope"), "request": {"method": "POST", "url": "Appointment"}},
                  {"resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}},
                  {"resource": appointment(id="a2", start="2025-03-10T09:00"), "request": {"method": "FETCH", "url": "x"}})
    assert issues_of(body, profile) == [
        "Bundle.entry[2].request.method: 'FETCH' is not an HTTPVerb",
        "Bundle.entry[1].resource: Patient has no id and no identifier",
        "Bundle.entry[0].resource.status: 'nope' is not an AppointmentStatus",
    ]


@pytest.mark.parametrize("mutate, issue", [
    (lambda b: b.update(type="pile"), "Bundle.type: 'pile' is not a BundleType"),
    (lambda b: b.update(entry={"resource": {}}), "Bundle.entry: expected an array"),
    (lambda b: b["entry"].append("oops"), "Bundle.entry[1]: expected a JSON object"),
    (lambda b: b["entry"].append({"resource": {"id": "x"}}), "Bundle.entry[1].resource.resourceType: missing"),
])
def test_malformed_bundles(mutate, issue, profile):
    body = bundle("collection", {"resource": appointment()})
    mutate(body)
    assert issue in issues_of(body, profile)


def test_nothing_identifying_in_problems(profile):
    # Given a bad payload full of personal data
    body = bundle("batch", {"resource": {"resourceType": "Patient", "id": "p1",
                                         "name": [{"family": "Zyxwvut", "given": "Qwerty"}],
                                         "telecom": [{"system": "phone", "value": "617-555-0142", "use": "mobile"}]}})
    text = " ".join(issues_of(body, profile))
    # Then neither the name nor the number appears in what gets logged and returned
    assert "Zyxwvut" not in text and "Qwerty" not in text and "0142" not in text


def test_the_input_is_not_modified(profile):
    body = load(EXAMPLES / "appointment-example.json")
    before = copy.deepcopy(body)
    parse_fhir(body, profile)
    assert body == before


# ---- anything at all: a PayloadError or a batch, never a crash ------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_KEYS = ["resourceType", "id", "type", "entry", "resource", "request", "method", "url", "fullUrl",
         "participant", "actor", "reference", "display", "status", "start", "end", "minutesDuration",
         "telecom", "system", "value", "use", "rank", "period", "name", "given", "family", "text",
         "identifier", "communication", "language", "coding", "code", "preferred", "meta",
         "lastUpdated", "versionId", "contained", "parameter", "part", "valueReference",
         "valueCode", "practitioner", "appointmentType", "serviceType", "deceasedBoolean"]
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.text(max_size=12),
    st.sampled_from(["Patient", "Appointment", "Bundle", "Parameters", "Location", "Practitioner",
                     "PractitionerRole", "booked", "cancelled", "DELETE", "POST", "history",
                     "transaction", "phone", "mobile", "sms", "2025-03-10T14:00:00Z",
                     "2025-03-10T14:00:00", "Patient/p1", "urn:uuid:1", "#p", "Appointment/a1",
                     "617-555-0101", "es", "official"]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(_KEYS), inner, max_size=6)),
    max_leaves=30,
)


@settings(max_examples=int(os.environ.get("CARELOOP_FUZZ_EXAMPLES", "150")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(rtype=st.sampled_from(["Bundle", "Appointment", "Patient", "PractitionerRole", "Location"]),
       body=st.dictionaries(st.sampled_from(_KEYS), _JSON, max_size=8))
def test_arbitrary_json_never_crashes(rtype, body):
    body["resourceType"] = rtype
    try:
        assert isinstance(parse_fhir(body, demo_profile()), EhrBatch)
    except PayloadError as exc:
        assert exc.issues and all(isinstance(i, str) and i for i in exc.issues)


def test_birth_date_is_mapped_from_patient_birthdate():
    # Given the spec's Patient examples (a full birthDate each)
    (p,) = parse_fhir(sample(EXAMPLES / "patient-example.json"), profile_for("AU")).patients
    (f001,) = parse_fhir(sample(EXAMPLES / "patient-example-f001-pieter.json"), demo_profile()).patients
    # Then the caller-identity check has the date to compare with
    assert (p.birth_date.isoformat(), f001.birth_date.isoformat()) == ("1974-12-25", "1944-11-17")


@pytest.mark.parametrize("value", ["1974", "1974-12"])
def test_a_partial_birthdate_is_valid_fhir_but_no_proof_of_identity(value):
    res = json.loads(sample(EXAMPLES / "patient-example.json"))
    res["birthDate"] = value
    batch = parse_fhir(res, profile_for("AU"))
    assert batch.patients[0].birth_date is None and batch.warnings == []


@pytest.mark.parametrize("value", ["25/12/1974", "1974-13-40", 19741225])
def test_an_unreadable_birthdate_is_refused_by_name(value):
    res = json.loads(sample(EXAMPLES / "patient-example.json"))
    res["birthDate"] = value
    with pytest.raises(PayloadError, match="birthDate") as err:
        parse_fhir(res, profile_for("AU"))
    assert "1974" not in str(err.value)  # the value itself is PHI
