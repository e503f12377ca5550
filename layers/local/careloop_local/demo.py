"""The demo practice's patients and appointments for `make run`, placed relative to the local
clock so reminders come due after a `/dev/clock/advance`."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from careloop.models import Appointment, Patient
from careloop.ports import Services
from careloop.records import ingest

PATIENTS = [
    Patient(id="demo-ana", first_name="Ana", last_name="Reyes", phone="+16175550101", phone_kind="mobile", language="es", tags=["ortho"]),
    Patient(id="demo-james", first_name="James", last_name="Carter", phone="+16175550102", phone_kind="mobile"),
    Patient(id="demo-maria", first_name="Maria", last_name="Gomez", phone="+16175550103", phone_kind="mobile", language="es"),
    Patient(id="demo-leo", first_name="Leo", last_name="Gomez", phone="+16175550103", phone_kind="mobile", language="es"),
    Patient(id="demo-olivia", first_name="Olivia", last_name="Chen", phone="+16175550104", phone_kind="mobile", timezone="America/Los_Angeles"),
    Patient(id="demo-sam", first_name="Sam", last_name="Okafor", phone="+16175550105", phone_kind="mobile"),
]

# (id, patient, days ahead, local hour, provider, visit type)
APPOINTMENTS = [
    ("demo-a1", "demo-ana", 3, 10, "Dr. Lee", "cleaning"),
    ("demo-a2", "demo-james", 3, 14, "Dr. Patel", "checkup"),
    ("demo-a3", "demo-maria", 4, 9, "Dr. Lee", "consultation"),
    ("demo-a4", "demo-leo", 5, 16, "Dr. Lee", "cleaning"),
    ("demo-a5", "demo-olivia", 6, 11, "Dr. Patel", "crown"),
    ("demo-a6", "demo-sam", 9, 15, "Dr. Patel", "cleaning"),
]


def seed(services: Services) -> tuple[int, int]:
    now = services.clock.now()
    zone = services.practice.zone
    today = now.astimezone(zone).date()
    appointments = [
        Appointment(
            id=aid, patient_id=pid, minutes=45, status="booked", provider=provider,
            location="main", visit_type=visit,
            start=datetime.combine(today + timedelta(days=days), time(hour), tzinfo=zone),
        )
        for aid, pid, days, hour, provider, visit in APPOINTMENTS
    ]
    result = ingest(services.records, services.consent, PATIENTS, appointments, now)
    return len(result.patients), len(result.appointments)
