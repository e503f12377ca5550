// The workflow editor (#/workflows/<id>): trigger, steps, timing, conditions and en/es texts in a form, each text
// previewed live for a sample patient with its SMS part count; save with a reason, undo, history with diffs,
// a dry run on the real schedule and a test send. Admins edit; everyone else sees it read-only.
import { SessionEnded } from "../api";
import { h, replace } from "../dom";
import { formatPhone } from "../format";
import type { DryRunReport, StepDefinition, TextPreview, WorkflowDefinition, WorkflowDetail, WorkflowPreview, WorkflowVersion } from "../types";
import { badge, errorMessage, errorPanel, pageHeading, spinner, type Context, type Page } from "../ui";
import { askReason } from "./workflows";

const LANGS: readonly { code: string; label: string }[] = [
  { code: "en", label: "English" },
  { code: "es", label: "Spanish" },
];
const TRIGGERS: readonly [string, string][] = [
  ["appointment_booked", "A visit is booked or moved"],
  ["appointment_status", "A visit's status changes to…"],
  ["step_sent", "A step of another workflow was sent"],
  ["entered", "Another workflow hands over"],
];
const ACTIONS: readonly [string, string][] = [
  ["sms", "Text the patient"],
  ["task", "Create a staff task"],
  ["staff_alert", "Alert staff"],
  ["enter_workflow", "Hand over to another workflow"],
];
const UNITS: readonly [string, number][] = [
  ["days", 1440],
  ["hours", 60],
  ["minutes", 1],
];
const NO_VALUE_OPS = new Set(["is_true", "is_false"]);
const OP_LABELS: Record<string, string> = {
  eq: "is", ne: "is not", in: "is one of", not_in: "is none of", contains: "contains", gt: "is more than",
  gte: "is at least", lt: "is less than", lte: "is at most", is_true: "is yes", is_false: "is no",
};

// a diff's field path as staff read it ("action.template.en" -> "English text")
const FIELD_LABELS: Record<string, string> = {
  "action.template.en": "English text", "action.template.es": "Spanish text", "timing.offset_minutes": "When (minutes from the anchor)",
  "timing.anchor": "Timed from", "timing.catch_up_min_lead_minutes": "Booked-late lead (minutes)", "timing.grace_minutes": "Grace (minutes)",
  conditions: "Only if", "action.type": "Do", "action.priority": "Priority", "action.workflow": "Hands over to", name: "Name",
  description: "What it is for", enabled: "Switched on", priority: "Priority", "trigger.on": "Starts when",
  "trigger.status": "Status", only_if_no_response: "Only if no reply",
};

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function option(value: string, label: string, selected: boolean): HTMLOptionElement {
  return h("option", { value, selected }, label);
}

/** A condition's value as typed: a list for in / not_in, a number when it is one, else the text. */
function parseValue(op: string, raw: string): unknown {
  if (NO_VALUE_OPS.has(op)) return null;
  if (op === "in" || op === "not_in") return raw.split(",").map((s) => s.trim()).filter(Boolean);
  const t = raw.trim();
  if (t !== "" && !Number.isNaN(Number(t))) return Number(t);
  return t;
}

function valueText(v: unknown): string {
  if (v === null || v === undefined) return "";
  return Array.isArray(v) ? v.join(", ") : String(v);
}

function shown(v: unknown): string {
  if (v === null || v === undefined || v === "") return "—";
  if (Array.isArray(v)) return v.length ? v.join("; ") : "none";
  return typeof v === "string" ? v : JSON.stringify(v);
}

export class WorkflowEditorPage implements Page {
  readonly root: HTMLElement;
  private readonly body = h("div", { class: "page-body wfe" });
  private destroyed = false;
  private detail: WorkflowDetail | null = null;
  private def: WorkflowDefinition | null = null;
  private previewTimer: number | undefined;
  private previewSeq = 0;
  private readonly previewBoxes = new Map<string, HTMLElement>();
  private readonly validity = h("p", { class: "wfe-validity", role: "status", "data-testid": "editor-validity" });
  private readonly stepsBox = h("div", { class: "wfe-steps" });
  private readonly triggerBox = h("div", { class: "wfe-trigger" });
  private readonly historyBox = h("div", { class: "wfe-history", "data-testid": "workflow-history" });
  private readonly dryRunBox = h("div", { class: "wfe-dryrun-out", "data-testid": "dryrun-result" });
  private readonly undoBox = h("div", { class: "wfe-undo" });
  private readonly testResult = h("p", { class: "wfe-test-result", role: "status", "data-testid": "testsend-result" });

  constructor(
    private readonly ctx: Context,
    private readonly workflowId: string,
  ) {
    this.root = h("div", { class: "page" }, this.body);
    void this.load();
  }

  destroy(): void {
    this.destroyed = true;
    window.clearTimeout(this.previewTimer);
  }

  private get admin(): boolean {
    return this.ctx.me.roles.includes("admin");
  }

  private async load(): Promise<void> {
    replace(this.body, spinner("Loading the workflow…"));
    try {
      this.detail = await this.ctx.api.workflowDetail(this.workflowId);
      if (this.destroyed) return;
      this.def = clone(this.detail.definition);
      this.render();
      void this.loadHistory();
    } catch (err) {
      if (!this.destroyed && !(err instanceof SessionEnded)) replace(this.body, errorPanel(err, () => void this.load()));
    }
  }

  // ---- layout -------------------------------------------------------------------------------------------

  private render(): void {
    const d = this.detail!;
    const def = this.def!;
    const w = d.workflow;
    const form = h(
      "fieldset",
      { class: "wfe-form", disabled: !this.admin, "data-testid": "workflow-form" },
      h("legend", { class: "sr-only" }, `Edit ${w.name}`),
      h(
        "section",
        { class: "card wfe-section" },
        h("h2", { class: "wfe-h" }, "About"),
        this.textField("Name", def.name, (v) => (def.name = v), "wf-name"),
        this.textField("What it is for", def.description, (v) => (def.description = v), "wf-description", true),
      ),
      h("section", { class: "card wfe-section" }, h("h2", { class: "wfe-h" }, "Starts when"), this.triggerBox),
      h("section", { class: "wfe-section-plain" }, h("h2", { class: "wfe-h" }, "Steps"), this.stepsBox),
    );
    replace(
      this.body,
      h("p", { class: "wfe-back" }, h("a", { href: "#/workflows" }, "← All workflows")),
      pageHeading(
        w.name,
        h(
          "p",
          { class: "page-sub" },
          badge(`v${w.version}`, "neutral", "editor-version"),
          " ",
          badge(w.enabled ? "On" : "Off", w.enabled ? "ok" : "neutral", "editor-state"),
          " ",
          h("span", null, w.starts),
          h("span", { class: "muted small wf-id" }, ` · id: ${w.id}`),
        ),
      ),
      this.admin ? null : h("p", { class: "notice", "data-testid": "editor-readonly" }, "Read-only: only an admin can change workflows."),
      form,
      this.admin ? this.saveBar() : null,
      this.admin ? this.testSendSection() : null,
      this.admin ? this.dryRunSection() : null,
      h("section", { class: "card wfe-section" }, h("h2", { class: "wfe-h" }, "History"), this.historyBox),
    );
    this.renderTrigger();
    this.renderSteps();
  }

  private textField(label: string, value: string, set: (v: string) => void, testid: string, long = false): HTMLElement {
    const input = long
      ? h("textarea", { rows: 2, "data-testid": testid }, value)
      : h("input", { type: "text", value, "data-testid": testid });
    input.addEventListener("input", () => {
      set(input.value);
      this.schedulePreview();
    });
    return h("label", { class: "field" }, h("span", { class: "field-label" }, label), input);
  }

  private select(label: string, options: readonly [string, string][], value: string, set: (v: string) => void, testid: string, rerender = false): HTMLElement {
    const sel = h("select", { "data-testid": testid }, ...options.map(([v, l]) => option(v, l, v === value)));
    sel.addEventListener("change", () => {
      set(sel.value);
      if (rerender) this.renderSteps();
      this.schedulePreview();
    });
    return h("label", { class: "field" }, h("span", { class: "field-label" }, label), sel);
  }

  // ---- trigger --------------------------------------------------------------------------------------------

  private renderTrigger(): void {
    const t = this.def!.trigger;
    const extra: HTMLElement[] = [];
    if (t.on === "appointment_status") {
      extra.push(this.select("Status", [["noshow", "No-show"], ["fulfilled", "Done (the patient came)"], ["cancelled", "Cancelled"],
        ["arrived", "Arrived"], ["checked-in", "Checked in"]], t.status ?? "noshow", (v) => (t.status = v), "trigger-status"));
      t.status = t.status ?? "noshow";
    }
    if (t.on === "step_sent") {
      extra.push(this.textField("Workflow id", t.workflow ?? "", (v) => (t.workflow = v), "trigger-workflow"));
      extra.push(this.textField("Step id", t.step ?? "", (v) => (t.step = v), "trigger-step"));
    }
    replace(
      this.triggerBox,
      this.select("Trigger", TRIGGERS, t.on, (v) => {
        this.def!.trigger = { on: v };
        this.renderTrigger();
        this.renderSteps();
      }, "trigger-on"),
      ...extra,
    );
  }

  // ---- steps ----------------------------------------------------------------------------------------------

  private renderSteps(): void {
    const def = this.def!;
    this.previewBoxes.clear();
    replace(
      this.stepsBox,
      h("ol", { class: "wfe-step-list" }, ...def.steps.map((s, i) => h("li", null, this.stepCard(s, i)))),
      this.admin
        ? h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "step-add", onclick: () => this.addStep() }, "Add a step")
        : null,
    );
    this.schedulePreview(0);
  }

  private addStep(): void {
    const def = this.def!;
    let n = def.steps.length + 1;
    while (def.steps.some((s) => s.id === `step-${n}`)) n += 1;
    def.steps.push({ id: `step-${n}`, name: "", timing: { anchor: "trigger", offset_minutes: 60 }, conditions: [],
      action: { type: "sms", template: { en: "Hi {{ first_name }}, this is {{ practice_name }}.", es: "Hola {{ first_name }}, le escribe {{ practice_name }}." } } });
    this.renderSteps();
  }

  private stepCard(step: StepDefinition, index: number): HTMLElement {
    const def = this.def!;
    const title = step.name || step.id;
    const remove = this.admin && def.steps.length > 1
      ? h("button", { type: "button", class: "btn btn-ghost btn-small", "data-testid": "step-remove", onclick: () => {
          def.steps.splice(index, 1);
          this.renderSteps();
        } }, "Remove step")
      : null;
    return h(
      "article",
      { class: "card wfe-step", "data-testid": "editor-step", "data-step-id": step.id },
      h("header", { class: "wfe-step-head" }, h("h3", { class: "wfe-step-title" }, `${index + 1}. ${title}`), remove),
      h(
        "div",
        { class: "wfe-grid" },
        this.textField("Step name", step.name ?? "", (v) => (step.name = v), "step-name-input"),
        this.textField("Step id", step.id, (v) => (step.id = v), "step-id-input"),
      ),
      this.timingFields(step),
      this.conditionFields(step),
      this.actionFields(step, index),
    );
  }

  private timingFields(step: StepDefinition): HTMLElement {
    const t = step.timing;
    const abs = Math.abs(t.offset_minutes);
    const [unit, per] = UNITS.find(([, m]) => abs % m === 0 && (abs > 0 || m === 1)) ?? UNITS[2]!;
    const amount = h("input", { type: "number", min: 0, step: 1, value: abs / per, class: "wfe-amount", "data-testid": "timing-amount", "aria-label": "How long" });
    const unitSel = h("select", { "data-testid": "timing-unit", "aria-label": "Unit" }, ...UNITS.map(([u]) => option(u, u, u === unit)));
    const dir = h("select", { "data-testid": "timing-direction", "aria-label": "Before or after" },
      option("before", "before", t.offset_minutes < 0), option("after", "after", t.offset_minutes >= 0));
    const anchor = h("select", { "data-testid": "timing-anchor", "aria-label": "Of what" },
      option("start", "the visit starts", t.anchor === "start"), option("trigger", "the trigger", t.anchor === "trigger"));
    const update = (): void => {
      const minutes = Math.round(Number(amount.value) || 0) * (UNITS.find(([u]) => u === unitSel.value)?.[1] ?? 1);
      t.offset_minutes = dir.value === "before" ? -minutes : minutes;
      t.anchor = anchor.value === "start" ? "start" : "trigger";
      this.schedulePreview();
    };
    for (const el of [amount, unitSel, dir, anchor]) el.addEventListener(el === amount ? "input" : "change", update);
    const lead = h("input", { type: "number", min: 0, step: 1, value: t.catch_up_min_lead_minutes ?? "", class: "wfe-amount", "data-testid": "timing-catch-up", "aria-label": "Catch-up lead in minutes" });
    lead.addEventListener("input", () => {
      t.catch_up_min_lead_minutes = lead.value === "" ? null : Math.round(Number(lead.value));
      this.schedulePreview();
    });
    return h(
      "div",
      { class: "wfe-timing" },
      h("span", { class: "field-label" }, "When"),
      h("div", { class: "wfe-inline" }, amount, unitSel, dir, anchor),
      t.anchor === "start" || t.catch_up_min_lead_minutes != null
        ? h("label", { class: "wfe-inline small" }, "Booked late: send at booking if the visit is at least", lead, "minutes ahead (blank: skip)")
        : null,
    );
  }

  private conditionFields(step: StepDefinition): HTMLElement {
    const d = this.detail!;
    const box = h("div", { class: "wfe-conditions" });
    const draw = (): void => {
      replace(
        box,
        h("span", { class: "field-label" }, "Only if (checked again when it is due)"),
        step.conditions.length === 0 ? h("p", { class: "muted small" }, "No conditions: always.") : null,
        ...step.conditions.map((c, i) => {
          const field = h("select", { "aria-label": "Field", "data-testid": "condition-field" }, ...d.condition_fields.map((f) => option(f, f.replace(".", ": ").replace(/_/g, " "), f === c.field)));
          const op = h("select", { "aria-label": "Test", "data-testid": "condition-op" }, ...d.condition_ops.map((o) => option(o, OP_LABELS[o] ?? o.replace(/_/g, " "), o === c.op)));
          const value = h("input", { type: "text", value: valueText(c.value), "aria-label": "Value", "data-testid": "condition-value", hidden: NO_VALUE_OPS.has(c.op) });
          const sync = (): void => {
            c.field = field.value;
            c.op = op.value;
            value.hidden = NO_VALUE_OPS.has(c.op);
            c.value = parseValue(c.op, value.value);
            this.schedulePreview();
          };
          field.addEventListener("change", sync);
          op.addEventListener("change", sync);
          value.addEventListener("input", sync);
          const remove = h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": "Remove this condition", onclick: () => {
            step.conditions.splice(i, 1);
            draw();
            this.schedulePreview();
          } }, "✕");
          return h("div", { class: "wfe-inline wfe-condition", "data-testid": "condition" }, field, op, value, this.admin ? remove : null);
        }),
        this.admin
          ? h("button", { type: "button", class: "btn btn-ghost btn-small", "data-testid": "condition-add", onclick: () => {
              step.conditions.push({ field: d.condition_fields[0] ?? "appointment.status", op: "eq", value: "booked" });
              draw();
              this.schedulePreview();
            } }, "+ Add a condition")
          : null,
      );
    };
    draw();
    return box;
  }

  private actionFields(step: StepDefinition, index: number): HTMLElement {
    const a = step.action;
    const parts: HTMLElement[] = [this.select("Do", ACTIONS, a.type, (v) => {
      a.type = v;
      if (v === "enter_workflow") a.workflow = a.workflow ?? "";
    }, "action-type", true)];
    if (a.type === "enter_workflow") {
      parts.push(this.textField("Workflow to hand over to (id)", a.workflow ?? "", (v) => (a.workflow = v), "action-workflow"));
    } else {
      if (a.type !== "sms") {
        parts.push(this.select("Priority", [["normal", "Normal"], ["urgent", "Urgent"]], a.priority ?? "normal", (v) => (a.priority = v), "action-priority"));
      }
      for (const lang of LANGS) {
        if (a.type !== "sms" && lang.code !== "en" && !(lang.code in a.template)) continue;
        const area = h("textarea", { rows: 4, "data-testid": `template-${lang.code}`, "aria-label": `${lang.label} text of step ${index + 1}` }, a.template[lang.code] ?? "");
        area.addEventListener("input", () => {
          a.template[lang.code] = area.value;
          this.schedulePreview();
        });
        const box = h("div", { class: "wfe-preview", "data-testid": `preview-${lang.code}`, "aria-live": "polite" }, this.admin ? "…" : null);
        if (this.admin) this.previewBoxes.set(`${index}:${lang.code}`, box);
        parts.push(h("div", { class: "wfe-template" }, h("label", { class: "field" }, h("span", { class: "field-label" }, `${lang.label} text`), area), this.admin ? box : null));
      }
      parts.push(h("p", { class: "muted small" }, `Fields: ${this.detail!.template_fields.map((f) => `{{ ${f} }}`).join(" ")}`));
    }
    return h("div", { class: "wfe-action" }, ...parts);
  }

  // ---- live preview ---------------------------------------------------------------------------------------

  private schedulePreview(delay = 300): void {
    if (!this.admin) return;
    window.clearTimeout(this.previewTimer);
    this.previewTimer = window.setTimeout(() => void this.preview(), delay);
  }

  private async preview(): Promise<void> {
    const seq = ++this.previewSeq;
    try {
      const out = await this.ctx.api.previewWorkflow(this.workflowId, this.def!);
      if (this.destroyed || seq !== this.previewSeq) return; // a newer edit's preview is on its way
      this.showPreview(out);
    } catch (err) {
      if (!(err instanceof SessionEnded) && seq === this.previewSeq) {
        this.validity.className = "wfe-validity wfe-bad";
        this.validity.textContent = errorMessage(err);
      }
    }
  }

  private showPreview(out: WorkflowPreview): void {
    this.validity.className = `wfe-validity ${out.valid ? "wfe-good" : "wfe-bad"}`;
    this.validity.textContent = out.valid ? `Ready to save · previewed for ${out.patient} (a sample patient)` : `Can't be saved yet: ${out.error ?? ""}`;
    for (const step of out.steps) {
      for (const t of step.texts) {
        const box = this.previewBoxes.get(`${step.index}:${t.language}`);
        if (box) replace(box, ...this.previewText(t));
      }
    }
  }

  private previewText(t: TextPreview): (HTMLElement | null)[] {
    if (t.error || t.text === null) return [h("p", { class: "wfe-preview-error", "data-testid": "preview-error" }, t.error ?? "Nothing to show")];
    const over = t.warning !== null;
    return [
      h("p", { class: "wfe-bubble", "data-testid": "preview-text" }, t.text),
      h(
        "p",
        { class: `wfe-parts${over ? " wfe-over" : ""}`, "data-testid": "preview-parts", "data-parts": t.parts, "data-encoding": t.encoding },
        `${t.parts} SMS part${t.parts === 1 ? "" : "s"} · ${t.encoding} · ${t.characters} characters`,
      ),
      t.warning ? h("p", { class: "wfe-warning", role: "note", "data-testid": "preview-warning" }, `⚠ ${t.warning}`) : null,
    ];
  }

  // ---- save, undo ----------------------------------------------------------------------------------------

  private saveBar(): HTMLElement {
    const save = h("button", { type: "button", class: "btn btn-primary", "data-testid": "workflow-save" }, "Save as a new version");
    const reset = h("button", { type: "button", class: "btn btn-secondary", "data-testid": "workflow-reset" }, "Discard changes");
    const error = h("p", { class: "form-error", role: "alert", "data-testid": "editor-error" });
    save.addEventListener("click", () => void this.save(save, error));
    reset.addEventListener("click", () => {
      this.def = clone(this.detail!.definition);
      this.render();
    });
    return h("section", { class: "card wfe-savebar", "data-testid": "editor-savebar" }, this.validity, error,
      h("div", { class: "wfe-inline" }, save, reset, this.undoBox));
  }

  private async save(button: HTMLButtonElement, error: HTMLElement): Promise<void> {
    error.textContent = "";
    const why = await askReason(`Save ${this.def!.name} as a new version?`, "Save", "Saved versions go live at once for texts not yet sent.");
    if (why === null) return;
    button.disabled = true;
    try {
      const saved = await this.ctx.api.saveWorkflow(this.workflowId, this.def!, why);
      this.ctx.notify(`Saved ${saved.name} as v${saved.version}`);
      await this.reloadAfterChange(saved.version);
    } catch (err) {
      if (!(err instanceof SessionEnded)) error.textContent = errorMessage(err);
    } finally {
      button.disabled = false;
    }
  }

  private async reloadAfterChange(version: number): Promise<void> {
    this.detail = await this.ctx.api.workflowDetail(this.workflowId);
    if (this.destroyed) return;
    this.def = clone(this.detail.definition);
    this.render();
    const undo = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "editor-undo" }, `Undo v${version} (back to v${version - 1})`);
    undo.addEventListener("click", () => void this.undo(version, undo));
    replace(this.undoBox, undo);
    void this.loadHistory();
  }

  private async undo(version: number, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const restored = await this.ctx.api.undoWorkflow(this.workflowId, version);
      this.ctx.notify(`Undone: v${restored.version} restores v${version - 1}`);
      replace(this.undoBox); // the undo is itself a version: the history has it, nothing more to undo here
      this.detail = await this.ctx.api.workflowDetail(this.workflowId);
      this.def = clone(this.detail.definition);
      this.render();
      void this.loadHistory();
    } catch (err) {
      button.disabled = false;
      if (!(err instanceof SessionEnded)) this.ctx.notify(`Couldn't undo. ${errorMessage(err)}`, "error");
    }
  }

  // ---- history -------------------------------------------------------------------------------------------

  private async loadHistory(): Promise<void> {
    replace(this.historyBox, spinner("Loading history…"));
    try {
      const versions = await this.ctx.api.workflowChanges(this.workflowId);
      if (this.destroyed) return;
      replace(this.historyBox, h("ol", { class: "wfe-versions" }, ...versions.map((v) => this.versionItem(v))));
    } catch (err) {
      if (!this.destroyed && !(err instanceof SessionEnded)) replace(this.historyBox, errorPanel(err, () => void this.loadHistory()));
    }
  }

  private stepLabel(id: string | null): string {
    if (!id) return "";
    const step = this.def?.steps.find((s) => s.id === id);
    return step?.name || id;
  }

  private versionItem(v: WorkflowVersion): HTMLElement {
    return h(
      "li",
      { class: "wfe-version", "data-testid": "history-version", "data-version": v.version },
      h(
        "p",
        { class: "wfe-version-head" },
        h("strong", null, `v${v.version}`),
        ` · ${v.by}`,
        v.at ? ` · ${this.ctx.fmt.dateTime(v.at)}` : "",
        h("span", { class: "wfe-why", "data-testid": "history-why" }, ` · “${v.why}”`),
      ),
      v.changes.length
        ? h(
            "ul",
            { class: "wfe-changes" },
            ...v.changes.map((c) =>
              h(
                "li",
                { "data-testid": "history-change", "data-field": c.field },
                h("span", { class: "wfe-change-field" }, [this.stepLabel(c.step), FIELD_LABELS[c.field] ?? c.field].filter(Boolean).join(" › ")),
                h("span", { class: "wfe-old" }, shown(c.old)),
                h("span", { class: "wfe-arrow", "aria-label": "changed to" }, " → "),
                h("span", { class: "wfe-new" }, shown(c.new)),
              ),
            ),
          )
        : h("p", { class: "muted small" }, v.version === 1 ? "The first version." : "No field changed."),
    );
  }

  // ---- dry run -------------------------------------------------------------------------------------------

  private dryRunSection(): HTMLElement {
    const days = h("select", { "data-testid": "dryrun-days", "aria-label": "Days ahead" },
      ...Array.from({ length: 14 }, (_, i) => option(String(i + 1), `${i + 1} day${i ? "s" : ""}`, i + 1 === 7)));
    const run = h("button", { type: "button", class: "btn btn-secondary", "data-testid": "dryrun-run" }, "Dry run");
    run.addEventListener("click", () => void this.dryRun(Number(days.value), run));
    return h(
      "section",
      { class: "card wfe-section" },
      h("h2", { class: "wfe-h" }, "Dry run on the real schedule"),
      h("p", { class: "muted small" }, "Who would get what if this version went live: the real planner and gates over a copy of the upcoming visits. Nothing is sent."),
      h("div", { class: "wfe-inline" }, h("span", null, "Next"), days, run),
      this.dryRunBox,
    );
  }

  private async dryRun(days: number, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    replace(this.dryRunBox, spinner("Running the schedule…"));
    try {
      const report = await this.ctx.api.dryRunWorkflow(this.workflowId, this.def!, days);
      if (!this.destroyed) replace(this.dryRunBox, ...this.dryRunReport(report));
    } catch (err) {
      if (!this.destroyed && !(err instanceof SessionEnded)) replace(this.dryRunBox, h("p", { class: "form-error", role: "alert" }, errorMessage(err)));
    } finally {
      button.disabled = false;
    }
  }

  private dryRunReport(r: DryRunReport): HTMLElement[] {
    const held = r.held.reduce((n, g) => n + g.count, 0);
    return [
      h("p", { class: "wfe-dry-summary", "data-testid": "dryrun-summary" },
        `${r.would_send} would be sent, ${held} held, in the next ${r.days} day${r.days === 1 ? "" : "s"}`),
      h(
        "div",
        { class: "wfe-dry-counts" },
        h("ul", { "aria-label": "Per step" }, ...r.per_step.map((s) => h("li", null, `${this.stepLabel(s.step)}: ${s.count}`))),
        h("ul", { "aria-label": "Per day" }, ...r.per_day.map((d) => h("li", null, `${this.ctx.fmt.dayHeading(`${d.day}T17:00:00Z`)}: ${d.count}`))),
        r.held.length ? h("ul", { "aria-label": "Held by" }, ...r.held.map((g) => h("li", null, `held by ${g.gate}: ${g.count}`))) : null,
      ),
      r.rows.length === 0
        ? h("p", { class: "muted" }, "Nobody: no step of this workflow comes due in that time.")
        : h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "table wfe-dry-table" },
              h("thead", null, h("tr", null, h("th", null, "Patient"), h("th", null, "Visit"), h("th", null, "Step"), h("th", null, "When"), h("th", null, "Text, or what holds it"))),
              h(
                "tbody",
                null,
                ...r.rows.map((row) =>
                  h(
                    "tr",
                    { "data-testid": "dryrun-row", "data-outcome": row.outcome },
                    h("td", { "data-label": "Patient" }, row.patient),
                    h("td", { "data-label": "Visit" }, row.appointment ?? "—"),
                    h("td", { "data-label": "Step" }, this.stepLabel(row.step)),
                    h("td", { "data-label": "When" }, row.at_text),
                    h("td", { "data-label": row.outcome === "send" ? "Text" : "Held", class: row.outcome === "held" ? "wfe-held" : null },
                      row.outcome === "send" ? [row.text ?? "", row.reason ? h("span", { class: "muted small" }, ` (${row.reason})`) : null]
                        : `Held: ${row.gate ?? ""}${row.reason ? ` (${row.reason})` : ""}`),
                  ),
                ),
              ),
            ),
          ),
      r.truncated ? h("p", { class: "muted small" }, `Showing the first ${r.rows.length} of ${r.total}.`) : h("span"),
    ];
  }

  // ---- test send -----------------------------------------------------------------------------------------

  private testSendSection(): HTMLElement {
    const d = this.detail!;
    const texts = this.def!.steps.filter((s) => s.action.type === "sms");
    if (d.test_contacts.length === 0) {
      return h("section", { class: "card wfe-section" }, h("h2", { class: "wfe-h" }, "Test send"),
        h("p", { class: "muted" }, "No test contacts: add staff phones to test_contacts in the practice profile."));
    }
    const step = h("select", { "data-testid": "testsend-step", "aria-label": "Step" }, ...texts.map((s, i) => option(s.id, s.name || s.id, i === 0)));
    const lang = h("select", { "data-testid": "testsend-language", "aria-label": "Language" }, ...LANGS.map((l) => option(l.code, l.label, l.code === "en")));
    const phone = h("select", { "data-testid": "testsend-phone", "aria-label": "Test contact" }, ...d.test_contacts.map((p, i) => option(p, formatPhone(p), i === 0)));
    const send = h("button", { type: "button", class: "btn btn-secondary", "data-testid": "testsend-send" }, "Send test");
    send.addEventListener("click", () => void this.testSend(step.value, lang.value, phone.value, send));
    return h(
      "section",
      { class: "card wfe-section" },
      h("h2", { class: "wfe-h" }, "Test send"),
      h("p", { class: "muted small" }, "The text as edited, for the sample patient, through the real send path to one of the practice's test contacts only. Marked as a test: analytics leave it out."),
      h("div", { class: "wfe-inline wfe-wrap" }, step, lang, phone, send),
      this.testResult,
    );
  }

  private async testSend(step: string, language: string, phone: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    this.testResult.textContent = "";
    try {
      const sent = await this.ctx.api.testSendWorkflow(this.workflowId, this.def!, step, language, phone);
      this.testResult.textContent = `Test text queued to ${formatPhone(sent.to)}.`;
      this.ctx.notify(`Test text sent to ${formatPhone(sent.to)}`);
    } catch (err) {
      if (!(err instanceof SessionEnded)) this.testResult.textContent = `Not sent: ${errorMessage(err)}`;
    } finally {
      button.disabled = false;
    }
  }
}
