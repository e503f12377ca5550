"""Visit times told honestly across zones (issue 14 item 7): in the patient's zone (spec), and when
the visit's clock reads differently, both clocks named: "8:00 AM PT (11:00 AM ET)"."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from careloop.booking import links, service
from careloop.booking.availability import BookingSettings
from careloop.models import Appointment, Patient
from careloop.practice import Location, demo_profile
from careloop.sms.parts import count_parts
from careloop.templates import context_for, render, visit_time, zone_label
from careloop.workflows import default_library
from careloop.workflows.model import _WORST_CASE, MAX_PARTS
from careloop_local.fakes import memory_services

BOSTON, LA, DENVER, PHOENIX = (ZoneInfo(z) for z in
                               ("America/New_York", "America/Los_Angeles", "America/Denver", "America/Phoenix"))
VISIT = datetime(2026, 12, 8, 11, 0, tzinfo=BOSTON)  # Tue Dec 8, 11:00 AM in Boston


def patient(tz: str | None = None, language: str = "en") -> Patient:
    return Patient(id="p1", first_name="Ana", last_name="Reyes", phone="+16175550101", language=language, timezone=tz)


def appointment(start: datetime = VISIT, location: str | None = "main") -> Appointment:
    return Appointment(id="a1", patient_id="p1", start=start.astimezone(UTC), provider="lee", location=location)


def test_a_patient_in_the_practices_zone_reads_todays_text_exactly():
    practice = demo_profile()
    for who in (patient(), patient("America/New_York"), patient("America/Detroit")):  # Detroit keeps Boston's clock
        ctx = context_for(practice, who, appointment())
        assert (ctx["date_time"], ctx["date"], ctx["time"]) == ("Tue Dec 8 at 11:00 AM", "Tue Dec 8", "11:00 AM")


def test_a_los_angeles_patient_of_a_boston_visit_is_told_both_clocks():
    ctx = context_for(demo_profile(), patient("America/Los_Angeles"), appointment())
    # not a bare "8:00 AM": their clock and the office's, each named
    assert ctx["date_time"] == "Tue Dec 8 at 8:00 AM PT (11:00 AM ET)"
    assert ctx["time"] == "8:00 AM PT (11:00 AM ET)" and ctx["date"] == "Tue Dec 8"


def test_spanish_names_the_zone_after_the_24_hour_time():
    ctx = context_for(demo_profile(), patient("America/Los_Angeles", "es"), appointment())
    assert ctx["date_time"] == "mar 8 dic a las 08:00 PT (11:00 ET)" and ctx["time"] == "08:00 PT (11:00 ET)"


def test_the_whole_reminder_says_the_visits_time():
    wf = next(w for w in default_library() if w.id == "appointment-reminder")
    source = wf.steps[0].action.template["en"]
    body = render(source, context_for(demo_profile(), patient("America/Los_Angeles"), appointment()))
    assert "is Tue Dec 8 at 8:00 AM PT (11:00 AM ET)." in body


@pytest.mark.parametrize(("visit", "expected"), [
    (datetime(2026, 3, 9, 9, 0, tzinfo=BOSTON), "Mon Mar 9 at 6:00 AM PT (9:00 AM ET)"),  # after spring forward
    (datetime(2026, 3, 6, 9, 0, tzinfo=BOSTON), "Fri Mar 6 at 6:00 AM PT (9:00 AM ET)"),  # before it (EST)
    (datetime(2026, 10, 30, 9, 0, tzinfo=BOSTON), "Fri Oct 30 at 6:00 AM PT (9:00 AM ET)"),  # before fall back
    (datetime(2026, 11, 2, 9, 0, tzinfo=BOSTON), "Mon Nov 2 at 6:00 AM PT (9:00 AM ET)"),  # after it (EST)
])
def test_the_wall_time_holds_on_both_sides_of_a_clock_change(visit, expected):
    assert visit_time(visit.astimezone(UTC), BOSTON, "en", LA) == expected
    assert visit_time(visit.astimezone(UTC), BOSTON, "en", BOSTON) == expected.split(" at ")[0] + " at 9:00 AM"


def test_the_visits_own_day_is_named_when_it_is_another_day_for_the_patient():
    # 7:00 AM in Boston is 2:00 AM in Honolulu the same day, but 1:00 AM Boston is the evening before there
    honolulu = ZoneInfo("Pacific/Honolulu")
    early = datetime(2026, 12, 8, 1, 0, tzinfo=BOSTON)
    assert visit_time(early.astimezone(UTC), BOSTON, "en", honolulu) == "Mon Dec 7 at 8:00 PM HST (Tue Dec 8 at 1:00 AM ET)"


def test_whether_clocks_differ_is_decided_at_the_visits_instant():
    # Phoenix keeps standard time: it reads Denver's clock in winter, an hour behind it in summer
    winter, summer = datetime(2026, 1, 12, 10, 0, tzinfo=DENVER), datetime(2026, 7, 13, 10, 0, tzinfo=DENVER)
    assert visit_time(winter, DENVER, "en", PHOENIX) == "Mon Jan 12 at 10:00 AM"
    assert visit_time(summer, DENVER, "en", PHOENIX) == "Mon Jul 13 at 9:00 AM MST (10:00 AM MT)"
    # and a Denver reader of a Phoenix visit in summer is told Arizona's own name for its time
    assert visit_time(datetime(2026, 7, 13, 10, 0, tzinfo=PHOENIX), PHOENIX, "en", DENVER) == \
        "Mon Jul 13 at 11:00 AM MT (10:00 AM MST)"


def test_zone_labels_as_patients_read_them():
    assert [zone_label(datetime(2026, m, 1, 12, tzinfo=z)) for z in (BOSTON, LA) for m in (1, 7)] == \
        ["ET", "ET", "PT", "PT"]
    assert zone_label(datetime(2026, 1, 1, 12, tzinfo=ZoneInfo("Europe/Berlin"))) == "CET"


def test_a_visit_at_a_location_in_another_zone_is_on_that_locations_clock():
    # a Boston practice with a Denver office: the visit at 9:00 there is 11:00 in Boston
    practice = demo_profile().model_copy(update={"locations": demo_profile().locations + (
        Location(id="den", name="Denver", timezone="America/Denver"),)})
    visit = appointment(datetime(2026, 12, 8, 9, 0, tzinfo=DENVER), location="den")
    assert context_for(practice, patient("America/Denver"), visit)["date_time"] == "Tue Dec 8 at 9:00 AM"
    # a patient without a zone is read as the practice's (as quiet hours read them): told the zone
    assert context_for(practice, patient(), visit)["date_time"] == "Tue Dec 8 at 11:00 AM ET (9:00 AM MT)"
    # an EHR appointment naming the location by name finds the same clock
    assert context_for(practice, patient("America/Denver"), appointment(visit.start, "Denver"))["time"] == "9:00 AM"


def test_every_default_text_naming_a_visit_time_fits_its_budget_with_a_zone():
    long_names = Patient(id="p1", first_name="Maximiliano", last_name="Fitzgerald-Ramirez", phone="+16175550101",
                         timezone="America/Anchorage")
    practice = demo_profile().model_copy(update={"name": "Riverside Family Dental Care"})
    for lang in ("en", "es"):
        ctx = context_for(practice, long_names.model_copy(update={"language": lang}),
                          appointment(datetime(2026, 9, 30, 10, 30, tzinfo=BOSTON)))
        assert ctx["date_time"].endswith(" ET)")
        for wf in default_library():
            for step in wf.steps:
                source = step.action.template.get(lang) if step.action.type == "sms" else None
                if source and ("date_time" in source or "{{ time" in source):
                    body = render(source, ctx | {"booking_url": _WORST_CASE["booking_url"]})
                    assert count_parts(body) <= MAX_PARTS, (wf.id, step.id, lang)


def booking_services():
    settings = BookingSettings.model_validate({
        "types": [{"id": "cleaning", "name": {"en": "Cleaning", "es": "Limpieza"}, "minutes": 60,
                   "providers": ["lee"]}],
        "hours": [{"provider": "lee", "location": "main", "weekday": "tue", "hours": {"start": "09:00", "end": "12:00"}}],
        "lead_minutes": 120, "step_minutes": 60})
    svc = memory_services(datetime(2026, 12, 7, 14, 0, tzinfo=UTC), practice=demo_profile().model_copy(
        update={"booking": settings}), workflows=())
    svc.booking_base_url = "http://127.0.0.1:8000"
    svc.records.put_patient(patient("America/Los_Angeles"))
    svc.records.put_appointment(Appointment(id="old", patient_id="p1", status="fulfilled", provider="lee",
                                            location="main", start=datetime(2026, 9, 1, 14, tzinfo=UTC)))
    return svc


def test_a_los_angeles_patient_booking_online_is_confirmed_on_the_offices_clock():
    svc = booking_services()
    token = links.mint(svc, svc.records.get_patient("p1"), "book", ref="ref-la").token
    booked = service.book(svc, token, "cleaning", "2026-12-08T11:00:00-05:00")
    (text,) = [m for m in svc.outbox.sent if m.appointment_id == booked.appointment.id]
    assert "Tue Dec 8 at 11:00 AM (EST)" in text.body and "8:00" not in text.body
