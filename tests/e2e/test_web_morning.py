"""Issue 14's "Done when" in headless Chromium, at 1280 and 390 px, against the demo with a past
(`careloop local --seed-history`): each demo role signs in and does its tasks, and the front desk
runs a morning (overnight threads read, one answered, one assigned, a patient rescheduled, the
day's confirmations checked) by clicking only: no URL is typed after sign-in. Screenshots of each
step go to /tmp/shots-rolegaps/."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from careloop.intake import sign
from careloop_local.runtime import DEMO_STAFF_BY_ROLE, DEMO_STAFF_PASSWORD
from tests.e2e.conftest import RunningStack, running_local
from tests.e2e.test_reminder_path import SECRET, call

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture(autouse=True, scope="module")
def _patient_assertions():
    """Each step waits on the local stack's queues and handlers; a shared 2-core machine can take
    far longer than Playwright's 5 s default for them: the same assertions, waited on longer."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)

SHOTS = Path("/tmp/shots-rolegaps")
WIDTHS = {1280: (860, "America/New_York"), 390: (844, "America/Los_Angeles")}  # the phone's owner is elsewhere
# The night before: demo patients (careloop_local.demo) text in, and the EHR sends today's visits
JAMES, SAM, OLIVIA = "+16175550102", "+16175550105", "+16175550104"
QUESTION = "I'm running about 15 minutes late, sorry!"
# whom each width's walk answers: an answered thread no longer needs attention for the next walk
ANSWERS = {1280: ("James Carter", JAMES), 390: ("Olivia Chen", OLIVIA)}
CALL_ME = "Could someone from the office call me back about my visit please?"
TODAY = {"grace": ("Grace", "Holt", "+16175550261"), "henry": ("Henry", "Vo", "+16175550262")}
REFILL = "Could you send a refill of my amoxicillin to the pharmacy? I'm almost out"
WAIT_MS = 60_000  # the inbox polls every 10 s; texts go through queues and the agent first


def _api(stack: RunningStack, token: str, path: str) -> dict:
    req = urllib.request.Request(stack.url + "/api" + path, headers={"Authorization": token})
    return json.loads(urllib.request.urlopen(req, timeout=30).read())


def _todays_visits(stack: RunningStack) -> dict[str, str]:
    """Grace and Henry, new patients with a visit later today, sent by the EHR (a signed bundle)."""
    now = datetime.fromisoformat(json.loads(call(stack, "GET", "/dev/clock")[1])["now"])
    entries, ids = [], {}
    for n, (key, (first, last, phone)) in enumerate(TODAY.items()):
        pid, aid, start = f"morning-{key}", f"morning-{key}-visit", now + timedelta(minutes=90 + 60 * n)
        ids[key] = aid
        entries += [
            {"fullUrl": f"urn:uuid:{pid}", "resource": {
                "resourceType": "Patient", "id": pid, "name": [{"family": last, "given": [first]}],
                "telecom": [{"system": "phone", "value": phone, "use": "mobile"}]},
             "request": {"method": "PUT", "url": f"Patient/{pid}"}},
            {"resource": {"resourceType": "Appointment", "id": aid, "status": "booked", "start": start.isoformat(),
                          "end": (start + timedelta(minutes=30)).isoformat(),
                          "participant": [{"actor": {"reference": f"urn:uuid:{pid}"}, "status": "accepted"},
                                          {"actor": {"display": "Dr. Lee"}, "status": "accepted"}]},
             "request": {"method": "PUT", "url": f"Appointment/{aid}"}}]
    raw = json.dumps({"resourceType": "Bundle", "id": "morning-bundle", "type": "transaction", "entry": entries}).encode()
    status, body, _ = call(stack, "POST", "/ehr/fhir", raw=raw, headers={
        "Content-Type": "application/fhir+json", "X-Careloop-Signature": sign(SECRET, raw)})
    assert status in (200, 202), body
    return ids


def _text_in(stack: RunningStack, phone: str, body: str) -> None:
    assert call(stack, "POST", "/dev/sms/inbound", {"from": phone, "body": body})[0] in (200, 202)


def _until(what: str, check, seconds: float = 90) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.5)


def the_night(stack: RunningStack) -> dict[str, str]:
    """Today's visits from the EHR, Grace confirming hers by text, three patients' questions:
    handled by the stack before the front desk signs in. -> today's appointment ids."""
    token = stack.id_token()
    visits = _todays_visits(stack)

    def patients() -> set[str]:
        return {p["id"] for p in _api(stack, token, "/patients")["patients"]}

    _until("the EHR's patients are taken in", lambda: {"morning-grace", "morning-henry"} <= patients())
    _text_in(stack, TODAY["grace"][2], "C")
    for _, phone in ANSWERS.values():
        _text_in(stack, phone, QUESTION)
    _text_in(stack, SAM, CALL_ME)
    _text_in(stack, TODAY["henry"][2], REFILL)

    def handled() -> bool:
        said = {c["patient_id"] for c in _api(stack, token, "/inbox")["conversations"]}
        confirmed = _api(stack, token, "/patients/morning-grace/timeline")["appointments"][0]["confirmed"]
        return {"demo-james", "demo-olivia", "demo-sam", "morning-henry"} <= said and confirmed

    _until("the night's texts are handled", handled)
    return visits


@pytest.fixture(scope="module")
def morning(tmp_path_factory) -> Iterator[tuple[RunningStack, dict[str, str]]]:
    """The demo with a past, as `make run` starts it (fewer patients to stay quick), after a night."""
    from careloop_local.runtime import DEMO_STAFF_EMAIL

    folder = tmp_path_factory.mktemp("morning-stack")
    with running_local(folder, "--seed-history", "--history-patients", "12", healthy_within=600) as (url, proc):
        stack = RunningStack(url, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, proc, folder / "careloop-local.log")
        yield stack, the_night(stack)


def _signed_in(browser, stack: RunningStack, role: str, width: int):
    """A fresh browser at this width signed in as the role's demo user: the one URL typed."""
    height, zone = WIDTHS[width]
    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id=zone)
    context.set_default_timeout(45_000)
    page = context.new_page()
    faults: list[str] = []
    page.on("pageerror", lambda exc: faults.append(f"error: {exc}"))
    page.on("dialog", lambda d: (faults.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(stack.url + "/")
    page.get_by_test_id("signin-email").fill(DEMO_STAFF_BY_ROLE[role])
    page.get_by_test_id("signin-password").fill(DEMO_STAFF_PASSWORD)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("app-header")).to_be_visible()
    return context, page, faults


def _shot(page, name: str, width: int) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"morning-{name}-{width}.png"), full_page=True)


def _open_conversation(page, name: str) -> None:
    item = page.get_by_test_id("conversation-item").filter(has_text=name).first
    expect(item).to_be_visible(timeout=WAIT_MS)
    item.click()
    expect(page.get_by_test_id("thread-title")).to_contain_text(name)


def _back_to_the_list(page, width: int) -> None:
    """On a phone the thread covers the list: its back link returns; on a desktop both are shown."""
    if width < 700:
        page.get_by_role("link", name="All conversations").click()
    expect(page.get_by_test_id("inbox-list")).to_be_visible()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_front_desk_runs_a_morning_without_leaving_the_app(browser, morning, width) -> None:
    stack, visits = morning
    context, page, faults = _signed_in(browser, stack, "front_desk", width)
    typed = page.url
    # 1. the overnight threads: the inbox opens on them, those needing attention first
    expect(page.get_by_test_id("inbox-list")).to_be_visible()
    name, _ = ANSWERS[width]
    expect(page.get_by_test_id("conversation-item").filter(has_text=name)).to_be_visible(timeout=WAIT_MS)
    _shot(page, "1-inbox", width)
    page.get_by_test_id("filter-attention").click()
    expect(page.get_by_test_id("conversation-item").filter(has_text=name)).to_be_visible()
    _open_conversation(page, name)
    expect(page.get_by_test_id("message-body").filter(has_text=QUESTION)).to_be_visible()
    _shot(page, "2-read", width)

    # 2. answer one: the reply is in the thread, as the front desk sent it
    answer = f"No problem, {name.split()[0]}, see you soon! ({width})"
    page.get_by_test_id("compose-reply").click() if page.get_by_test_id("compose-reply").count() else None
    page.get_by_test_id("reply-input").fill(answer)
    page.get_by_test_id("reply-send").click()
    expect(page.get_by_test_id("message-body").filter(has_text=answer)).to_be_visible()
    _shot(page, "3-answered", width)

    # 3. assign one to a colleague: Sam wants a call back, the clinical colleague takes it (they see
    #    it in "Mine" though it is the front desk's: see the clinical test)
    _back_to_the_list(page, width)
    page.get_by_test_id("filter-all").click()
    _open_conversation(page, "Sam Okafor")
    expect(page.get_by_test_id("message-body").filter(has_text=CALL_ME)).to_be_visible()
    colleague = DEMO_STAFF_BY_ROLE["clinical"]
    assignee = page.get_by_test_id("assignee-select")
    assert colleague in assignee.locator("option").evaluate_all("els => els.map(e => e.value)")
    assignee.select_option(colleague)
    expect(page.get_by_test_id("assignee-select")).to_have_value(colleague)
    _shot(page, "4-assigned", width)

    # 4. reschedule a patient: Sam (who wants a call) gets a link to pick a new time, from his page
    #    (not Olivia: a staff text settles her thread, which the other width's walk answers)
    _back_to_the_list(page, width)
    page.get_by_test_id("nav-patients").click()
    page.get_by_test_id("patients-search").fill("Okafor")
    page.get_by_test_id("patient-page-link").filter(has_text="Sam Okafor").click()
    expect(page.get_by_test_id("patient-page")).to_be_visible()
    visit = page.get_by_test_id("pp-appointment").filter(has=page.get_by_test_id("pp-reschedule")).first
    before = len([m for m in json.loads(call(stack, "GET", "/dev/sms/outbox")[1]) if m["to"] == SAM])
    visit.get_by_test_id("pp-reschedule").click()
    expect(page.get_by_test_id("toast")).to_contain_text("Link sent")
    _until("the link reaches Sam", lambda: len(
        [m for m in json.loads(call(stack, "GET", "/dev/sms/outbox")[1]) if m["to"] == SAM]) > before, 60)
    sent = [m for m in json.loads(call(stack, "GET", "/dev/sms/outbox")[1]) if m["to"] == SAM][-1]
    assert re.search(r"/b/[A-Za-z0-9]{12}\b", sent["body"]) and "pick a new time" in sent["body"]
    _shot(page, "5-reschedule", width)
    # the text is in his conversation, one click away
    page.get_by_test_id("open-thread").click()
    expect(page.get_by_test_id("message-body").filter(has_text="pick a new time").last).to_be_visible()

    # 5. the day's confirmations: Grace confirmed by text overnight, Henry has not yet
    page.get_by_test_id("nav-patients").click()
    page.get_by_test_id("view-schedule").click()
    today = page.locator(".day-group").first
    expect(today.locator(".day-title")).to_have_text(re.compile("Today|Tomorrow"))
    grace = today.get_by_test_id("appointment-row").filter(has_text="Grace Holt")
    henry = today.get_by_test_id("appointment-row").filter(has_text="Henry Vo")
    expect(grace).to_contain_text("Confirmed")
    expect(henry).to_contain_text("Unconfirmed")
    _shot(page, "6-confirmations", width)
    # Henry's page, from the schedule: his visit, and the history of Grace's says how she confirmed
    grace.get_by_test_id("schedule-patient-link").click()
    history = page.get_by_test_id("pp-appointment").first.get_by_test_id("pp-history")
    history.locator("summary").click()
    expect(history.get_by_test_id("pp-history-item").filter(has_text="Confirmed")).to_contain_text("by the patient, by text")
    _shot(page, "7-history", width)

    assert visits and page.url.startswith(typed.split("#")[0])  # still the app it signed in to
    assert faults == [], faults
    context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_admin_manages_staff_workflows_and_reads_analytics(browser, morning, width) -> None:
    stack, _ = morning
    context, page, faults = _signed_in(browser, stack, "admin", width)
    page.get_by_test_id("nav-staff").click()
    rows = page.get_by_test_id("staff-row")
    expect(rows.first).to_be_visible()
    for email in DEMO_STAFF_BY_ROLE.values():
        expect(rows.filter(has_text=email)).to_have_count(1)
    _shot(page, "admin-staff", width)
    page.get_by_test_id("nav-workflows").click()
    expect(page.get_by_test_id("workflow-card").first).to_be_visible()
    _shot(page, "admin-workflows", width)
    page.get_by_test_id("nav-analytics").click()
    sent = page.locator('[data-testid="kpi-tile"][data-kpi="sent"] [data-testid="kpi-value"]')
    expect(sent).to_have_text(re.compile(r"^[1-9][\d,]*$"), timeout=WAIT_MS)  # the seeded past, not zeros
    _shot(page, "admin-analytics", width)
    assert faults == [], faults
    context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_clinical_takes_the_clinical_thread_and_notes_it(browser, morning, width) -> None:
    stack, _ = morning
    context, page, faults = _signed_in(browser, stack, "clinical", width)
    # the conversation the front desk gave them is in "Mine"
    page.get_by_test_id("filter-mine").click()
    expect(page.get_by_test_id("conversation-item").filter(has_text="Sam Okafor")).to_be_visible(timeout=WAIT_MS)
    # the clinical view has Henry's refill request
    page.get_by_test_id("filter-clinical").click()
    _open_conversation(page, "Henry Vo")
    expect(page.get_by_test_id("message-body").filter(has_text=REFILL)).to_be_visible()
    note = f"Refill sent to his pharmacy, Dr. Lee approved ({width})"
    page.get_by_test_id("compose-note").click()
    page.get_by_test_id("reply-input").fill(note)
    page.get_by_test_id("reply-send").click()
    expect(page.get_by_test_id("message-body").filter(has_text=note)).to_be_visible()
    _shot(page, "clinical-note", width)
    # his page, with every word (clinical cares for him) and the visit's actions
    page.get_by_test_id("patient-page-link").first.click()
    expect(page.get_by_test_id("patient-page")).to_be_visible()
    expect(page.locator('[data-testid="pp-entry"][data-kind="text_in"]').filter(has_text="amoxicillin")).to_be_visible()
    expect(page.get_by_test_id("pp-action-confirm").first).to_be_visible()
    _shot(page, "clinical-patient", width)
    assert faults == [], faults
    context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_billing_reads_analytics_and_finds_a_patient(browser, morning, width) -> None:
    stack, _ = morning
    context, page, faults = _signed_in(browser, stack, "billing", width)
    page.get_by_test_id("nav-analytics").click()
    expect(page.locator('[data-testid="kpi-tile"][data-kpi="sent"] [data-testid="kpi-value"]')).to_have_text(
        re.compile(r"^[1-9][\d,]*$"), timeout=WAIT_MS)
    _shot(page, "billing-analytics", width)
    # the patients list, then Henry's page: his visit and consent, not the clinical words
    page.get_by_test_id("nav-patients").click()
    page.get_by_test_id("patients-search").fill("Henry")
    page.get_by_test_id("patient-page-link").filter(has_text="Henry Vo").click()
    expect(page.get_by_test_id("patient-page")).to_be_visible()
    expect(page.get_by_test_id("pp-appointment")).to_have_count(1)
    expect(page.get_by_test_id("pp-withheld-note")).to_be_visible()
    assert "amoxicillin" not in page.content()
    expect(page.get_by_test_id("pp-consent-submit")).to_have_count(0)
    _shot(page, "billing-patient", width)
    assert faults == [], faults
    context.close()
