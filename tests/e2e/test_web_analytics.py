"""Analytics a manager acts on, in headless Chromium against the seeded demo (`--seed-history`):
charts with data, rate tables, the two reminder versions side by side, ROI, CSVs whose figures and
definitions are the page's, and the printable monthly report; at 1280 px and at 390 px."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningStack, running_local

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

SHOTS = Path("/tmp/shots-analytics")
SERIES = ("sent", "delivered", "replies", "confirmed", "no_shows", "recovered")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Iterator[RunningStack]:
    from careloop_local.runtime import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD

    folder = tmp_path_factory.mktemp("analytics-stack")
    with running_local(folder, "--seed-history", "--history-patients", "16", healthy_within=600) as (url, proc):
        yield RunningStack(url, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, proc, folder / "careloop-local.log")


def _open(browser, stack: RunningStack, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(stack.url + "/#/analytics")
    page.get_by_test_id("signin-email").fill(stack.staff_email)
    page.get_by_test_id("signin-password").fill(stack.staff_password)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("analytics-charts")).to_be_visible(timeout=60_000)
    return context, page, errors


def _tile(page, kpi: str) -> float:
    return float(page.locator(f'[data-testid="kpi-tile"][data-kpi="{kpi}"] [data-testid="kpi-value"]').get_attribute("data-value"))


def _download(page, testid: str) -> list[list[str]]:
    with page.expect_download() as download:
        page.get_by_test_id(testid).click()
    return list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))


def _table(rows: list[list[str]], header: list[str]) -> list[list[str]]:
    """The rows under `header` up to the next blank row."""
    start = rows.index(header) + 1
    end = next((i for i in range(start, len(rows)) if not rows[i]), len(rows))
    return rows[start:end]


def _ninety_days(page) -> None:
    with page.expect_response(lambda r: "/analytics/summary" in r.url):
        page.get_by_test_id("analytics-period").select_option("90")
    expect(page.get_by_test_id("analytics-charts")).to_be_visible(timeout=60_000)


def test_a_manager_reads_charts_rates_versions_and_roi_and_the_csv_says_the_same(browser, seeded) -> None:
    SHOTS.mkdir(exist_ok=True)
    context, page, errors = _open(browser, seeded, 1280)
    _ninety_days(page)

    # charts over time: six, drawn with bars, with data; the numbers toggle shows the same totals
    charts = page.get_by_test_id("chart")
    expect(charts).to_have_count(6)
    totals = {s: int(page.locator(f'[data-series="{s}"] [data-testid="chart"]').get_attribute("data-total")) for s in SERIES}
    assert all(totals[s] > 0 for s in ("sent", "delivered", "replies", "confirmed")), totals
    assert totals["sent"] == _tile(page, "sent") and totals["recovered"] == _tile(page, "recovered")
    tall = page.locator('[data-series="sent"] rect.chart-bar').evaluate_all(
        "bars => bars.filter(b => b.getBBox().height > 0).length")
    assert tall > 5
    assert page.locator('[data-series="sent"] svg title').first.text_content() == "Texts sent"
    page.get_by_test_id("series-toggle").click()
    table = page.get_by_test_id("analytics-series-table")
    expect(table).to_be_visible()
    sent_cells = table.locator('td[data-label="Texts sent"]').evaluate_all("cells => cells.map(c => Number(c.dataset.value))")
    assert sum(sent_cells) == totals["sent"]
    page.get_by_test_id("series-toggle").click()

    # the recovered tile and the ROI with its formula
    assert _tile(page, "recovered") > 0
    roi = page.get_by_test_id("roi-value")
    assert float(roi.get_attribute("data-value")) > 0 and re.match(r"^\$[\d,]+$", roi.inner_text())
    expect(page.get_by_test_id("roi-formula")).to_contain_text("recovered by Careloop +")

    # rates by provider (each row: n and rates), and the other tables
    providers = page.get_by_test_id("analytics-by-provider")
    expect(providers.locator("tbody tr")).to_have_count(2)  # the demo's history has two providers
    for key in ("by-workflow", "by-location", "by-visit-type", "by-language", "by-patient-type"):
        expect(page.get_by_test_id(f"analytics-{key}")).to_be_visible()
    expect(page.get_by_test_id("analytics-agent")).to_contain_text("Answered automatically")

    # the reminder the manager edited halfway: v2 and v1 side by side, each with n and an interval
    card = page.locator('[data-testid="version-card"][data-workflow="appointment-reminder"]')
    expect(card).to_contain_text("Appointment reminder")
    sentence = card.get_by_test_id("version-sentence").inner_text()
    assert re.match(r"^v2 confirmed \d+% \(n=\d+, \d+-\d+%\) vs v1 confirmed \d+% \(n=\d+, \d+-\d+%\): the difference is", sentence)
    expect(card.locator("tbody tr")).to_have_count(2)
    page.screenshot(path=str(SHOTS / "analytics-1280.png"), full_page=True)

    # the CSV of every table: the page's figures and the page's definitions
    everything = _download(page, "analytics-export")
    summary = {r[0]: r for r in _table(everything, ["metric", "value", "definition"])}
    for kpi in ("sent", "replies", "recovered", "confirmation_rate", "no_show_rate", "delivery_rate", "response_rate"):
        assert float(summary[kpi][1]) == _tile(page, kpi), kpi
    page.get_by_test_id("tile-definitions").locator("summary").click()
    for key in ("recovered", "replies", "responses"):
        assert page.locator(f'[data-testid="tile-definitions"] dd[data-def="{key}"]').inner_text() == summary[key][2], key
    by_provider = _download(page, "csv-by_provider")
    header = by_provider[2]
    assert header[:2] == ["provider", "n"] and "reply_rate" in header
    for row in by_provider[3:5]:
        shown = providers.locator(f'tr[data-row="{row[0]}"]')
        for column in ("n", "confirmation_rate", "no_show_rate", "reply_rate"):
            assert float(shown.locator(f'[data-col="{column}"]').get_attribute("data-value")) == float(row[header.index(column)])
    assert ["reply_rate", "Visits whose patient replied / visits Careloop reminded."] in by_provider
    versions = _download(page, "csv-versions")
    assert any(r[:2] == ["appointment-reminder", "v2"] and r[-1] == sentence for r in versions)

    # by week: fewer, wider bars, the same total
    with page.expect_response(lambda r: "bucket=week" in r.url):
        page.get_by_test_id("analytics-bucket").select_option("week")
    page.wait_for_function("document.querySelectorAll('[data-series=\"sent\"] rect.chart-bar').length < 20")
    assert 13 <= page.locator('[data-series="sent"] rect.chart-bar').count() <= 14  # 90 days touch 13 or 14 weeks
    assert int(page.locator('[data-series="sent"] [data-testid="chart"]').get_attribute("data-total")) == totals["sent"]

    # the monthly report: a printable page of last month in a new tab, styled by its own sheet
    with context.expect_page() as opened:
        page.get_by_test_id("analytics-report").click()
    report = opened.value
    report.wait_for_load_state()
    expect(report.locator("h1")).to_contain_text("Careloop monthly report")
    expect(report.locator("svg.chart")).to_have_count(6)
    expect(report.get_by_test_id("report-roi")).to_be_visible()
    assert report.evaluate("getComputedStyle(document.body).maxWidth") == "960px"  # the CSP let its style in
    assert "Definitions" in report.content()
    report.screenshot(path=str(SHOTS / "report-1280.png"), full_page=True)
    report.emulate_media(media="print")
    report.screenshot(path=str(SHOTS / "report-print-1280.png"), full_page=True)
    assert errors == [], errors
    context.close()


def test_the_analytics_page_and_report_fit_a_phone(browser, seeded) -> None:
    SHOTS.mkdir(exist_ok=True)
    context, page, errors = _open(browser, seeded, 390)
    _ninety_days(page)
    expect(page.get_by_test_id("chart")).to_have_count(6)
    assert int(page.locator('[data-series="confirmed"] [data-testid="chart"]').get_attribute("data-total")) > 0
    box = page.locator('[data-series="sent"]').bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    expect(page.get_by_test_id("version-sentence").first).to_be_visible()
    expect(page.get_by_test_id("roi-value")).to_be_visible()
    page.screenshot(path=str(SHOTS / "analytics-390.png"), full_page=True)
    with context.expect_page() as opened:
        page.get_by_test_id("analytics-report").click()
    report = opened.value
    report.wait_for_load_state()
    expect(report.locator("svg.chart")).to_have_count(6)
    report.screenshot(path=str(SHOTS / "report-390.png"), full_page=True)
    assert errors == [], errors
    context.close()
