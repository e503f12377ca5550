// Patients: searchable table with opted-out badge and next appointment; a second view lists the
// appointments of the coming week from /api/appointments.
import { SessionEnded } from "../api";
import { h, icon, ICONS, replace } from "../dom";
import { fullName, humanize, languageName } from "../format";
import type { Appointment, PatientRow } from "../types";
import { badge, emptyState, errorPanel, pageHeading, spinner, type Context, type Page } from "../ui";

const WEEK_MS = 7 * 86_400_000;

/** A phone number (or most of one) in any form: the list shows only the last 4 digits, so the API
 * matches it against the full number. */
function phoneQuery(query: string): boolean {
  return !/[a-z]/i.test(query) && query.replace(/\D/g, "").length > 4;
}

function matches(p: PatientRow, query: string, byPhone: ReadonlySet<string> | null): boolean {
  if (!query) return true;
  if (byPhone && phoneQuery(query)) return byPhone.has(p.id);
  const q = query.toLowerCase();
  const digits = q.replace(/\D/g, "");
  const name = fullName(p.first_name, p.last_name).toLowerCase();
  const last4 = p.phone_masked.replace(/\D/g, "");
  return name.includes(q) || `${p.last_name} ${p.first_name}`.toLowerCase().includes(q) || (digits.length > 0 && last4.includes(digits));
}

export class PatientsPage implements Page {
  readonly root: HTMLElement;
  private patients: PatientRow[] | null = null;
  private appointments: Appointment[] | null = null;
  private view: "patients" | "schedule" = "patients";
  private query = "";
  private byPhone: Set<string> | null = null;
  private searchSeq = 0;
  private destroyed = false;
  private readonly body = h("div", { class: "page-body" });
  private readonly countEl = h("p", { class: "page-sub", "aria-live": "polite", "data-testid": "patients-count" });
  private readonly search: HTMLInputElement;
  private readonly tabs: Record<"patients" | "schedule", HTMLButtonElement>;

  constructor(private readonly ctx: Context) {
    this.search = h("input", {
      type: "search",
      id: "patient-search",
      placeholder: "Name or phone number",
      autocomplete: "off",
      "data-testid": "patients-search",
      oninput: () => {
        this.query = this.search.value.trim();
        this.byPhone = null;
        this.render();
        if (phoneQuery(this.query)) void this.searchPhone(this.query);
      },
    });
    this.tabs = {
      patients: h("button", { type: "button", class: "seg", "aria-pressed": "true", onclick: () => this.setView("patients") }, "All patients"),
      schedule: h(
        "button",
        { type: "button", class: "seg", "aria-pressed": "false", "data-testid": "view-schedule", onclick: () => this.setView("schedule") },
        "Next 7 days",
      ),
    };
    this.root = h(
      "div",
      { class: "page" },
      pageHeading("Patients", this.countEl),
      h(
        "div",
        { class: "toolbar" },
        h(
          "div",
          { class: "search" },
          h("label", { for: "patient-search", class: "sr-only" }, "Search patients"),
          icon(ICONS.search, "icon search-icon"),
          this.search,
        ),
        // the schedule is the caring roles' (GET /appointments: careloop/roles.py); billing has the list only
        ctx.me.roles.some((r) => r !== "billing")
          ? h("div", { class: "segmented", role: "group", "aria-label": "View" }, this.tabs.patients, this.tabs.schedule)
          : null,
      ),
      this.body,
    );
    void this.load();
  }

  destroy(): void {
    this.destroyed = true;
  }

  private setView(view: "patients" | "schedule"): void {
    this.view = view;
    this.tabs.patients.setAttribute("aria-pressed", String(view === "patients"));
    this.tabs.schedule.setAttribute("aria-pressed", String(view === "schedule"));
    if (view === "schedule" && this.appointments === null) void this.loadSchedule();
    else this.render();
  }

  private async load(): Promise<void> {
    replace(this.body, spinner("Loading patients…"));
    try {
      this.patients = await this.ctx.api.patients();
      if (!this.destroyed) this.render();
    } catch (err) {
      if (!this.destroyed && !(err instanceof SessionEnded)) replace(this.body, errorPanel(err, () => void this.load()));
    }
  }

  private async loadSchedule(): Promise<void> {
    replace(this.body, spinner("Loading appointments…"));
    try {
      const now = this.ctx.fmt.now();
      // from a day back: this morning's visits (the day's confirmations) are on the list too;
      // renderSchedule keeps the practice's today and after
      this.appointments = await this.ctx.api.appointments(new Date(now.getTime() - 86_400_000), new Date(now.getTime() + WEEK_MS));
      if (!this.destroyed) this.render();
    } catch (err) {
      if (!this.destroyed && !(err instanceof SessionEnded)) replace(this.body, errorPanel(err, () => void this.loadSchedule()));
    }
  }

  private async searchPhone(query: string): Promise<void> {
    const mine = ++this.searchSeq;
    try {
      const found = await this.ctx.api.patients(query);
      if (this.destroyed || mine !== this.searchSeq || query !== this.query) return;
      this.byPhone = new Set(found.map((p) => p.id));
      this.render();
    } catch (err) {
      if (!this.destroyed && !(err instanceof SessionEnded)) replace(this.body, errorPanel(err, () => void this.searchPhone(query)));
    }
  }

  private render(): void {
    if (this.view === "schedule") this.renderSchedule();
    else this.renderPatients();
  }

  private renderPatients(): void {
    if (!this.patients) return;
    if (phoneQuery(this.query) && this.byPhone === null) {
      replace(this.body, spinner("Searching…")); // the API matches the full number
      return;
    }
    const rows = this.patients
      .filter((p) => matches(p, this.query, this.byPhone))
      .sort((a, b) => a.last_name.localeCompare(b.last_name) || a.first_name.localeCompare(b.first_name));
    const total = this.patients.length;
    this.countEl.textContent = this.query ? `${rows.length} of ${total} patients` : `${total} patient${total === 1 ? "" : "s"}`;
    if (rows.length === 0) {
      replace(this.body, emptyState(this.query ? `No patient matches “${this.query}”` : "No patients yet", this.query ? "Check the spelling, or search by the phone number (any form) or its last 4 digits." : "Patients arrive from your EHR."));
      return;
    }
    const fmt = this.ctx.fmt;
    const table = h(
      "table",
      { class: "table", "data-testid": "patients-table" },
      h("caption", { class: "sr-only" }, "Patients, sorted by last name"),
      h(
        "thead",
        null,
        h("tr", null, ...["Patient", "Phone", "Language", "Texts", "Next appointment"].map((t) => h("th", { scope: "col" }, t))),
      ),
      h(
        "tbody",
        null,
        ...rows.map((p) => {
          const appt = p.next_appointment;
          return h(
            "tr",
            { "data-testid": "patient-row", "data-patient-id": p.id },
            h(
              "th",
              { scope: "row", "data-label": "Patient" },
              h("a", { href: `#/patients/${encodeURIComponent(p.id)}`, title: "Open the patient page", "data-testid": "patient-page-link" }, fullName(p.first_name, p.last_name)),
              " ",
              h("a", { href: `#/inbox/${encodeURIComponent(p.id)}`, class: "muted pp-thread-link", title: "Open conversation" }, "Messages"),
            ),
            h("td", { "data-label": "Phone", class: "nowrap" }, p.phone_masked || "—"),
            h("td", { "data-label": "Language" }, languageName(p.language)),
            h("td", { "data-label": "Texts" }, p.opted_out ? badge("Opted out", "danger", "optout-badge") : badge("Active", "ok")),
            h(
              "td",
              { "data-label": "Next appointment" },
              appt
                ? h(
                    "div",
                    { class: "appt" },
                    h("time", { datetime: appt.start, class: "appt-when" }, fmt.dateTime(appt.start)),
                    h("span", { class: "muted" }, [appt.visit_type && humanize(appt.visit_type), appt.provider].filter(Boolean).join(" · ")),
                    appt.confirmed ? badge("Confirmed", "ok") : badge(appt.status && appt.status !== "booked" ? humanize(appt.status) : "Unconfirmed", "neutral"),
                  )
                : h("span", { class: "muted" }, "None booked"),
            ),
          );
        }),
      ),
    );
    replace(this.body, h("div", { class: "table-wrap" }, table));
  }

  private renderSchedule(): void {
    if (!this.appointments) return;
    const fmt = this.ctx.fmt;
    const q = this.query.toLowerCase();
    const today = fmt.day(fmt.now().toISOString());
    const rows = this.appointments
      .filter((a) => fmt.day(a.start) >= today)
      .filter((a) => !q || a.patient_name.toLowerCase().includes(q))
      .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    this.countEl.textContent = `${rows.length} appointment${rows.length === 1 ? "" : "s"} in the next 7 days`;
    if (rows.length === 0) {
      replace(this.body, emptyState("No appointments in the next 7 days"));
      return;
    }
    const groups = new Map<string, Appointment[]>();
    for (const a of rows) {
      const key = fmt.day(a.start);
      groups.set(key, [...(groups.get(key) ?? []), a]);
    }
    replace(
      this.body,
      ...[...groups.values()].map((list) =>
        h(
          "section",
          { class: "day-group" },
          h("h2", { class: "day-title" }, fmt.dayHeading(list[0]!.start)),
          h(
            "ul",
            { class: "schedule", "data-testid": "schedule-list" },
            ...list.map((a) =>
              h(
                "li",
                { class: `slot${a.status === "cancelled" ? " slot-cancelled" : ""}`, "data-testid": "appointment-row" },
                h("time", { datetime: a.start, class: "slot-time" }, fmt.timeOnly(a.start)),
                h(
                  "div",
                  { class: "slot-main" },
                  // the patient page: the visit's actions and history, and the conversation a click away
                  h("a", { href: `#/patients/${encodeURIComponent(a.patient_id)}`, title: "Open the patient page", "data-testid": "schedule-patient-link" }, a.patient_name || "Unknown patient"),
                  h("span", { class: "muted" }, [a.visit_type && humanize(a.visit_type), a.provider, a.minutes ? `${a.minutes} min` : ""].filter(Boolean).join(" · ")),
                ),
                a.status === "cancelled"
                  ? badge("Cancelled", "neutral")
                  : a.status === "noshow"
                    ? badge("No-show", "danger")
                    : a.confirmed
                      ? badge("Confirmed", "ok")
                      : badge("Unconfirmed", "warn"),
              ),
            ),
          ),
        ),
      ),
    );
  }
}
