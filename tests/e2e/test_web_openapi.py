"""The web app on the validated staff API in headless Chromium against the local stack: the inbox,
a thread, the patients list and a patient page read the declared bodies (their decoders use the
types generated from the OpenAPI document), the served document is the checked-in one, and a
request the API refuses comes back as a 400 naming the field.

Needs the `local_stack` fixture (tests/e2e/conftest.py) serving web/dist at `/`, and Debian's
/usr/bin/chromium. Screenshots (1280 px and 390 px) go to /tmp/shots-openapi/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ROOT = Path(__file__).resolve().parents[2]
SAM = "+16175550105"  # a demo patient (careloop_local.demo)
QUESTION = "Do you have parking near the office?"
SHOTS = Path("/tmp/shots-openapi")
INBOX_WAIT_MS = 60_000  # the inbox polls every 10 s; the text goes through queues and the agent first


@pytest.fixture()
def page(browser, local_stack) -> Iterator:
    index = requests.get(local_stack.url + "/", timeout=10)
    if index.status_code != 200 or "app.js" not in index.text:
        pytest.fail("the stack does not serve the web app at / (build it: cd web && npm ci && npm run build)")
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


def sign_in(page, stack) -> None:
    page.goto(stack.url + "/#/inbox")
    page.get_by_test_id("signin-email").fill(stack.staff_email)
    page.get_by_test_id("signin-password").fill(stack.staff_password)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("inbox-list")).to_be_visible()


def fetch(page, method: str, path: str, body: str | None = None) -> dict:
    """Call /api<path> from inside the page with the signed-in user's ID token: status and body."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const session = JSON.parse(sessionStorage.getItem("careloop.session"));
            const config = await (await fetch("/config.json")).json();
            const res = await fetch((config.apiBase || "/api").replace(/\\/$/, "") + path,
                                    {method, headers: {Authorization: session.idToken, "Content-Type": "application/json"},
                                     body: body === null ? undefined : body});
            return {status: res.status, body: await res.json()};
        }""",
        [method, path, body],
    )


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 860), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)  # the layout settles at the new width
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 860})


def test_the_app_reads_the_declared_bodies_and_the_api_names_a_refused_field(page, local_stack) -> None:
    # Given Sam texts a question and the front desk signs in (START first: the stack is shared, and
    # another file's test may have left Sam opted out, which disables the reply box on purpose)
    requests.post(local_stack.url + "/dev/sms/inbound", json={"from": SAM, "body": "START"}, timeout=60).raise_for_status()
    requests.post(local_stack.url + "/dev/sms/inbound", json={"from": SAM, "body": QUESTION}, timeout=60).raise_for_status()
    sign_in(page, local_stack)
    sam = page.locator('[data-testid="conversation-item"][data-patient-id="demo-sam"]')
    expect(sam).to_be_visible(timeout=INBOX_WAIT_MS)
    expect(sam.get_by_test_id("conversation-snippet")).to_contain_text("parking")
    shoot(page, "inbox")

    # When she opens the thread: his words are there, the reply box ready
    sam.click()
    expect(page).to_have_url(re.compile(r"#/inbox/demo-sam$"))
    expect(page.get_by_test_id("thread").get_by_text(QUESTION)).to_be_visible()
    expect(page.get_by_test_id("reply-input")).to_be_focused()
    shoot(page, "thread")

    # the patients list and Sam's page, both read through the declared models
    page.goto(local_stack.url + "/#/patients")
    expect(page.get_by_text("Sam").first).to_be_visible()
    shoot(page, "patients")
    page.goto(local_stack.url + "/#/patients/demo-sam")
    expect(page.get_by_text(QUESTION).first).to_be_visible()
    shoot(page, "patient")

    # Then the document the app's types come from is the one the API serves
    served = fetch(page, "GET", "/openapi.json")
    assert served["status"] == 200
    assert served["body"] == json.loads((ROOT / "docs/openapi/staff-api.json").read_text()), "run `make openapi`"

    # and a body the API refuses is a 400 naming the field (what ApiError shows), nothing sent
    refused = fetch(page, "POST", "/patients/demo-sam/messages", json.dumps({"body": 5}))
    assert refused == {"status": 400, "body": {"message": "body: must be text",
                                               "errors": [{"field": "body.body", "problem": "must be text"}]}}
    refused = fetch(page, "POST", "/patients/demo-sam/messages", "{not json")
    assert refused["status"] == 400 and refused["body"]["message"] == "body: not valid JSON"
