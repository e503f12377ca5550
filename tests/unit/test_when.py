"""The date/time phrases patients write when they ask for another time, read as a window of
local days, a part of the day and a time (careloop.agent.when), in English and Spanish."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careloop.agent.when import When, parse_when

WED = date(2026, 12, 2)  # a Wednesday
D = date


@pytest.mark.parametrize(("text", "lang", "first", "last"), [
    ("next tuesday", "en", D(2026, 12, 8), D(2026, 12, 8)),
    ("N, next tuesday?", "en", D(2026, 12, 8), D(2026, 12, 8)),
    ("tues?", "en", D(2026, 12, 8), D(2026, 12, 8)),
    ("Sunday?", "en", D(2026, 12, 6), D(2026, 12, 6)),
    ("wednesday", "en", D(2026, 12, 9), D(2026, 12, 9)),  # today is Wednesday: the next one
    ("can we do later this week", "en", D(2026, 12, 3), D(2026, 12, 6)),
    ("this week", "en", D(2026, 12, 2), D(2026, 12, 6)),
    ("next week", "en", D(2026, 12, 7), D(2026, 12, 13)),
    ("monday next week", "en", D(2026, 12, 7), D(2026, 12, 7)),
    ("in two weeks", "en", D(2026, 12, 14), D(2026, 12, 20)),
    ("this weekend", "en", D(2026, 12, 5), D(2026, 12, 6)),
    ("next month", "en", D(2027, 1, 1), D(2027, 1, 31)),
    ("tomorrow", "en", D(2026, 12, 3), D(2026, 12, 3)),
    ("tmrw", "en", D(2026, 12, 3), D(2026, 12, 3)),
    ("day after tomorrow", "en", D(2026, 12, 4), D(2026, 12, 4)),
    ("in 3 days", "en", D(2026, 12, 5), D(2026, 12, 5)),
    ("dec 14", "en", D(2026, 12, 14), D(2026, 12, 14)),
    ("December 14th", "en", D(2026, 12, 14), D(2026, 12, 14)),
    ("12/14", "en", D(2026, 12, 14), D(2026, 12, 14)),
    ("1/5", "en", D(2027, 1, 5), D(2027, 1, 5)),  # past this year: next year's
    ("Jan 5", "en", D(2027, 1, 5), D(2027, 1, 5)),
    ("the 15th", "en", D(2026, 12, 15), D(2026, 12, 15)),
    ("asap", "en", D(2026, 12, 2), D(2026, 12, 8)),
    ("el viernes a las 3", "es", D(2026, 12, 4), D(2026, 12, 4)),
    ("puedo cambiar para el viernes?", "es", D(2026, 12, 4), D(2026, 12, 4)),
    ("14/12", "es", D(2026, 12, 14), D(2026, 12, 14)),  # day first in Spanish
    ("5/1", "es", D(2027, 1, 5), D(2027, 1, 5)),
    ("el 15 de diciembre", "es", D(2026, 12, 15), D(2026, 12, 15)),
    ("la semana que viene", "es", D(2026, 12, 7), D(2026, 12, 13)),
    ("lunes de la próxima semana", "es", D(2026, 12, 7), D(2026, 12, 7)),
    ("mañana", "es", D(2026, 12, 3), D(2026, 12, 3)),
    ("pasado mañana", "es", D(2026, 12, 4), D(2026, 12, 4)),
    ("esta semana", "es", D(2026, 12, 2), D(2026, 12, 6)),
    ("cuanto antes", "es", D(2026, 12, 2), D(2026, 12, 8)),
    ("can i do el jueves?", "en", D(2026, 12, 3), D(2026, 12, 3)),  # Spanglish
])
def test_days(text, lang, first, last):
    when = parse_when(text, WED, lang)
    assert when is not None
    assert (when.first_day, when.last_day) == (first, last)


@pytest.mark.parametrize(("text", "lang", "part", "at", "after"), [
    ("tomorrow morning", "en", "morning", None, False),
    ("anything in the afternoon", "en", "afternoon", None, False),
    ("tonight", "en", "evening", None, False),
    ("friday at 10:30am", "en", "morning", time(10, 30), False),
    ("I can do 4pm", "en", "afternoon", time(16, 0), False),
    ("at 3", "en", "afternoon", time(15, 0), False),  # a practice's day: 3 is 15:00
    ("at 9", "en", "morning", time(9, 0), False),
    ("at noon", "en", None, time(12, 0), False),
    ("after 3 on thursday", "en", None, time(15, 0), True),
    ("el viernes a las 3", "es", "afternoon", time(15, 0), False),
    ("a las 10", "es", "morning", time(10, 0), False),
    ("a las 7 de la tarde", "es", "evening", time(19, 0), False),
    ("mañana por la mañana", "es", "morning", None, False),
    ("mañana en la tarde", "es", "afternoon", None, False),
    ("después de las 4 el lunes", "es", None, time(16, 0), True),
])
def test_part_and_time(text, lang, part, at, after):
    when = parse_when(text, WED, lang)
    assert when is not None
    assert (when.part_of_day, when.time, when.after_time) == (part, at, after)


def test_a_time_or_part_alone_opens_the_next_two_weeks():
    when = parse_when("mornings are best", WED)
    assert when == When(WED, D(2026, 12, 15), part_of_day="morning")


def test_later_without_a_day():
    when = parse_when("can I come in later?", WED)
    assert when is not None and when.later and when.first_day == WED
    assert not parse_when("later this week", WED).later  # a day was named


@pytest.mark.parametrize("text", [
    "R", "2", "option 2 please", "yes", "ok thanks", "3 kids at home", "call me",
    "we'd like to move it",  # "we'd" is not Wednesday
    "2/30",  # no such date
    "", "   ", "🙂",
])
def test_no_time_named(text):
    assert parse_when(text, WED) is None


def test_bare_numbers_are_not_times():
    when = parse_when("tuesday 2 hrs", WED)
    assert when is not None and when.time is None and when.first_day == D(2026, 12, 8)


def test_later_this_week_on_a_sunday_is_the_next_week():
    assert parse_when("later this week", D(2026, 12, 6)) == When(D(2026, 12, 7), D(2026, 12, 13))


def test_window_is_never_inverted():
    with pytest.raises(ValueError):
        When(D(2026, 12, 3), D(2026, 12, 2))


@given(st.text(max_size=80), st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)),
       st.sampled_from(["en", "es"]))
def test_any_text_reads_or_is_none(text, today, lang):
    when = parse_when(text, today, lang)
    assert when is None or when.first_day <= when.last_day


def test_staff_see_the_time_asked_for():
    from careloop.agent.inbound import asked_for

    assert asked_for(parse_when("next week, mornings", WED)) == "Mon Dec 07-Sun Dec 13, morning"
    assert asked_for(parse_when("after 3 on thursday", WED)) == "Thu Dec 03, after 15:00"
    assert asked_for(parse_when("later?", WED)) == "later"
