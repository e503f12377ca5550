// Analytics a manager acts on: headline tiles, charts over time (with the numbers as a table), rates
// by workflow/provider/location/visit type/language/new-vs-returning, the SMS agent, workflow versions
// side by side, ROI, calls; every table exports as CSV, and the month prints as a report.
import { SessionEnded } from "../api";
import { barChart } from "../charts";
import { h, icon, ICONS, replace } from "../dom";
import { count, humanize, languageName, percent } from "../format";
import type { AnalyticsSummary, RateRow, SeriesKey, SeriesPoint, WorkflowVersions } from "../types";
import { emptyState, errorMessage, errorPanel, pageHeading, spinner, type Context, type Page } from "../ui";

const PERIODS = [
  { days: 7, label: "Last 7 days" },
  { days: 30, label: "Last 30 days" },
  { days: 90, label: "Last 90 days" },
] as const;

type Bucket = "day" | "week";

const SERIES: readonly { key: SeriesKey; title: string; unit: string }[] = [
  { key: "sent", title: "Texts sent", unit: "Texts" },
  { key: "delivered", title: "Texts delivered", unit: "Texts" },
  { key: "replies", title: "Replies from patients", unit: "Texts" },
  { key: "confirmed", title: "Visits confirmed", unit: "Visits" },
  { key: "no_shows", title: "No-shows", unit: "Visits" },
  { key: "recovered", title: "Missed or cancelled, then rebooked", unit: "Visits" },
];

// summary key, heading, the column that names the row
const RATE_TABLES: readonly [keyof AnalyticsSummary & `by_${string}`, string, string][] = [
  ["by_workflow", "By workflow", "Workflow"],
  ["by_provider", "By provider", "Provider"],
  ["by_location", "By location", "Location"],
  ["by_visit_type", "By visit type", "Visit type"],
  ["by_language", "By language", "Language"],
  ["by_patient_type", "New vs returning patients", "Patients"],
];

/** The month before `d` as YYYY-MM (the last whole month: what a monthly report is about). */
function lastMonth(d: Date): string {
  const m = new Date(d.getFullYear(), d.getMonth() - 1, 1);
  return `${m.getFullYear()}-${String(m.getMonth() + 1).padStart(2, "0")}`;
}

export class AnalyticsPage implements Page {
  readonly root: HTMLElement;
  private days = 30;
  private bucket: Bucket = "day";
  private loaded: { from: Date; to: Date } | null = null; // the range the figures on screen are for
  private readonly body = h("div", { class: "page-body" });
  private readonly exportLink: HTMLAnchorElement;
  private readonly month: HTMLInputElement;
  private destroyed = false;

  constructor(private readonly ctx: Context) {
    const select = h(
      "select",
      { id: "period", "data-testid": "analytics-period" },
      ...PERIODS.map((p) => h("option", { value: String(p.days), selected: p.days === this.days }, p.label)),
    );
    select.addEventListener("change", () => {
      this.days = Number(select.value);
      void this.load();
    });
    const bucket = h(
      "select",
      { id: "bucket", "data-testid": "analytics-bucket" },
      h("option", { value: "day", selected: true }, "By day"),
      h("option", { value: "week" }, "By week"),
    );
    bucket.addEventListener("change", () => {
      this.bucket = bucket.value === "week" ? "week" : "day";
      void this.load();
    });
    this.exportLink = h(
      "a",
      { class: "btn btn-secondary", "data-testid": "analytics-export", download: "careloop-analytics.csv", href: "#/analytics" },
      icon(ICONS.download),
      "Export all (CSV)",
    );
    this.exportLink.addEventListener("click", (e) => {
      e.preventDefault();
      void this.download();
    });
    this.month = h("input", { id: "report-month", type: "month", value: lastMonth(this.ctx.fmt.now()), "data-testid": "report-month" });
    const report = h("button", { type: "button", class: "btn btn-secondary", "data-testid": "analytics-report" }, "Monthly report");
    report.addEventListener("click", () => void this.openReport());
    this.root = h(
      "div",
      { class: "page analytics" },
      pageHeading("Analytics"),
      h(
        "div",
        { class: "toolbar" },
        h("div", { class: "field-inline" }, h("label", { for: "period" }, "Period"), select),
        h("div", { class: "field-inline" }, h("label", { for: "bucket" }, "Charts"), bucket),
        this.exportLink,
        h("div", { class: "field-inline report-field" }, h("label", { for: "report-month" }, "Report for"), this.month, report),
      ),
      this.body,
    );
    void this.load();
  }

  destroy(): void {
    this.destroyed = true;
  }

  private range(): { from: Date; to: Date } {
    const to = this.ctx.fmt.now(); // the app's clock: the local stack's after an advance
    return { from: new Date(to.getTime() - this.days * 86_400_000), to };
  }

  private async load(): Promise<void> {
    const range = this.range();
    this.exportLink.href = this.ctx.api.exportCsvUrl(range.from, range.to, undefined, this.bucket);
    replace(this.body, spinner("Loading analytics…"));
    try {
      const summary = await this.ctx.api.analytics(range.from, range.to, this.bucket);
      if (this.destroyed) return;
      this.loaded = range; // the CSVs export exactly what is on screen
      this.render(summary);
    } catch (err) {
      if (!this.destroyed && !(err instanceof SessionEnded)) replace(this.body, errorPanel(err, () => void this.load()));
    }
  }

  private render(s: AnalyticsSummary): void {
    const d = s.definitions;
    const tile = (key: string, label: string, value: string, raw: number | null, detail: string, tone = ""): HTMLElement =>
      h(
        "li",
        { class: `kpi${tone ? ` kpi-${tone}` : ""}`, "data-testid": "kpi-tile", "data-kpi": key, title: d[key] ?? null },
        h("span", { class: "kpi-label" }, label),
        h("span", { class: "kpi-value", "data-testid": "kpi-value", "data-value": raw ?? "" }, value),
        h("span", { class: "kpi-detail" }, detail),
      );
    const misses = s.no_shows + s.cancelled;
    const tiles = h(
      "ul",
      { class: "kpis", "aria-label": "Key figures" },
      tile("sent", "Texts sent", count(s.sent), s.sent, `${count(s.failed)} failed`),
      tile("delivery_rate", "Delivered", percent(s.delivery_rate), s.delivery_rate, `${count(s.delivered)} of ${count(s.sent)}`),
      tile("replies", "Replies", count(s.replies), s.replies, `texts from patients within 3 days of a text`),
      tile("response_rate", "Patients replied", percent(s.response_rate), s.response_rate,
           `${count(s.responses)} of ${count(s.patients_texted)} patients texted`),
      tile("confirmation_rate", "Appointments confirmed", percent(s.confirmation_rate), s.confirmation_rate,
           `${count(s.confirmed)} confirmed`, "good"),
      tile("no_show_rate", "No-shows", percent(s.no_show_rate), s.no_show_rate, `${count(s.no_shows)} missed`,
           s.no_show_rate > 0.1 ? "bad" : ""),
      tile("recovered", "Recovered", count(s.recovered), s.recovered,
           misses ? `${percent(s.recovery_rate)} of ${count(misses)} missed or cancelled` : "none missed or cancelled", "good"),
      tile("roi", `Value of kept visits (${s.roi.currency})`, count(Math.round(s.roi.value)), s.roi.value,
           `${count(s.roi.visits)} visits × ${count(s.roi.value_per_visit)}`),
    );
    const period =
      s.period.from && s.period.to ? h("p", { class: "muted period" }, `${this.ctx.fmt.dateTime(s.period.from)} – ${this.ctx.fmt.dateTime(s.period.to)}`) : null;
    replace(
      this.body,
      period,
      tiles,
      this.definitions("tile-definitions", "What the figures mean",
        ["sent", "delivered", "delivery_rate", "replies", "responses", "response_rate", "confirmed", "confirmation_rate", "no_shows",
         "no_show_rate", "recovered", "recovery_rate", "roi"], d),
      this.charts(s),
      ...RATE_TABLES.map(([key, title, label]) => this.rateTable(s, key, title, label)),
      this.agent(s),
      this.versions(s),
      this.roi(s),
      this.calls(s),
    );
  }

  private section(id: string, title: string, table: string | null, ...children: (Node | null)[]): HTMLElement {
    const csv = table
      ? h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": `csv-${table}`,
                      "aria-label": `Export ${title} as CSV` }, icon(ICONS.download), "CSV")
      : null;
    csv?.addEventListener("click", () => void this.download(table ?? undefined));
    return h(
      "section",
      { class: "analytics-section", "aria-labelledby": `${id}-heading`, "data-testid": `analytics-${id}` },
      h("div", { class: "section-head" }, h("h2", { id: `${id}-heading`, class: "section-heading" }, title), csv),
      ...children,
    );
  }

  private definitions(id: string, title: string, keys: readonly string[], d: Record<string, string>): HTMLElement {
    return h(
      "details",
      { class: "definitions", "data-testid": id },
      h("summary", null, title),
      h("dl", null, ...keys.filter((k) => d[k]).map((k) => [h("dt", null, humanize(k)), h("dd", { "data-def": k }, d[k] ?? "")])),
    );
  }

  private bucketLabel(s: AnalyticsSummary, p: SeriesPoint): string {
    const [y, m, day] = p.bucket.split("-").map(Number);
    const label = new Date(y ?? 1970, (m ?? 1) - 1, day ?? 1).toLocaleDateString("en-US", { month: "short", day: "numeric" });
    return s.bucket === "week" ? `wk ${label}` : label;
  }

  private charts(s: AnalyticsSummary): HTMLElement {
    const xLabel = s.bucket === "week" ? "Week starting" : "Day";
    const grid = h(
      "div",
      { class: "chart-grid" },
      ...SERIES.map((c) =>
        h(
          "figure",
          { class: "chart-card", "data-series": c.key },
          barChart({ id: `chart-${c.key}`, title: c.title, xLabel, yLabel: c.unit,
                     points: s.series.map((p) => ({ label: this.bucketLabel(s, p), value: p[c.key] })) }),
          h("figcaption", null, `${c.title}: ${count(s.series.reduce((n, p) => n + p[c.key], 0))}`),
        ),
      ),
    );
    const table = h(
      "div",
      { class: "table-wrap", id: "series-table", hidden: true },
      h(
        "table",
        { class: "table", "data-testid": "analytics-series-table" },
        h("caption", { class: "table-caption" }, `The charts' numbers, ${s.bucket === "week" ? "by week" : "by day"}`),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, xLabel), ...SERIES.map((c) => h("th", { scope: "col", class: "num" }, c.title)))),
        h(
          "tbody",
          null,
          ...s.series.map((p) =>
            h("tr", null, h("th", { scope: "row", "data-label": xLabel }, this.bucketLabel(s, p)),
              ...SERIES.map((c) => h("td", { class: "num", "data-label": c.title, "data-value": p[c.key] }, count(p[c.key]))))),
        ),
      ),
    );
    const toggle = h("button", { type: "button", class: "btn btn-secondary btn-small", "aria-controls": "series-table",
                                 "aria-expanded": "false", "data-testid": "series-toggle" }, "Show the numbers");
    toggle.addEventListener("click", () => {
      const open = table.hidden;
      table.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "Show the charts" : "Show the numbers";
      grid.hidden = open;
    });
    return this.section("charts", "Over time", "series", h("div", { class: "section-tools" }, toggle), grid, table);
  }

  private rateTable(s: AnalyticsSummary, key: (typeof RATE_TABLES)[number][0], title: string, label: string): HTMLElement {
    const rows = s[key] as (RateRow & { workflow?: string })[];
    const workflow = key === "by_workflow";
    const name = (r: RateRow): string =>
      workflow ? s.workflow_names[r.name] ?? humanize(r.name) : key === "by_language" ? languageName(r.name) : humanize(r.name);
    const rate = (value: number, part: number, whole: number, column: string, title: string): HTMLElement =>
      h("td", { class: "num", "data-label": title, "data-col": column, "data-value": value },
        h("span", null, whole ? percent(value) : "–", whole ? h("span", { class: "cell-detail" }, ` ${count(part)}/${count(whole)}`) : null));
    const columns = [...(workflow ? ["Sent", "Delivered"] : []), "Visits (n)", "Confirmation rate", "No-show rate", "Reply rate"];
    const body = rows.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "table", "data-testid": `analytics-${key.replaceAll("_", "-")}` },
            h("caption", { class: "sr-only" }, title),
            h("thead", null, h("tr", null, h("th", { scope: "col" }, label), ...columns.map((t) => h("th", { scope: "col", class: "num" }, t)))),
            h(
              "tbody",
              null,
              ...rows.map((r) =>
                h(
                  "tr",
                  { "data-row": r.name },
                  h("th", { scope: "row", "data-label": label }, name(r)),
                  workflow ? h("td", { class: "num", "data-label": "Sent", "data-col": "sent", "data-value": r.sent }, count(r.sent)) : null,
                  workflow ? h("td", { class: "num", "data-label": "Delivered", "data-col": "delivered", "data-value": r.delivered }, count(r.delivered)) : null,
                  h("td", { class: "num", "data-label": "Visits (n)", "data-col": "n", "data-value": r.n }, count(r.n)),
                  rate(r.confirmation_rate, r.confirmed, r.reminded, "confirmation_rate", "Confirmation rate"),
                  rate(r.no_show_rate, r.no_shows, r.past, "no_show_rate", "No-show rate"),
                  rate(r.reply_rate, r.replied, r.reminded, "reply_rate", "Reply rate"),
                ),
              ),
            ),
          ),
        )
      : emptyState("Nothing in this period", "Visits and texts are counted here once there are some.");
    return this.section(`rates-${key.replaceAll("_", "-")}`, title, key, body,
      this.definitions(`defs-${key}`, "What the columns mean",
        [...(key === "by_patient_type" ? ["new_patient"] : []), "n", "confirmation_rate", "no_show_rate", "reply_rate"], s.definitions));
  }

  private agent(s: AnalyticsSummary): HTMLElement {
    const a = s.agent;
    const tile = (key: string, label: string, value: string, raw: number | null, detail: string): HTMLElement =>
      h("li", { class: "kpi", "data-testid": "kpi-tile", "data-kpi": `agent_${key}`, title: s.definitions[key] ?? null },
        h("span", { class: "kpi-label" }, label),
        h("span", { class: "kpi-value", "data-testid": "kpi-value", "data-value": raw ?? "" }, value),
        h("span", { class: "kpi-detail" }, detail));
    const minutes = a.median_first_reply_minutes;
    const intents = a.by_intent.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "table", "data-testid": "analytics-agent-by-intent" },
            h("caption", { class: "table-caption" }, "By what the patient asked"),
            h("thead", null, h("tr", null, h("th", { scope: "col" }, "Intent"),
              ...["Texts", "Answered automatically", "Handed to staff"].map((t) => h("th", { scope: "col", class: "num" }, t)))),
            h("tbody", null, ...a.by_intent.map((r) =>
              h("tr", null, h("th", { scope: "row", "data-label": "Intent" }, humanize(r.intent)),
                h("td", { class: "num", "data-label": "Texts" }, count(r.texts)),
                h("td", { class: "num", "data-label": "Answered automatically" }, count(r.answered_automatically)),
                h("td", { class: "num", "data-label": "Handed to staff" }, count(r.handed_to_staff))))),
          ),
        )
      : null;
    return this.section(
      "agent",
      "SMS agent",
      "agent",
      h("ul", { class: "kpis", "aria-label": "SMS agent" },
        tile("agent_texts", "Texts from patients", count(a.texts), a.texts, `${count(a.staff_replies)} staff replies`),
        tile("answered_automatically", "Answered automatically", percent(a.automation_rate), a.automation_rate,
             `${count(a.answered_automatically)} of ${count(a.texts)}`),
        tile("handed_to_staff", "Handed to staff", count(a.handed_to_staff), a.handed_to_staff,
             `${count(a.handoffs)} conversation${a.handoffs === 1 ? "" : "s"}, ${count(a.handoffs_answered)} answered`),
        tile("median_first_reply_minutes", "Median first staff reply", minutes === null ? "–" : count(Math.round(minutes)), minutes,
             minutes === null ? "no handoff answered yet" : "minutes after the handoff"),
      ),
      intents,
      this.definitions("defs-agent", "What the figures mean",
        ["agent_texts", "answered_automatically", "handed_to_staff", "handoffs", "median_first_reply_minutes"], s.definitions),
    );
  }

  private versions(s: AnalyticsSummary): HTMLElement {
    const card = (w: WorkflowVersions): HTMLElement =>
      h(
        "div",
        { class: "version-card", "data-testid": "version-card", "data-workflow": w.workflow },
        h("h3", { class: "version-title" }, s.workflow_names[w.workflow] ?? humanize(w.workflow)),
        h("p", { class: "version-sentence", "data-testid": "version-sentence" }, w.sentence),
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "table" },
            h("thead", null, h("tr", null, h("th", { scope: "col" }, "Version"),
              ...["Visits (n)", "Confirmed", "Confirmation rate", "95% interval"].map((t) => h("th", { scope: "col", class: "num" }, t)))),
            h("tbody", null, ...w.versions.map((r) =>
              h("tr", { "data-version": r.label },
                h("th", { scope: "row", "data-label": "Version" }, r.label),
                h("td", { class: "num", "data-label": "Visits (n)" }, count(r.n)),
                h("td", { class: "num", "data-label": "Confirmed" }, count(r.confirmed)),
                h("td", { class: "num", "data-label": "Confirmation rate", "data-value": r.confirmation_rate }, percent(r.confirmation_rate)),
                h("td", { class: "num", "data-label": "95% interval" }, `${percent(r.ci_low)}–${percent(r.ci_high)}`,
                  this.intervalBar(r.ci_low, r.confirmation_rate, r.ci_high))))),
          ),
        ),
      );
    const cards = s.versions.filter((w) => w.versions.some((r) => r.n > 0));
    return this.section(
      "versions",
      "Workflow versions side by side",
      "versions",
      cards.length ? h("div", { class: "version-cards" }, ...cards.map(card)) : emptyState("No workflow texts about visits in this period"),
      this.definitions("defs-versions", "How versions are compared", ["version_confirmation"], s.definitions),
    );
  }

  /** The interval as a line on 0-100% with the rate as a dot (the same numbers as the text beside it). */
  private intervalBar(low: number, mid: number, high: number): SVGSVGElement {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 100 10");
    svg.setAttribute("class", "ci-bar");
    svg.setAttribute("aria-hidden", "true");
    const line = document.createElementNS(ns, "line");
    for (const [k, v] of [["x1", low * 100], ["x2", high * 100], ["y1", 5], ["y2", 5]] as const) line.setAttribute(k, String(v));
    const dot = document.createElementNS(ns, "circle");
    for (const [k, v] of [["cx", mid * 100], ["cy", 5], ["r", 3]] as const) dot.setAttribute(k, String(v));
    svg.append(line, dot);
    return svg;
  }

  private roi(s: AnalyticsSummary): HTMLElement {
    const money = new Intl.NumberFormat("en-US", { style: "currency", currency: s.roi.currency, maximumFractionDigits: 0 });
    return this.section(
      "roi",
      "Return on investment",
      "roi",
      h("p", { class: "roi-value", "data-testid": "roi-value", "data-value": s.roi.value }, money.format(s.roi.value)),
      h("p", { class: "roi-formula", "data-testid": "roi-formula" }, s.roi.formula),
      h("p", { class: "muted" }, s.definitions["roi"] ?? ""),
      this.definitions("defs-roi", "What counts", ["recovered_by_careloop", "confirmed_attributable"], s.definitions),
    );
  }

  private calls(s: AnalyticsSummary): HTMLElement | null {
    const v = s.voice;
    if (!v || v.calls + v.text_backs === 0) return null;
    const tile = (key: string, label: string, value: string, detail: string, tone = ""): HTMLElement =>
      h("li", { class: `kpi${tone ? ` kpi-${tone}` : ""}`, "data-testid": "kpi-tile", "data-kpi": key },
        h("span", { class: "kpi-label" }, label),
        h("span", { class: "kpi-value", "data-testid": "kpi-value" }, value),
        h("span", { class: "kpi-detail" }, detail));
    return this.section(
      "calls",
      "Phone calls",
      "voice",
      h(
        "ul",
        { class: "kpis", "aria-label": "Phone calls" },
        tile("calls", "Calls", count(v.calls), `${count(v.answered_by_agent)} answered by the assistant`),
        tile("booked_by_voice", "Booked by phone", count(v.booked_by_voice), `${count(v.transferred)} transferred to staff`, "good"),
        tile("callbacks", "Call-backs to make", count(v.callbacks), `${count(v.urgent)} urgent`, v.urgent > 0 ? "bad" : ""),
        tile("missed", "Missed calls", count(v.missed), `${count(v.text_backs)} texted back`),
        tile("booked_after_text_back", "Booked after a text-back", count(v.booked_after_text_back),
             `${percent(v.text_back_booking_rate)} of text-backs, within 7 days`),
      ),
    );
  }

  private async download(table?: string): Promise<void> {
    const { from, to } = this.loaded ?? this.range();
    this.exportLink.setAttribute("aria-busy", "true");
    try {
      const { blob, filename } = await this.ctx.api.exportCsv(from, to, table, this.bucket);
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: filename ?? `careloop-analytics-${to.toISOString().slice(0, 10)}.csv`, hidden: true });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.ctx.notify("CSV downloaded");
    } catch (err) {
      if (!(err instanceof SessionEnded)) this.ctx.notify(`Couldn't export. ${errorMessage(err)}`, "error");
    } finally {
      this.exportLink.removeAttribute("aria-busy");
    }
  }

  /** The report needs the Authorization header: fetched, then shown in a new tab the browser can
   * print to PDF (the tab is opened within the click, so no popup blocker stops it). */
  private async openReport(): Promise<void> {
    const month = /^\d{4}-\d{2}$/.test(this.month.value) ? this.month.value : lastMonth(this.ctx.fmt.now());
    const tab = window.open("", "_blank");
    try {
      const html = await this.ctx.api.analyticsReport(month);
      const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
      if (tab) tab.location.href = url;
      else window.location.assign(url);
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      tab?.close();
      if (!(err instanceof SessionEnded)) this.ctx.notify(`Couldn't open the report. ${errorMessage(err)}`, "error");
    }
  }
}
