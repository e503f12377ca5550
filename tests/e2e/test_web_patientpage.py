"""The patient page in headless Chromium against the local stack (desktop and 390 px): opened from
the patients list and from a thread, an appointment confirmed, consent changed with a note."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from careloop.intake import sign
from tests.e2e.test_reminder_path import NY, SECRET, call
from tests.e2e.test_web_app import Watched, api_get, sign_in

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

SHOTS = Path("/tmp/shots-patientpage")


# the desktop in the practice's zone; the phone elsewhere, so visit times name both clocks
@pytest.fixture(params=[(1280, 860, "America/New_York"), (390, 844, "America/Los_Angeles")], ids=["desktop", "phone"])
def app(request, browser, local_stack) -> Iterator[Watched]:
    width, height, zone = request.param
    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id=zone)
    context.set_default_timeout(15_000)
    watched = Watched(context.new_page())
    watched.page.width = width  # type: ignore[attr-defined]  # for the screenshot names
    yield watched
    context.close()


def _own_patient(stack, width: int) -> tuple[str, str]:
    """A patient of this test alone, sent by the EHR as a signed FHIR bundle (the demo patients are
    other tests'; the carrier opts a number back in only once in 30 days), with a visit in 3 days."""
    pid, aid, phone = f"pp-e2e-{width}", f"pp-e2e-appt-{width}", f"617-555-01{60 + width % 37:02d}"
    now = datetime.fromisoformat(json.loads(call(stack, "GET", "/dev/clock")[1])["now"])
    start = datetime.combine(now.astimezone(NY).date() + timedelta(days=3), time(11), tzinfo=NY)
    bundle = {"resourceType": "Bundle", "id": f"pp-bundle-{width}", "type": "transaction", "entry": [
        {"fullUrl": f"urn:uuid:{pid}", "resource": {
            "resourceType": "Patient", "id": pid, "name": [{"family": "Okafor", "given": ["Ada"]}],
            "telecom": [{"system": "phone", "value": phone, "use": "mobile"}]},
         "request": {"method": "PUT", "url": f"Patient/{pid}"}},
        {"resource": {"resourceType": "Appointment", "id": aid, "status": "booked", "start": start.isoformat(),
                      "end": (start + timedelta(minutes=30)).isoformat(),
                      "participant": [{"actor": {"reference": f"urn:uuid:{pid}"}, "status": "accepted"},
                                      {"actor": {"display": "Dr. Lee"}, "status": "accepted"}]},
         "request": {"method": "PUT", "url": f"Appointment/{aid}"}}]}
    raw = json.dumps(bundle).encode()
    status, body, _ = call(stack, "POST", "/ehr/fhir", raw=raw, headers={
        "Content-Type": "application/fhir+json", "X-Careloop-Signature": sign(SECRET, raw)})
    assert status in (200, 202), body
    return pid, aid


def test_front_desk_confirms_a_visit_and_records_consent_on_the_patient_page(app: Watched, local_stack) -> None:
    page, width = app.page, app.page.width  # type: ignore[attr-defined]
    SHOTS.mkdir(exist_ok=True)
    sign_in(app, local_stack.url, local_stack.staff_email, local_stack.staff_password)
    expect(page.get_by_test_id("inbox-list")).to_be_visible()
    patient_id, appointment_id = _own_patient(local_stack, width)
    # the EHR's bundle is taken in through a queue (202): wait until the staff API has the visit
    for _ in range(60):
        found = api_get(app, "/patients")["patients"]
        if any(p["id"] == patient_id for p in found):
            break
        page.wait_for_timeout(500)

    # From the patients list, the name opens the patient page
    page.goto(local_stack.url + "/#/patients")
    row = page.locator(f'[data-testid="patient-row"][data-patient-id="{patient_id}"]')
    name = row.get_by_test_id("patient-page-link").inner_text()
    row.get_by_test_id("patient-page-link").click()
    expect(page.get_by_test_id("patient-page")).to_be_visible()
    expect(page.locator("h1")).to_have_text(name)
    assert page.get_by_test_id("pp-entry").count() >= 1
    expect(page.get_by_test_id("pp-findings")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"patient-{width}.png"), full_page=True)

    # Confirming the visit: stored and shown
    appt = page.locator(f'[data-testid="pp-appointment"][data-appointment-id="{appointment_id}"]')
    appt.get_by_test_id("pp-action-confirm").click()
    expect(appt.get_by_test_id("pp-confirmed")).to_be_visible()
    expect(appt.get_by_test_id("pp-action-confirm")).to_have_count(0)
    assert any(a["id"] == appointment_id and a["confirmed"]
               for a in api_get(app, f"/patients/{patient_id}/timeline")["appointments"])

    # An opt-out needs a note; with one it is recorded with the staff member's name
    page.get_by_test_id("pp-consent-submit").click()
    expect(page.get_by_test_id("pp-consent-error")).to_contain_text("Add a note")
    page.get_by_test_id("pp-consent-note").fill("Asked at the desk to stop texts")
    page.get_by_test_id("pp-consent-submit").click()
    expect(page.get_by_test_id("optout-badge")).to_be_visible()
    consent_entry = page.locator('[data-testid="pp-entry"][data-kind="consent"]').first
    expect(consent_entry).to_contain_text(f"Recorded by {local_stack.staff_email}: Asked at the desk to stop texts")
    page.screenshot(path=str(SHOTS / f"patient-opted-out-{width}.png"), full_page=True)
    page.get_by_test_id("pp-timeline").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"patient-timeline-{width}.png"))

    # Texts resume only with documented consent, said in the UI and enforced
    page.get_by_test_id("pp-consent-note").fill("Signed the SMS consent form")
    page.get_by_test_id("pp-consent-submit").click()
    expect(page.get_by_test_id("pp-consent-error")).to_contain_text("documented consent")
    page.get_by_test_id("pp-consent-documented").check()
    page.get_by_test_id("pp-consent-submit").click()
    expect(page.get_by_test_id("optin-badge")).to_be_visible()

    # From a thread, the header opens the same page
    page.goto(local_stack.url + f"/#/inbox/{patient_id}")
    page.get_by_test_id("patient-page-link").click()
    expect(page.get_by_test_id("patient-page")).to_be_visible()
    expect(page.locator("h1")).to_have_text(name)
    app.assert_clean()
