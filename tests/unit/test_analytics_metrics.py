"""Every analytics figure on a hand-built week (careloop.analytics): tiles, series, rates by
dimension, the agent's handoffs, workflow versions with Wilson intervals, ROI, recovery, CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from careloop.analytics import build, report, stats, tables
from careloop.errors import PayloadError
from careloop.models import Appointment, Message, Patient
from careloop.practice import AnalyticsSettings, Location, PracticeProfile
from careloop_local.fakes import MemoryAnalytics, MemoryMessages, MemoryRecords
from tests.conftest import NY

PRACTICE = PracticeProfile(id="demo", name="Demo Dental", phone="+16175550100", locations=(Location(id="main", name="Main"),))
START, END = datetime(2026, 11, 1, tzinfo=NY), datetime(2026, 11, 8, tzinfo=NY)
NOW = datetime(2026, 11, 8, 12, tzinfo=NY)


YEAR = [2026]  # the hand-built week's year (the integration test moves it to a year nobody else writes)


def at(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    return datetime(YEAR[0], month, day, hour, minute, tzinfo=NY)


def _out(mid, patient, when, *, appt=None, workflow="appointment-reminder", version=1, status="delivered", automated=True):
    return Message(message_id=mid, kind="sms_out", patient_id=patient, appointment_id=appt, at=when, status=status,
                   workflow=workflow, workflow_version=version if automated else None, step="reminder-48h" if automated else "reply",
                   automated=automated)


def _in(mid, patient, when, *, intent, reason=None):
    return Message(message_id=mid, kind="sms_in", patient_id=patient, at=when, status="received", intent=intent, reason=reason)


def week_data(year: int = 2026) -> tuple[list[Patient], list[Appointment], list[Message]]:
    """A week: five counted visits (one fulfilled-confirmed, a no-show rebooked through a link,
    a cancellation rebooked by the EHR, a returning patient's confirmed visit, an unreminded one)."""
    YEAR[0] = year
    patients = [Patient(id=pid, first_name=pid.upper(), phone=f"+1617555010{pid[1]}", language=lang)
                for pid, lang in (("p1", "en"), ("p2", "es"), ("p3", "en"), ("p4", "en"), ("p5", "en"))]
    appts = [
        Appointment(id="a0", patient_id="p4", start=at(1, month=9), status="fulfilled", provider="Dr. Lee"),  # before: p4 returns
        Appointment(id="a1", patient_id="p1", start=at(2), status="fulfilled", provider="Dr. Lee", location="main",
                    visit_type="cleaning", confirmed=True, updated_at=at(2, 12)),
        Appointment(id="a2", patient_id="p2", start=at(3), status="noshow", provider="Dr. Patel", location="main",
                    visit_type="exam", updated_at=at(3, 12)),
        Appointment(id="a5", patient_id="p2", start=at(10), status="booked", provider="Dr. Patel", source="careloop",
                    updated_at=at(4)),  # the no-show rebooked through the link
        Appointment(id="a3", patient_id="p3", start=at(4), status="cancelled", provider="Dr. Lee", location="main",
                    visit_type="cleaning", updated_at=at(2, 9, 30)),
        Appointment(id="a6", patient_id="p3", start=at(20), status="booked", provider="Dr. Lee", updated_at=at(3)),  # by the EHR
        Appointment(id="a4", patient_id="p4", start=at(5), status="fulfilled", provider="Dr. Lee", location="main",
                    visit_type="exam", confirmed=True, updated_at=at(5, 12)),
        Appointment(id="a7", patient_id="p5", start=at(6), status="fulfilled", visit_type="exam"),
        Appointment(id="a8", patient_id="p1", start=at(6, 14), status="entered-in-error", provider="Dr. Lee"),
    ]
    messages = [
        _out("m1", "p1", at(31, 10, month=10), appt="a1"),  # before the period: a1's reminder
        _in("r1", "p1", at(31, 10, 5, month=10), intent="confirm"),
        _out("m2", "p2", at(1), appt="a2"),
        _out("m3", "p3", at(2, 9), appt="a3", version=2),
        _in("r3", "p3", at(2, 9, 30), intent="cancel", reason="wants to cancel"),
        _out("s3", "p3", at(2, 10), workflow="staff", automated=False),  # staff answer 30 minutes later
        _out("m4", "p4", at(3, 9), appt="a4", version=2),
        _in("r4", "p4", at(3, 9, 10), intent="confirm"),
        _out("m5", "p1", at(2, 15), appt="a1", workflow="post-visit", status="failed"),
        _in("r5", "p5", at(6, 11), intent="question", reason="asks about parking; the practice profile has no answer"),
        _out("m9", "p1", at(8, 10), appt="a1"),  # after the period
    ]
    YEAR[0] = 2026
    return patients, appts, messages


@pytest.fixture
def week() -> MemoryAnalytics:
    records, messages = MemoryRecords(), MemoryMessages()
    patients, appts, texts = week_data()
    for p in patients:
        records.put_patient(p)
    for a in appts:
        records.put_appointment(a)
    for m in texts:
        messages.put_message(m)
    return MemoryAnalytics(records, messages)


def test_the_tiles_count_texts_patients_and_visits_by_their_definitions(week):
    out = build(week, PRACTICE, NOW, START, END)
    # texts in the period, automated and staff: m2, m3, s3, m4, m5 (m5 failed)
    assert (out["sent"], out["delivered"], out["failed"], out["delivery_rate"]) == (5, 4, 1, 0.8)
    # replies: texts within 3 days after an automated text (p5 was never texted: not a reply)
    assert (out["replies"], out["responses"], out["patients_texted"], out["response_rate"]) == (2, 2, 4, 0.5)
    # visits: a8 (entered in error) does not count; a7 was never reminded
    assert (out["appointments"], out["reminded"], out["confirmed"], out["confirmation_rate"]) == (5, 4, 2, 0.5)
    assert (out["no_shows"], out["no_show_rate"], out["cancelled"]) == (1, 0.25, 1)


def test_a_no_show_or_a_cancellation_rebooked_afterwards_is_recovered(week):
    out = build(week, PRACTICE, NOW, START, END)
    assert (out["recovered"], out["recovered_by_careloop"], out["recovery_rate"]) == (2, 1, 1.0)


def test_a_rebooking_written_before_the_miss_does_not_recover_it(week):
    # Given p2's other visit was last written before the no-show (booked long ago, not a rebooking)
    records = week._records
    stale = records.get_appointment("a5")
    assert stale is not None
    records.put_appointment(stale.model_copy(update={"updated_at": at(2)}))
    out = build(week, PRACTICE, NOW, START, END)
    assert (out["recovered"], out["recovered_by_careloop"]) == (1, 0)  # only the cancellation (the EHR rebooked it)


def test_the_series_fall_on_the_practices_days_and_add_up_to_the_tiles(week):
    out = build(week, PRACTICE, NOW, START, END)
    days = {r["bucket"]: r for r in out["series"]}
    assert list(days) == [f"2026-11-0{d}" for d in range(1, 8)]
    assert (days["2026-11-01"]["sent"], days["2026-11-02"]["sent"], days["2026-11-03"]["sent"]) == (1, 3, 1)
    assert days["2026-11-02"]["confirmed"] == 1 and days["2026-11-05"]["confirmed"] == 1
    assert days["2026-11-03"]["no_shows"] == 1 and days["2026-11-03"]["recovered"] == 1 and days["2026-11-04"]["recovered"] == 1
    for key in ("sent", "delivered", "replies", "confirmed", "no_shows", "recovered"):
        assert sum(r[key] for r in out["series"]) == out[key], key
    weekly = build(week, PRACTICE, NOW, START, END, "week")["series"]
    # Nov 1 2026 is a Sunday: its week began Monday Oct 26
    assert [r["bucket"] for r in weekly] == ["2026-10-26", "2026-11-02"]
    assert sum(r["sent"] for r in weekly) == 5


def test_rates_by_provider_location_visit_type_language_and_new_vs_returning(week):
    out = build(week, PRACTICE, NOW, START, END)
    lee = next(r for r in out["by_provider"] if r["name"] == "Dr. Lee")
    assert {k: lee[k] for k in ("n", "reminded", "confirmed", "past", "no_shows", "replied")} == {
        "n": 3, "reminded": 3, "confirmed": 2, "past": 2, "no_shows": 0, "replied": 3}
    assert (lee["confirmation_rate"], lee["no_show_rate"], lee["reply_rate"]) == (round(2 / 3, 4), 0.0, 1.0)
    patel = next(r for r in out["by_provider"] if r["name"] == "Dr. Patel")
    assert (patel["n"], patel["no_show_rate"], patel["reply_rate"]) == (1, 1.0, 0.0)
    assert {r["name"]: r["n"] for r in out["by_provider"]} == {"Dr. Lee": 3, "Dr. Patel": 1, "(none)": 1}
    assert {r["name"]: r["n"] for r in out["by_location"]} == {"Main": 4, "(none)": 1}
    assert {r["name"]: r["n"] for r in out["by_visit_type"]} == {"cleaning": 2, "exam": 3}
    assert {r["name"]: r["n"] for r in out["by_language"]} == {"en": 4, "es": 1}
    types = {r["name"]: r for r in out["by_patient_type"]}
    assert (types["new"]["n"], types["returning"]["n"], types["returning"]["confirmation_rate"]) == (4, 1, 1.0)


def test_by_workflow_counts_its_texts_and_the_visits_it_texted(week):
    rows = {r["name"]: r for r in build(week, PRACTICE, NOW, START, END)["by_workflow"]}
    assert set(rows) == {"appointment-reminder", "post-visit"}  # staff replies are not a workflow
    reminder = rows["appointment-reminder"]
    assert (reminder["sent"], reminder["delivered"], reminder["n"], reminder["confirmed"]) == (3, 3, 4, 2)
    assert (rows["post-visit"]["sent"], rows["post-visit"]["delivered"], rows["post-visit"]["n"]) == (1, 0, 1)


def test_the_agent_answered_one_text_and_handed_two_to_staff_answered_in_30_minutes(week):
    agent = build(week, PRACTICE, NOW, START, END)["agent"]
    assert (agent["texts"], agent["answered_automatically"], agent["handed_to_staff"]) == (3, 1, 2)
    assert (agent["staff_replies"], agent["handoffs"], agent["handoffs_answered"]) == (1, 2, 1)
    assert agent["median_first_reply_minutes"] == 30.0
    assert {r["intent"]: (r["answered_automatically"], r["handed_to_staff"]) for r in agent["by_intent"]} == {
        "cancel": (0, 1), "confirm": (1, 0), "question": (0, 1)}


def test_each_workflow_version_side_by_side_with_its_interval(week):
    versions = {w["workflow"]: w for w in build(week, PRACTICE, NOW, START, END)["versions"]}
    reminder = versions["appointment-reminder"]
    assert [(r["label"], r["n"], r["confirmed"]) for r in reminder["versions"]] == [("v2", 2, 1), ("v1", 2, 1)]
    v2 = reminder["versions"][0]
    assert (v2["ci_low"], v2["ci_high"]) == stats.wilson(1, 2)
    assert reminder["sentence"].startswith("v2 confirmed 50% (n=2, 9-91%) vs v1 confirmed 50% (n=2, 9-91%)")
    assert reminder["sentence"].endswith("the difference is not clear yet.")
    assert versions["post-visit"]["sentence"].startswith("Only v1 sent texts")


def test_roi_is_recovered_by_careloop_plus_confirmed_attributable_times_the_value_per_visit(week):
    roi = build(week, PRACTICE, NOW, START, END)["roi"]
    assert (roi["recovered_by_careloop"], roi["confirmed_attributable"], roi["visits"]) == (1, 2, 3)
    assert (roi["value_per_visit"], roi["currency"], roi["value"]) == (150.0, "USD", 450.0)
    priced = PRACTICE.model_copy(update={"analytics": AnalyticsSettings(value_per_visit=210, currency="CAD")})
    again = build(week, priced, NOW, START, END)["roi"]
    assert again["value"] == 630.0 and "× 210.00 CAD per visit" in again["formula"]


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", table I (Wilson score)
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718),
])
def test_the_wilson_interval_matches_the_published_values(k, n, low, high):
    lo, hi = stats.wilson(k, n)
    assert abs(lo - low) <= 1e-4 and abs(hi - high) <= 1e-4


def test_the_wilson_interval_of_nothing_is_everything_and_bad_counts_are_refused():
    assert stats.wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="between 0 and n"):
        stats.wilson(5, 3)


def test_two_versions_differ_clearly_only_when_their_intervals_do_not_overlap():
    clear = stats.compare_sentence(("v3", 170, 240), ("v2", 150, 310))
    assert clear == ("v3 confirmed 71% (n=240, 65-76%) vs v2 confirmed 48% (n=310, 43-54%): "
                     "the difference is clear (v3 is higher).")
    assert stats.compare_sentence(("v3", 170, 240), ("v2", 198, 310)).endswith("the difference is not clear yet.")
    assert stats.median([3, 1, 2]) == 2 and stats.median([4, 1, 2, 3]) == 2.5 and stats.median([]) is None


def test_every_table_exports_as_csv_with_its_definitions_and_the_same_figures(week):
    out = build(week, PRACTICE, NOW, START, END)
    every = tables.tables(out)
    assert set(every) == set(tables.table_names())
    for name in tables.table_names():
        rows = list(csv.reader(io.StringIO(tables.to_csv(out, name))))
        assert rows[0] == ["period", out["period"]["from"], out["period"]["to"]]
        columns, body = every[name]
        assert rows[2] == columns
        assert rows[3:3 + len(body)] == [[str(v) for v in r] for r in body], name
    summary = {r[0]: r for r in csv.reader(io.StringIO(tables.to_csv(out, "summary"))) if r}
    assert summary["recovered"][1] == "2" and summary["recovered"][2].startswith("A no-show or cancelled visit")
    providers = list(csv.reader(io.StringIO(tables.to_csv(out, "by_provider"))))
    assert ["reply_rate", "Visits whose patient replied / visits Careloop reminded."] in providers
    with pytest.raises(KeyError):
        tables.to_csv(out, "nope")


def test_the_monthly_report_is_one_printable_page_of_the_month(week):
    start, end = report.month_period("2026-11", PRACTICE)
    assert (start, end) == (datetime(2026, 11, 1, tzinfo=NY), datetime(2026, 12, 1, tzinfo=NY))
    assert report.month_period("2026-12", PRACTICE)[1] == datetime(2027, 1, 1, tzinfo=NY)
    html = report.render(build(week, PRACTICE, NOW, start, end), PRACTICE, "2026-11", NOW)
    assert "Careloop monthly report, November 2026" in html and "Nov 01, 2026 – Nov 30, 2026" in html
    assert html.count("<svg") == 6 and "@media print" in html and "<script" not in html
    assert "450.00 USD" in html and "(1 recovered by Careloop + 2 confirmed attributable)" in html
    assert "A no-show or cancelled visit" in html  # the definitions
    with pytest.raises(PayloadError, match="month"):
        report.month_period("November", PRACTICE)


def test_the_period_is_read_once_not_per_patient(week):
    calls: list[str] = []

    class Counting:
        def __getattr__(self, name):
            method = getattr(week, name)

            def counted(*args, **kwargs):
                calls.append(name)
                return method(*args, **kwargs)
            return counted

    build(Counting(), PRACTICE, NOW, START, END)
    # sms_out, sms_in, calls; the period's visits, the year before; the missed patients'; their patients
    assert sorted(calls) == sorted(["messages_between"] * 3 + ["appointments_starting"] * 2
                                   + ["appointments_of_patients", "patients_by_id"])


def test_the_web_apps_policy_allows_the_reports_one_inline_style():
    # the report opens from the web app as a blob: document, which keeps the app's CSP
    import base64
    import hashlib
    from pathlib import Path

    digest = base64.b64encode(hashlib.sha256(report.CSS.encode()).digest()).decode()
    index = (Path(__file__).resolve().parents[2] / "web" / "src" / "index.html").read_text(encoding="utf-8")
    assert f"style-src 'self' 'sha256-{digest}'" in index
    assert f"<style>{report.CSS}</style>" in report.render(build(MemoryAnalytics(MemoryRecords(), MemoryMessages()), PRACTICE, NOW,
                                                                 START, END), PRACTICE, "2026-11", NOW)
