"""Roles in the staff web app, headless Chromium against the local stack: each demo user sees
only their role's pages, the API refuses what the app hides, and an admin invites a user and
downloads the PHI access log. Screenshots (390 px and 1280 px) go to /tmp/shots-roles/."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from careloop_local.runtime import DEMO_STAFF_BY_ROLE
from tests.e2e.webapp import api_call

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

SHOTS = Path("/tmp/shots-roles")
PAGES = ("inbox", "patients", "workflows", "analytics", "staff")
# what each role finds in the nav: written out here, not read from main.ts or roles.py
NAV_OF = {
    "admin": {"inbox", "patients", "workflows", "analytics", "staff"},
    "front_desk": {"inbox", "patients", "workflows"},
    "clinical": {"inbox", "patients"},
    "billing": {"inbox", "patients", "analytics"},
}


def api_status(page, method: str, path: str) -> tuple[int, str]:
    """The staff API from inside the page with the signed-in user's token, as the app calls it."""
    got = api_call(page, method, path)
    body = got["body"]
    return got["status"], body if isinstance(body, str) else json.dumps(body)


@pytest.mark.parametrize("role", list(NAV_OF))
def test_each_role_sees_only_its_pages_and_the_api_agrees(open_as, role):
    page = open_as(role)
    expect(page.get_by_test_id("nav-inbox")).to_be_visible()
    shown = {p for p in PAGES if page.get_by_test_id(f"nav-{p}").count() == 1}
    assert shown == NAV_OF[role]
    # what the app hides, the API refuses, naming the role needed
    status, body = api_status(page, "GET", "/staff")
    if role == "admin":
        assert status == 200
    else:
        assert status == 403 and "needs the role admin" in body
        # typed in by hand, the staff page says why it is empty
        page.goto(page.url.split("#")[0] + "#/staff")
        expect(page.get_by_test_id("page-error")).to_contain_text("needs the role admin")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(page.url.split("#")[0] + "#/inbox")
    expect(page.get_by_test_id("inbox-list")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"inbox-{role}-1280.png"))
    page.set_viewport_size({"width": 390, "height": 860})
    expect(page.get_by_test_id("nav-inbox")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"inbox-{role}-390.png"))
    assert page.errors == []


def test_front_desk_cannot_switch_a_workflow(open_as):
    page = open_as("front_desk")
    page.get_by_test_id("nav-workflows").click()
    toggles = page.get_by_test_id("workflow-toggle")
    expect(toggles.first).to_be_visible()
    assert all(t.is_disabled() for t in toggles.all())
    status, body = api_status(page, "POST", "/workflows/appointment-reminders/enabled")
    assert status == 403 and "admin" in body


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_invites_a_user_changes_their_role_and_downloads_the_access_log(open_as, width):
    page = open_as("admin", width)
    if width == 390:
        page.goto(page.url.split("#")[0] + "#/staff")
    else:
        page.get_by_test_id("nav-staff").click()
    table = page.get_by_test_id("staff-table")
    expect(table).to_be_visible()
    for role, email in DEMO_STAFF_BY_ROLE.items():
        expect(page.locator(f'[data-testid=staff-row][data-email="{email}"] select')).to_have_value(role)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"staff-{width}.png"), full_page=True)

    # When the admin invites a billing user
    email = f"new.biller.{width}@maple.example"
    page.get_by_test_id("invite-email").fill(email)
    page.get_by_test_id("invite-role").select_option("billing")
    page.get_by_test_id("invite-submit").click()
    row = page.locator(f'[data-testid=staff-row][data-email="{email}"]')
    expect(row.locator("select")).to_have_value("billing")
    expect(row).to_contain_text("Invited")
    # and moves them to clinical
    row.locator("select").select_option("clinical")
    expect(page.get_by_test_id("toast")).to_contain_text("is now Clinical")
    page.reload()
    expect(page.locator(f'[data-testid=staff-row][data-email="{email}"] select')).to_have_value("clinical")
    # a bad address is told, not sent
    page.get_by_test_id("invite-email").fill("not an email")
    page.get_by_test_id("invite-submit").click()
    expect(page.get_by_test_id("invite-error")).to_contain_text("email address")
    page.screenshot(path=str(SHOTS / f"staff-invited-{width}.png"), full_page=True)

    # The access log downloads as CSV, with this admin's opening of the staff page's exports
    with page.expect_download() as download:
        page.get_by_test_id("access-log-export").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows and {"at", "staff", "action", "subject"} <= set(rows[0])
    assert any(r["staff"] == DEMO_STAFF_BY_ROLE["admin"] and r["action"] == "export"
               and r["subject"] == "/access-log/export.csv" for r in rows)
    assert page.errors == []


def test_opening_a_thread_in_the_app_is_in_the_access_log(open_as, local_stack):
    import requests

    # Given a text from a number no patient has (the front desk's)
    sent = requests.post(local_stack.url + "/dev/sms/inbound", json={"from": "+16175550166", "body": "is parking free?"},
                         timeout=30)
    assert sent.status_code == 202
    desk = open_as("front_desk")
    first = desk.get_by_test_id("inbox-list").locator("a").first
    expect(first).to_be_visible(timeout=60_000)
    first.click()
    expect(desk.get_by_test_id("thread-title")).to_be_visible()
    opened = unquote(desk.url.split("#/inbox/")[1])
    admin = open_as("admin")
    status, body = api_status(admin, "GET", "/access-log/export.csv")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body)))
    assert any(r["staff"] == DEMO_STAFF_BY_ROLE["front_desk"] and r["action"] == "open_thread"
               and r["subject"] == opened for r in rows)
