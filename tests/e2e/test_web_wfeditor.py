"""The workflow editor in headless Chromium against the local stack (desktop and 390 px): an admin
edits a reminder's text and sees the live preview and part count change, saves with a reason,
sees the diff in history, undoes, runs the dry run and sees rows, and test-sends to the practice's
test contact (seen in /dev/sms/outbox); a front-desk user sees the workflow read-only.
Screenshots go to /tmp/shots-wfeditor/."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

SHOTS = Path("/tmp/shots-wfeditor")
WF = "appointment-reminder"
TEST_CONTACT = "+16175550909"  # the demo profile's test_contacts


@pytest.fixture()
def open_as(open_as):
    """The shared `open_as` (tests/e2e/conftest.py), a taller page: the editor's save bar is sticky."""
    return lambda role, width=1280: open_as(role, width, height=900)


def _outbox(url: str) -> list[dict]:
    with urllib.request.urlopen(url + "/dev/sms/outbox", timeout=5) as resp:  # noqa: S310 (the local stack)
        return json.loads(resp.read())


def _centre(locator) -> None:
    """Scrolled to the middle of the view for a screenshot (only the page body scrolls, under a sticky save bar)."""
    locator.evaluate("el => el.scrollIntoView({block: 'center'})")


def _give_reason(page, why: str) -> None:
    dialog = page.get_by_test_id("reason-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("reason-confirm").click()  # empty: refused, the dialog stays
    expect(dialog.get_by_test_id("reason-error")).to_have_text("A reason is required.")
    dialog.get_by_test_id("reason-input").fill(why)
    dialog.get_by_test_id("reason-confirm").click()
    expect(dialog).to_have_count(0)


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_edits_previews_saves_diffs_undoes_dry_runs_and_test_sends(open_as, local_stack, width):
    SHOTS.mkdir(exist_ok=True)
    page = open_as("admin", width)
    marker = f"E2E{width}"
    # Given the workflow cards in words people use
    page.goto(local_stack.url + "/#/workflows")
    card = page.locator(f'[data-testid="workflow-card"][data-workflow-id="{WF}"]')
    expect(card.get_by_test_id("workflow-starts")).to_have_text("2 days before a visit")
    expect(card.get_by_test_id("step-name")).to_have_text(["Reminder 2 days before"])
    page.screenshot(path=str(SHOTS / f"workflows-{width}.png"), full_page=True)

    # When the admin opens the editor
    card.get_by_test_id("workflow-edit").click()
    step = page.get_by_test_id("editor-step").first
    parts = step.get_by_test_id("preview-en").get_by_test_id("preview-parts")
    expect(parts).to_have_attribute("data-encoding", "GSM-7")
    expect(step.get_by_test_id("preview-en").get_by_test_id("preview-text")).to_contain_text("Maria")
    version = int(page.get_by_test_id("editor-version").inner_text().lstrip("v"))

    # and types a long text with an emoji: the part count and encoding change, the budget warns
    step.get_by_test_id("template-en").fill("Hi {{ first_name }} 🦷 " + "we look forward to seeing you soon, " * 5)
    expect(parts).to_have_attribute("data-encoding", "UCS-2")
    assert int(parts.get_attribute("data-parts") or 0) > 2
    expect(step.get_by_test_id("preview-en").get_by_test_id("preview-warning")).to_contain_text("budget")
    _centre(step.get_by_test_id("preview-en"))
    page.screenshot(path=str(SHOTS / f"editor-warning-{width}.png"), full_page=True)

    # then a short text: one GSM-7 part again, rendered for the sample patient
    text = f"Hi {{{{ first_name }}}}, {marker}: your visit is {{{{ date_time }}}}. Reply C to confirm or R to reschedule."
    step.get_by_test_id("template-en").fill(text)
    expect(parts).to_have_attribute("data-parts", "1")
    expect(parts).to_have_attribute("data-encoding", "GSM-7")
    expect(step.get_by_test_id("preview-en").get_by_test_id("preview-text")).to_contain_text(f"Hi Maria, {marker}: your visit is")
    expect(page.get_by_test_id("editor-validity")).to_contain_text("Ready to save")

    # saved with a reason: a new version, and history shows who, why and the diff
    page.get_by_test_id("workflow-save").click()
    _give_reason(page, f"shorter reminder {marker}")
    expect(page.get_by_test_id("editor-version")).to_have_text(f"v{version + 1}")
    latest = page.get_by_test_id("history-version").first
    expect(latest).to_have_attribute("data-version", str(version + 1))
    expect(latest.get_by_test_id("history-why")).to_contain_text(f"shorter reminder {marker}")
    change = latest.get_by_test_id("history-change")
    expect(change).to_have_count(1)
    expect(change).to_have_attribute("data-field", "action.template.en")
    expect(change).to_contain_text(marker)
    _centre(latest)
    page.screenshot(path=str(SHOTS / f"editor-saved-{width}.png"), full_page=True)

    # undo: the previous text is back as a new version recorded as "undo of vN"
    page.get_by_test_id("editor-undo").click()
    expect(page.get_by_test_id("editor-version")).to_have_text(f"v{version + 2}")
    expect(page.get_by_test_id("history-version").first.get_by_test_id("history-why")).to_contain_text(
        f"undo of v{version + 1}")
    expect(step.get_by_test_id("template-en")).not_to_have_value(text)
    expect(page.get_by_test_id("editor-undo")).to_have_count(0)  # the undo is a version of its own, in history

    # a dry run of an unsaved edit on the real schedule: who would get what
    step = page.get_by_test_id("editor-step").first
    step.get_by_test_id("template-en").fill(text)
    expect(step.get_by_test_id("preview-en").get_by_test_id("preview-text")).to_contain_text(marker)
    page.get_by_test_id("dryrun-run").click()
    expect(page.get_by_test_id("dryrun-summary")).to_contain_text("would be sent")
    rows = page.get_by_test_id("dryrun-row")
    expect(rows.first).to_be_visible()
    expect(rows.filter(has_text=marker).first).to_be_visible()  # an English-speaking patient's text, as edited
    page.get_by_test_id("dryrun-summary").evaluate("el => el.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(SHOTS / f"editor-dryrun-{width}.png"), full_page=True)
    assert not [m for m in _outbox(local_stack.url) if marker in m["body"]], "a dry run sent a text"

    # a test send to the practice's test contact goes through the real send path
    page.get_by_test_id("testsend-send").click()
    expect(page.get_by_test_id("testsend-result")).to_contain_text("(617) 555-0909")
    deadline = time.monotonic() + 20
    while not (sent := [m for m in _outbox(local_stack.url) if m["to"] == TEST_CONTACT and marker in m["body"]]):
        assert time.monotonic() < deadline, "the test text never reached the SMS stand-in"
        time.sleep(0.3)
    assert "Maria" in sent[0]["body"] and sent[0]["workflow"] == "test-send"
    assert page.errors == []


def test_a_switch_asks_why_and_can_be_undone(open_as, local_stack):
    page = open_as("admin")
    page.goto(local_stack.url + "/#/workflows")
    card = page.locator('[data-testid="workflow-card"][data-workflow-id="post-visit"]')
    toggle = card.get_by_test_id("workflow-toggle")
    before = toggle.get_attribute("aria-checked")
    flipped = "false" if before == "true" else "true"
    # cancelling the reason leaves the switch alone
    toggle.click()
    page.get_by_test_id("reason-cancel").click()
    expect(toggle).to_have_attribute("aria-checked", before)
    toggle.click()
    _give_reason(page, "trying it out")
    expect(card.get_by_test_id("workflow-toggle")).to_have_attribute("aria-checked", flipped)
    page.screenshot(path=str(SHOTS / "workflows-switched-1280.png"), full_page=True)
    card.get_by_test_id("workflow-undo").click()
    expect(card.get_by_test_id("workflow-toggle")).to_have_attribute("aria-checked", before)
    expect(page.get_by_test_id("toast")).to_contain_text("Undone")
    assert page.errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_front_desk_sees_the_workflow_read_only(open_as, local_stack, width):
    page = open_as("front_desk", width)
    page.goto(local_stack.url + f"/#/workflows/{WF}")
    expect(page.get_by_test_id("editor-readonly")).to_be_visible()
    expect(page.get_by_test_id("template-en").first).to_be_disabled()
    expect(page.get_by_test_id("workflow-save")).to_have_count(0)
    expect(page.get_by_test_id("dryrun-run")).to_have_count(0)
    expect(page.get_by_test_id("testsend-send")).to_have_count(0)
    expect(page.get_by_test_id("history-version").first).to_be_visible()
    page.screenshot(path=str(SHOTS / f"editor-readonly-top-{width}.png"))
    _centre(page.get_by_test_id("editor-step").first)
    page.screenshot(path=str(SHOTS / f"editor-readonly-{width}.png"), full_page=True)
    assert page.errors == []
