"""Every analytics table as columns and rows, and its CSV: the page's tables, one export per table
(or all of them), each CSV carrying the definitions of its columns below the figures."""

from __future__ import annotations

import io
from typing import Any

from careloop import csvout
from careloop.analytics.definitions import BREAKDOWNS, DEFINITIONS, RATE_COLUMNS, SERIES
from careloop.voice.analytics import METRICS as VOICE_METRICS

HEADLINE = ("sent", "delivered", "failed", "delivery_rate", "replies", "responses", "response_rate", "appointments",
            "reminded", "confirmed", "confirmation_rate", "no_shows", "no_show_rate", "cancelled", "recovered",
            "recovered_by_careloop", "recovery_rate")
AGENT = ("texts", "answered_automatically", "handed_to_staff", "automation_rate", "staff_replies", "handoffs",
         "handoffs_answered", "median_first_reply_minutes")
ROI = ("recovered_by_careloop", "confirmed_attributable", "visits", "value_per_visit", "currency", "value", "formula")
# the column -> its DEFINITIONS key where the names differ
_DEFINED_AS = {"texts": "agent_texts", "automation_rate": "answered_automatically", "visits": "roi", "value": "roi",
               "value_per_visit": "roi", "formula": "roi", "patient type": "new_patient", "ci_low": "version_confirmation",
               "ci_high": "version_confirmation", "version": "version_confirmation", "responses": "responses"}

Table = tuple[list[str], list[list[Any]]]


def table_names() -> tuple[str, ...]:
    return ("summary", "series", *BREAKDOWNS, "by_week", "agent", "agent_by_intent", "versions", "roi", "voice")


def tables(summary: dict[str, Any]) -> dict[str, Table]:
    """name -> (columns, rows), in the order the page shows them."""
    out: dict[str, Table] = {
        "summary": (["metric", "value", "definition"],
                    [[k, summary[k], DEFINITIONS.get(k, "")] for k in HEADLINE]),
        "series": (["bucket", *SERIES], [[r["bucket"], *(r[k] for k in SERIES)] for r in summary["series"]]),
    }
    for key, label in BREAKDOWNS.items():
        extra = ["sent", "delivered"] if key == "by_workflow" else []
        out[key] = ([label, *extra, *RATE_COLUMNS],
                    [[r["name"], *(r[c] for c in extra), *(r[c] for c in RATE_COLUMNS)] for r in summary[key]])
    out["by_week"] = (["week", "sent", "delivered", "responses"],
                      [[r["week"], r["sent"], r["delivered"], r["responses"]] for r in summary["by_week"]])
    agent = summary["agent"]
    out["agent"] = (["metric", "value", "definition"],
                    [[k, "" if agent[k] is None else agent[k], _definition(k)] for k in AGENT])
    out["agent_by_intent"] = (["intent", "texts", "answered_automatically", "handed_to_staff"],
                              [[r["intent"], r["texts"], r["answered_automatically"], r["handed_to_staff"]]
                               for r in agent["by_intent"]])
    out["versions"] = (["workflow", "version", "n", "confirmed", "confirmation_rate", "ci_low", "ci_high", "sentence"],
                       [[w["workflow"], r["label"], r["n"], r["confirmed"], r["confirmation_rate"], r["ci_low"], r["ci_high"],
                         w["sentence"]] for w in summary["versions"] for r in w["versions"]])
    out["roi"] = (["metric", "value"], [[k, summary["roi"][k]] for k in ROI])
    voice = summary.get("voice") or {}
    out["voice"] = (["voice metric", "value"], [[k, voice[k]] for k in (*VOICE_METRICS, "text_back_booking_rate") if k in voice])
    return out


def _definition(column: str) -> str:
    return DEFINITIONS.get(_DEFINED_AS.get(column, column), "")


def _write(w: Any, name: str, table: Table) -> None:
    columns, rows = table
    w.writerow(columns)
    w.writerows(rows)
    defined = [(c, _definition(c)) for c in columns if _definition(c) and c not in ("metric", "definition")]
    if defined and columns[-1] != "definition":
        w.writerow([])
        w.writerow([f"{name}: column", "definition"])
        w.writerows([[c, text] for c, text in defined])


def to_csv(summary: dict[str, Any], table: str | None = None) -> str:
    """One table's CSV (`table`), or every table one after another; each with its definitions."""
    every = tables(summary)
    if table is not None and table not in every:
        raise KeyError(table)
    buf = io.StringIO()
    w = csvout.writer(buf)
    w.writerow(["period", summary["period"]["from"], summary["period"]["to"]])
    w.writerow([])
    for i, name in enumerate([table] if table else list(every)):
        if i:
            w.writerow([])
        _write(w, name, every[name])
    return buf.getvalue()
