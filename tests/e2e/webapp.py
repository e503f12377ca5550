"""What the staff web app's browser tests share: a fresh page that records the page's uncaught
errors, signing in as a demo user, calling the staff API from inside the page with the signed-in
user's token (as the app does), texting in through the stand-in, and screenshots at both widths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from careloop_local.runtime import DEMO_STAFF_BY_ROLE, DEMO_STAFF_PASSWORD

WIDTHS = ((1280, 860), (390, 844))  # desktop, phone


def new_page(browser, stack, width: int = 1280, height: int = 860, timeout_ms: int = 15_000, **context: Any):
    """A page in a fresh browser context; `page.errors` collects its uncaught errors (close the
    context, then assert it is empty). Fails at once when the stack serves no web app."""
    index = requests.get(stack.url + "/", timeout=10)
    if index.status_code != 200 or "app.js" not in index.text:
        pytest.fail("the stack does not serve the web app at / (build it: cd web && npm ci && npm run build)")
    ctx = browser.new_context(viewport={"width": width, "height": height}, **context)
    ctx.set_default_timeout(timeout_ms)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return ctx, page


def sign_in(page, stack, role: str | None = None, ready: str = "app-header") -> None:
    """Sign in on the app's own form: the stack's staff user, or the demo user of `role`."""
    from playwright.sync_api import expect

    page.goto(stack.url + "/#/inbox")
    page.get_by_test_id("signin-email").fill(DEMO_STAFF_BY_ROLE[role] if role else stack.staff_email)
    page.get_by_test_id("signin-password").fill(DEMO_STAFF_PASSWORD if role else stack.staff_password)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id(ready)).to_be_visible()


def api_call(page, method: str, path: str, body: str | None = None) -> dict:
    """/api<path> from inside the page with the signed-in user's ID token: {status, body}, the
    body parsed when it is JSON, else its text."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const session = JSON.parse(sessionStorage.getItem("careloop.session"));
            const config = await (await fetch("/config.json")).json();
            const res = await fetch((config.apiBase || "/api").replace(/\\/$/, "") + path,
                                    {method, headers: {Authorization: session.idToken, "Content-Type": "application/json"},
                                     body: body === null ? undefined : body});
            const text = await res.text();
            let parsed = text;
            try { parsed = JSON.parse(text); } catch (e) { /* not JSON: the text */ }
            return {status: res.status, body: parsed};
        }""",
        [method, path, body],
    )


def text_in(stack, phone: str, body: str) -> None:
    """A patient's text through the stand-in's inbound path (/dev/sms/inbound)."""
    res = requests.post(stack.url + "/dev/sms/inbound", json={"from": phone, "body": body}, timeout=60)
    assert res.status_code < 300, res.text


def shoot(page, folder: Path, name: str, widths=WIDTHS) -> None:
    """`name-<width>.png` at each width, then back to the first."""
    folder.mkdir(parents=True, exist_ok=True)
    for width, height in widths:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)  # the layout settles at the new width
        page.screenshot(path=str(folder / f"{name}-{width}.png"))
    page.set_viewport_size({"width": widths[0][0], "height": widths[0][1]})
