// Shared pieces of the staff app: the page context, badges, loading / empty / error states, the toast.
import type { Api } from "./api";
import { ApiError, SessionEnded } from "./api";
import { h, icon, ICONS } from "./dom";
import type { Formatter } from "./format";
import type { AppConfig, Me } from "./types";

export interface Route {
  page: "inbox" | "patients" | "workflows" | "analytics" | "staff";
  /** The second path segment, e.g. the patient id in #/inbox/<id>. */
  param: string | null;
}

export interface Context {
  config: AppConfig;
  api: Api;
  me: Me;
  fmt: Formatter;
  /** Announces a short message to everyone (visible toast + polite live region). */
  notify: (message: string, tone?: "ok" | "error") => void;
  navigate: (hash: string) => void;
}

export interface Page {
  readonly root: HTMLElement;
  /** Called when only the route's parameter changed; return false to be rebuilt instead. */
  update?(route: Route): boolean;
  destroy(): void;
}

type Tone = "neutral" | "info" | "ok" | "warn" | "danger";

export function badge(text: string, tone: Tone = "neutral", testid?: string): HTMLSpanElement {
  return h("span", { class: `badge badge-${tone}`, "data-testid": testid }, text);
}

export function spinner(label = "Loading…"): HTMLElement {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), h("span", null, label));
}

export function emptyState(title: string, detail?: string): HTMLElement {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, title), detail ? h("p", { class: "muted" }, detail) : null);
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return "Something went wrong. Please try again.";
}

/** An inline error with a retry button; nothing is shown for SessionEnded (sign-in takes over). */
export function errorPanel(err: unknown, retry?: () => void): HTMLElement | null {
  if (err instanceof SessionEnded) return null;
  return h(
    "div",
    { class: "error-panel", role: "alert", "data-testid": "page-error" },
    icon(ICONS.alert),
    h("p", null, errorMessage(err)),
    retry ? h("button", { type: "button", class: "btn btn-secondary btn-small", onclick: retry }, "Try again") : null,
  );
}

/** The page heading: focused after navigation so screen readers announce the new page. */
export function pageHeading(text: string, ...extra: (Node | null)[]): HTMLElement {
  return h(
    "div",
    { class: "page-head" },
    h("h1", { tabindex: "-1", class: "page-title" }, text),
    ...extra.filter((n): n is Node => n !== null),
  );
}

export function visuallyHidden(text: string): HTMLSpanElement {
  return h("span", { class: "sr-only" }, text);
}
