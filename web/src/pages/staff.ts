// Staff (admins): the practice's staff accounts with their role, inviting a new one (Cognito sends
// the invitation), changing a role, and the PHI access log's CSV export.
import { SessionEnded } from "../api";
import { h, icon, ICONS, replace } from "../dom";
import type { Role, StaffDirectory, StaffMember } from "../types";
import { badge, emptyState, errorMessage, errorPanel, pageHeading, spinner, type Context, type Page } from "../ui";

const ROLE_HINT: Record<Role, string> = {
  admin: "everything, including workflows, exports and staff",
  front_desk: "the front desk's conversations, unknown numbers, appointments",
  clinical: "clinical alerts and tasks, appointments",
  billing: "billing conversations, analytics",
};

export class StaffPage implements Page {
  readonly root: HTMLElement;
  private readonly body = h("div", { class: "page-body staff" });
  private destroyed = false;
  private roles: StaffDirectory["roles"] = [];

  constructor(private readonly ctx: Context) {
    const exportButton = h(
      "button",
      { type: "button", class: "btn btn-secondary", "data-testid": "access-log-export" },
      icon(ICONS.download),
      h("span", null, "Access log (CSV)"),
    );
    exportButton.addEventListener("click", () => void this.exportAccessLog(exportButton));
    this.root = h(
      "div",
      { class: "page" },
      pageHeading("Staff", h("p", { class: "page-sub" }, "Who can sign in, and what each role may see and do."), exportButton),
      this.body,
    );
    void this.load();
  }

  destroy(): void {
    this.destroyed = true;
  }

  private async load(): Promise<void> {
    replace(this.body, spinner("Loading staff…"));
    try {
      const dir = await this.ctx.api.staff();
      if (this.destroyed) return;
      this.roles = dir.roles;
      replace(this.body, this.inviteForm(), this.table(dir.staff));
    } catch (err) {
      if (!this.destroyed && !(err instanceof SessionEnded)) replace(this.body, errorPanel(err, () => void this.load()));
    }
  }

  private roleSelect(id: string, value: Role | null, label: string): HTMLSelectElement {
    const select = h(
      "select",
      { id, "aria-label": label, "data-testid": id.startsWith("invite") ? "invite-role" : "staff-role" },
      ...this.roles.map((r) => h("option", { value: r.id, title: ROLE_HINT[r.id] }, r.label)),
    );
    if (value) select.value = value;
    return select;
  }

  private inviteForm(): HTMLElement {
    const email = h("input", {
      type: "email", id: "invite-email", required: true, autocomplete: "off", placeholder: "name@practice.com",
      "data-testid": "invite-email",
    });
    const role = this.roleSelect("invite-role", "front_desk", "Role");
    const error = h("p", { class: "form-error", role: "alert", hidden: true, "data-testid": "invite-error" });
    const submit = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "invite-submit" }, "Send invitation");
    const hint = h("p", { class: "field-hint", id: "invite-role-hint" }, ROLE_HINT.front_desk);
    role.addEventListener("change", () => (hint.textContent = ROLE_HINT[role.value as Role] ?? ""));
    const form = h(
      "form",
      { class: "card invite", "data-testid": "invite-form", novalidate: true },
      h("h2", { class: "card-title" }, "Invite a staff member"),
      h(
        "div",
        { class: "invite-fields" },
        h("div", { class: "field" }, h("label", { for: "invite-email" }, "Email"), email),
        h("div", { class: "field" }, h("label", { for: "invite-role" }, "Role"), role, hint),
      ),
      error,
      h("div", { class: "invite-actions" }, submit),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.invite(email, role, error, submit);
    });
    return form;
  }

  private async invite(email: HTMLInputElement, role: HTMLSelectElement, error: HTMLElement, submit: HTMLButtonElement): Promise<void> {
    const address = email.value.trim();
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
      error.textContent = "Enter the new staff member's email address.";
      error.hidden = false;
      email.focus();
      return;
    }
    error.hidden = true;
    submit.disabled = true;
    try {
      const member = await this.ctx.api.inviteStaff(address, role.value as Role);
      this.ctx.notify(`Invitation sent to ${member.email || address}`);
      email.value = "";
      await this.load();
    } catch (err) {
      if (err instanceof SessionEnded) return;
      error.textContent = errorMessage(err);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  }

  private table(staff: StaffMember[]): HTMLElement {
    if (staff.length === 0) return emptyState("No staff accounts yet", "Invite the first one above.");
    return h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "table", "data-testid": "staff-table" },
        h("caption", { class: "table-caption" }, `Staff accounts (${staff.length})`),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "Email"), h("th", { scope: "col" }, "Role"), h("th", { scope: "col" }, "Status"))),
        h("tbody", null, ...staff.map((m) => this.row(m))),
      ),
    );
  }

  private row(m: StaffMember): HTMLElement {
    const id = `role-${m.username.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const select = this.roleSelect(id, m.roles[0] ?? null, `Role of ${m.email || m.username}`);
    if (m.roles.length === 0) select.prepend(h("option", { value: "", selected: true, disabled: true }, "No role"));
    const me = this.ctx.me;
    const mine = m.username === me.username || (m.email !== "" && m.email.toLowerCase() === me.email.toLowerCase());
    if (mine) select.disabled = true; // an admin does not demote themselves by accident
    select.addEventListener("change", () => void this.changeRole(m, select));
    const status = m.status === "FORCE_CHANGE_PASSWORD" ? badge("Invited", "info") : m.enabled ? badge("Active", "ok") : badge("Disabled", "warn");
    return h(
      "tr",
      { "data-testid": "staff-row", "data-email": m.email },
      h("th", { scope: "row", "data-label": "Email" }, h("span", null, m.email || m.username, mine ? h("span", { class: "muted" }, " (you)") : null)),
      h("td", { "data-label": "Role" }, h("span", null, select)),
      h("td", { "data-label": "Status" }, h("span", null, status)),
    );
  }

  private async changeRole(m: StaffMember, select: HTMLSelectElement): Promise<void> {
    const role = select.value as Role;
    select.disabled = true;
    try {
      await this.ctx.api.setStaffRole(m.username, role);
      m.roles = [role];
      const label = this.roles.find((r) => r.id === role)?.label ?? role;
      this.ctx.notify(`${m.email || m.username} is now ${label}`);
    } catch (err) {
      if (err instanceof SessionEnded) return;
      select.value = m.roles[0] ?? "";
      this.ctx.notify(`Couldn't change the role. ${errorMessage(err)}`, "error");
    } finally {
      select.disabled = false;
    }
  }

  private async exportAccessLog(button: HTMLButtonElement): Promise<void> {
    button.setAttribute("aria-busy", "true");
    try {
      const { blob, filename } = await this.ctx.api.accessLogCsv();
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: filename ?? "careloop-access-log.csv", hidden: true });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.ctx.notify("Access log downloaded");
    } catch (err) {
      if (!(err instanceof SessionEnded)) this.ctx.notify(`Couldn't export. ${errorMessage(err)}`, "error");
    } finally {
      button.removeAttribute("aria-busy");
    }
  }
}
