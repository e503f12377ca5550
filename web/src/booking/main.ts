// The page a patient opens from a booking link (/b/<token>): pick a visit, a day and a time, book.
// Talks only to the booking API at the same origin; shows only the practice's and the patient's first name.

import { Clock, knownZone, langOf, TEXT, type Lang, type Words } from "./text";

interface VisitType {
  id: string;
  name: string;
  minutes: number;
  /** Optional: the name in each language, so the switch renames the visits too. */
  names?: Partial<Record<Lang, string>>;
}
interface TypesAnswer {
  types: VisitType[];
  language?: string;
  practice?: string;
  first_name?: string;
}
interface Slot {
  start: string;
  end: string;
  provider: string;
  location: string;
  type: string;
}
interface SlotsAnswer {
  timezone: string;
  slots: Slot[];
}
interface BookAnswer {
  appointment: Slot & { id: string };
  status: "booked" | "requested";
}

/** How a failed call ends the flow: the link is gone, unknown, the time taken, or a retryable fault. */
type Failure = "expired" | "unknown" | "taken" | "error";

class ApiError extends Error {
  constructor(
    readonly failure: Failure,
    readonly slots: Slot[] = [],
  ) {
    super(failure);
  }
}

const FAILURE_OF: Record<number, Failure> = { 404: "unknown", 409: "taken", 410: "expired" };
const WINDOW_DAYS = 14;
/** How many next open times a 409 offers when its answer names none. */
const NEXT_OFFERED = 3;

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: { Accept: "application/json", ...init?.headers } });
  } catch {
    throw new ApiError("error");
  }
  const body: unknown = await res.json().catch(() => ({}));
  if (res.ok) return body as T;
  const slots = (body as { slots?: unknown }).slots;
  throw new ApiError(FAILURE_OF[res.status] ?? "error", Array.isArray(slots) ? (slots as Slot[]) : []);
}

// ---- state ------------------------------------------------------------------------------------------

interface State {
  token: string;
  lang: Lang;
  practice: string;
  firstName: string;
  types: VisitType[] | null;
  type: VisitType | null;
  timezone: string;
  from: string;
  slots: Slot[] | null;
  day: string | null;
  slot: Slot | null;
  busy: "" | "loading" | "booking";
  failure: Failure | null;
  /** After a 409: the next open times to offer instead. */
  offered: Slot[] | null;
  done: BookAnswer | null;
  retry: (() => void) | null;
}

function tokenFromUrl(): string {
  const match = /\/b\/([^/?#]+)/.exec(location.pathname);
  return decodeURIComponent(match?.[1] ?? new URLSearchParams(location.search).get("t") ?? "");
}

function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function addDays(day: string, days: number): string {
  const [y, m, d] = day.split("-").map(Number);
  return isoDay(new Date(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days));
}

const state: State = {
  token: tokenFromUrl(),
  lang: langOf(navigator.language) ?? "en",
  practice: "",
  firstName: "",
  types: null,
  type: null,
  timezone: "",
  from: isoDay(new Date()),
  slots: null,
  day: null,
  slot: null,
  busy: "loading",
  failure: null,
  offered: null,
  done: null,
  retry: null,
};

// ---- DOM helpers ------------------------------------------------------------------------------------

type Attrs = Record<string, string | boolean | ((ev: Event) => void)>;

function h(tag: string, attrs: Attrs = {}, ...children: (Node | string | null | false)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else if (value !== false) el.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== false) el.append(child);
  return el;
}

function button(label: Node | string, onClick: () => void, attrs: Attrs = {}): HTMLElement {
  return h("button", { type: "button", ...attrs, onclick: onClick }, label);
}

const root = document.getElementById("booking") as HTMLElement;
/** Where focus goes after the next render: the heading of the step just reached. */
let focusNext: string | null = null;

// ---- actions ----------------------------------------------------------------------------------------

function fail(err: unknown, retry: () => void, moveFocus = true): void {
  const failure = err instanceof ApiError ? err.failure : "error";
  state.busy = "";
  state.failure = failure;
  state.retry = failure === "error" ? retry : null;
  // On first load the alert role announces it; focus moves only after the patient acted.
  if (moveFocus) focusNext = "notice";
  render();
}

async function loadTypes(): Promise<void> {
  state.busy = "loading";
  state.failure = null;
  render();
  try {
    const answer = await call<TypesAnswer>(`/booking/api/types?t=${encodeURIComponent(state.token)}`);
    state.types = answer.types;
    state.practice = answer.practice ?? "";
    state.firstName = answer.first_name ?? "";
    state.lang = langOf(answer.language) ?? state.lang;
    state.busy = "";
    const only = answer.types.length === 1 ? answer.types[0] : undefined;
    if (only) return void chooseType(only);
    render(); // focus stays where the browser put it: nothing was chosen yet
  } catch (err) {
    fail(err, () => void loadTypes(), false);
  }
}

async function loadSlots(): Promise<void> {
  const type = state.type;
  if (!type) return;
  state.busy = "loading";
  state.failure = null;
  render();
  const query = new URLSearchParams({ t: state.token, type: type.id, from: state.from, days: String(WINDOW_DAYS) });
  try {
    const answer = await call<SlotsAnswer>(`/booking/api/slots?${query}`);
    if (state.type !== type) return; // the patient chose another visit meanwhile
    state.timezone = knownZone(answer.timezone) ? answer.timezone : "UTC";
    state.slots = uniqueStarts(answer.slots);
    state.busy = "";
    focusNext = "step";
    render();
  } catch (err) {
    fail(err, () => void loadSlots());
  }
}

/** Starts (epoch ms) at which more than one provider is free: the booking leaves the provider to the service. */
const shared = new Set<number>();

/** One button per time: several providers free at 10:00 are one choice for the patient. */
function uniqueStarts(slots: Slot[]): Slot[] {
  const seen = new Set<number>();
  return slots.filter((s) => {
    const at = new Date(s.start).getTime();
    if (seen.has(at)) {
      shared.add(at);
      return false;
    }
    seen.add(at);
    return true;
  });
}

function chooseType(type: VisitType): void {
  shared.clear();
  state.type = type;
  state.day = null;
  state.slot = null;
  state.slots = null;
  state.offered = null;
  state.from = isoDay(new Date());
  void loadSlots();
}

function chooseDay(day: string): void {
  state.day = day;
  state.slot = null;
  focusNext = "step";
  render();
}

function chooseSlot(slot: Slot): void {
  state.slot = slot;
  state.offered = null;
  state.failure = null;
  focusNext = "step";
  render();
}

function shiftDates(by: number): void {
  state.from = addDays(state.from, by);
  state.day = null;
  state.slot = null;
  void loadSlots();
}

function reset(to: "type" | "day"): void {
  if (to === "type") {
    state.type = null;
    state.slots = null;
  }
  state.day = null;
  state.slot = null;
  state.offered = null;
  state.failure = null;
  focusNext = "step";
  render();
}

async function book(): Promise<void> {
  const { slot, type } = state;
  if (!slot || !type || state.busy) return; // one tap books once
  state.busy = "booking";
  render();
  try {
    state.done = await call<BookAnswer>("/booking/api/book", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      // "provider" is optional: when several are free at that time, any of them will do, and one
      // taken a moment ago does not fail the booking.
      body: JSON.stringify({
        t: state.token, type: type.id, start: slot.start,
        ...(shared.has(new Date(slot.start).getTime()) ? {} : { provider: slot.provider }),
      }),
    });
    state.busy = "";
    focusNext = "step";
    render();
  } catch (err) {
    if (err instanceof ApiError && err.failure === "taken") return void taken(slot, err.slots);
    fail(err, () => void book());
  }
}

/** The time went to someone else: offer the next open ones (the 409's own list, else the next we know). */
function taken(lost: Slot, next: Slot[]): void {
  const lostAt = new Date(lost.start).getTime();
  const known = (state.slots ?? []).filter((s) => new Date(s.start).getTime() > lostAt);
  state.slots = (state.slots ?? []).filter((s) => new Date(s.start).getTime() !== lostAt);
  state.offered = uniqueStarts(next.length ? next : known).slice(0, next.length || NEXT_OFFERED);
  state.slot = null;
  state.busy = "";
  state.failure = "taken";
  focusNext = "notice";
  render();
}

function switchLanguage(): void {
  state.lang = state.lang === "en" ? "es" : "en";
  focusNext = "lang";
  render();
}

// ---- rendering --------------------------------------------------------------------------------------

function typeName(type: VisitType): string {
  return type.names?.[state.lang] ?? type.name;
}

function heading(text: string, level = "h2"): HTMLElement {
  // tabindex -1: focus moves here when a step opens, so a screen reader reads where the patient is.
  return h(level, { tabindex: "-1", "data-focus": "step" }, text);
}

function summary(w: Words, clock: Clock | null): HTMLElement | null {
  const { type, day } = state;
  if (!type || state.done) return null;
  const rows = [
    h("div", { class: "choice" }, h("dt", {}, w.visit), h("dd", {}, typeName(type)),
      button(w.change, () => reset("type"), { class: "link", "data-testid": "change-type", "aria-label": `${w.change}: ${w.visit}` })),
  ];
  if (day && clock && state.slots) {
    const first = state.slots.find((s) => clock.dayKey(s.start) === day);
    if (first) rows.push(
      h("div", { class: "choice" }, h("dt", {}, w.day), h("dd", {}, clock.dayOf(first.start)),
        button(w.change, () => reset("day"), { class: "link", "data-testid": "change-day", "aria-label": `${w.change}: ${w.day}` })),
    );
  }
  return h("dl", { class: "summary" }, ...rows);
}

function typeStep(w: Words): HTMLElement {
  const types = state.types ?? [];
  if (!types.length) return h("p", { class: "notice", "data-testid": "no-types" }, w.noTypes);
  return h("section", { "aria-labelledby": "step-types" },
    Object.assign(heading(w.chooseType), { id: "step-types" }),
    h("ul", { class: "options" }, ...types.map((t) =>
      h("li", {}, button(
        h("span", { class: "option" }, h("span", { class: "name" }, typeName(t)), h("span", { class: "meta" }, w.minutes(t.minutes))),
        () => chooseType(t), { "data-testid": `type-${t.id}` },
      )),
    )),
  );
}

function dayStep(w: Words, clock: Clock): HTMLElement {
  const byDay = new Map<string, Slot[]>();
  for (const s of state.slots ?? []) {
    const key = clock.dayKey(s.start);
    byDay.set(key, [...(byDay.get(key) ?? []), s]);
  }
  return h("section", { "aria-labelledby": "step-days" },
    Object.assign(heading(w.chooseDay), { id: "step-days" }),
    byDay.size
      ? h("ul", { class: "grid days" }, ...[...byDay].map(([key, slots]) =>
          h("li", {}, button(
            h("span", { class: "option" }, h("span", { class: "name" }, clock.shortDayOf(slots[0]!.start)),
              h("span", { class: "meta" }, w.times(slots.length))),
            () => chooseDay(key), { "data-testid": `day-${key}`, "aria-label": `${clock.dayOf(slots[0]!.start)}, ${w.times(slots.length)}` },
          )),
        ))
      : h("p", { class: "empty", "data-testid": "no-slots" }, w.noSlots),
    button(w.later, () => shiftDates(WINDOW_DAYS), { class: "secondary", "data-testid": "later" }),
    state.from > isoDay(new Date())
      ? button(w.earlier, () => shiftDates(-WINDOW_DAYS), { class: "secondary", "data-testid": "earlier" })
      : null,
  );
}

function timeButtons(slots: Slot[], clock: Clock, testid: string, withDay = false): HTMLElement {
  return h("ul", { class: "grid times" }, ...slots.map((s) =>
    h("li", {}, button(
      withDay ? `${clock.shortDayOf(s.start)}, ${clock.timeOf(s.start)}` : clock.timeOf(s.start),
      () => chooseSlot(s), { "data-testid": testid, "data-start": s.start },
    )),
  ));
}

function timeStep(w: Words, clock: Clock): HTMLElement {
  const slots = (state.slots ?? []).filter((s) => clock.dayKey(s.start) === state.day);
  return h("section", { "aria-labelledby": "step-times" },
    Object.assign(heading(w.chooseTime), { id: "step-times" }),
    timeButtons(slots, clock, "slot"),
  );
}

function confirmStep(w: Words, clock: Clock, slot: Slot): HTMLElement {
  const when = `${clock.dayOf(slot.start)}, ${clock.timeOf(slot.start)}`;
  return h("section", { class: "confirm", "aria-labelledby": "step-confirm" },
    Object.assign(heading(w.confirmTitle), { id: "step-confirm" }),
    h("p", { class: "when", "data-testid": "chosen" }, when),
    button(state.busy === "booking" ? w.booking : w.book(clock.timeOf(slot.start)), () => void book(), {
      class: "primary", "data-testid": "book", "aria-disabled": state.busy === "booking" ? "true" : "false",
    }),
    button(w.otherTime, () => chooseDay(clock.dayKey(slot.start)), { class: "secondary", "data-testid": "other-time" }),
  );
}

function doneStep(w: Words, answer: BookAnswer): HTMLElement {
  const clock = new Clock(state.timezone || "UTC", state.lang);
  const a = answer.appointment;
  const pending = answer.status === "requested";
  const type = state.types?.find((t) => t.id === a.type) ?? state.type;
  return h("section", { class: "done", "data-testid": "confirmation", "data-status": answer.status },
    heading(pending ? w.requestedTitle : w.bookedTitle, "h1"),
    h("p", { class: "when" }, `${clock.dayOf(a.start)}, ${clock.timeOf(a.start)}`),
    type ? h("p", { class: "what" }, typeName(type)) : null,
    h("p", {}, pending ? w.requested : w.booked),
  );
}

function failureView(w: Words, clock: Clock | null): HTMLElement | null {
  const failure = state.failure;
  if (!failure) return null;
  const views: Record<Failure, readonly [string, string, string]> = {
    expired: [w.expiredTitle, w.expired, "link-expired"],
    unknown: [w.unknownTitle, w.unknown, "link-unknown"],
    taken: [w.takenTitle, state.offered?.length ? w.taken : w.takenNone, "slot-taken"],
    error: [w.errorTitle, w.error, "error"],
  };
  const [title, body, testid] = views[failure];
  return h("div", { class: `notice ${failure}`, role: "alert", "data-testid": testid },
    // A dead link is the whole page, so its title is the page's heading.
    h(state.types ? "h2" : "h1", { tabindex: "-1", "data-focus": "notice" }, title),
    h("p", {}, body),
    failure === "taken" && clock && state.offered?.length ? timeButtons(state.offered, clock, "offered", true) : null,
    state.retry ? button(w.retry, state.retry, { class: "secondary", "data-testid": "retry" }) : null,
  );
}

function render(): void {
  const w = TEXT[state.lang];
  document.documentElement.lang = state.lang;
  document.title = state.practice ? `${w.title} · ${state.practice}` : w.title;
  const clock = state.timezone ? new Clock(state.timezone, state.lang) : null;
  const gone = state.failure === "expired" || state.failure === "unknown";

  const header = h("header", {},
    h("p", { class: "practice", "data-testid": "practice" }, state.practice),
    button(w.switchTo, switchLanguage, {
      class: "lang", lang: state.lang === "en" ? "es" : "en", "aria-label": w.switchLabel,
      "data-testid": "language", "data-focus": "lang",
    }),
  );
  const intro = state.done || gone ? null : h("div", { class: "intro" },
    h("h1", {}, w.title),
    h("p", { "data-testid": "greeting" }, state.firstName ? `${w.hello(state.firstName)} ${w.intro}` : w.intro.replace(/^./, (c) => c.toUpperCase())),
  );

  let body: (HTMLElement | null)[] = [];
  if (state.done) body = [doneStep(w, state.done)];
  else if (gone || (state.failure === "error" && !state.types)) body = [failureView(w, clock)];
  else if (state.types) {
    const steps: (HTMLElement | null)[] = [summary(w, clock), failureView(w, clock)];
    if (!state.type) steps.push(typeStep(w));
    else if (clock && state.slots) {
      if (state.slot) steps.push(confirmStep(w, clock, state.slot));
      // After a 409 the notice lists the next times; the rest of the calendar is one tap away.
      else if (state.failure === "taken") steps.push(button(w.otherDay, () => reset("day"), { class: "secondary", "data-testid": "other-day" }));
      else if (state.day) steps.push(timeStep(w, clock));
      else steps.push(dayStep(w, clock));
    }
    body = steps;
  }

  const status = h("p", { class: "status", role: "status", "aria-live": "polite", "data-testid": "status" },
    state.busy === "loading" ? w.loading : state.busy === "booking" ? w.booking : "");
  root.replaceChildren(header, ...[intro, ...body].filter((n): n is HTMLElement => n !== null), status);

  if (focusNext) {
    root.querySelector<HTMLElement>(`[data-focus="${focusNext}"]`)?.focus();
    focusNext = null;
  }
}

if (state.token) void loadTypes();
else {
  state.failure = "unknown";
  state.busy = "";
  render();
}
