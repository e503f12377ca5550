"""The load run of `make bench` (careloop_local.loadrun), scaled down: 60 signed EHR bookings
(FHIR and HL7), 30 inbound texts from the booked patients and 15 booking-page sessions at once
over real HTTP, then the clock moved until every reminder and nudge went out. Nothing may fail,
nothing may be sent twice, nothing expected may be missing, counted from the outbox and the
records table; the figures themselves are `make bench`'s, never asserted here."""

from __future__ import annotations

import contextlib
import io

import pytest

from careloop_local import loadrun


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()  # moto's state is per process: start from an empty account
    plan = loadrun.Plan(bookings=60, texts=30, sessions=15, timeout_s=900,
                        booking_workers=4, text_workers=2, session_workers=2)
    with contextlib.redirect_stdout(io.StringIO()):  # the handlers' metric lines
        got = loadrun.run(plan, tmp_path_factory.mktemp("load"))
    moto_api_backend.reset()
    return got


def test_every_request_of_every_stream_is_accepted(report):
    assert {name: (s["requests"], s["accepted"], s["errors"]) for name, s in report.streams.items()} == {
        "bookings": (60, 60, {}), "texts": (30, 30, {}),
        # a session is four requests (page, types, slots, book); a 409 retried is not counted twice
        "sessions": (60, 60, {})}
    assert not report.timed_out


def test_nothing_sent_twice_nothing_lost(report):
    # 30 texts from 30 booked patients: 18 confirm, 9 ask, 3 opt out (inbound_body's mix)
    assert report.expected == {
        "reminder": 60 - 3 + 15, "nudge": 60 - 3 - 18 + 15, "booking confirmation": 15,
        "answer to confirm": 18, "answer to question": 9, "answer to stop": 3}
    assert not any(report.duplicates.values()), report.duplicates
    assert report.losses == {} and report.unexpected == {}
    assert report.clean
    assert report.texts_sent == sum(report.expected.values())  # and nothing beyond what was expected
