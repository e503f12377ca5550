"""The staff web app tells time honestly (issue 14 item 7), in Chromium running in Los Angeles
against the local stack (Boston practice): both clocks shown, and the stack's clock followed."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.e2e.test_web_app import INBOX_WAIT_MS, Watched, patient_id_for_phone, sign_in

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

LA = ZoneInfo("America/Los_Angeles")
PATIENT_PHONE = "+16175550101"
SHOTS = Path("/tmp/shots-time14")
BOTH_CLOCKS = re.compile(r"^\d{1,2}:\d{2} [AP]M PT \(\d{1,2}:\d{2} [AP]M ET\)$")


def stack_now(url: str) -> datetime:
    return datetime.fromisoformat(requests.get(url + "/dev/clock", timeout=10).json()["now"])


@pytest.fixture()
def la_app(browser, local_stack):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, timezone_id="America/Los_Angeles")
    context.set_default_timeout(15_000)
    watched = Watched(context.new_page())
    yield watched
    context.close()


def test_a_viewer_in_los_angeles_sees_both_clocks_and_the_stacks_day(la_app: Watched, local_stack) -> None:
    page = la_app.page
    SHOTS.mkdir(exist_ok=True)
    # the app reads "now" from the stack: config.json names its clock
    assert requests.get(local_stack.url + "/config.json", timeout=10).json()["devClock"] == "/dev/clock"

    # Given the stack's clock a day and a half ahead of the browser's (so the browser's own
    # "today" would be wrong), and a patient text that needs a person
    requests.post(local_stack.url + "/dev/clock/advance", json={"minutes": 36 * 60}, timeout=600).raise_for_status()
    sign_in(la_app, local_stack.url, local_stack.staff_email, local_stack.staff_password)
    expect(page.get_by_test_id("inbox-list")).to_be_visible()
    patient_id = patient_id_for_phone(la_app, PATIENT_PHONE)
    sent = requests.post(local_stack.url + "/dev/sms/inbound",
                         json={"from": PATIENT_PHONE, "body": "can someone call me about my bill"}, timeout=60)
    assert sent.status_code < 300, sent.text
    texted_at = stack_now(local_stack.url)

    # Then the list shows the text's time on the viewer's clock, named (it is today in Boston)
    item = page.locator(f'[data-testid="conversation-item"][data-patient-id="{patient_id}"]')
    expect(item).to_have_attribute("data-needs-attention", "true", timeout=INBOX_WAIT_MS)
    expect(item.locator(".conv-time")).to_have_text(re.compile(r"^\d{1,2}:\d{2} [AP]M PT$"))
    # and the thread names both clocks under the stack's "Today"
    item.click()
    message = page.get_by_test_id("message").filter(has_text="about my bill").last
    expect(message).to_be_visible()
    shown = message.locator("time").first.inner_text()
    assert BOTH_CLOCKS.match(shown), shown
    la_time = texted_at.astimezone(LA)
    assert shown.startswith(f"{la_time.hour % 12 or 12}:"), (shown, la_time)
    expect(page.locator(".day-sep").last).to_have_text("Today")
    page.screenshot(path=str(SHOTS / "inbox-la-1280.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "inbox-la-390.png"))
    page.set_viewport_size({"width": 1280, "height": 860})

    # When the stack's clock moves a day on
    requests.post(local_stack.url + "/dev/clock/advance", json={"minutes": 24 * 60}, timeout=600).raise_for_status()

    # Then the open app follows it without a reload: that text is now yesterday's (the day's
    # separator just above it; texts the new day brought may sit under a "Today" below)
    heading = message.locator("xpath=preceding-sibling::li[contains(@class, 'day-sep')][1]")
    expect(heading).to_have_text("Yesterday", timeout=30_000)
    # and the list says "Yesterday" for it, unless the new day brought this patient a newer text
    # (a reminder, depending on the hour the run starts): then the list names that one's time
    page.wait_for_timeout(500)
    times = [t.get_attribute("datetime") for t in page.locator('[data-testid="message"] time').all()]
    if max(times) == message.locator("time").first.get_attribute("datetime"):
        expect(item.locator(".conv-time")).to_have_text("Yesterday")
    else:
        expect(item.locator(".conv-time")).to_have_attribute("datetime", max(times))

    # and analytics' default period ends at the stack's "now", not the browser's, and counts the text
    page.get_by_test_id("nav-analytics").click()
    period = page.locator(".period")
    expect(period).to_be_visible()
    end = stack_now(local_stack.url).astimezone(LA)
    expect(period).to_contain_text(f"– {end:%a} {end:%b} {end.day},")
    assert (end - texted_at).total_seconds() > 23 * 3600
    tiles = page.get_by_test_id("kpi-value").all_inner_texts()
    assert any(re.search(r"[1-9]", t) for t in tiles), tiles  # not all zeros: the period is the stack's
    page.screenshot(path=str(SHOTS / "analytics-la-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "analytics-la-390.png"), full_page=True)
    # patients' next visits, each on both clocks
    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_test_id("nav-patients").click()
    expect(page.locator(".appt-when").first).to_be_visible()
    visits = page.locator(".appt-when").all_inner_texts()
    assert visits and all(re.match(r"^\w{3} \w{3} \d{1,2}, " + BOTH_CLOCKS.pattern[1:], v) for v in visits), visits
    page.screenshot(path=str(SHOTS / "patients-la-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "patients-la-390.png"), full_page=True)
    # and the next 7 days start at the stack's today: its days headed on the practice's calendar
    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_test_id("view-schedule").click()
    expect(page.get_by_test_id("schedule-list").first).to_be_visible()
    boston = ZoneInfo("America/New_York")
    today = stack_now(local_stack.url).astimezone(boston).date()
    headings = page.locator(".day-title").all_inner_texts()
    assert headings and "Yesterday" not in headings, headings
    assert all(BOTH_CLOCKS.match(t) for t in page.locator(".slot-time").all_inner_texts())
    first = datetime.fromisoformat(page.locator(".slot-time").first.get_attribute("datetime") or "")
    assert first.astimezone(boston).date() >= today  # the week starts at the stack's today, not the browser's
    page.screenshot(path=str(SHOTS / "schedule-la-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "schedule-la-390.png"), full_page=True)
    la_app.assert_clean()
