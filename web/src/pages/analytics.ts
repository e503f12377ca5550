// Analytics: KPI tiles for a period, a per-workflow table, and the CSV export.
import { SessionEnded } from "../api";
import { h, icon, ICONS, replace } from "../dom";
import { count, humanize, percent } from "../format";
import type { AnalyticsSummary } from "../types";
import { emptyState, errorMessage, errorPanel, pageHeading, spinner, type Context, type Page } from "../ui";

const PERIODS = [
  { days: 7, label: "Last 7 days" },
  { days: 30, label: "Last 30 days" },
  { days: 90, label: "Last 90 days" },
] as const;

export class AnalyticsPage implements Page {
  readonly root: HTMLElement;
  private days = 30;
  private readonly body = h("div", { class: "page-body" });
  private readonly exportLink: HTMLAnchorElement;
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
    this.exportLink = h(
      "a",
      { class: "btn btn-secondary", "data-testid": "analytics-export", download: "careloop-analytics.csv", href: "#/analytics" },
      icon(ICONS.download),
      "Export CSV",
    );
    this.exportLink.addEventListener("click", (e) => {
      e.preventDefault();
      void this.download();
    });
    this.root = h(
      "div",
      { class: "page" },
      pageHeading("Analytics"),
      h(
        "div",
        { class: "toolbar" },
        h("div", { class: "field-inline" }, h("label", { for: "period" }, "Period"), select),
        this.exportLink,
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
    const { from, to } = this.range();
    this.exportLink.href = this.ctx.api.exportCsvUrl(from, to);
    replace(this.body, spinner("Loading analytics…"));
    try {
      const summary = await this.ctx.api.analytics(from, to);
      if (!this.destroyed) this.render(summary);
    } catch (err) {
      if (!this.destroyed && !(err instanceof SessionEnded)) replace(this.body, errorPanel(err, () => void this.load()));
    }
  }

  private render(s: AnalyticsSummary): void {
    const tile = (key: string, label: string, value: string, detail: string, tone = ""): HTMLElement =>
      h(
        "li",
        { class: `kpi${tone ? ` kpi-${tone}` : ""}`, "data-testid": "kpi-tile", "data-kpi": key },
        h("span", { class: "kpi-label" }, label),
        h("span", { class: "kpi-value", "data-testid": "kpi-value" }, value),
        h("span", { class: "kpi-detail" }, detail),
      );
    const tiles = h(
      "ul",
      { class: "kpis", "aria-label": "Key figures" },
      tile("sent", "Texts sent", count(s.sent), `${count(s.failed)} failed`),
      tile("delivery_rate", "Delivered", percent(s.delivery_rate), `${count(s.delivered)} of ${count(s.sent)}`),
      tile("response_rate", "Patients replied", percent(s.response_rate), `${count(s.responses)} replies`),
      tile("confirmation_rate", "Appointments confirmed", percent(s.confirmation_rate), `${count(s.confirmed)} confirmed`, "good"),
      tile("no_show_rate", "No-shows", percent(s.no_show_rate), `${count(s.no_shows)} missed`, s.no_show_rate > 0.1 ? "bad" : ""),
    );
    const rows = [...s.by_workflow].sort((a, b) => b.sent - a.sent);
    const table = rows.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "table", "data-testid": "analytics-by-workflow" },
            h("caption", { class: "table-caption" }, "By workflow"),
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                h("th", { scope: "col" }, "Workflow"),
                ...["Sent", "Delivered", "Delivery rate", "Confirmed"].map((t) => h("th", { scope: "col", class: "num" }, t)),
              ),
            ),
            h(
              "tbody",
              null,
              ...rows.map((r) =>
                h(
                  "tr",
                  null,
                  h("th", { scope: "row", "data-label": "Workflow" }, humanize(r.workflow)),
                  h("td", { class: "num", "data-label": "Sent" }, count(r.sent)),
                  h("td", { class: "num", "data-label": "Delivered" }, count(r.delivered)),
                  h("td", { class: "num", "data-label": "Delivery rate" }, r.sent ? percent(r.delivered / r.sent) : "–"),
                  h("td", { class: "num", "data-label": "Confirmed" }, count(r.confirmed)),
                ),
              ),
            ),
          ),
        )
      : emptyState("No workflow activity in this period", "Texts from workflows are counted here once they are sent.");
    const v = s.voice;
    const calls = v && v.calls + v.text_backs > 0
      ? h(
          "section",
          { class: "analytics-section", "aria-labelledby": "calls-heading", "data-testid": "analytics-calls" },
          h("h2", { id: "calls-heading", class: "section-heading" }, "Phone calls"),
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
        )
      : null;
    const period =
      s.period.from && s.period.to ? h("p", { class: "muted period" }, `${this.ctx.fmt.dateTime(s.period.from)} – ${this.ctx.fmt.dateTime(s.period.to)}`) : null;
    replace(this.body, period, tiles, table, calls);
  }

  private async download(): Promise<void> {
    const { from, to } = this.range();
    this.exportLink.setAttribute("aria-busy", "true");
    try {
      const { blob, filename } = await this.ctx.api.exportCsv(from, to);
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
}
