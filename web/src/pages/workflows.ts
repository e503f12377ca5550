// Workflows: one card per workflow with an on/off switch, its version, trigger and steps.
import { SessionEnded } from "../api";
import { h, replace } from "../dom";
import { humanize } from "../format";
import type { Workflow } from "../types";
import { badge, emptyState, errorMessage, errorPanel, pageHeading, spinner, type Context, type Page } from "../ui";

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

  private card(w: Workflow): HTMLElement {
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
        disabled: !this.ctx.me.roles.includes("admin"),
        title: this.ctx.me.roles.includes("admin") ? null : "Only an admin can switch workflows",
      },
      h("span", { class: "switch-track", "aria-hidden": "true" }, h("span", { class: "switch-thumb" })),
    );
    const state = h("span", { class: "switch-label", id: `${titleId}-state` }, w.enabled ? "On" : "Off");
    const card = h(
      "article",
      { class: `card wf${w.enabled ? "" : " wf-off"}`, "data-testid": "workflow-card", "data-workflow-id": w.id, "aria-labelledby": titleId },
      h(
        "header",
        { class: "wf-head" },
        h("h2", { id: titleId, class: "wf-name wf-title" }, w.name),
        h("div", { class: "wf-switch" }, state, toggle),
      ),
      h(
        "p",
        { class: "wf-meta" },
        badge(`v${w.version}`, "neutral", "workflow-version"),
        w.trigger ? h("span", { class: "muted" }, `Starts when: ${humanize(w.trigger)}`) : null,
      ),
      w.description ? h("p", { class: "wf-desc" }, w.description) : null,
      w.steps.length
        ? h(
            "ol",
            { class: "steps", "aria-label": `Steps of ${w.name}` },
            ...w.steps.map((s) => h("li", { "data-step-id": s.id }, s.summary)),
          )
        : null,
    );
    toggle.addEventListener("click", () => void this.toggle(w, card));
    return card;
  }

  private async toggle(w: Workflow, card: HTMLElement): Promise<void> {
    const toggle = card.querySelector<HTMLButtonElement>("[role=switch]")!;
    const wanted = !w.enabled;
    // Not optimistic: the switch moves only once the server has answered, so what it shows is what runs.
    toggle.disabled = true;
    toggle.setAttribute("aria-busy", "true");
    try {
      const updated = (await this.ctx.api.setWorkflowEnabled(w.id, wanted)) ?? { ...w, enabled: wanted };
      const next = this.card(updated);
      card.replaceWith(next);
      next.querySelector<HTMLElement>("[role=switch]")?.focus();
      this.ctx.notify(`${updated.name} turned ${updated.enabled ? "on" : "off"}`);
    } catch (err) {
      toggle.removeAttribute("aria-busy");
      toggle.disabled = false;
      if (!(err instanceof SessionEnded)) this.ctx.notify(`Couldn't change ${w.name}. ${errorMessage(err)}`, "error");
    }
  }
}
