// The patient page (#/patients/<id>): appointments with what staff can do (confirm, cancel, no-show,
// attended), a consent change with a note, the data-quality findings, and the timeline, newest first.
import { SessionEnded } from "../api";
import { h, icon, ICONS, replace } from "../dom";
import { formatPhone, fullName, humanize, languageName } from "../format";
import type { PatientTimeline, TimelineAppointment, TimelineEntry } from "../timeline";
import { badge, emptyState, errorMessage, errorPanel, pageHeading, spinner, type Context, type Page } from "../ui";

const ACTION_LABEL: Record<string, string> = {
  confirm: "Confirm", cancel: "Cancel visit", noshow: "Mark no-show", fulfilled: "Mark attended",
};
const ACTION_DONE: Record<string, string> = {
  confirm: "Appointment confirmed", cancel: "Appointment cancelled", noshow: "Marked as a no-show: no-show recovery starts",
  fulfilled: "Marked as attended",
};
const STATUS_LABEL: Record<string, string> = { noshow: "No-show", fulfilled: "Attended", "checked-in": "Checked in" };
const STATUS_TONE: Record<string, "ok" | "warn" | "danger" | "info" | "neutral"> = {
  booked: "info", fulfilled: "ok", noshow: "danger", cancelled: "neutral", pending: "warn", proposed: "warn",
};
const EVENT_LABEL: Record<string, string> = {
  created: "Appointment booked", confirmed: "Appointment confirmed", cancelled: "Appointment cancelled",
  rescheduled: "Appointment rescheduled", noshow: "No-show", fulfilled: "Visit attended",
  booked: "Appointment booked", requested: "Online booking requested", declined: "Patient said they will not come",
  moved: "Appointment moved", arrived: "Patient arrived", "checked-in": "Patient checked in",
};
// an appointment change's words in its history: "booked", "confirmed", "cancelled"...
const CHANGE_WORD: Record<string, string> = {
  booked: "Booked", requested: "Requested online", confirmed: "Confirmed", declined: "Said they will not come",
  cancelled: "Cancelled", noshow: "No-show", fulfilled: "Attended", moved: "Moved",
};

export class PatientPage implements Page {
  readonly root: HTMLElement;
  private data: PatientTimeline | null = null;
  private destroyed = false;
  private busy = false;
  private readonly body = h("div", { class: "page-body patient-page" });

  constructor(private readonly ctx: Context, private readonly patientId: string) {
    this.root = h("section", { class: "page", "data-testid": "patient-page" },
      h("a", { href: "#/patients", class: "back-link" }, icon(ICONS.back), "All patients"),
      pageHeading("Patient"), this.body);
    replace(this.body, spinner("Loading the patient…"));
    void this.load();
  }

  destroy(): void {
    this.destroyed = true;
  }

  private async load(): Promise<void> {
    try {
      const data = await this.ctx.api.patientTimeline(this.patientId);
      if (this.destroyed) return;
      this.data = data;
      this.render();
    } catch (err) {
      if (err instanceof SessionEnded || this.destroyed) return;
      replace(this.body, errorPanel(err, () => void this.load()));
    }
  }

  private render(): void {
    const d = this.data;
    if (!d) return;
    const p = d.patient;
    const title = this.root.querySelector("h1");
    if (title) title.textContent = fullName(p.first_name, p.last_name) || "Patient";
    document.title = `${fullName(p.first_name, p.last_name)} · Careloop`;
    replace(
      this.body,
      h("p", { class: "thread-meta", "data-testid": "patient-meta" },
        h("span", { class: "nowrap" }, p.phone ? formatPhone(p.phone) : "No phone"),
        p.language !== "en" ? badge(languageName(p.language), "info") : null,
        p.opted_out ? badge("Opted out of texts", "danger", "optout-badge") : badge("Texts allowed", "ok", "optin-badge"),
        d.may.open_conversation
          ? h("a", { href: `#/inbox/${encodeURIComponent(p.id)}`, class: "btn btn-link", "data-testid": "open-thread" }, "Open conversation")
          : null,
      ),
      d.may.all_words ? null : h("p", { class: "notice", "data-testid": "pp-withheld-note" },
        "What this patient texted or said is for the care team: your role sees the dates, visits and consent."),
      h("div", { class: "patient-grid" },
        h("div", { class: "patient-side" }, this.appointmentsCard(d), this.consentCard(d), this.findingsCard(d)),
        this.timelineCard(d),
      ),
    );
  }

  // ---- appointments ------------------------------------------------------------------------

  private appointmentsCard(d: PatientTimeline): HTMLElement {
    const fmt = this.ctx.fmt;
    return h("section", { class: "card", "aria-labelledby": "pp-appts" },
      h("h2", { class: "section-heading", id: "pp-appts" }, "Appointments"),
      d.appointments.length === 0
        ? emptyState("No appointments", "The EHR has sent none for this patient.")
        : h("ul", { class: "pp-list" }, ...d.appointments.map((a) =>
          h("li", { class: "pp-appt", "data-testid": "pp-appointment", "data-appointment-id": a.id },
            h("div", { class: "pp-appt-main" },
              h("strong", { class: "pp-when" }, fmt.dateTime(a.start)),
              h("span", { class: "muted" }, [humanize(a.visit_type || ""), a.provider, a.location].filter(Boolean).join(" · ")),
              h("span", { class: "pp-badges" },
                badge(STATUS_LABEL[a.status] ?? humanize(a.status), STATUS_TONE[a.status] ?? "neutral", "pp-status"),
                a.confirmed ? badge("Confirmed", "ok", "pp-confirmed") : null,
                a.declined && a.status !== "cancelled" ? badge("Patient said no", "warn") : null),
            ),
            a.history.length ? this.historyList(a) : null,
            a.actions.length || a.reschedule
              ? h("div", { class: "pp-actions" }, ...a.actions.map((act) =>
                h("button", { type: "button", class: act === "cancel" || act === "noshow" ? "btn btn-secondary btn-small" : "btn btn-primary btn-small",
                  "data-testid": `pp-action-${act}`,
                  onclick: (e: MouseEvent) => void this.act(a, act, e.currentTarget as HTMLButtonElement) }, ACTION_LABEL[act] ?? humanize(act))),
                a.reschedule
                  ? h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "pp-reschedule",
                    title: "Texts the patient their own link to pick a new time; this visit stays booked until they do",
                    onclick: (e: MouseEvent) => void this.sendRescheduleLink(a, e.currentTarget as HTMLButtonElement) }, "Text a link to reschedule")
                  : null)
              : null,
          ))),
    );
  }

  // the visit's states, oldest first: "Booked · from the EHR", "Confirmed · by the patient, by text"
  private historyList(a: TimelineAppointment): HTMLElement {
    const fmt = this.ctx.fmt;
    return h("details", { class: "pp-history", "data-testid": "pp-history" },
      h("summary", null, `History (${a.history.length})`),
      h("ol", { class: "pp-history-list" }, ...a.history.map((c) =>
        h("li", { "data-testid": "pp-history-item", "data-event": c.event, "data-source": c.source },
          h("strong", null, CHANGE_WORD[c.event] ?? humanize(c.event)), " ",
          h("span", { class: "muted" }, changeWho(c.source, c.by)), " ",
          h("time", { class: "muted pp-history-at", datetime: c.at }, fmt.dateTime(c.at)),
          c.detail ? h("div", { class: "muted" }, changeDetail(c.event, c.detail, (iso) => fmt.dateTime(iso))) : null))));
  }

  private async sendRescheduleLink(a: TimelineAppointment, button: HTMLButtonElement): Promise<void> {
    await this.run(button, () => this.ctx.api.sendRescheduleLink(this.patientId, a.id),
      "Link sent: the patient picks a new time, and this visit is cancelled when they do");
  }

  private async act(a: TimelineAppointment, action: string, button: HTMLButtonElement): Promise<void> {
    if (this.busy) return;
    if ((action === "cancel" || action === "noshow")
      && !window.confirm(`${ACTION_LABEL[action]} for ${this.ctx.fmt.dateTime(a.start)}? This is written back to the EHR where it allows.`)) return;
    await this.run(button, () => this.ctx.api.appointmentAction(a.id, action), ACTION_DONE[action] ?? "Done");
  }

  /** One visit action at a time: the button is off while it runs, the page reloads after it,
   *  and a refusal is shown with the button back on (a session that ended has already left). */
  private async run(button: HTMLButtonElement, call: () => Promise<unknown>, done: string): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    button.disabled = true;
    try {
      await call();
      this.ctx.notify(done);
      await this.load();
    } catch (err) {
      if (err instanceof SessionEnded) return;
      this.ctx.notify(errorMessage(err), "error");
      button.disabled = false;
    } finally {
      this.busy = false;
    }
  }

  // ---- consent -----------------------------------------------------------------------------

  private consentCard(d: PatientTimeline): HTMLElement {
    const optingIn = d.patient.opted_out;
    const note = h("textarea", { id: "pp-consent-note", rows: 2, maxlength: 500, required: true, "data-testid": "pp-consent-note",
      placeholder: optingIn ? "e.g. Signed the SMS consent form at the front desk" : "e.g. Asked by phone to stop texts" });
    const documented = h("input", { type: "checkbox", id: "pp-consent-documented", "data-testid": "pp-consent-documented" });
    const error = h("p", { class: "form-error", role: "alert", "data-testid": "pp-consent-error" });
    const submit = h("button", { type: "submit", class: "btn btn-secondary", "data-testid": "pp-consent-submit" },
      optingIn ? "Record opt-in" : "Record opt-out");
    const form = h("form", { class: "pp-consent", novalidate: true, onsubmit: (e: Event) => {
      e.preventDefault();
      void this.changeConsent(!optingIn, note.value, documented.checked, error, submit);
    } },
    h("p", { class: "muted" }, optingIn
      ? "Texts resume only with the patient's documented consent (a signed form or a recorded request). Say how they gave it."
      : "Record a request to stop texts the patient made another way (a call, at the desk). Say how they asked."),
    h("label", { class: "field", for: "pp-consent-note" }, h("span", null, "Note (required)"), note),
    optingIn
      ? h("label", { class: "field-inline", for: "pp-consent-documented" }, documented,
        h("span", null, "The patient's consent to texts is documented"))
      : null,
    error, submit);
    return h("section", { class: "card", "aria-labelledby": "pp-consent" },
      h("h2", { class: "section-heading", id: "pp-consent" }, "Text messages"),
      d.may.change_consent
        ? h("p", null, d.patient.opted_out ? badge("Opted out", "danger") : badge("Texts allowed", "ok"),
          " Recorded in the consent ledger with your name.")
        : h("p", { "data-testid": "pp-consent-readonly" }, d.patient.opted_out ? badge("Opted out", "danger") : badge("Texts allowed", "ok"),
          " The front desk records consent changes."),
      d.may.change_consent ? form : null);
  }

  private async changeConsent(optOut: boolean, note: string, documented: boolean, error: HTMLElement, submit: HTMLButtonElement): Promise<void> {
    error.textContent = "";
    if (!note.trim()) {
      error.textContent = "Add a note saying how the patient asked: it is kept as proof.";
      return;
    }
    if (!optOut && !documented) {
      error.textContent = "Texts resume only with the patient's documented consent: tick the box once it is on file.";
      return;
    }
    submit.disabled = true;
    try {
      await this.ctx.api.patientConsent(this.patientId, { opted_out: optOut, note: note.trim(), documented_consent: documented });
      this.ctx.notify(optOut ? "Opt-out recorded: no more texts to this number" : "Opt-in recorded: texts resume");
      await this.load();
    } catch (err) {
      if (err instanceof SessionEnded) return;
      error.textContent = errorMessage(err);
      submit.disabled = false;
    }
  }

  // ---- data quality ------------------------------------------------------------------------

  private findingsCard(d: PatientTimeline): HTMLElement {
    return h("section", { class: "card", "aria-labelledby": "pp-findings", "data-testid": "pp-findings" },
      h("h2", { class: "section-heading", id: "pp-findings" }, "Record problems"),
      d.findings.length === 0
        ? h("p", { class: "muted" }, "No data-quality problems found in this patient's records.")
        : h("ul", { class: "pp-list" }, ...d.findings.map((f) =>
          h("li", { "data-testid": "pp-finding" },
            badge(humanize(f.severity), f.severity === "error" ? "danger" : f.severity === "warning" ? "warn" : "neutral"),
            " ", h("strong", null, humanize(f.problem)), h("div", { class: "muted" }, f.detail), h("div", null, f.action)))),
    );
  }

  // ---- the timeline ------------------------------------------------------------------------

  private timelineCard(d: PatientTimeline): HTMLElement {
    return h("section", { class: "card pp-timeline", "aria-labelledby": "pp-tl" },
      h("h2", { class: "section-heading", id: "pp-tl" }, "Timeline"),
      d.entries.length === 0
        ? emptyState("Nothing yet", "Texts, calls, appointments and consent changes appear here.")
        : h("ol", { class: "pp-list", "data-testid": "pp-timeline" }, ...withoutEchoes(d.entries).map((e) => this.entry(e))),
    );
  }

  private entry(e: TimelineEntry): HTMLElement {
    const fmt = this.ctx.fmt;
    let title = "";
    let detail: string = e.body;
    let tone: "ok" | "warn" | "danger" | "info" | "neutral" = "neutral";
    switch (e.kind) {
      case "text_in":
        title = "Text from the patient";
        break;
      case "text_out":
        title = e.workflow === "staff" ? "Text from staff" : "Text sent";
        tone = e.status === "failed" ? "danger" : e.status === "delivered" ? "ok" : e.status === "suppressed" ? "warn" : "neutral";
        break;
      case "call":
        title = "Phone call";
        detail = e.callOutcome ? humanize(e.callOutcome) : e.body;
        break;
      case "alert":
        title = "Alert for staff";
        tone = "warn";
        break;
      case "note":
        title = "Internal note";
        detail = e.withheld ? e.body : `${e.body}${e.reason ? ` (${e.reason})` : ""}`;
        break;
      case "staff_action":
        title = e.body;
        detail = e.reason;
        tone = "info";
        break;
      case "appointment":
        title = EVENT_LABEL[e.event] ?? "Appointment";
        detail = e.appointment ? `${fmt.dateTime(e.appointment.start)}${e.appointment.provider ? ` · ${e.appointment.provider}` : ""}` : "";
        if (e.source) detail += ` · ${changeWho(e.source, e.by)}`;
        if (e.detail) detail += ` · ${changeDetail(e.event, e.detail, (iso) => fmt.dateTime(iso))}`;
        tone = e.event === "noshow" ? "danger" : e.event === "confirmed" || e.event === "fulfilled" ? "ok" : "info";
        break;
      case "consent":
        title = e.action === "opt_out" ? "Opted out of texts" : "Opted in to texts";
        detail = e.source === "staff" ? `Recorded by ${e.by || "staff"}: ${e.note}` : e.source === "sms" ? `Texted "${e.text || e.by}"` : `From ${humanize(e.source)}`;
        tone = e.action === "opt_out" ? "danger" : "ok";
        break;
      default:
        title = "Task";
    }
    if (e.withheld) detail = "Not shown to your role";
    return h("li", { class: "pp-entry", "data-testid": "pp-entry", "data-kind": e.kind, "data-withheld": e.withheld ? "true" : null },
      h("time", { class: "pp-at muted", datetime: e.at }, fmt.dateTime(e.at)),
      h("div", { class: "pp-entry-main" },
        h("span", { class: "pp-entry-title" }, badge(humanize(e.kind === "text_out" || e.kind === "text_in" ? "text" : e.kind), tone), " ", title),
        detail ? h("div", { class: "pp-entry-detail" }, detail) : null,
        e.delivery ? h("div", { class: "muted", "data-testid": "pp-delivery" },
          `Delivery: ${humanize(e.delivery.status)}${e.delivery.detail ? ` (${humanize(e.delivery.detail)})` : ""}`) : null,
      ),
    );
  }
}

// who made a change, as staff say it
function changeWho(source: string, by: string): string {
  switch (source) {
    case "ehr": return "from the EHR";
    case "staff": return `by ${by || "staff"}`;
    case "patient": return by ? `by the patient, by ${by}` : "by the patient";
    case "agent": return "by Careloop";
    default: return source ? `by ${humanize(source)}` : "";
  }
}

// a change's detail: a move names the time it moved from, in the page's clocks
function changeDetail(event: string, detail: string, dateTime: (iso: string) => string): string {
  if (event === "moved" && !Number.isNaN(Date.parse(detail))) return `was ${dateTime(detail)}`;
  return detail;
}

// a staff action on a visit is in the visit's history too ("Appointment cancelled · by jo@…"):
// its task ("Appointment cancelled by staff") is not listed a second time beside it. The two are
// written in one request, their stored times a moment apart at most.
function withoutEchoes(entries: TimelineEntry[]): TimelineEntry[] {
  const told = entries.filter((e) => e.kind === "appointment" && e.source === "staff" && e.appointment);
  return entries.filter((e) => !(e.kind === "staff_action" && told.some((c) =>
    c.appointment!.id === e.appointment_id && Math.abs(Date.parse(c.at) - Date.parse(e.at)) < 5_000)));
}
