"""The printable monthly report for leadership: one self-contained HTML page (tiles, the charts as
inline SVG, every table, the ROI and the definitions) that a browser prints to PDF."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from html import escape
from typing import Any

from careloop.analytics.definitions import DEFINITIONS, SERIES
from careloop.analytics.tables import tables
from careloop.errors import PayloadError
from careloop.practice import PracticeProfile

SERIES_LABELS = {"sent": "Texts sent", "delivered": "Delivered", "replies": "Replies", "confirmed": "Confirmed",
                 "no_shows": "No-shows", "recovered": "Recovered"}
TABLE_TITLES = {"summary": "Headline figures", "series": "By day", "by_workflow": "By workflow", "by_provider": "By provider",
                "by_location": "By location", "by_visit_type": "By visit type", "by_language": "By language",
                "by_patient_type": "New vs returning patients", "by_week": "By week", "agent": "SMS agent",
                "agent_by_intent": "SMS agent by intent", "versions": "Workflow versions side by side", "roi": "Return on investment",
                "voice": "Phone calls"}


def month_period(month: str, practice: PracticeProfile) -> tuple[datetime, datetime]:
    """'2026-11' -> [Nov 1 00:00, Dec 1 00:00) on the practice's calendar."""
    try:
        year, mon = (int(p) for p in month.split("-"))
        first = date(year, mon, 1)
    except ValueError as exc:
        raise PayloadError(f"month: {month[:20]!r} is not a month written YYYY-MM") from exc
    after = date(year + (mon == 12), mon % 12 + 1, 1)
    zone = practice.zone
    return datetime.combine(first, time(0), tzinfo=zone), datetime.combine(after, time(0), tzinfo=zone)


def bar_chart_svg(title: str, rows: list[dict[str, Any]], key: str, width: int = 320, height: int = 140) -> str:
    """One series as bars, with its title, a y axis (0 and the maximum) and the first and last day."""
    values = [int(r[key]) for r in rows]
    top = max(values, default=0) or 1
    left, inner_w, inner_h = 28, width - 36, height - 46
    step = inner_w / max(len(values), 1)
    bars = "".join(
        f'<rect x="{left + i * step + step * 0.1:.1f}" y="{20 + inner_h - v / top * inner_h:.1f}" '
        f'width="{max(step * 0.8, 1):.1f}" height="{v / top * inner_h:.1f}"><title>{escape(rows[i]["bucket"])}: {v}</title></rect>'
        for i, v in enumerate(values))
    first, last = (rows[0]["bucket"], rows[-1]["bucket"]) if rows else ("", "")
    return (f'<svg class="chart" role="img" aria-label="{escape(title)}: total {sum(values)}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
            f'<text x="0" y="12" class="chart-title">{escape(title)} (total {sum(values)})</text>'
            f'<line x1="{left}" y1="{20 + inner_h}" x2="{left + inner_w}" y2="{20 + inner_h}" class="axis"/>'
            f'<line x1="{left}" y1="20" x2="{left}" y2="{20 + inner_h}" class="axis"/>'
            f'<text x="{left - 4}" y="26" text-anchor="end" class="tick">{top}</text>'
            f'<text x="{left - 4}" y="{20 + inner_h}" text-anchor="end" class="tick">0</text>'
            f'<text x="{left}" y="{height - 6}" class="tick">{escape(first)}</text>'
            f'<text x="{left + inner_w}" y="{height - 6}" text-anchor="end" class="tick">{escape(last)}</text>'
            f'{bars}</svg>')


def _cell(column: str, v: Any, names: dict[str, str], metric: str = "") -> str:
    if isinstance(v, float) and (column.endswith("_rate") or column in ("ci_low", "ci_high") or metric.endswith("_rate")):
        return f"{v * 100:.1f}%"
    if column == "workflow" and isinstance(v, str):
        return escape(names.get(v, v))
    return escape(str(v))


def _table(title: str, columns: list[str], rows: list[list[Any]], names: dict[str, str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c, v, names, str(r[0]) if columns[0] == 'metric' else '')}</td>"
                                        for c, v in zip(columns, r, strict=False)) + "</tr>"
                   for r in rows) or f'<tr><td colspan="{len(columns)}">Nothing in this period.</td></tr>'
    return f'<section class="block"><h2>{escape(title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>'


CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2430;margin:24px auto;max-width:960px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 6px}.muted{color:#5b6573}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;padding:0;list-style:none}
.tiles li{border:1px solid #d7dde5;border-radius:6px;padding:8px}.tiles b{display:block;font-size:20px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:8px}
.chart rect{fill:#2f6fd0}.chart .axis{stroke:#8a94a3}.chart .tick{font-size:9px;fill:#5b6573}.chart .chart-title{font-size:11px;font-weight:600}
.block{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:12px}th,td{border-bottom:1px solid #e3e7ed;padding:3px 6px;text-align:left}
td:not(:first-child){font-variant-numeric:tabular-nums}.roi{font-size:18px}dt{font-weight:600}dd{margin:0 0 6px}
@page{size:A4;margin:14mm}
@media print{body{margin:0;max-width:none}.block{overflow:visible}.block,.tiles li,svg{break-inside:avoid}a{color:inherit;text-decoration:none}.noprint{display:none}}
"""


def render(summary: dict[str, Any], practice: PracticeProfile, month: str, generated_at: datetime) -> str:
    """The whole report as one HTML document (no script, no outside resource)."""
    start, end = (datetime.fromisoformat(summary["period"][k]) for k in ("from", "to"))
    title = f"{practice.name}: Careloop monthly report, {start:%B %Y}"
    tiles = [("Texts sent", f"{summary['sent']:,}"), ("Delivered", f"{summary['delivery_rate'] * 100:.1f}%"),
             ("Replies", f"{summary['replies']:,}"), ("Patients replied", f"{summary['responses']:,}"),
             ("Confirmed", f"{summary['confirmation_rate'] * 100:.1f}%"), ("No-shows", f"{summary['no_show_rate'] * 100:.1f}%"),
             ("Recovered", f"{summary['recovered']:,}"),
             ("Value of kept visits", f"{summary['roi']['value']:,.0f} {summary['roi']['currency']}")]
    every = tables(summary)
    roi = summary["roi"]
    names = summary.get("workflow_names", {})
    sections = "".join(_table(TABLE_TITLES[name], *every[name], names) for name in every if name not in ("summary", "series", "roi"))
    versions = "".join(f"<li>{escape(names.get(w['workflow'], humanize(w['workflow'])))}: {escape(w['sentence'])}</li>"
                       for w in summary["versions"])
    definitions = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in DEFINITIONS.items())
    charts = "".join(bar_chart_svg(SERIES_LABELS[k], summary["series"], k) for k in SERIES)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>'
        f'<h1>{escape(title)}</h1><p class="muted">{start:%b %d, %Y} – {end - timedelta(microseconds=1):%b %d, %Y} ({escape(practice.timezone)}); '
        f'generated {generated_at.astimezone(practice.zone):%b %d, %Y %H:%M}.</p>'
        '<p class="muted noprint">Print it or save it as a PDF from the browser (Ctrl+P or ⌘P).</p>'
        f'<ul class="tiles" data-testid="report-tiles">{"".join(f"<li>{escape(k)}<b>{escape(v)}</b></li>" for k, v in tiles)}</ul>'
        f'<section class="block"><h2>Over the month</h2><div class="charts">{charts}</div></section>'
        f'<section class="block"><h2>Return on investment</h2><p class="roi" data-testid="report-roi">'
        f'{roi["value"]:,.2f} {escape(roi["currency"])}</p><p>{escape(roi["formula"])}</p>'
        f'<p class="muted">{escape(DEFINITIONS["roi"])}</p></section>'
        f'<section class="block"><h2>What changed</h2><ul>{versions or "<li>No workflow texts this month.</li>"}</ul></section>'
        f'{sections}<section class="block"><h2>Definitions</h2><dl>{definitions}</dl></section></body></html>'
    )


def humanize(workflow_id: str) -> str:
    return workflow_id.replace("-", " ").capitalize()
