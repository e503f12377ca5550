"""The staff web app in headless Chromium against the local stack: sign-in, inbox, reply, pages.

Needs the `local_stack` fixture (tests/e2e/conftest.py) serving web/dist at `/`, and Debian's
/usr/bin/chromium (CARELOOP_CHROMIUM overrides the path). Elements are found by data-testid.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PATIENT_PHONE = "+16175550101"
HOSTILE = "<img src=x onerror=alert(1)>"
INBOUND_BODY = f"{HOSTILE} can someone call me about my bill"
SCREENSHOT = Path("/tmp/careloop-inbox.png")
# The inbox polls every 10 s and the inbound text goes through queues and the SMS agent first.
INBOX_WAIT_MS = 60_000



class Watched:
    """A page plus everything it did that a test must not see: dialogs and uncaught errors."""

    def __init__(self, page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"a dialog fired (script injection?): {self.dialogs}"
        assert self.errors == [], f"uncaught errors in the page: {self.errors}"


@pytest.fixture()
def app(browser, local_stack) -> Iterator[Watched]:
    index = requests.get(local_stack.url + "/", timeout=10)
    if index.status_code != 200 or "app.js" not in index.text:
        pytest.fail(
            "the stack does not serve the web app at / (build it: cd web && npm ci && npm run build)"
        )
    context = browser.new_context(viewport={"width": 1366, "height": 860}, accept_downloads=True)
    context.set_default_timeout(15_000)
    watched = Watched(context.new_page())
    yield watched
    context.close()


def sign_in(app: Watched, url: str, email: str, password: str) -> None:
    page = app.page
    page.goto(url + "/#/inbox")
    expect(page.get_by_test_id("signin-form")).to_be_visible()
    page.get_by_test_id("signin-email").fill(email)
    page.get_by_test_id("signin-password").fill(password)
    page.get_by_test_id("signin-submit").click()


def api_get(app: Watched, path: str) -> dict:
    """GET /api<path> from inside the page, with the signed-in user's ID token (as the app sends it)."""
    return app.page.evaluate(
        """async (path) => {
            const session = JSON.parse(sessionStorage.getItem("careloop.session"));
            const config = await (await fetch("/config.json")).json();
            const res = await fetch((config.apiBase || "/api").replace(/\\/$/, "") + path,
                                    {headers: {Authorization: session.idToken}});
            if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
            return await res.json();
        }""",
        path,
    )


def patient_id_for_phone(app: Watched, phone: str) -> str:
    """Which patient owns a phone number (lists show masked numbers; a thread shows the full one)."""
    for patient in api_get(app, "/patients")["patients"]:
        thread = api_get(app, f"/patients/{patient['id']}/messages")
        if thread["patient"].get("phone") == phone:
            return patient["id"]
    raise AssertionError(f"no demo patient has the phone {phone}")


def test_sign_in_shows_an_error_for_a_wrong_password(app: Watched, local_stack) -> None:
    # Given the sign-in screen
    # When the front desk types a wrong password
    sign_in(app, local_stack.url, local_stack.staff_email, "not-the-password-1A!")
    # Then a clear error is shown and the app stays on sign-in
    expect(app.page.get_by_test_id("signin-error")).to_contain_text("Wrong email or password")
    expect(app.page.get_by_test_id("signin-form")).to_be_visible()
    expect(app.page.get_by_test_id("app-header")).to_have_count(0)
    app.assert_clean()


def test_front_desk_handles_a_patient_text_and_browses_every_page(
    app: Watched, local_stack
) -> None:
    page = app.page
    practice_name = (
        requests.get(local_stack.url + "/config.json", timeout=10).json().get("practiceName", "")
    )

    # Given the front desk signs in
    sign_in(app, local_stack.url, local_stack.staff_email, local_stack.staff_password)
    expect(page.get_by_test_id("inbox-list")).to_be_visible()
    header = page.get_by_test_id("practice-name")
    if practice_name:
        expect(header).to_have_text(practice_name)
    else:
        expect(header).not_to_be_empty()
    expect(page.get_by_test_id("user-name")).to_contain_text(local_stack.staff_email)
    expect(page.get_by_test_id("nav-inbox")).to_have_attribute("aria-current", "page")

    # When a patient texts something hostile that needs a person
    patient_id = patient_id_for_phone(app, PATIENT_PHONE)
    res = requests.post(
        local_stack.url + "/dev/sms/inbound",
        json={"from": PATIENT_PHONE, "body": INBOUND_BODY},
        timeout=60,  # the first text loads the classifier and runs the pump; a busy CI box is slow
    )
    assert res.status_code < 300, res.text

    # Then it shows up in the inbox (by polling) as needing attention...
    item = page.locator(f'[data-testid="conversation-item"][data-patient-id="{patient_id}"]')
    expect(item).to_have_attribute("data-needs-attention", "true", timeout=INBOX_WAIT_MS)
    expect(item.get_by_test_id("attention-badge")).to_be_visible()
    # ...with attention items sorted first
    first = page.get_by_test_id("conversation-item").first
    expect(first).to_have_attribute("data-needs-attention", "true")
    snippet = item.get_by_test_id("conversation-snippet").inner_text()
    if "call me about my bill" in snippet:  # unless an automatic answer already followed it
        assert HOSTILE in snippet, f"the SMS text was not shown literally: {snippet!r}"
    expect(page.locator('[data-testid="inbox-list"] img')).to_have_count(0)

    # When the conversation is opened, the text is shown as literal text, not markup
    item.click()
    expect(page).to_have_url(re.compile(rf"#/inbox/{re.escape(patient_id)}$"))
    thread = page.get_by_test_id("thread")
    inbound = thread.locator('[data-testid="message"][data-kind="sms_in"]').filter(
        has_text="call me about my bill"
    )
    expect(inbound.last).to_contain_text(INBOUND_BODY)
    expect(thread.locator("[data-testid=messages] img")).to_have_count(0)
    app.assert_clean()

    # When staff mark it resolved, it no longer needs attention
    resolve = page.get_by_test_id("resolve-button")
    expect(resolve).to_be_visible()
    resolve.click()
    expect(resolve).to_have_count(0)
    expect(item).to_have_attribute("data-needs-attention", "false")

    # When staff reply, the reply appears in the thread as sent by the practice
    reply = (
        f"Hi, this is the front desk: we'll call you about the bill today. ({uuid.uuid4().hex[:6]})"
    )
    page.get_by_test_id("reply-input").fill(reply)
    page.get_by_test_id("reply-send").click()
    sent = thread.locator('[data-testid="message"][data-kind="sms_out"]').filter(has_text=reply)
    expect(sent).to_be_visible()
    expect(page.get_by_test_id("reply-input")).to_have_value("")
    page.screenshot(path=str(SCREENSHOT))

    # Patients: the demo patients in a searchable table
    page.get_by_test_id("nav-patients").click()
    rows = page.get_by_test_id("patient-row")
    expect(rows.first).to_be_visible()
    total = rows.count()
    assert total >= 1
    first_name = rows.first.locator("th").inner_text().split()[0]
    page.get_by_test_id("patients-search").fill(first_name)
    expect(rows.first).to_contain_text(first_name)
    page.get_by_test_id("patients-search").fill("zzzz-no-such-patient")
    expect(rows).to_have_count(0)
    page.get_by_test_id("patients-search").fill("")
    expect(rows).to_have_count(total)

    # Workflows: cards with an on/off switch; flipping one twice leaves it as it was
    page.get_by_test_id("nav-workflows").click()
    cards = page.get_by_test_id("workflow-card")
    expect(cards.first).to_be_visible()
    toggles = page.get_by_test_id("workflow-toggle")
    expect(toggles).to_have_count(cards.count())
    toggle = toggles.first
    before = toggle.get_attribute("aria-checked")
    assert before in ("true", "false")
    flipped = "false" if before == "true" else "true"
    # (the switch moves only when the server has saved the change, and asks why first)
    toggle.click()
    page.get_by_test_id("reason-input").fill("checking the switch")
    page.get_by_test_id("reason-confirm").click()
    expect(toggles.first).to_have_attribute("aria-checked", flipped)
    expect(toggles.first).to_be_enabled()
    toggles.first.click()
    page.get_by_test_id("reason-input").fill("back as it was")
    page.get_by_test_id("reason-confirm").click()
    expect(toggles.first).to_have_attribute("aria-checked", before)
    expect(toggles.first).to_be_enabled()

    # Analytics: KPI tiles, the by-workflow table and a CSV export
    page.get_by_test_id("nav-analytics").click()
    expect(page.locator('[data-testid="kpi-tile"][data-kpi="sent"]')).to_be_visible()
    assert page.get_by_test_id("kpi-tile").count() >= 4
    for value in page.get_by_test_id("kpi-value").all_inner_texts():
        assert re.fullmatch(r"[\d,.]+%?|–", value), value
    with page.expect_download() as download:
        page.get_by_test_id("analytics-export").click()
    csv_path = download.value.path()
    assert download.value.suggested_filename.endswith(".csv")
    assert Path(csv_path).read_text(encoding="utf-8").strip(), "the CSV export is empty"

    # Back to the conversation for the record
    page.goto(f"{local_stack.url}/#/inbox/{patient_id}")
    expect(thread.locator('[data-testid="message"]').filter(has_text=reply)).to_be_visible()
    page.screenshot(path=str(SCREENSHOT))
    app.assert_clean()


def test_sign_out_and_a_rejected_token_return_to_sign_in(app: Watched, local_stack) -> None:
    page = app.page
    # Given a signed-in user
    sign_in(app, local_stack.url, local_stack.staff_email, local_stack.staff_password)
    expect(page.get_by_test_id("app-header")).to_be_visible()

    # When the API stops accepting the token (401), the app goes back to sign-in with a notice
    page.evaluate(
        """() => {
            const s = JSON.parse(sessionStorage.getItem("careloop.session"));
            s.idToken = "not-a-valid-token";
            sessionStorage.setItem("careloop.session", JSON.stringify(s));
        }"""
    )
    page.reload()
    expect(page.get_by_test_id("signin-notice")).to_contain_text("session has ended")

    # When they sign in again and sign out, the tokens are gone
    page.get_by_test_id("signin-email").fill(local_stack.staff_email)
    page.get_by_test_id("signin-password").fill(local_stack.staff_password)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("practice-name")).to_be_visible()
    page.get_by_test_id("signout").click()
    expect(page.get_by_test_id("signin-form")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('careloop.session')") is None
    app.assert_clean()


CALLER = "+16175550102"  # James (demo): his number is his alone, so the agent knows who calls
CALL_SHOTS = Path("/tmp/careloop-shots-calls")


def test_front_desk_sees_a_phone_call_on_the_thread_and_in_analytics(browser, app: Watched, local_stack) -> None:
    # Given James called the voice agent, asked the office hours and hung up
    call_id = f"web-{uuid.uuid4().hex[:10]}"
    said = requests.post(local_stack.url + "/dev/voice/say",
                         json={"call": call_id, "from": CALLER, "text": "What time do you open tomorrow?"}, timeout=60)
    assert said.status_code == 200, said.text
    heard = said.json()["reply"]
    ended = requests.post(local_stack.url + "/dev/voice/hangup", json={"call": call_id}, timeout=60)
    assert ended.status_code == 200, ended.text

    # When the front desk opens his thread
    sign_in(app, local_stack.url, local_stack.staff_email, local_stack.staff_password)
    expect(app.page.get_by_test_id("inbox-list")).to_be_visible()
    patient_id = patient_id_for_phone(app, CALLER)
    page = app.page
    page.goto(f"{local_stack.url}/#/inbox/{patient_id}")

    # Then the call is a call card (not a text the practice sent) with how it ended and the
    # transcript behind a disclosure
    card = page.locator('[data-testid="message"][data-kind="call"]').last
    expect(card).to_be_visible(timeout=INBOX_WAIT_MS)
    expect(card).to_contain_text("Phone call")
    expect(card).not_to_contain_text("Practice sent")
    turns = card.locator("details.call-turns")
    expect(turns).to_contain_text("Transcript (1 turn)")
    turns.locator("summary").click()
    expect(turns).to_contain_text("What time do you open tomorrow?")
    expect(turns).to_contain_text(heard[:40])
    CALL_SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(CALL_SHOTS / "thread-call-1366.png"))

    # And the analytics page counts it under Phone calls
    page.get_by_test_id("nav-analytics").click()
    calls = page.get_by_test_id("analytics-calls")
    expect(calls).to_be_visible()
    tile = calls.locator('[data-testid="kpi-tile"][data-kpi="calls"] [data-testid="kpi-value"]')
    assert int(tile.inner_text().replace(",", "")) >= 1
    page.screenshot(path=str(CALL_SHOTS / "analytics-1366.png"), full_page=True)
    app.assert_clean()

    # And at 390 px the card and the tiles fit the screen
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        watched_small = Watched(phone.new_page())
        sign_in(watched_small, local_stack.url, local_stack.staff_email, local_stack.staff_password)
        small = watched_small.page
        expect(small.get_by_test_id("inbox-list")).to_be_visible()
        small.goto(f"{local_stack.url}/#/inbox/{patient_id}")
        small_card = small.locator('[data-testid="message"][data-kind="call"]').last
        expect(small_card).to_be_visible(timeout=INBOX_WAIT_MS)
        small_card.locator("summary").click()
        box = small_card.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        small.screenshot(path=str(CALL_SHOTS / "thread-call-390.png"))
        small.goto(f"{local_stack.url}/#/analytics")
        expect(small.get_by_test_id("analytics-calls")).to_be_visible()
        small.screenshot(path=str(CALL_SHOTS / "analytics-390.png"), full_page=True)
        watched_small.assert_clean()
    finally:
        phone.close()


OLIVIA_PHONE = "+16175550104"  # a demo patient no other local_stack test texts as


def api_post(app: Watched, path: str, body: dict) -> dict:
    """POST /api<path> from inside the page, as the app sends it."""
    return app.page.evaluate(
        """async ([path, body]) => {
            const session = JSON.parse(sessionStorage.getItem("careloop.session"));
            const config = await (await fetch("/config.json")).json();
            const res = await fetch((config.apiBase || "/api").replace(/\\/$/, "") + path,
                {method: "POST", body: JSON.stringify(body),
                 headers: {Authorization: session.idToken, "Content-Type": "application/json"}});
            if (!res.ok) throw new Error(`POST ${path}: ${res.status}`);
            return await res.json();
        }""",
        [path, body],
    )


def test_the_assistant_waits_while_staff_talk_and_resumes_on_hand_back(app: Watched, local_stack) -> None:
    page = app.page
    sign_in(app, local_stack.url, local_stack.staff_email, local_stack.staff_password)
    expect(page.get_by_test_id("inbox-list")).to_be_visible()
    patient_id = patient_id_for_phone(app, OLIVIA_PHONE)

    # Given the front desk offered a time in a long conversation
    for i in range(14):
        api_post(app, f"/patients/{patient_id}/messages", {"body": f"Earlier note {i + 1} about your visit."})
    page.goto(f"{local_stack.url}/#/inbox/{patient_id}")
    page.get_by_test_id("reply-input").fill("We can see you today at 4 pm instead. Does that work?")
    page.get_by_test_id("reply-send").click()
    thread = page.get_by_test_id("thread")
    expect(thread.locator('[data-testid="message"][data-kind="sms_out"]').filter(has_text="4 pm instead")).to_be_visible()

    # When the patient answers YES, the thread is left to staff: no answer from the assistant
    res = requests.post(local_stack.url + "/dev/sms/inbound", json={"from": OLIVIA_PHONE, "body": "YES"}, timeout=60)
    assert res.status_code < 300, res.text
    hand_back = page.get_by_test_id("hand-back-button")
    expect(hand_back).to_be_visible(timeout=INBOX_WAIT_MS)
    expect(page.get_by_test_id("staff-hold-badge")).to_contain_text(local_stack.staff_email)
    messages = api_get(app, f"/patients/{patient_id}/messages")["messages"]
    yes_at = max(m["at"] for m in messages if m["kind"] == "sms_in" and m["body"] == "YES")
    assert not [m for m in messages if m["kind"] == "sms_out" and m["workflow"] == "sms-agent" and m["at"] >= yes_at]

    # Only the thread scrolls, on a desktop and a phone: the top bar stays in view
    for width, height in ((1366, 860), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("() => window.scrollTo(0, 100000)")
        layout = page.evaluate("""() => ({doc: document.scrollingElement.scrollHeight, inner: innerHeight,
            top: document.querySelector('[data-testid=app-header]').getBoundingClientRect().top,
            scroller: document.querySelector('.messages-scroll').scrollHeight
                      - document.querySelector('.messages-scroll').clientHeight})""")
        assert layout["doc"] <= layout["inner"] and layout["top"] == 0, layout
        assert layout["scroller"] > 0, layout  # the long thread scrolls inside its pane

    # When staff hand it back, the assistant answers the next text again
    page.set_viewport_size({"width": 1366, "height": 860})
    hand_back.click()
    expect(hand_back).to_have_count(0)
    expect(thread.locator('[data-testid="message"][data-kind="task"]').filter(has_text="Handed back")).to_be_visible()
    res = requests.post(local_stack.url + "/dev/sms/inbound", json={"from": OLIVIA_PHONE, "body": "what are your hours?"},
                        timeout=60)
    assert res.status_code < 300, res.text
    answered = [m for m in api_get(app, f"/patients/{patient_id}/messages")["messages"]
                if m["kind"] == "sms_out" and m["workflow"] == "sms-agent" and m["at"] >= yes_at]
    assert answered, "the assistant did not answer after the hand-back"
    app.assert_clean()
