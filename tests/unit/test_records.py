"""careloop.records: who owns which field, merges (tombstone, re-pointing, consent carried),
duplicates recognised by identifier, and the bulk path giving the same answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careloop.models import Appointment, Patient
from careloop.records import MERGED_PREFIX, apply_merge, ingest, merged_into, surviving_id
from careloop_local.fakes import MemoryConsent, MemoryRecords

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def patient(pid: str, **kw) -> Patient:
    data = {"first_name": "Ana", "last_name": "Reyes", "phone": "+16175550101", "phone_kind": "mobile"} | kw
    return Patient(id=pid, **data)


def appt(aid: str, pid: str, days: int = 3, **kw) -> Appointment:
    return Appointment(id=aid, patient_id=pid, start=NOW + timedelta(days=days), **kw)


def writes(records: MemoryRecords) -> list[tuple[str, str]]:
    """Every record write from now on, as (kind, id): the stream the planner would see."""
    seen: list[tuple[str, str]] = []
    records.listeners.append(lambda kind, old, new: seen.append((kind, new.id)))
    return seen


# ---- ownership -------------------------------------------------------------------------------


def test_ehr_update_keeps_careloop_consent_and_confirmation():
    # Given a patient who opted out and a confirmed appointment
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("p1")], [appt("a1", "p1")], NOW)
    records.put_patient(records.get_patient("p1").model_copy(update={"opted_out": True}))
    records.put_appointment(records.get_appointment("a1").model_copy(update={"confirmed": True, "confirmed_at": NOW}))
    # When the EHR sends new demographics and the same start, with a new provider
    ingest(records, ledger, [patient("p1", first_name="Anita")], [appt("a1", "p1", provider="Dr. Lee")], NOW)
    # Then the EHR's fields change and Careloop's stay
    p, a = records.get_patient("p1"), records.get_appointment("a1")
    assert (p.first_name, p.opted_out) == ("Anita", True)
    assert (a.provider, a.confirmed) == ("Dr. Lee", True)


def test_a_moved_appointment_needs_a_new_confirmation():
    # Given a confirmed appointment
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("p1")], [appt("a1", "p1")], NOW)
    records.put_appointment(records.get_appointment("a1").model_copy(update={"confirmed": True, "confirmed_at": NOW}))
    # When the EHR moves it
    ingest(records, ledger, [], [appt("a1", "p1", days=4)], NOW)
    # Then the confirmation was for the old time
    assert records.get_appointment("a1").confirmed is False


def test_redelivery_writes_nothing():
    # Given a patient and appointment already ingested
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("p1", identifiers=["urn:mrn|1"])], [appt("a1", "p1")], NOW)
    seen = writes(records)
    # When the same data arrives again, later
    result = ingest(records, ledger, [patient("p1", identifiers=["urn:mrn|1"])], [appt("a1", "p1")], NOW + timedelta(hours=1))
    # Then nothing is written (no stream record, so no planning) and nothing is flagged
    assert seen == [] and result.patients == [] and result.appointments == []
    assert sorted(result.unchanged) == ["Appointment/a1", "Patient/p1"] and result.duplicates == []


def test_older_version_never_overwrites_newer():
    # Given version 2 stored
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("p1", first_name="New", source_version="2026-12-01T10:00:00.000000Z")], [], NOW)
    # When version 1 arrives late
    result = ingest(records, ledger, [patient("p1", first_name="Old", source_version="2026-11-30T10:00:00.000000Z")], [], NOW)
    # Then it is reported stale and not applied
    assert result.stale == ["Patient/p1"] and records.get_patient("p1").first_name == "New"


# ---- merges ----------------------------------------------------------------------------------


def test_merge_repoints_appointments_tombstones_and_carries_consent():
    # Given OLD (opted out, with an appointment) and NEW, two records of one person
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("OLD", identifiers=["urn:mrn|9"]), patient("NEW", phone="+16175550102")],
           [appt("a1", "OLD"), appt("a2", "NEW", days=5)], NOW)
    records.put_patient(records.get_patient("OLD").model_copy(update={"opted_out": True}))
    # When the EHR merges OLD into NEW
    result = ingest(records, ledger, [patient("NEW", phone="+16175550102")], [], NOW, merges=[("NEW", "OLD")])
    # Then OLD's appointment is NEW's, OLD is a tombstone nothing is sent to, NEW is opted out
    old, new = records.get_patient("OLD"), records.get_patient("NEW")
    assert records.get_appointment("a1").patient_id == "NEW"
    assert merged_into(old) == "NEW" and old.phone is None and f"{MERGED_PREFIX}NEW" in old.tags
    assert new.opted_out is True
    assert records.patients_by_phone("+16175550101") == []  # an inbound text cannot reach OLD
    assert result.merged == ["OLD->NEW"] and result.repointed == ["a1"]
    assert [a.id for a in records.appointments_for_patient("NEW")] == ["a1", "a2"]


def test_merge_redelivered_changes_nothing():
    # Given a merge already applied
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("OLD"), patient("NEW")], [appt("a1", "OLD")], NOW)
    ingest(records, ledger, [], [], NOW, merges=[("NEW", "OLD")])
    seen = writes(records)
    # When the same merge arrives again
    result = ingest(records, ledger, [], [], NOW + timedelta(minutes=5), merges=[("NEW", "OLD")])
    # Then nothing is written
    assert seen == [] and result.merged == [] and result.repointed == []


def test_late_messages_about_a_merged_patient_follow_the_merge():
    # Given OLD merged into NEW
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("OLD", source_version="2026-11-01T00:00:00.000000Z"), patient("NEW")], [], NOW)
    ingest(records, ledger, [], [], NOW, merges=[("NEW", "OLD")])
    # When a new appointment for OLD arrives, and a demographics update for OLD
    result = ingest(records, ledger, [patient("OLD", first_name="Ana", source_version="2026-11-02T00:00:00.000000Z")],
                    [appt("a9", "OLD")], NOW)
    # Then the appointment is NEW's and OLD stays a tombstone without a phone
    assert records.get_appointment("a9").patient_id == "NEW" and result.repointed == ["a9"]
    assert records.get_patient("OLD").phone is None and merged_into(records.get_patient("OLD")) == "NEW"


def test_merge_before_the_merged_record_is_known_leaves_a_tombstone():
    # Given Careloop has never seen OLD
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("NEW")], [], NOW)
    # When the merge arrives first and OLD's appointment after it
    ingest(records, ledger, [], [], NOW, merges=[("NEW", "OLD")])
    ingest(records, ledger, [], [appt("a1", "OLD")], NOW)
    # Then the appointment lands on NEW
    assert records.get_appointment("a1").patient_id == "NEW"


def test_merge_into_a_survivor_careloop_has_not_seen_creates_it_from_the_merged_record():
    # Given only OLD is known, opted out
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("OLD", opted_out=True)], [appt("a1", "OLD")], NOW)
    records.put_patient(records.get_patient("OLD").model_copy(update={"opted_out": True}))
    # When OLD is merged into an id Careloop has never seen
    ingest(records, ledger, [], [], NOW, merges=[("NEW", "OLD")])
    # Then NEW starts as OLD's details (consent included) until the EHR sends NEW itself
    new = records.get_patient("NEW")
    assert new.opted_out and new.phone == "+16175550101" and not merged_into(new)
    assert records.get_appointment("a1").patient_id == "NEW"
    ingest(records, ledger, [patient("NEW", first_name="Anna", source_version="2026-12-01T00:00:00.000000Z")], [], NOW)
    assert records.get_patient("NEW").first_name == "Anna" and records.get_patient("NEW").opted_out


def test_chained_merges_and_cycles():
    # Given A merged into B and B merged into C
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("A"), patient("B"), patient("C")], [appt("a1", "A")], NOW)
    ingest(records, ledger, [], [], NOW, merges=[("B", "A")])
    ingest(records, ledger, [], [], NOW, merges=[("C", "B")])
    # Then A's appointment follows to C, and late ones for A too
    assert records.get_appointment("a1").patient_id == "C"
    ingest(records, ledger, [], [appt("a2", "A")], NOW)
    assert records.get_appointment("a2").patient_id == "C" and surviving_id(records, "A") == "C"
    # When the EHR then says C was merged into A (a cycle), it is refused, not looped
    result = apply_merge(records, "A", "C", NOW)
    assert result.skipped_merges == ["C->A"] and surviving_id(records, "A") == "C"
    assert any("merge cycle" in w for w in result.warnings())


# ---- duplicates ------------------------------------------------------------------------------


def test_same_identifier_under_a_new_id_is_flagged_not_merged():
    # Given p1 holds the identifier urn:mrn|42
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("p1", identifiers=["urn:mrn|42"])], [], NOW)
    # When a patient with another id and the same identifier arrives
    result = ingest(records, ledger, [patient("p2", identifiers=["urn:mrn|42", "urn:other|7"])], [], NOW)
    # Then both are kept, and the pair is reported (ids only)
    assert records.get_patient("p1") and records.get_patient("p2")
    assert result.duplicates == [("p2", "p1")]
    assert result.warnings()[0].startswith("Patient/p2 shares an identifier with Patient/p1")
    assert "42" not in result.warnings()[0]


def test_identifiers_without_a_system_are_not_matched():
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("p1", identifiers=["|42"])], [], NOW)
    assert ingest(records, ledger, [patient("p2", identifiers=["|42"])], [], NOW).duplicates == []


def test_duplicates_inside_one_payload_and_after_a_merge():
    # Given two new ids with one identifier in the same payload
    records, ledger = MemoryRecords(), MemoryConsent()
    result = ingest(records, ledger, [patient("p1", identifiers=["urn:mrn|5"]), patient("p2", identifiers=["urn:mrn|5"])], [], NOW)
    assert result.duplicates == [("p2", "p1")]
    # When the EHR merges p1 into p2, the identifier belongs to p2: an update of p2 is not flagged
    ingest(records, ledger, [], [], NOW, merges=[("p2", "p1")])
    again = ingest(records, ledger, [patient("p2", identifiers=["urn:mrn|5", "urn:x|1"])], [], NOW)
    assert again.duplicates == []


# ---- appointments without a patient, bulk ----------------------------------------------------


def test_appointment_for_an_unknown_patient_is_kept_and_reported():
    records, ledger = MemoryRecords(), MemoryConsent()
    result = ingest(records, ledger, [], [appt("a1", "ghost")], NOW)
    assert records.get_appointment("a1").patient_id == "ghost" and result.orphans == ["a1"]
    assert "Appointment/a1" in result.warnings()[0]


@pytest.mark.parametrize("bulk", [False, True])
def test_bulk_and_webhook_paths_agree(bulk):
    # Given the same records, twice the same patient id with two versions, in one call
    records, ledger = MemoryRecords(), MemoryConsent()
    v1, v2 = "2026-11-01T00:00:00.000000Z", "2026-11-02T00:00:00.000000Z"
    result = ingest(records, ledger, [patient("p1", first_name="Two", source_version=v2),
                            patient("p1", first_name="One", source_version=v1),
                            patient("p2", identifiers=["urn:mrn|1"]), patient("p3", identifiers=["urn:mrn|1"])],
                    [appt("a1", "p1", source_version=v2), appt("a1", "p1", days=9, source_version=v1),
                     appt("a2", "nobody")], NOW, bulk=bulk)
    # Then the newer version wins either way and the same things are reported
    assert records.get_patient("p1").first_name == "Two"
    assert records.get_appointment("a1").start == NOW + timedelta(days=3)
    assert result.stale == ["Patient/p1", "Appointment/a1"]
    assert result.duplicates == [("p3", "p2")] and result.orphans == ["a2"]
    assert sorted(records.identifier_owners(["urn:mrn|1"]).values()) == ["p2"]


# ---- consent follows the phone (careloop.consent) --------------------------------------------


def _stop(ledger: MemoryConsent, records: MemoryRecords, phone: str) -> None:
    from careloop import consent

    consent.record(ledger, records, consent.ConsentEntry(phone=phone, action="opt_out", at=NOW, source="sms", words="STOP"))


@pytest.mark.parametrize("bulk", [False, True])
def test_a_new_patient_on_an_opted_out_number_is_opted_out(bulk):
    # Given a number that texted STOP (say, a parent's)
    records, ledger = MemoryRecords(), MemoryConsent()
    _stop(ledger, records, "+16175550150")
    # When the EHR sends a new patient on that number
    ingest(records, ledger, [patient("kid", phone="+16175550150")], [], NOW, bulk=bulk)
    # Then the patient is opted out from the start
    assert records.get_patient("kid").opted_out is True


def test_a_phone_change_takes_the_new_numbers_consent_and_keeps_an_opt_out():
    # Given p1 on a fresh number, p2 opted out on its own number, and an opted-out number
    records, ledger = MemoryRecords(), MemoryConsent()
    ingest(records, ledger, [patient("p1", phone="+16175550151"), patient("p2", phone="+16175550152")], [], NOW)
    _stop(ledger, records, "+16175550152")
    _stop(ledger, records, "+16175550153")
    # When the EHR moves p1 to the opted-out number, and p2 to a fresh number
    ingest(records, ledger, [patient("p1", phone="+16175550153"), patient("p2", phone="+16175550154")], [], NOW)
    # Then p1 is opted out (that number said STOP) and p2 stays opted out (the person said STOP;
    # a START from the new number is what turns texts back on)
    assert records.get_patient("p1").opted_out is True
    assert records.get_patient("p2").opted_out is True
