// Workflows: one card per workflow in words people use (when it starts, its steps by name, each text's
// first words; ids only as secondary text), an on/off switch that asks why and can be undone, and a link to the editor.
import { SessionEnded } from "../api";
import { h, replace } from "../dom";
import type { Workflow } from "../types";
import { badge, emptyState, errorMessage, errorPanel, pageHeading, spinner, type Context, type Page } from "../ui";

/** A small modal asking why (required); resolves to the reason, or null when cancelled. */
export function askReason(title: string, confirmLabel: string, hint: string): Promise<string | null> {
  return new Promise((resolve) => {
    const input = h("textarea", {
      class: "reason-input", rows: 2, "aria-required": "true", maxlength: 300, "data-testid": "reason-input",
      "aria-describedby": "reason-hint", placeholder: "e.g. Patients asked for a shorter text",
    });
    const error = h("p", { class: "reason-error", role: "alert", "data-testid": "reason-error" });
    const confirm = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "reason-confirm" }, confirmLabel);
    const cancel = h("button", { type: "button", class: "btn btn-secondary", "data-testid": "reason-cancel" }, "Cancel");
    const form = h(
      "form",
      { method: "dialog", class: "reason-form" },
      h("h2", { class: "reason-title", id: "reason-title" }, title),
      h("label", { class: "field-label" }, "Why? (kept with the change)", input),
      h("p", { class: "muted small", id: "reason-hint" }, hint),
      error,
      h("div", { class: "reason-actions" }, cancel, confirm),
    );
    const dialog = h("dialog", { class: "reason-dialog", "aria-labelledby": "reason-title", "data-testid": "reason-dialog" }, form);
    let done = false;
    const finish = (value: string | null): void => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const why = input.value.trim();
      if (!why) {
        error.textContent = "A reason is required.";
        input.focus();
        return;
      }
      finish(why);
    });
    cancel.addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", () => finish(null));
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

export class WorkflowsPage implements Page {
  readonly root: HTMLElement;
  private readonly body = h("div", { class: "page-body" });
  private destroyed = false;

  constructor(private readonly ctx: Context) {
    this.root = h(
      "div",
      { class: "page" },
      pageHeading("Workflows", h("p", { class: "page-sub" }, "Automated texts and tasks. Turning one off stops anything it has not sent yet.")),
      this.body,
    );
    void this.load();
  }

  destroy(): void {
    this.destroyed = true;
  }

  private get admin(): boolean {
    return this.ctx.me.roles.includes("admin");
  }

  private async load(): Promise<void> {
    replace(this.body, spinner("Loading workflows…"));
    try {
      const workflows = await this.ctx.api.workflows();
      if (this.destroyed) return;
      replace(
        this.body,
        workflows.length === 0
          ? emptyState("No workflows configured")
          : h("ul", { class: "cards", "data-testid": "workflow-list" }, ...workflows.map((w) => h("li", null, this.card(w)))),
      );
    } catch (err) {
      if (!this.destroyed && !(err instanceof SessionEnded)) replace(this.body, errorPanel(err, () => void this.load()));
    }
  }

  private card(w: Workflow, undoOf: number | null = null): HTMLElement {
    const titleId = `wf-${w.id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const toggle = h(
      "button",
      {
        type: "button",
        role: "switch",
        class: "switch",
        "aria-checked": String(w.enabled),
        "aria-labelledby": `${titleId} ${titleId}-state`,
        "data-testid": "workflow-toggle",
        // only admins switch workflows (careloop/roles.py); others see the state
        disabled: !this.admin,
        title: this.admin ? null : "Only an admin can switch workflows",
      },
      h("span", { class: "switch-track", "aria-hidden": "true" }, h("span", { class: "switch-thumb" })),
    );
    const state = h("span", { class: "switch-label", id: `${titleId}-state` }, w.enabled ? "On" : "Off");
    const undo =
      undoOf !== null && this.admin
        ? h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "workflow-undo" }, `Undo (back to v${undoOf - 1})`)
        : null;
    const card = h(
      "article",
      { class: `card wf${w.enabled ? "" : " wf-off"}`, "data-testid": "workflow-card", "data-workflow-id": w.id, "aria-labelledby": titleId },
      h(
        "header",
        { class: "wf-head" },
        h("h2", { id: titleId, class: "wf-name wf-title" }, h("a", { href: `#/workflows/${encodeURIComponent(w.id)}`, "data-testid": "workflow-open" }, w.name)),
        h("div", { class: "wf-switch" }, state, toggle),
      ),
      h(
        "p",
        { class: "wf-meta" },
        badge(`v${w.version}`, "neutral", "workflow-version"),
        w.starts ? h("span", { class: "wf-starts", "data-testid": "workflow-starts" }, w.starts) : null,
      ),
      w.description ? h("p", { class: "wf-desc" }, w.description) : null,
      w.steps.length
        ? h(
            "ol",
            { class: "steps", "aria-label": `Steps of ${w.name}` },
            ...w.steps.map((s) =>
              h(
                "li",
                { "data-step-id": s.id },
                h(
                  "div",
                  { class: "step-body" },
                  h("span", { class: "step-name", "data-testid": "step-name" }, s.name),
                  h("span", { class: "step-summary" }, ` · ${s.summary}`),
                  s.first_words ? h("span", { class: "step-words" }, `“${s.first_words}”`) : null,
                ),
              ),
            ),
          )
        : null,
      h(
        "footer",
        { class: "wf-foot" },
        h("span", { class: "wf-id muted small" }, `id: ${w.id}`),
        undo,
        h("a", { href: `#/workflows/${encodeURIComponent(w.id)}`, class: "btn btn-secondary btn-small", "data-testid": "workflow-edit" },
          this.admin ? "Edit" : "View"),
      ),
    );
    toggle.addEventListener("click", () => void this.toggle(w, card));
    undo?.addEventListener("click", () => void this.undo(w, card));
    return card;
  }

  private async toggle(w: Workflow, card: HTMLElement): Promise<void> {
    const toggle = card.querySelector<HTMLButtonElement>("[role=switch]")!;
    const wanted = !w.enabled;
    const why = await askReason(`Turn ${w.name} ${wanted ? "on" : "off"}?`, wanted ? "Turn on" : "Turn off",
      wanted ? "Booked visits get its steps from now on." : "Nothing it has not sent yet will go out.");
    if (why === null) {
      toggle.focus();
      return;
    }
    // Not optimistic: the switch moves only once the server has answered, so what it shows is what runs.
    toggle.disabled = true;
    toggle.setAttribute("aria-busy", "true");
    try {
      const updated = (await this.ctx.api.setWorkflowEnabled(w.id, wanted, why)) ?? { ...w, enabled: wanted };
      const next = this.card({ ...w, ...updated, starts: w.starts, steps: w.steps }, updated.version);
      card.replaceWith(next);
      next.querySelector<HTMLElement>("[role=switch]")?.focus();
      this.ctx.notify(`${updated.name} turned ${updated.enabled ? "on" : "off"}`);
    } catch (err) {
      toggle.removeAttribute("aria-busy");
      toggle.disabled = false;
      if (!(err instanceof SessionEnded)) this.ctx.notify(`Couldn't change ${w.name}. ${errorMessage(err)}`, "error");
    }
  }

  private async undo(w: Workflow, card: HTMLElement): Promise<void> {
    try {
      const restored = await this.ctx.api.undoWorkflow(w.id, w.version);
      const next = this.card({ ...w, ...restored, starts: w.starts, steps: w.steps });
      card.replaceWith(next);
      next.querySelector<HTMLElement>("[role=switch]")?.focus();
      this.ctx.notify(`Undone: ${restored.name} is ${restored.enabled ? "on" : "off"} again (v${restored.version})`);
    } catch (err) {
      if (!(err instanceof SessionEnded)) this.ctx.notify(`Couldn't undo. ${errorMessage(err)}`, "error");
    }
  }
}
