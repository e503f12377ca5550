"""Self-scheduling over HTTP against `careloop local` with a practice that has a booking section:
a patient who missed a visit gets a link by text, opens it, sees open slots, books one (201), is
confirmed at once and reminded 48 h before; the link is then spent (410), a forged one is 404."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from careloop.intake import sign
from tests.e2e.conftest import ROOT, running_local
from tests.e2e.test_reminder_path import SECRET, call

pytestmark = pytest.mark.e2e
NY = ZoneInfo("America/New_York")
PHONE = "+16175550177"
BOOKING = {
    "types": [{"id": "checkup", "name": {"en": "Checkup", "es": "Revisión"}, "minutes": 30, "providers": ["lee"]}],
    "hours": [{"provider": "lee", "location": "main", "weekday": d, "hours": {"start": "09:00", "end": "16:00"},
               "breaks": [{"start": "12:00", "end": "13:00"}]}
              for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")],
    "step_minutes": 30,
}


class Stack:
    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture(scope="module")
def booking_stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("booking-stack")
    practice = folder / "practice.json"
    practice.write_text(json.dumps(json.loads((ROOT / "practices" / "demo.json").read_text()) | {"booking": BOOKING}))
    with running_local(folder, "--practice", str(practice), "--no-demo") as (url, _proc):
        yield Stack(url)


def visit(start: datetime, status: str, version: str) -> bytes:
    bundle = {
        "resourceType": "Bundle", "id": f"e2e-book-{version}", "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:7a1c0b1e-0000-4000-8000-000000000001",
             "resource": {"resourceType": "Patient", "id": "e2e-book-pat",
                          "meta": {"versionId": version, "lastUpdated": f"2026-11-0{version}T10:00:00Z"},
                          "name": [{"use": "official", "family": "Okafor", "given": ["Ada"]}],
                          "telecom": [{"system": "phone", "value": PHONE, "use": "mobile"}]},
             "request": {"method": "PUT", "url": "Patient/e2e-book-pat"}},
            {"fullUrl": "urn:uuid:7a1c0b1e-0000-4000-8000-000000000002",
             "resource": {"resourceType": "Appointment", "id": "e2e-book-appt",
                          "meta": {"versionId": version, "lastUpdated": f"2026-11-0{version}T10:00:00Z"},
                          "status": status,
                          "start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat(),
                          "participant": [
                              {"actor": {"reference": "urn:uuid:7a1c0b1e-0000-4000-8000-000000000001"},
                               "status": "accepted"},
                              {"actor": {"display": "Dr. Lee"}, "status": "accepted"}]},
             "request": {"method": "PUT", "url": "Appointment/e2e-book-appt"}},
        ],
    }
    return json.dumps(bundle).encode()


def post_visit(stack, raw: bytes) -> None:
    status, body, _ = call(stack, "POST", "/ehr/fhir", raw=raw, headers={
        "Content-Type": "application/fhir+json", "X-Careloop-Signature": sign(SECRET, raw)})
    assert status in (200, 202), body


def advance(stack, minutes: int) -> None:
    status, body, _ = call(stack, "POST", "/dev/clock/advance", {"minutes": minutes})
    assert status == 200, body


def texts_to_patient(stack) -> list[dict]:
    return [m for m in json.loads(call(stack, "GET", "/dev/sms/outbox")[1]) if m["to"] == PHONE]


def morning(stack) -> datetime:
    """Moves the stack's clock to the next 08:00 at the practice and returns it: the caps (one text
    a day) and quiet hours then fall the same way whatever the time the suite runs."""
    now = datetime.fromisoformat(json.loads(call(stack, "GET", "/dev/clock")[1])["now"])
    target = datetime.combine(now.astimezone(NY).date() + timedelta(days=1), time(8), tzinfo=NY)
    advance(stack, int((target - now).total_seconds() // 60) + 1)
    return datetime.fromisoformat(json.loads(call(stack, "GET", "/dev/clock")[1])["now"])


def test_missed_visit_link_book_confirm_remind(booking_stack):
    stack = booking_stack
    now = morning(stack)
    start = datetime.combine(now.astimezone(NY).date() + timedelta(days=2), time(10), tzinfo=NY)
    # Given a visit in two days at 10:00 that the patient misses (reminded on the two days before)
    post_visit(stack, visit(start, "booked", "1"))
    advance(stack, int((start + timedelta(minutes=30) - now).total_seconds() // 60))
    post_visit(stack, visit(start, "noshow", "2"))
    advance(stack, 70)
    # Then the recovery text carries the patient's own link on this stack
    (recovery,) = [m for m in texts_to_patient(stack) if m["step"] == "recovery-sms"]
    found = re.search(rf"{re.escape(stack.url)}/b/([0-9A-Za-z]{{12}})", recovery["body"])
    assert found, recovery["body"]
    token = found.group(1)

    # When the patient opens it: the page, the types and the open slots
    status, page, headers = call(stack, "GET", f"/b/{token}")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and "<html" in page.lower()
    status, body, _ = call(stack, "GET", f"/booking/api/types?t={token}")
    assert status == 200 and json.loads(body) == {"types": [{"id": "checkup", "name": "Checkup", "minutes": 30}]}
    # (a week on: the reminders of the missed visit and the recovery text filled this week's 3-text cap)
    day = (start + timedelta(days=8)).date().isoformat()
    status, body, _ = call(stack, "GET", f"/booking/api/slots?t={token}&type=checkup&from={day}&days=2")
    answer = json.loads(body)
    assert status == 200 and answer["timezone"] == "America/New_York" and answer["slots"]
    assert all(not s["start"][11:16].startswith("12:") for s in answer["slots"])  # the lunch break
    slot = answer["slots"][0]

    # and books the first one
    status, body, _ = call(stack, "POST", "/booking/api/book", {"t": token, "type": "checkup", "start": slot["start"]})
    assert status == 201, body
    booked = json.loads(body)
    assert booked["status"] == "booked" and booked["appointment"]["start"] == slot["start"]
    appointment_id = booked["appointment"]["id"]

    # Then staff (and the sandbox) see a Careloop appointment, and the patient a confirmation at once
    listed = json.loads(call(stack, "GET", "/dev/appointments")[1])
    (mine,) = [a for a in listed if a["id"] == appointment_id]
    assert (mine["source"], mine["status"], mine["patient"], mine["phone"]) == ("careloop", "booked", "e2e-book-pat", PHONE)
    assert [m["step"] for m in texts_to_patient(stack) if m["workflow"] == "booking"] == ["confirmation"]
    # and the link is spent; a forged one says nothing
    status, body, _ = call(stack, "POST", "/booking/api/book", {"t": token, "type": "checkup", "start": slot["start"]})
    assert status == 410 and "error" in json.loads(body)
    status, body, _ = call(stack, "GET", "/booking/api/types?t=Zz9Zz9Zz9Zz9")
    assert status == 404 and json.loads(body) == {"error": "unknown link"}

    # When the clock reaches 47 h before the new visit, the reminder went out 48 h before it
    slot_start = datetime.fromisoformat(slot["start"])
    now = datetime.fromisoformat(json.loads(call(stack, "GET", "/dev/clock")[1])["now"])
    advance(stack, int((slot_start - timedelta(hours=47) - now).total_seconds() // 60))
    reminders = [m for m in texts_to_patient(stack) if m["step"] == "reminder-48h"
                 and abs((datetime.fromisoformat(m["at"]) - (slot_start - timedelta(hours=48))).total_seconds()) < 120]
    assert len(reminders) == 1, ([(m["step"], m["at"]) for m in texts_to_patient(stack)], slot["start"])


PAGE_PHONE = "+16175550179"


def test_a_patient_books_through_the_page_in_chromium(booking_stack, browser, tmp_path):
    """The same path as a patient lives it: the link from the text, opened in a phone-sized
    Chromium, type, day, time, one tap; the booking is a Careloop appointment on the stack."""
    sync_api = pytest.importorskip("playwright.sync_api")
    stack = booking_stack
    now = morning(stack)
    start = datetime.combine(now.astimezone(NY).date() + timedelta(days=2), time(11), tzinfo=NY)
    # Given another patient who misses a visit and gets the recovery text with a link
    def other(raw: bytes) -> bytes:
        return (raw.replace(b"e2e-book-pat", b"e2e-page-pat").replace(b"e2e-book-appt", b"e2e-page-appt")
                .replace(PHONE.encode(), PAGE_PHONE.encode()).replace(b"e2e-book-", b"e2e-page-"))
    post_visit(stack, other(visit(start, "booked", "1")))
    advance(stack, int((start + timedelta(minutes=30) - now).total_seconds() // 60))
    post_visit(stack, other(visit(start, "noshow", "2")))
    advance(stack, 70)
    texts = [m for m in json.loads(call(stack, "GET", "/dev/sms/outbox")[1]) if m["to"] == PAGE_PHONE]
    recoveries = [m for m in texts if m["step"] == "recovery-sms"]
    assert len(recoveries) == 1, ([(m["step"], m["at"]) for m in texts],
                                  [(a["id"], a["status"], a["start"]) for a in json.loads(call(stack, "GET", "/dev/appointments")[1])],
                                  json.loads(call(stack, "GET", "/dev/clock")[1]))
    recovery = recoveries[0]
    link = re.search(rf"{re.escape(stack.url)}/b/[0-9A-Za-z]{{12}}", recovery["body"]).group(0)

    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        # When they open it, pick the check-up, the first day offered and its first time, and book
        page.goto(link)
        # (with one bookable type the page goes straight to the days)
        days = page.locator("[data-testid^='day-']")
        sync_api.expect(days.first.or_(page.get_by_test_id("type-checkup"))).to_be_visible()
        if page.get_by_test_id("type-checkup").count():
            page.get_by_test_id("type-checkup").click()
        page.locator("[data-testid^='day-']").first.click()
        first = page.get_by_test_id("slot").first
        sync_api.expect(first).to_contain_text("ET")
        first.click()
        page.get_by_test_id("book").click()
        # Then the page confirms it
        sync_api.expect(page.get_by_test_id("confirmation")).to_be_visible(timeout=15000)
        page.screenshot(path=str(tmp_path / "booked-390.png"))
    finally:
        context.close()
    # and the stack holds a Careloop appointment for this patient, confirmed by text
    listed = json.loads(call(stack, "GET", "/dev/appointments")[1])
    mine = [a for a in listed if a["patient"] == "e2e-page-pat" and a["source"] == "careloop"]
    assert len(mine) == 1 and mine[0]["status"] == "booked"
    texts = [m for m in json.loads(call(stack, "GET", "/dev/sms/outbox")[1]) if m["to"] == PAGE_PHONE]
    assert [m["step"] for m in texts if m["workflow"] == "booking"] == ["confirmation"]
