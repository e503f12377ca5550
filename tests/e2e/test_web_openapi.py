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

from tests.e2e.webapp import api_call, new_page, shoot, sign_in, text_in

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
    context, page = new_page(browser, local_stack)
    yield page
    context.close()
    assert page.errors == [], f"uncaught errors in the page: {page.errors}"


def test_the_app_reads_the_declared_bodies_and_the_api_names_a_refused_field(page, local_stack) -> None:
    # Given Sam texts a question and the front desk signs in (START first: the stack is shared, and
    # another file's test may have left Sam opted out, which disables the reply box on purpose)
    text_in(local_stack, SAM, "START")
    text_in(local_stack, SAM, QUESTION)
    sign_in(page, local_stack, ready="inbox-list")
    sam = page.locator('[data-testid="conversation-item"][data-patient-id="demo-sam"]')
    expect(sam).to_be_visible(timeout=INBOX_WAIT_MS)
    # the list may have loaded between START and the question: the question shows at the next poll
    expect(sam.get_by_test_id("conversation-snippet")).to_contain_text("parking", timeout=INBOX_WAIT_MS)
    shoot(page, SHOTS, "inbox")

    # When she opens the thread: his words are there, the reply box ready
    sam.click()
    expect(page).to_have_url(re.compile(r"#/inbox/demo-sam$"))
    expect(page.get_by_test_id("thread").get_by_text(QUESTION)).to_be_visible()
    expect(page.get_by_test_id("reply-input")).to_be_focused()
    shoot(page, SHOTS, "thread")

    # the patients list and Sam's page, both read through the declared models
    page.goto(local_stack.url + "/#/patients")
    expect(page.get_by_text("Sam").first).to_be_visible()
    shoot(page, SHOTS, "patients")
    page.goto(local_stack.url + "/#/patients/demo-sam")
    expect(page.get_by_text(QUESTION).first).to_be_visible()
    shoot(page, SHOTS, "patient")

    # Then the document the app's types come from is the one the API serves
    served = api_call(page, "GET", "/openapi.json")
    assert served["status"] == 200
    assert served["body"] == json.loads((ROOT / "docs/openapi/staff-api.json").read_text()), "run `make openapi`"

    # and a body the API refuses is a 400 naming the field (what ApiError shows), nothing sent
    refused = api_call(page, "POST", "/patients/demo-sam/messages", json.dumps({"body": 5}))
    assert refused == {"status": 400, "body": {"message": "body: must be text",
                                               "errors": [{"field": "body.body", "problem": "must be text"}]}}
    refused = api_call(page, "POST", "/patients/demo-sam/messages", "{not json")
    assert refused["status"] == 400 and refused["body"]["message"] == "body: not valid JSON"
