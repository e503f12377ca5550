"""The rest of the inbox in headless Chromium against the local stack: team views, assigning a
conversation, an internal note, a saved reply, unread markers and keyboard navigation.

Needs the `local_stack` fixture (tests/e2e/conftest.py) serving web/dist at `/`, and Debian's
/usr/bin/chromium. Screenshots (1280 px and 390 px) go to /tmp/shots-inbox2/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.webapp import api_call, new_page, sign_in, text_in

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

OLIVIA, SAM = "+16175550104", "+16175550105"  # demo patients (careloop_local.demo), English
URGENT = "I have crushing chest pain and can't breathe"
QUESTION = "Can I bring my daughter along to my visit?"
SHOTS = Path("/tmp/shots-inbox2")
INBOX_WAIT_MS = 60_000  # the inbox polls every 10 s; the text goes through queues and the agent first


@pytest.fixture()
def page(browser, local_stack) -> Iterator:
    context, page = new_page(browser, local_stack)
    yield page
    context.close()
    assert page.errors == [], f"uncaught errors in the page: {page.errors}"


def api(page, method: str, path: str) -> dict:
    """/api<path> as the signed-in user; a refusal fails the test."""
    got = api_call(page, method, path, None if method == "GET" else "{}")
    assert got["status"] < 300, f"{method} {path}: {got}"
    return got["body"]


def item(page, patient_id: str):
    return page.locator(f'[data-testid="conversation-item"][data-patient-id="{patient_id}"]')


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_front_desk_filters_assigns_notes_and_answers_with_a_saved_reply(page, local_stack) -> None:
    # Given Olivia texts an urgent symptom and Sam a question, and the front desk signs in
    sign_in(page, local_stack, ready="inbox-list")
    text_in(local_stack, OLIVIA, URGENT)
    text_in(local_stack, SAM, QUESTION)
    olivia = item(page, "demo-olivia")
    expect(olivia).to_have_attribute("data-priority", "urgent", timeout=INBOX_WAIT_MS)
    expect(item(page, "demo-sam")).to_be_visible(timeout=INBOX_WAIT_MS)
    # Then Olivia's conversation is unread for this user, routed to Clinical and Urgent, not Billing
    expect(olivia).to_have_attribute("data-unread", "true")
    api(page, "POST", "/patients/demo-olivia/read")  # read (by this user) once...
    page.reload()
    expect(olivia).to_have_attribute("data-unread", "false")
    text_in(local_stack, OLIVIA, "It is getting worse")  # ...then she writes again
    expect(olivia).to_have_attribute("data-unread", "true", timeout=INBOX_WAIT_MS)
    expect(olivia.get_by_test_id("conversation-snippet")).to_contain_text("It is getting worse")
    expect(olivia.get_by_test_id("unread-marker")).to_be_visible()
    expect(olivia.get_by_test_id("team-badge")).to_have_text("Clinical")
    shoot(page, "inbox-list-1280")
    for view, present in (("clinical", True), ("urgent", True), ("billing", False), ("unassigned", True), ("mine", False)):
        page.get_by_test_id(f"filter-{view}").click()
        expect(page.get_by_test_id(f"filter-{view}")).to_have_attribute("aria-pressed", "true")
        expect(olivia).to_have_count(1 if present else 0)
    page.get_by_test_id("filter-all").click()

    # When the list is driven by the keyboard: Down/Up move the focus, Enter opens
    first = page.get_by_test_id("conversation-item").first
    first.focus()
    page.keyboard.press("ArrowDown")
    second = page.get_by_test_id("conversation-item").nth(1)
    expect(second).to_be_focused()
    shoot(page, "inbox-keyboard-focus-1280")
    page.keyboard.press("ArrowUp")
    expect(first).to_be_focused()
    while page.evaluate("document.activeElement.dataset.patientId") != "demo-olivia":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    # Then the thread opens with the focus in the reply box, and it is no longer unread
    expect(page).to_have_url(re.compile(r"#/inbox/demo-olivia$"))
    expect(page.get_by_test_id("reply-input")).to_be_focused()
    expect(olivia).to_have_attribute("data-unread", "false", timeout=INBOX_WAIT_MS)

    # When she assigns it to herself, it shows on the thread and in the list, under Mine
    page.get_by_test_id("assignee-select").select_option(local_stack.staff_email)
    expect(olivia.get_by_test_id("assignee-tag")).to_be_visible()
    page.get_by_test_id("filter-mine").click()
    expect(olivia).to_have_count(1)
    page.get_by_test_id("filter-unassigned").click()
    expect(olivia).to_have_count(0)
    page.get_by_test_id("filter-all").click()

    # When she writes an internal note, it is shown apart, with its author, and never sent
    thread = page.get_by_test_id("thread")
    page.get_by_test_id("compose-note").click()
    expect(page.get_by_test_id("reply-send")).to_have_text("Add note")
    page.get_by_test_id("reply-input").fill("Called her: sent to the ER, Dr. Lee told")
    page.get_by_test_id("reply-send").click()
    note = thread.locator('[data-testid="message"][data-kind="note"]').filter(has_text="Dr. Lee told")
    expect(note).to_be_visible()
    expect(note.get_by_test_id("note-author")).to_have_text(local_stack.staff_email)
    sent = [m for m in api(page, "GET", "/patients/demo-olivia/messages")["messages"]
            if m["kind"] == "sms_out" and "Dr. Lee told" in m["body"]]
    assert sent == []
    shoot(page, "inbox-thread-note-1280")

    # When she picks a saved reply, it lands in the reply box filled in for Olivia
    page.get_by_test_id("compose-reply").click()
    saved = page.get_by_test_id("saved-replies")
    expect(saved).to_be_enabled()
    saved.select_option(label="We'll call you")
    expect(page.get_by_test_id("reply-input")).to_have_value(re.compile(r"^Hi Olivia, thanks for your message\."))
    expect(page.get_by_test_id("reply-input")).to_be_focused()
    shoot(page, "inbox-saved-reply-1280")

    # And at 390 px the list, views and thread still fit
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "inbox-thread-390")
    page.get_by_role("link", name="All conversations").click()
    expect(page.get_by_test_id("inbox-views")).to_be_visible()
    shoot(page, "inbox-list-390")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Finally, unassigning puts it back under Unassigned
    olivia.click()
    page.get_by_test_id("assignee-select").select_option("")
    page.get_by_role("link", name="All conversations").click()
    page.get_by_test_id("filter-unassigned").click()
    expect(olivia).to_have_count(1)
