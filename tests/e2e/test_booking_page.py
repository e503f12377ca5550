"""The patients' booking page (web/dist/booking.html) in headless Chromium at 390 px and on a desktop:
pick, book, a slot just taken, expired and unknown links, Spanish, keyboard only, target sizes."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ROOT = Path(__file__).resolve().parents[2]
WEB_DIST = ROOT / "web" / "dist"
SCREENSHOTS = Path(os.environ.get("CARELOOP_SCREENSHOTS", "/tmp/careloop-booking"))
PRACTICE_ZONE = ZoneInfo("America/New_York")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# The browser sits in another zone than the practice: times must still read in the practice's.
BROWSER_ZONE = "America/Los_Angeles"

# Tokens of the canned server, one per situation a link can be in.
GOOD = "Gd7kQ2xZ"  # an English patient; no language in the answer
SPANISH = "Es4mN8pR"  # the answer says the patient reads Spanish
RACE = "Rc9tV3wY"  # the earliest slot is taken by someone else at the moment of booking
REQUEST = "Rq2hJ6kL"  # the practice books in `request` mode
EXPIRED = "Ex5bC1dF"  # expired or already spent: 410
UNKNOWN = "Un0wN000"  # forged: 404

TYPES = [
    {"id": "cleaning", "name": "Cleaning", "minutes": 60, "names": {"en": "Cleaning", "es": "Limpieza"}},
    {"id": "checkup", "name": "Check-up", "minutes": 30, "names": {"en": "Check-up", "es": "Revisión"}},
]
PROVIDERS = ("dr-lee", "dr-ortiz")
TIMES = ((9, 0), (9, 30), (10, 0), (14, 0))


def canned_slots(first_day: date, days: int, type_id: str) -> list[dict]:
    """Weekday slots at 9:00, 9:30, 10:00 and 14:00 New York time, from the day after `first_day`
    (the lead time), two providers free at 9:00 (the page shows one 9:00)."""
    out = []
    for offset in range(1, days + 1):
        day = first_day + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for hour, minute in TIMES:
            start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=PRACTICE_ZONE)
            minutes = next(t["minutes"] for t in TYPES if t["id"] == type_id)
            for provider in PROVIDERS[: 2 if (hour, minute) == (9, 0) else 1]:
                out.append({
                    "start": start.isoformat(),
                    "end": (start + timedelta(minutes=minutes)).isoformat(),
                    "provider": provider,
                    "location": "main",
                    "type": type_id,
                })
    return out


@dataclass
class BookingSite:
    url: str
    bookings: list[dict] = field(default_factory=list)

    def page_url(self, token: str) -> str:
        return f"{self.url}/b/{token}"


def _canned_booking_api(site: BookingSite):
    from werkzeug.wrappers import Request, Response

    def as_json(data, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")

    def gone(token: str) -> Response | None:
        if token == EXPIRED:
            return as_json({"error": "this link has expired or was already used"}, 410)
        if token not in (GOOD, SPANISH, RACE, REQUEST):
            return as_json({"error": "unknown link"}, 404)
        return None

    def asset(name: str) -> Response:
        target = WEB_DIST / name
        kind = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}[target.suffix]
        return Response(target.read_bytes(), content_type=kind, headers={"Cache-Control": "no-cache"})

    @Request.application
    def app(request: Request) -> Response:
        path = request.path
        if path.startswith("/b/"):
            return asset("booking.html")
        if path in ("/booking.js", "/booking.css"):
            return asset(path.lstrip("/"))
        if path == "/booking/api/types":
            token = request.args.get("t", "")
            answer: dict = {"types": TYPES, "practice": "Harbor Family Dental", "first_name": "Maria"}
            if token == SPANISH:
                answer["language"] = "es"
            return gone(token) or as_json(answer)
        if path == "/booking/api/slots":
            token = request.args.get("t", "")
            if refused := gone(token):
                return refused
            try:
                first_day = date.fromisoformat(request.args["from"])
                days = int(request.args["days"])
                type_id = request.args["type"]
            except (KeyError, ValueError) as exc:
                return as_json({"error": f"bad query: {exc}"}, 400)
            return as_json({"timezone": "America/New_York", "slots": canned_slots(first_day, days, type_id)})
        if path == "/booking/api/book" and request.method == "POST":
            body = request.get_json(force=True)
            token = body.get("t", "")
            if refused := gone(token):
                return refused
            site.bookings.append(body)
            start = datetime.fromisoformat(body["start"])
            open_now = canned_slots(start.astimezone(PRACTICE_ZONE).date() - timedelta(days=1), 3, body["type"])
            if token == RACE and start.astimezone(PRACTICE_ZONE).time().hour == 9 and start.minute == 0:
                later = [s for s in open_now if datetime.fromisoformat(s["start"]) > start][:3]
                return as_json({"error": "that slot was just taken", "slots": later}, 409)
            minutes = next(t["minutes"] for t in TYPES if t["id"] == body["type"])
            appointment = {
                "id": f"apt-{len(site.bookings)}",
                "start": body["start"],
                "end": (start + timedelta(minutes=minutes)).isoformat(),
                "provider": body.get("provider") or PROVIDERS[0],
                "location": "main",
                "type": body["type"],
            }
            return as_json({"appointment": appointment, "status": "requested" if token == REQUEST else "booked"}, 201)
        return as_json({"error": "not found"}, 404)

    return app


# The page runs against `booking_site`, one fixture: a small server that serves the built page at
# /b/<token> and answers the three routes of the booking spec with canned data. Point it at the real
# local stack (and tokens for these situations) and every test here drives the real service.
# Screenshots go to $CARELOOP_SCREENSHOTS (default /tmp/careloop-booking).
@pytest.fixture(scope="module")
def booking_site() -> Iterator[BookingSite]:
    """The booking page and its API over HTTP (canned here; the real local stack fits the same shape)."""
    if not (WEB_DIST / "booking.html").is_file():
        pytest.fail("web/dist/booking.html is missing (build it: cd web && npm ci && npm run build)")
    from werkzeug.serving import make_server

    site = BookingSite(url="")
    server = make_server("127.0.0.1", 0, _canned_booking_api(site), threaded=True)
    site.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()


class Watched:
    """A page plus what a test must not see: uncaught errors, console errors (a CSP refusal is one)."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))

    def assert_clean(self) -> None:
        # The 404 / 410 answers are the expected ones the page explains; Chromium logs them as resource errors.
        real = [e for e in self.errors if "status of 404" not in e and "status of 410" not in e
                and "status of 409" not in e]
        assert real == [], f"errors in the page: {real}"


@pytest.fixture()
def open_page(browser, booking_site) -> Iterator:
    contexts = []

    def opener(token: str, viewport: dict = PHONE, locale: str = "en-US") -> Watched:
        context = browser.new_context(viewport=viewport, locale=locale, timezone_id=BROWSER_ZONE)
        context.set_default_timeout(10_000)
        contexts.append(context)
        watched = Watched(context.new_page())
        watched.page.goto(booking_site.page_url(token))
        return watched

    yield opener
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"), full_page=True)


def first_day(page):
    return page.locator("[data-testid^=day-]").first


def assert_fits(page) -> None:
    """No horizontal scroll, and every control at least 44 x 44 CSS px (WCAG 2.5.5)."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    sizes = page.evaluate(
        """[...document.querySelectorAll('button, a, input, select')].map(el => {
               const r = el.getBoundingClientRect();
               return [el.dataset.testid || el.textContent.trim(), r.width, r.height];
           })"""
    )
    assert sizes, "no controls on the page"
    small = [s for s in sizes if s[1] < 44 or s[2] < 44]
    assert small == [], f"targets under 44 px: {small}"


# ---- the path a patient takes --------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_patient_picks_a_visit_a_day_and_a_time_and_books_it(open_page, booking_site, viewport):
    # Given a patient's link opened in a browser set to Los Angeles time
    watched = open_page(GOOD, viewport)
    page = watched.page
    # Then it greets them by first name under the practice's name, in English
    expect(page.get_by_test_id("practice")).to_have_text("Harbor Family Dental")
    expect(page.get_by_test_id("greeting")).to_contain_text("Hi Maria")
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.get_by_test_id("type-cleaning")).to_contain_text("Cleaning")
    expect(page.get_by_test_id("type-cleaning")).to_contain_text("60 min")
    shot(page, "1-type-choice")

    # When they pick the cleaning and the first open day
    page.get_by_test_id("type-cleaning").click()
    expect(first_day(page)).to_be_visible()
    expect(first_day(page)).to_contain_text("4 times")
    shot(page, "1b-day-choice")
    first_day(page).click()
    # Then the times read in the practice's zone, named; two providers at 9:00 are one choice
    times = page.get_by_test_id("slot")
    expect(times).to_have_text(["9:00 AM ET", "9:30 AM ET", "10:00 AM ET", "2:00 PM ET"])
    shot(page, "2-time-choice")

    # When they tap 10:00 and then the one Book button
    times.nth(2).click()
    expect(page.get_by_test_id("book")).to_have_text("Book 10:00 AM ET")
    shot(page, "2b-confirm-step")
    page.get_by_test_id("book").click()

    # Then the confirmation shows the visit, and the API got the slot's start and provider
    done = page.get_by_test_id("confirmation")
    expect(done).to_contain_text("You're booked")
    expect(done).to_contain_text("10:00 AM ET")
    expect(done).to_contain_text("Cleaning")
    assert done.get_attribute("data-status") == "booked"
    posted = booking_site.bookings[-1]
    assert posted["t"] == GOOD and posted["type"] == "cleaning" and posted["provider"] == "dr-lee"
    start = datetime.fromisoformat(posted["start"]).astimezone(PRACTICE_ZONE)
    assert (start.hour, start.minute) == (10, 0)
    shot(page, "3-confirmation")
    watched.assert_clean()


def test_later_and_earlier_dates_page_through_the_calendar(open_page):
    page = open_page(GOOD).page
    page.get_by_test_id("type-checkup").click()
    first = first_day(page).get_attribute("data-testid")
    expect(page.get_by_test_id("earlier")).to_have_count(0)  # nothing before today
    page.get_by_test_id("later").click()
    expect(page.get_by_test_id("earlier")).to_be_visible()
    # the next days render after the button: wait for them (read at once, a loaded machine saw the old ones)
    expect(first_day(page)).not_to_have_attribute("data-testid", first)
    assert first_day(page).get_attribute("data-testid") > first
    page.get_by_test_id("earlier").click()
    expect(first_day(page)).to_have_attribute("data-testid", first)


def test_a_request_mode_booking_says_it_is_pending(open_page):
    page = open_page(REQUEST).page
    page.get_by_test_id("type-checkup").click()
    first_day(page).click()
    page.get_by_test_id("slot").first.click()
    page.get_by_test_id("book").click()
    done = page.get_by_test_id("confirmation")
    expect(done).to_contain_text("Request sent")
    expect(done).to_contain_text("pending")
    assert done.get_attribute("data-status") == "requested"


def test_a_slot_just_taken_offers_the_next_ones_and_one_of_them_books(open_page, booking_site):
    # Given a patient who taps 9:00, which someone else books a moment before
    watched = open_page(RACE)
    page = watched.page
    page.get_by_test_id("type-cleaning").click()
    first_day(page).click()
    page.get_by_test_id("slot").first.click()
    page.get_by_test_id("book").click()

    # Then the page says so and offers the next open times (those of the 409 answer)
    taken = page.get_by_test_id("slot-taken")
    expect(taken).to_contain_text("That time was just taken")
    offered = page.get_by_test_id("offered")
    expect(offered).to_have_count(3)
    expect(offered.first).to_contain_text("9:30 AM ET")
    assert page.evaluate("document.activeElement.closest('[data-testid=slot-taken]') !== null")
    # Two providers were free at 9:00, so the page left the provider to the service
    assert "provider" not in booking_site.bookings[-1]
    # The taken time's day is not offered again as it was; the other days are one tap away
    expect(page.get_by_test_id("slot")).to_have_count(0)
    expect(page.get_by_test_id("other-day")).to_be_visible()
    shot(page, "4-slot-taken")

    # When they take the first one offered, it books
    offered.first.click()
    page.get_by_test_id("book").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("9:30 AM ET")
    assert [datetime.fromisoformat(b["start"]).astimezone(PRACTICE_ZONE).strftime("%H:%M")
            for b in booking_site.bookings if b["t"] == RACE][-2:] == ["09:00", "09:30"]
    watched.assert_clean()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_expired_or_spent_link_says_so_and_what_to_do(open_page, viewport):
    watched = open_page(EXPIRED, viewport)
    page = watched.page
    notice = page.get_by_test_id("link-expired")
    expect(notice).to_contain_text("This link has expired")
    expect(notice).to_contain_text("new link")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")
    # Nothing to pick on a dead link, and no name: the 410 says nothing about the patient
    expect(page.locator("[data-testid^=type-]")).to_have_count(0)
    expect(page.get_by_test_id("greeting")).to_have_count(0)
    shot(page, "5-expired-link")
    watched.assert_clean()


def test_an_unknown_link_says_it_cannot_be_found(open_page):
    watched = open_page(UNKNOWN)
    page = watched.page
    expect(page.get_by_test_id("link-unknown")).to_contain_text("We can't find this link")
    expect(page.get_by_test_id("practice")).to_have_text("")
    watched.assert_clean()


# ---- Spanish -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_slot_just_taken_leaves_the_other_days_one_tap_away(open_page, viewport):
    page = open_page(RACE, viewport).page
    page.get_by_test_id("type-cleaning").click()
    first_day(page).click()
    page.get_by_test_id("slot").first.click()
    page.get_by_test_id("book").click()
    expect(page.get_by_test_id("slot-taken")).to_be_visible()
    page.get_by_test_id("other-day").click()
    # Back on the days, the taken 9:00 is gone from its day
    expect(page.get_by_test_id("slot-taken")).to_have_count(0)
    expect(first_day(page)).to_contain_text("3 times")
    first_day(page).click()
    expect(page.get_by_test_id("slot")).to_have_text(["9:30 AM ET", "10:00 AM ET", "2:00 PM ET"])


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_spanish_speaking_patient_books_in_spanish(open_page, viewport):
    # Given a link whose types answer says the patient reads Spanish (the browser is English)
    watched = open_page(SPANISH, viewport)
    page = watched.page
    expect(page.get_by_test_id("greeting")).to_contain_text("Hola, Maria")
    assert page.evaluate("document.documentElement.lang") == "es"
    expect(page.get_by_test_id("type-cleaning")).to_contain_text("Limpieza")
    page.get_by_test_id("type-cleaning").click()
    expect(page.get_by_role("heading", name="Elija un día")).to_be_visible()
    first_day(page).click()
    expect(page.get_by_test_id("slot").first).to_have_text("9:00 a.m. ET")
    shot(page, "6-spanish")
    page.get_by_test_id("slot").first.click()
    expect(page.get_by_test_id("book")).to_have_text("Reservar 9:00 a.m. ET")
    page.get_by_test_id("book").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("Cita reservada")
    watched.assert_clean()


def test_the_browser_language_picks_spanish_and_the_switch_changes_it(open_page):
    # Given an answer without a language and a browser set to Mexican Spanish
    page = open_page(GOOD, locale="es-MX").page
    expect(page.get_by_test_id("greeting")).to_contain_text("Hola")
    # When the patient flips the visible switch, the page (names of visits too) reads English
    switch = page.get_by_test_id("language")
    expect(switch).to_have_text("English")
    assert switch.get_attribute("lang") == "en"
    switch.click()
    expect(page.get_by_test_id("greeting")).to_contain_text("Hi Maria")
    expect(page.get_by_test_id("type-checkup")).to_contain_text("Check-up")
    assert page.evaluate("document.documentElement.lang") == "en"
    # and focus stays on the switch, so flipping back is one more key press
    assert page.evaluate("document.activeElement.dataset.testid") == "language"
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("type-checkup")).to_contain_text("Revisión")


# ---- accessibility -------------------------------------------------------------------------------------


def tab_to(page, testid_prefix: str, limit: int = 40) -> str:
    """Press Tab until a control whose data-testid starts with the prefix has focus; its test id."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.dataset.testid || ''")
        if focused.startswith(testid_prefix):
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"focus on {focused} is not visible"
            return focused
    raise AssertionError(f"Tab never reached {testid_prefix!r}")


def test_a_patient_books_with_the_keyboard_alone(open_page, booking_site):
    watched = open_page(GOOD)
    page = watched.page
    expect(page.get_by_test_id("type-cleaning")).to_be_visible()
    tab_to(page, "type-checkup")
    page.keyboard.press("Enter")
    # Each step moves focus to its heading, so the next Tab lands on the step's first choice
    expect(page.get_by_role("heading", name="Choose a day")).to_be_focused()
    tab_to(page, "day-")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Choose a time")).to_be_focused()
    tab_to(page, "slot")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(page.get_by_role("heading", name="Confirm your visit")).to_be_focused()
    tab_to(page, "book")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirmation")).to_contain_text("9:30 AM ET")
    assert booking_site.bookings[-1]["type"] == "checkup"
    watched.assert_clean()


def test_status_is_announced_and_controls_have_names(open_page):
    page = open_page(GOOD).page
    expect(page.get_by_test_id("type-cleaning")).to_be_visible()
    status = page.get_by_test_id("status")
    assert status.get_attribute("aria-live") == "polite" and status.get_attribute("role") == "status"
    assert page.get_by_test_id("language").get_attribute("aria-label") == "Ver esta página en español"
    page.get_by_test_id("type-cleaning").click()
    day = first_day(page)
    expect(day).to_be_visible()
    # A day's name for a screen reader is the whole date and how many times it has
    assert "4 times" in (day.get_attribute("aria-label") or "")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_step_fits_the_screen_with_44_px_targets(open_page, viewport):
    page = open_page(RACE, viewport).page
    expect(page.get_by_test_id("type-cleaning")).to_be_visible()
    assert_fits(page)
    page.get_by_test_id("type-cleaning").click()
    expect(first_day(page)).to_be_visible()
    assert_fits(page)
    first_day(page).click()
    assert_fits(page)
    page.get_by_test_id("slot").first.click()
    assert_fits(page)
    page.get_by_test_id("book").click()
    expect(page.get_by_test_id("offered").first).to_be_visible()
    assert_fits(page)
    page.get_by_test_id("offered").first.click()
    page.get_by_test_id("book").click()
    expect(page.get_by_test_id("confirmation")).to_be_visible()
    assert_fits(page)
