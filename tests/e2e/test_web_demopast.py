"""The demo with a past in headless Chromium: a stack started as `make run` starts it (with
`--seed-history`, fewer patients to stay quick) opens on analytics that are not zeros."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningStack, running_local

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

SHOTS = Path("/tmp/shots-demopast")


@pytest.fixture(scope="module")
def history_stack(tmp_path_factory) -> Iterator[RunningStack]:
    from careloop_local.runtime import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD

    folder = tmp_path_factory.mktemp("history-stack")
    with running_local(folder, "--seed-history", "--history-patients", "12", healthy_within=600) as (url, proc):
        yield RunningStack(url, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, proc, folder / "careloop-local.log")


def _figure(page, kpi: str) -> float:
    text = page.locator(f'[data-testid="kpi-tile"][data-kpi="{kpi}"] [data-testid="kpi-value"]').inner_text()
    assert re.fullmatch(r"[\d,.]+%?|–", text), text
    return 0.0 if text == "–" else float(text.rstrip("%").replace(",", ""))


def _signed_in(browser, stack: RunningStack, width: int):
    context = browser.new_context(viewport={"width": width, "height": 860})
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(stack.url + "/#/analytics")
    page.get_by_test_id("signin-email").fill(stack.staff_email)
    page.get_by_test_id("signin-password").fill(stack.staff_password)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("app-header")).to_be_visible()
    return context, page, errors


def test_analytics_over_30_and_90_days_show_the_seeded_past(browser, history_stack) -> None:
    SHOTS.mkdir(exist_ok=True)
    log = history_stack.log.read_text()
    assert "Seeded 90 days of history" in log, log[-2000:]
    for width in (1280, 390):
        context, page, errors = _signed_in(browser, history_stack, width)
        page.goto(history_stack.url + "/#/analytics")
        expect(page.locator('[data-testid="kpi-tile"][data-kpi="sent"]')).to_be_visible()
        # the last 30 days (the page's default): texts went out and were delivered
        assert _figure(page, "sent") > 0
        assert _figure(page, "delivery_rate") > 0
        page.screenshot(path=str(SHOTS / f"analytics-30d-{width}.png"), full_page=True)
        # the last 90 days: more texts than the last 30, and the pipeline's other figures too
        thirty = _figure(page, "sent")
        with page.expect_response(lambda r: "/analytics/summary" in r.url):
            page.get_by_test_id("analytics-period").select_option("90")
        expect(page.locator('[data-testid="kpi-tile"][data-kpi="sent"]')).to_be_visible()
        expect(page.locator('[data-testid="kpi-tile"][data-kpi="sent"] [data-testid="kpi-value"]')).not_to_have_text(
            re.compile(rf"^{thirty:,.0f}$"))
        assert _figure(page, "sent") > thirty
        page.screenshot(path=str(SHOTS / f"analytics-90d-{width}.png"), full_page=True)
        # the inbox opens on threads of the past, some waiting for staff
        page.goto(history_stack.url + "/#/inbox")
        expect(page.get_by_test_id("conversation-item").first).to_be_visible()
        page.screenshot(path=str(SHOTS / f"inbox-{width}.png"), full_page=True)
        page.goto(history_stack.url + "/#/patients")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / f"patients-{width}.png"), full_page=True)
        assert errors == [], errors
        context.close()
