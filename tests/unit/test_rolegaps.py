"""The role gaps on the fakes: who can be assigned (the staff directory, not a list in the
profile), what each role sees of a patient, and each appointment's history of states."""

from __future__ import annotations

from datetime import datetime

import pytest

from careloop import inbox
from careloop.errors import PayloadError
from careloop.models import Appointment, Patient
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
