"""The patient page's other buttons in headless Chromium against the local stack (desktop and
390 px): cancel a visit, mark one a no-show and one attended, each in the visit's history; and
the page as billing sees it (visits and consent, not the words of another team's conversation)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from careloop.intake import sign
from careloop_local.runtime import DEMO_STAFF_BY_ROLE, DEMO_STAFF_PASSWORD
from tests.e2e.test_reminder_path import NY, SECRET, call
from tests.e2e.test_web_app import api_get, sign_in

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture(autouse=True, scope="module")
def _patient_assertions():
    """Each step waits on the local stack's queues and handlers; a shared 2-core machine can take
    far longer than Playwright's 5 s default for them: the same assertions, waited on longer."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)

SHOTS = Path("/tmp/shots-rolegaps")
# the confirmations the page asks before a cancel or a no-show: accepted; any other dialog is a fault
ASKED = ("Cancel visit for", "Mark no-show for")
# each test's own patient's line (617-555-02xx): desktop and phone, patient actions and billing
LINE = {1280: "41", 390: "42", 1281: "43", 391: "44"}


class Confirming:
    """A page that answers the page's own "are you sure" with OK and records every other dialog
    and every uncaught error, which the test must not see."""

    def __init__(self, page, width: int) -> None:
        self.page, self.width = page, width
        self.asked: list[str] = []
        self.unexpected: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _on_dialog(self, dialog) -> None:
        if dialog.type == "confirm" and dialog.message.startswith(ASKED):
            self.asked.append(dialog.message)
            dialog.accept()
        else:
            self.unexpected.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

    def assert_clean(self) -> None:
        assert self.unexpected == [] and self.errors == [], (self.unexpected, self.errors)


@pytest.fixture(params=[(1280, 860, "America/New_York"), (390, 844, "America/Los_Angeles")], ids=["desktop", "phone"])
def app(request, browser, local_stack) -> Iterator[Confirming]:
    width, height, zone = request.param
    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id=zone)
    context.set_default_timeout(45_000)
    yield Confirming(context.new_page(), width)
    context.close()


def _visits(stack, width: int) -> tuple[str, dict[str, str]]:
    """A patient of this test alone, sent by the EHR as a signed FHIR bundle, with a visit in 2
    days (to cancel) and two this morning, 3 and 2 hours ago (one missed, one attended)."""
    pid, phone = f"rg-e2e-{width}", f"617-555-02{LINE[width]}"
    now = datetime.fromisoformat(json.loads(call(stack, "GET", "/dev/clock")[1])["now"])
    ahead = datetime.combine(now.astimezone(NY).date() + timedelta(days=2), time(11), tzinfo=NY)
    starts = {"ahead": ahead, "missed": now - timedelta(hours=3), "attended": now - timedelta(hours=2)}
    ids = {k: f"rg-e2e-{k}-{width}" for k in starts}
    entries = [{"fullUrl": f"urn:uuid:{pid}", "resource": {
        "resourceType": "Patient", "id": pid, "name": [{"family": "Lindqvist", "given": ["Mira"]}],
        "telecom": [{"system": "phone", "value": phone, "use": "mobile"}]},
        "request": {"method": "PUT", "url": f"Patient/{pid}"}}]
    for key, start in starts.items():
        entries.append({"resource": {
            "resourceType": "Appointment", "id": ids[key], "status": "booked", "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
            "participant": [{"actor": {"reference": f"urn:uuid:{pid}"}, "status": "accepted"},
                            {"actor": {"display": "Dr. Lee"}, "status": "accepted"}]},
            "request": {"method": "PUT", "url": f"Appointment/{ids[key]}"}})
    raw = json.dumps({"resourceType": "Bundle", "id": f"rg-bundle-{width}", "type": "transaction",
                      "entry": entries}).encode()
    status, body, _ = call(stack, "POST", "/ehr/fhir", raw=raw, headers={
        "Content-Type": "application/fhir+json", "X-Careloop-Signature": sign(SECRET, raw)})
    assert status in (200, 202), body
    return pid, ids


def _open_patient_page(app: Confirming, stack, patient_id: str) -> None:
    """From the patients list (the EHR's bundle goes through a queue: the list has it once taken in)."""
    page = app.page
    row = page.locator(f'[data-testid="patient-row"][data-patient-id="{patient_id}"]')
    for _ in range(60):
        page.get_by_test_id("nav-patients").click()
        page.get_by_test_id("patients-search").fill("Lindqvist")
        if row.count():
            break
        page.wait_for_timeout(500)
    row.get_by_test_id("patient-page-link").click()
    expect(page.get_by_test_id("patient-page")).to_be_visible()


def _appointment(page, appointment_id: str):
    return page.locator(f'[data-testid="pp-appointment"][data-appointment-id="{appointment_id}"]')


def test_front_desk_cancels_a_visit_and_closes_out_two_from_the_patient_page(app: Confirming, local_stack) -> None:
    page, width = app.page, app.width
    SHOTS.mkdir(exist_ok=True)
    sign_in(app, local_stack.url, DEMO_STAFF_BY_ROLE["front_desk"], DEMO_STAFF_PASSWORD)  # type: ignore[arg-type]
    expect(page.get_by_test_id("inbox-list")).to_be_visible()
    patient_id, ids = _visits(local_stack, width)
    _open_patient_page(app, local_stack, patient_id)
    # a visit ahead can be confirmed or cancelled; one that has started, closed out
    ahead, missed, attended = (_appointment(page, ids[k]) for k in ("ahead", "missed", "attended"))
    expect(ahead.get_by_test_id("pp-action-cancel")).to_be_visible()
    expect(missed.get_by_test_id("pp-action-noshow")).to_be_visible()
    expect(attended.get_by_test_id("pp-action-fulfilled")).to_be_visible()
    expect(ahead.get_by_test_id("pp-action-noshow")).to_have_count(0)
    page.screenshot(path=str(SHOTS / f"patient-actions-before-{width}.png"), full_page=True)

    # Cancel: the page asks first, then the visit is cancelled and has nothing left to do
    ahead.get_by_test_id("pp-action-cancel").click()
    expect(ahead.get_by_test_id("pp-status")).to_have_text("Cancelled")
    expect(ahead.locator("button")).to_have_count(0)
    # No-show (asked first, too) and attended
    missed.get_by_test_id("pp-action-noshow").click()
    expect(missed.get_by_test_id("pp-status")).to_have_text("No-show")
    attended.get_by_test_id("pp-action-fulfilled").click()
    expect(attended.get_by_test_id("pp-status")).to_have_text("Attended")
    assert [m.split(" for ")[0] for m in app.asked] == ["Cancel visit", "Mark no-show"]

    # Stored as the page says, and each visit's history says who did it, after the EHR's booking
    stored = {a["id"]: a for a in api_get(app, f"/patients/{patient_id}/timeline")["appointments"]}  # type: ignore[arg-type]
    assert {k: stored[ids[k]]["status"] for k in ids} == {"ahead": "cancelled", "missed": "noshow", "attended": "fulfilled"}
    desk = DEMO_STAFF_BY_ROLE["front_desk"]
    for key, event in (("ahead", "cancelled"), ("missed", "noshow"), ("attended", "fulfilled")):
        assert [(c["event"], c["source"], c["by"]) for c in stored[ids[key]]["history"]] == [
            ("booked", "ehr", ""), (event, "staff", desk)]
    ahead.get_by_test_id("pp-history").locator("summary").click()
    items = ahead.get_by_test_id("pp-history-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Booked from the EHR")
    expect(items.nth(1)).to_contain_text(f"Cancelled by {desk}")
    # and the timeline has each staff action once (the visit's change, not its task beside it too)
    changes = page.locator('[data-testid="pp-entry"][data-kind="appointment"]')
    expect(changes.filter(has_text=f"by {desk}")).to_have_count(3)
    expect(page.locator('[data-testid="pp-entry"][data-kind="staff_action"]')).to_have_count(0)
    page.screenshot(path=str(SHOTS / f"patient-actions-after-{width}.png"), full_page=True)
    app.assert_clean()


def test_billing_sees_the_visits_not_what_another_team_was_told(app: Confirming, local_stack) -> None:
    page, width = app.page, app.width
    SHOTS.mkdir(exist_ok=True)
    # Given a patient who texted the practice a question the agent hands to the front desk
    patient_id, _ = _visits(local_stack, width + 1)
    words = "Is it fine to bring my sister along to the visit"
    sign_in(app, local_stack.url, DEMO_STAFF_BY_ROLE["billing"], DEMO_STAFF_PASSWORD)  # type: ignore[arg-type]
    expect(page.get_by_test_id("inbox-list")).to_be_visible()
    for _ in range(60):  # the bundle is taken in through a queue: text once the patient is known
        if any(p["id"] == patient_id for p in api_get(app, "/patients")["patients"]):  # type: ignore[arg-type]
            break
        page.wait_for_timeout(500)
    phone = f"+161755502{LINE[width + 1]}"
    assert call(local_stack, "POST", "/dev/sms/inbound", {"from": phone, "body": words})[0] in (200, 202)
    for _ in range(60):
        entries = api_get(app, f"/patients/{patient_id}/timeline")["entries"]  # type: ignore[arg-type]
        if any(e["kind"] == "text_in" for e in entries):
            break
        page.wait_for_timeout(500)
    _open_patient_page(app, local_stack, patient_id)
    # Then the text is on the page with its date, not its words
    expect(page.locator('[data-testid="pp-entry"][data-kind="text_in"]')).to_have_attribute("data-withheld", "true")
    expect(page.get_by_test_id("pp-withheld-note")).to_be_visible()
    assert words not in page.content()
    page.screenshot(path=str(SHOTS / f"billing-patient-{width}.png"), full_page=True)
    # Then billing sees the visits, no button it may not use, and no consent form
    expect(page.get_by_test_id("pp-appointment")).to_have_count(3)
    expect(page.locator('[data-testid="patient-page"] .pp-actions')).to_have_count(0)
    expect(page.get_by_test_id("pp-consent-readonly")).to_be_visible()
    expect(page.get_by_test_id("pp-consent-submit")).to_have_count(0)
    expect(page.get_by_test_id("open-thread")).to_have_count(0)
    # and no schedule tab on the patients page (the API refuses billing the schedule)
    page.get_by_test_id("nav-patients").click()
    expect(page.get_by_test_id("patients-table")).to_be_visible()
    expect(page.get_by_test_id("view-schedule")).to_have_count(0)
    page.screenshot(path=str(SHOTS / f"billing-patients-{width}.png"), full_page=True)
    app.assert_clean()
