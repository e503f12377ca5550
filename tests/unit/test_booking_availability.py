"""The profile's booking section is checked against the rest of the profile, and every error
names the field it is about (a practice fixes its JSON from the message alone)."""

from __future__ import annotations

import copy
import json

import pytest

from careloop.errors import ConfigError
from careloop.practice import DATA_DIR, demo_profile, parse_profile


def _demo() -> dict:
    return json.loads((DATA_DIR / "demo-practice.json").read_text())


def _fails(data: dict) -> str:
    with pytest.raises(ConfigError) as err:
        parse_profile(data, "demo.json")
    return str(err.value)


def test_the_demo_practice_offers_self_scheduling() -> None:
    # Given the demo practice
    booking = demo_profile().booking
    # Then it has the five visit kinds and both dentists' week with lunch, in instant mode; nothing
    # on the weekend, which the practice's hours and FAQ say it is closed
    assert booking is not None
    assert [t.id for t in booking.types] == ["cleaning", "exam", "new-patient-exam", "emergency", "whitening-consult"]
    assert {t.id: t.minutes for t in booking.types}["cleaning"] == 60
    assert booking.type("new-patient-exam").new_patients is True  # type: ignore[union-attr]
    assert booking.type("emergency").online is False  # type: ignore[union-attr]
    assert not [h for h in booking.hours if h.weekday in ("sat", "sun")]
    assert all(h.breaks for h in booking.hours)
    assert any(c.date.year == 2027 for c in booking.closures) and any(c.date.year == 2026 for c in booking.closures)
    assert booking.mode == "instant"


def test_the_two_demo_copies_are_identical() -> None:
    from careloop.practice import Path
    root = Path(__file__).resolve().parents[2]
    assert (root / "practices/demo.json").read_text() == (DATA_DIR / "demo-practice.json").read_text()


def test_a_type_naming_an_unknown_provider_is_refused() -> None:
    data = _demo()
    data["booking"]["types"][1]["providers"] = ["lee", "nobody"]
    message = _fails(data)
    assert "booking.types.1.providers.1" in message and "'nobody'" in message


def test_hours_of_an_unknown_provider_are_refused() -> None:
    data = _demo()
    data["booking"]["hours"][2]["provider"] = "smith"
    assert "booking.hours.2.provider" in _fails(data)


def test_hours_at_an_unknown_location_are_refused() -> None:
    data = _demo()
    data["booking"]["hours"][3]["location"] = "uptown"
    message = _fails(data)
    assert "booking.hours.3.location" in message and "'uptown'" in message


def test_a_type_a_provider_cannot_do_at_any_hour_is_refused() -> None:
    # Given a 4.5-hour type only Dr. Patel does, whose longest stretch is 4 hours (Saturday morning)
    data = _demo()
    data["booking"]["types"].append({"id": "implant", "name": {"en": "Implant", "es": "Implante"},
                                     "minutes": 270, "providers": ["patel"]})
    message = _fails(data)
    assert "booking.types.5.providers.0" in message and "'implant'" in message


def test_a_type_whose_provider_has_no_hours_is_refused() -> None:
    data = _demo()
    data["providers"].append({"id": "kim", "name": "Dr. Kim"})
    data["booking"]["types"][0]["providers"] = ["lee", "patel", "kim"]
    assert "booking.types.0.providers.2" in _fails(data)


def test_a_break_outside_its_hours_is_refused() -> None:
    data = _demo()
    data["booking"]["hours"][0]["breaks"] = [{"start": "12:00", "end": "13:00"}, {"start": "16:30", "end": "17:30"}]
    message = _fails(data)
    assert "booking.hours.0.breaks.1" in message and "08:00-17:00" in message


def test_overlapping_breaks_are_refused() -> None:
    data = _demo()
    data["booking"]["hours"][0]["breaks"] = [{"start": "12:00", "end": "13:00"}, {"start": "12:30", "end": "13:30"}]
    assert "booking.hours.0.breaks.1" in _fails(data)


def test_a_closure_of_an_unknown_provider_or_location_is_refused() -> None:
    data = _demo()
    data["booking"]["closures"].append({"date": "2027-03-01", "provider": "smith"})
    assert f"booking.closures.{len(data['booking']['closures']) - 1}.provider" in _fails(data)
    data = _demo()
    data["booking"]["closures"][0]["location"] = "uptown"
    assert "booking.closures.0.location" in _fails(data)


def test_duplicate_hours_rows_are_refused() -> None:
    data = _demo()
    data["booking"]["hours"].append(copy.deepcopy(data["booking"]["hours"][1]))
    message = _fails(data)
    assert f"booking.hours.{len(data['booking']['hours']) - 1}" in message and "booking.hours.1" in message


def test_duplicate_type_ids_are_refused() -> None:
    data = _demo()
    data["booking"]["types"][2]["id"] = "cleaning"
    assert "booking.types.2.id" in _fails(data)


def test_the_same_provider_at_two_locations_on_one_weekday_is_allowed() -> None:
    data = _demo()
    data["locations"].append({"id": "back-bay", "name": "Back Bay", "timezone": "America/New_York"})
    row = copy.deepcopy(data["booking"]["hours"][0])
    row["location"] = "back-bay"
    data["booking"]["hours"].append(row)
    assert parse_profile(data).booking is not None


def test_field_errors_inside_the_booking_section_still_name_the_field() -> None:
    # parse errors pydantic places itself keep their path through parse_profile
    data = _demo()
    data["booking"]["hours"][4]["breaks"][0]["end"] = "25:00"
    assert "booking.hours.4.breaks.0.end" in _fails(data)
    data = _demo()
    del data["booking"]["types"][0]["name"]["es"]
    assert "booking.types.0.name" in _fails(data)


def test_a_profile_without_booking_is_still_valid() -> None:
    data = _demo()
    del data["booking"]
    assert parse_profile(data).booking is None
