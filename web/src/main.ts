// Entry point: loads /config.json, signs in (or resumes the session), then runs the hash router
// (#/inbox, #/inbox/<patient>, #/patients, #/patients/<patient>, #/workflows, #/analytics, #/staff) inside the app shell.
import { Api, SessionEnded } from "./api";
import { clearSession, loadSession, needsRefresh, refreshSession, saveSession, signOutRemote, type Session } from "./auth";
import { AppClock, ConfigError, loadConfig } from "./config";
import { h, icon, ICONS, replace } from "./dom";
import { Formatter } from "./format";
import { AnalyticsPage } from "./pages/analytics";
import { InboxPage } from "./pages/inbox";
import { PatientPage } from "./pages/patient";
import { PatientsPage } from "./pages/patients";
import { StaffPage } from "./pages/staff";
import { WorkflowEditorPage } from "./pages/workflow-editor";
import { WorkflowsPage } from "./pages/workflows";
import { renderSignIn } from "./signin";
import type { AppConfig, Role } from "./types";
import { errorMessage, spinner, type Context, type Page, type Route } from "./ui";

// `roles`: who sees the nav item (careloop/roles.py decides what the API allows; this only hides)
const NAV: readonly { page: Route["page"]; label: string; icon: readonly string[]; roles?: readonly Role[] }[] = [
  { page: "inbox", label: "Inbox", icon: ICONS.inbox },
  { page: "patients", label: "Patients", icon: ICONS.patients },
  { page: "workflows", label: "Workflows", icon: ICONS.workflows, roles: ["admin", "front_desk"] },
  { page: "analytics", label: "Analytics", icon: ICONS.analytics, roles: ["admin", "billing"] },
  { page: "staff", label: "Staff", icon: ICONS.patients, roles: ["admin"] },
];

export function parseRoute(hash: string): Route | null {
  const [page, param] = hash.replace(/^#\/?/, "").split("/").map((s) => decodeURIComponent(s));
  if (page === "inbox" || page === "patients" || page === "workflows" || page === "analytics" || page === "staff") {
    return { page, param: param || null };
  }
  return null;
}

class App {
  private session: Session | null = loadSession();
  private refreshing: Promise<Session> | null = null;
  private page: Page | null = null;
  private route: Route | null = null;
  private main: HTMLElement | null = null;
  private ending = false;
  private pageFactory: ((route: Route) => Page) | null = null;
  private practiceName = "";
  private clockMoved = false; // the stack's clock jumped while a draft was open: redraw on navigation
  private readonly toast = h("div", { class: "toast", role: "status", "aria-live": "polite", "data-testid": "toast" });
  private toastTimer: number | undefined;
  private readonly onHashChange = (): void => this.routeChanged();

  constructor(
    private readonly root: HTMLElement,
    private readonly config: AppConfig,
    private readonly clock: AppClock,
  ) {}

  start(): void {
    if (this.session) void this.enter();
    else this.showSignIn(null);
  }

  // ---- session ------------------------------------------------------------------------------------

  private showSignIn(notice: string | null): void {
    window.removeEventListener("hashchange", this.onHashChange);
    this.page?.destroy();
    this.page = null;
    this.main = null;
    renderSignIn(this.root, this.config, {
      notice,
      onSignedIn: (session) => {
        this.session = session;
        saveSession(session);
        this.ending = false;
        void this.enter();
      },
    });
    this.root.append(this.toast);
  }

  /** A current ID token; refreshed through Cognito shortly before it expires. */
  private async token(): Promise<string> {
    const s = this.session;
    if (!s) throw new SessionEnded();
    if (!needsRefresh(s)) return s.idToken;
    this.refreshing ??= refreshSession(this.config.cognito, s).finally(() => (this.refreshing = null));
    const fresh = await this.refreshing;
    this.session = fresh;
    saveSession(fresh);
    return fresh.idToken;
  }

  private sessionEnded(): void {
    if (this.ending) return;
    this.ending = true;
    this.session = null;
    clearSession();
    this.showSignIn("Your session has ended. Please sign in again.");
  }

  private async signOut(): Promise<void> {
    const s = this.session;
    this.ending = true;
    this.session = null;
    clearSession();
    this.showSignIn("You have signed out.");
    if (s) await signOutRemote(this.config.cognito, s);
  }

  // ---- shell ----------------------------------------------------------------------------------------

  private async enter(): Promise<void> {
    replace(this.root, h("div", { class: "boot" }, spinner("Opening Careloop…")));
    const api = new Api({ base: this.config.apiBase, token: () => this.token(), onSessionEnded: () => this.sessionEnded() });
    let me;
    try {
      me = await api.me();
    } catch (err) {
      if (err instanceof SessionEnded) return;
      replace(
        this.root,
        h(
          "main",
          { class: "boot", id: "main" },
          h("div", { class: "error-panel", role: "alert" }, h("p", null, `Couldn't open Careloop. ${errorMessage(err)}`)),
          h("button", { type: "button", class: "btn btn-primary", onclick: () => void this.enter() }, "Try again"),
          h("button", { type: "button", class: "btn btn-link", onclick: () => void this.signOut() }, "Sign out"),
        ),
      );
      return;
    }
    const practiceName = me.practice.name || this.config.practiceName || "Careloop";
    const ctx: Context = {
      config: this.config,
      api,
      me,
      fmt: new Formatter(me.practice.timezone, "en-US", { now: this.clock.now }),
      notify: (message, tone) => this.notify(message, tone),
      navigate: (hash) => {
        location.hash = hash;
      },
    };
    const user = me.email || me.username || this.session?.email || "";
    const zone = ctx.fmt.zoneAbbreviation();
    this.main = h("main", { id: "main", class: "main", tabindex: "-1" });
    replace(
      this.root,
      h("a", { href: "#main", class: "skip-link", onclick: (e: MouseEvent) => { e.preventDefault(); this.main?.focus(); } }, "Skip to content"),
      h(
        "div",
        { class: "shell" },
        h(
          "header",
          { class: "topbar", "data-testid": "app-header" },
          h(
            "div",
            { class: "brand" },
            h("span", { class: "brand-mark", "aria-hidden": "true" }, "C"),
            h("span", { class: "brand-name" }, "Careloop"),
          ),
          h(
            "div",
            { class: "practice" },
            h("span", { class: "practice-name", "data-testid": "practice-name" }, practiceName),
            zone ? h("span", { class: "practice-zone", title: `The practice's clock: ${me.practice.timezone || "your time zone"}` }, zone) : null,
          ),
          h(
            "div",
            { class: "user" },
            h("span", { class: "user-name", "data-testid": "user-name", title: user }, user),
            h(
              "button",
              { type: "button", class: "btn btn-ghost", "data-testid": "signout", "aria-label": "Sign out", onclick: () => void this.signOut() },
              icon(ICONS.signOut),
              h("span", { class: "signout-label" }, "Sign out"),
            ),
          ),
        ),
        h(
          "nav",
          { class: "sidenav", "aria-label": "Main" },
          h(
            "ul",
            null,
            ...NAV.filter((n) => !n.roles || n.roles.some((r) => me.roles.includes(r))).map((n) =>
              h(
                "li",
                null,
                h("a", { href: `#/${n.page}`, class: "nav-link", "data-testid": `nav-${n.page}`, "data-page": n.page }, icon(n.icon), h("span", null, n.label)),
              ),
            ),
          ),
        ),
        this.main,
      ),
      this.toast,
    );
    window.addEventListener("hashchange", this.onHashChange);
    this.pageFactory = (route) => {
      switch (route.page) {
        case "inbox":
          return new InboxPage(ctx, route);
        case "patients":
          return route.param ? new PatientPage(ctx, route.param) : new PatientsPage(ctx); // #/patients/<id>: one patient
        case "workflows":
          return route.param ? new WorkflowEditorPage(ctx, route.param) : new WorkflowsPage(ctx); // #/workflows/<id>: the editor
        case "analytics":
          return new AnalyticsPage(ctx);
        case "staff":
          return new StaffPage(ctx);
      }
    };
    this.practiceName = practiceName;
    this.routeChanged(true);
    // the local stack's clock was advanced: pages redraw so "Today" and the periods follow it
    this.clock.follow(() => this.redraw());
  }

  private redraw(): void {
    if (!this.main || !this.pageFactory) return;
    // a half-written reply or note is not thrown away: the page redraws on the next navigation
    const draft = [...this.main.querySelectorAll<HTMLTextAreaElement | HTMLInputElement>("textarea, input[type=text]")]
      .some((el) => el.value.trim() !== "");
    if (draft) {
      this.clockMoved = true;
      return;
    }
    this.clockMoved = false;
    this.page?.destroy();
    this.page = null;
    this.routeChanged(true);
  }

  private routeChanged(initial = false): void {
    if (!this.main || !this.pageFactory) return;
    let route = parseRoute(location.hash);
    if (!route) {
      history.replaceState(null, "", "#/inbox"); // no hashchange event, no extra history entry
      route = { page: "inbox", param: null };
    }
    const label = NAV.find((n) => n.page === route.page)!.label;
    document.title = `${label} · ${this.practiceName} · Careloop`;
    for (const a of this.root.querySelectorAll<HTMLAnchorElement>(".nav-link")) {
      if (a.dataset["page"] === route.page) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    if (this.clockMoved) {
      this.clockMoved = false;
      this.page?.destroy();
      this.page = null;
    }
    if (this.page && this.route?.page === route.page && this.page.update?.(route)) {
      this.route = route;
      return;
    }
    this.page?.destroy();
    this.route = route;
    this.page = this.pageFactory(route);
    replace(this.main, this.page.root);
    if (!initial) this.page.root.querySelector<HTMLElement>("h1")?.focus({ preventScroll: true });
  }

  private notify(message: string, tone: "ok" | "error" = "ok"): void {
    this.toast.textContent = message;
    this.toast.dataset["tone"] = tone;
    this.toast.classList.add("toast-show");
    window.clearTimeout(this.toastTimer);
    this.toastTimer = window.setTimeout(() => this.toast.classList.remove("toast-show"), tone === "error" ? 8000 : 4000);
  }
}

async function boot(): Promise<void> {
  const root = document.getElementById("app");
  if (!root) return;
  try {
    const config = await loadConfig();
    const clock = new AppClock(config.devClock);
    await clock.sync();
    new App(root, config, clock).start();
  } catch (err) {
    replace(
      root,
      h(
        "main",
        { class: "boot", id: "main" },
        h(
          "div",
          { class: "error-panel", role: "alert" },
          h("p", null, "Careloop can't start: its configuration could not be loaded."),
          h("p", { class: "muted" }, err instanceof ConfigError ? err.message : "unexpected error"),
        ),
        h("button", { type: "button", class: "btn btn-primary", onclick: () => location.reload() }, "Reload"),
      ),
    );
  }
}

void boot();
