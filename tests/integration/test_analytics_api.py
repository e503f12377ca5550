"""Analytics through the staff API on moto: the summary, every table's CSV and the monthly report
from the DynamoDB adapters, figures that agree between them, the roles that see them, bad input named."""

from __future__ import annotations

import csv
import io
import json

from careloop.analytics import tables
from tests.unit.test_analytics_metrics import week_data

YEAR = 2024  # a year no other writer in this module touches: the figures are exactly the week's
MANAGER = {"email": "billing@maple.test", "cognito:username": "billing", "cognito:groups": ["billing"]}
DESK = {"email": "desk@maple.test", "cognito:username": "desk", "cognito:groups": ["front_desk"]}
PERIOD = {"from": f"{YEAR}-11-01T00:00:00-04:00", "to": f"{YEAR}-11-08T00:00:00-05:00"}


def api(stack, proxy: str, query: dict[str, str], claims: dict = MANAGER) -> dict:
    from careloop_local.events import api_event

    event = api_event("GET", f"/api/{proxy}", "/api/{proxy+}", {}, {k: [v] for k, v in query.items()}, b"",
                      {"proxy": proxy}, claims)
    event["path"] = f"/api/{proxy}"
    return stack.invoke("inbox_api", event)


def _seed(ports) -> None:
    patients, appointments, messages = week_data(YEAR)
    for p in patients:
        ports.records.put_patient(p)
    for a in appointments:
        ports.records.put_appointment(a)
    for m in messages:
        ports.messages.put_message(m)


def test_the_summary_csv_and_report_agree_on_the_hand_built_week(stack, ports):
    _seed(ports)
    out = api(stack, "analytics/summary", PERIOD)
    assert out["statusCode"] == 200, out["body"]
    summary = json.loads(out["body"])
    assert (summary["sent"], summary["delivered"], summary["replies"], summary["responses"]) == (5, 4, 2, 2)
    assert (summary["confirmed"], summary["no_shows"], summary["cancelled"], summary["recovered"]) == (2, 1, 1, 2)
    assert summary["roi"]["value"] == 3 * summary["roi"]["value_per_visit"]
    assert {r["name"]: r["n"] for r in summary["by_language"]} == {"en": 4, "es": 1}  # patients read in one batch
    assert summary["agent"]["median_first_reply_minutes"] == 30.0
    assert [v["label"] for v in summary["versions"][0]["versions"]] == ["v2", "v1"]
    assert summary["workflow_names"]["appointment-reminder"]  # the page shows names, not ids

    # every table's CSV has the page's figures, row for row
    for name in tables.table_names():
        got = api(stack, "analytics/export.csv", PERIOD | {"table": name})
        assert got["statusCode"] == 200 and got["multiValueHeaders"]["Content-Type"][0].startswith("text/csv"), name
        rows = list(csv.reader(io.StringIO(got["body"])))
        columns, body = tables.tables(summary)[name]
        assert rows[2] == columns and rows[3:3 + len(body)] == [[str(v) for v in r] for r in body], name
    weekly = json.loads(api(stack, "analytics/summary", PERIOD | {"bucket": "week"})["body"])
    assert [r["bucket"] for r in weekly["series"]] == [f"{YEAR}-10-28", f"{YEAR}-11-04"]

    # the monthly report: one HTML page with the month's figures
    page = api(stack, "analytics/report", {"month": f"{YEAR}-11"})
    assert page["statusCode"] == 200 and page["multiValueHeaders"]["Content-Type"][0].startswith("text/html")
    assert f"November {YEAR}" in page["body"] and page["body"].count("<svg") == 6
    assert "(1 recovered by Careloop + 2 confirmed attributable)" in page["body"]


def test_bad_periods_tables_and_months_are_named_and_the_front_desk_is_refused(stack, ports):
    for proxy, query, named in [
        ("analytics/summary", PERIOD | {"bucket": "hour"}, "bucket"),
        ("analytics/summary", {"from": PERIOD["to"], "to": PERIOD["from"]}, "to:"),
        ("analytics/summary", {"from": "2020-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"}, "at most"),
        ("analytics/export.csv", PERIOD | {"table": "secrets"}, "table:"),
        ("analytics/report", {"month": "2024-13"}, "month:"),
        ("analytics/summary", {"from": "yesterday"}, "from:"),
    ]:
        out = api(stack, proxy, query)
        assert out["statusCode"] == 400 and named in json.loads(out["body"])["message"], (query, out["body"])
    for proxy in ("analytics/summary", "analytics/export.csv", "analytics/report"):
        out = api(stack, proxy, {}, DESK)
        assert out["statusCode"] == 403, (proxy, out["body"])
    assert api(stack, "analytics/report", {})["statusCode"] == 200  # the last whole month by default
