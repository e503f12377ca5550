// Inbox: conversations (needs-attention first, urgent on top) in views by team, urgency and assignee,
// the selected thread with its assignee and internal notes, staff reply (saved replies) and "Mark resolved";
// arrow keys move through the list, Enter opens. Polls every 10 s while the tab is visible.
// Every patient text and note goes in as a text node.
import { SessionEnded } from "../api";
import { h, icon, ICONS, replace } from "../dom";
import { formatPhone, fullName, humanize, languageName, smsSegments } from "../format";
import type { Conversation, Message, SavedReply, StaffList, Thread } from "../types";
import { badge, emptyState, errorMessage, errorPanel, pageHeading, spinner, visuallyHidden, type Context, type Page, type Route } from "../ui";

const POLL_MS = 10_000;

/** The list's views: the team comes from the alert or task the assistant raised (careloop.inbox.VIEWS). */
export const VIEWS = ["all", "attention", "urgent", "front_desk", "billing", "clinical", "mine", "unassigned"] as const;
export type View = (typeof VIEWS)[number];
const VIEW_LABELS: Record<View, string> = {
  all: "All", attention: "Needs attention", urgent: "Urgent", front_desk: "Front desk", billing: "Billing",
  clinical: "Clinical", mine: "Mine", unassigned: "Unassigned",
};
const TEAM_LABELS: Record<string, string> = { front_desk: "Front desk", billing: "Billing", clinical: "Clinical" };
const NOTE_ICON = ["M12 20h9", "M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z"];

/** The same rule as the server's `matches_view`: whether a conversation belongs in a view. */
export function inView(c: Conversation, view: View, me: string): boolean {
  switch (view) {
    case "attention": return c.needs_attention;
    case "urgent": return c.needs_attention && c.priority === "urgent";
    case "front_desk": case "billing": case "clinical": return c.team === view;
    case "mine": return me !== "" && c.assignee === me;
    case "unassigned": return !c.assignee;
    default: return true;
  }
}

/** A staff user as a short label: the part of an email before the @. */
function staffLabel(user: string): string {
  return user.includes("@") ? user.slice(0, user.indexOf("@")) : user;
}

function rank(c: Conversation): number {
  if (c.needs_attention && c.priority === "urgent") return 0;
  if (c.needs_attention) return 1;
  return 2;
}

export function sortConversations(list: readonly Conversation[]): Conversation[] {
  return [...list].sort((a, b) => rank(a) - rank(b) || Date.parse(b.last_at || "0") - Date.parse(a.last_at || "0"));
}

// how a call ended, as staff read it (spec/voice.md careloopOutcome, or "missed")
const CALL_LABELS: Record<string, string> = {
  booked: "Booked", confirmed: "Confirmed", cancelled: "Cancelled", rescheduled: "Rescheduled",
  answered: "Answered", transferred: "Transferred", callback: "Call back", urgent: "Urgent",
  unresolved: "Unresolved", missed: "Missed",
};
const CALL_TONES: Record<string, "ok" | "danger" | "neutral"> = {
  booked: "ok", confirmed: "ok", rescheduled: "ok", answered: "ok", urgent: "danger", missed: "danger",
};

export class InboxPage implements Page {
  readonly root: HTMLElement;
  private conversations: Conversation[] | null = null;
  private listError: unknown = null;
  private filter: View = "all";
  private staffList: StaffList | null = null;
  private composeMode: "reply" | "note" = "reply";
  private readonly markingRead = new Set<string>();
  /** Opened from the list (click or Enter): the reply box takes the focus. */
  private focusReplyOnOpen = false;
  private selectedId: string | null = null;
  private thread: Thread | null = null;
  private threadError: unknown = null;
  private readonly drafts = new Map<string, string>();
  private seenAttention: Set<string> | null = null;
  private timer: number | undefined;
  /** What the list / thread showed last: a poll that brings nothing new leaves the DOM (and any text selection) alone. */
  private listShown = "";
  private threadShown = "";
  private headerShown = "";
  private refreshing = false;
  private destroyed = false;

  private readonly summaryEl = h("p", { class: "page-sub", "data-testid": "inbox-summary" });
  private readonly listEl = h("ul", { class: "conv-list", "data-testid": "inbox-list", "aria-label": "Conversations" });
  private readonly listStatus = h("div", { class: "list-status" });
  private readonly filterButtons: Record<View, HTMLButtonElement>;
  private readonly threadPane = h("section", { class: "thread-pane", "data-testid": "thread", "aria-label": "Conversation" });
  private threadHeader = h("div");
  private messagesEl = h("ol");
  private composer: HTMLFormElement | null = null;
  private readonly onVisible = (): void => {
    if (!document.hidden) void this.refresh();
  };

  constructor(
    private readonly ctx: Context,
    route: Route,
  ) {
    const buttons = {} as Record<View, HTMLButtonElement>;
    for (const view of VIEWS) {
      buttons[view] = h(
        "button",
        { type: "button", class: "seg", "aria-pressed": String(view === "all"), "data-testid": `filter-${view}`, onclick: () => this.setFilter(view) },
        VIEW_LABELS[view],
      );
    }
    this.filterButtons = buttons;
    this.listEl.addEventListener("keydown", (e) => this.onListKey(e));
    this.listEl.addEventListener("click", (e) => {
      if ((e.target as HTMLElement).closest("a.conv")) this.focusReplyOnOpen = true;
    });
    this.root = h(
      "div",
      { class: "inbox" },
      h(
        "section",
        { class: "inbox-list-pane", "aria-labelledby": "inbox-heading" },
        h(
          "div",
          { class: "inbox-list-head" },
          pageHeading("Inbox", this.summaryEl),
          h("div", { class: "segmented inbox-views", role: "group", "aria-label": "Show", "data-testid": "inbox-views" }, ...VIEWS.map((v) => this.filterButtons[v])),
        ),
        this.listStatus,
        this.listEl,
      ),
      this.threadPane,
    );
    this.root.querySelector("h1")?.setAttribute("id", "inbox-heading");
    replace(this.listStatus, spinner("Loading conversations…"));
    this.select(route.param);
    void this.loadStaff();
    void this.refresh();
    this.timer = window.setInterval(() => {
      if (!document.hidden) void this.refresh();
    }, POLL_MS);
    document.addEventListener("visibilitychange", this.onVisible);
  }

  update(route: Route): boolean {
    this.select(route.param);
    return true;
  }

  destroy(): void {
    this.destroyed = true;
    window.clearInterval(this.timer);
    document.removeEventListener("visibilitychange", this.onVisible);
    this.saveDraft();
  }

  // ---- data -------------------------------------------------------------------------------------

  private async refresh(): Promise<void> {
    if (this.refreshing || this.destroyed) return;
    this.refreshing = true;
    try {
      await Promise.all([this.loadList(), this.selectedId ? this.loadThread(this.selectedId) : Promise.resolve()]);
    } finally {
      this.refreshing = false;
    }
  }

  private async loadList(): Promise<void> {
    try {
      const list = sortConversations(await this.ctx.api.inbox());
      if (this.destroyed) return;
      this.announceNew(list);
      this.conversations = list;
      this.listError = null;
    } catch (err) {
      if (err instanceof SessionEnded || this.destroyed) return;
      this.listError = err;
    }
    this.renderList();
    this.renderThreadHeader();
    void this.markRead();
  }

  private async loadStaff(): Promise<void> {
    try {
      this.staffList = await this.ctx.api.assignees();
    } catch (err) {
      if (err instanceof SessionEnded || this.destroyed) return;
      this.staffList = null; // no assignee picker or "Mine" until the next load
    }
    if (this.destroyed) return;
    this.listShown = "";
    this.renderList();
    this.renderThreadHeader();
  }

  private me(): string {
    return this.staffList?.me ?? this.ctx.me.email ?? "";
  }

  /** The open conversation is read by this staff user once it is on screen with what the patient said. */
  private async markRead(): Promise<void> {
    const id = this.selectedId;
    const conv = this.conversation(id);
    if (!id || !conv?.unread || !this.thread || this.markingRead.has(id)) return;
    this.markingRead.add(id);
    try {
      await this.ctx.api.markRead(id);
      conv.unread = false;
      this.renderList();
    } catch (err) {
      if (!(err instanceof SessionEnded)) console.warn("could not mark the conversation read", errorMessage(err));
    } finally {
      this.markingRead.delete(id);
    }
  }

  private async loadThread(patientId: string): Promise<void> {
    try {
      const thread = await this.ctx.api.thread(patientId);
      if (this.destroyed || patientId !== this.selectedId) return;
      this.thread = thread;
      this.threadError = null;
    } catch (err) {
      if (err instanceof SessionEnded || this.destroyed || patientId !== this.selectedId) return;
      this.threadError = err;
    }
    this.renderThreadHeader();
    this.renderMessages();
    void this.markRead();
  }

  private announceNew(list: Conversation[]): void {
    const now = new Set(list.filter((c) => c.needs_attention).map((c) => c.patient_id));
    if (this.seenAttention) {
      const fresh = list.filter((c) => c.needs_attention && !this.seenAttention!.has(c.patient_id));
      if (fresh.length === 1) this.ctx.notify(`${fresh[0]!.patient_name || "A patient"} needs attention`);
      else if (fresh.length > 1) this.ctx.notify(`${fresh.length} new conversations need attention`);
    }
    this.seenAttention = now;
  }

  private conversation(id: string | null): Conversation | undefined {
    return id ? this.conversations?.find((c) => c.patient_id === id) : undefined;
  }

  // ---- list -------------------------------------------------------------------------------------

  private setFilter(filter: View): void {
    this.filter = filter;
    for (const view of VIEWS) this.filterButtons[view].setAttribute("aria-pressed", String(filter === view));
    this.renderList();
  }

  /** Up/Down move through the conversations (Home/End to the ends); Enter opens (the link's own). */
  private onListKey(e: KeyboardEvent): void {
    const items = [...this.listEl.querySelectorAll<HTMLAnchorElement>("a.conv")];
    if (items.length === 0) return;
    const at = items.findIndex((a) => a === document.activeElement);
    let next = -1;
    if (e.key === "ArrowDown") next = at < 0 ? 0 : Math.min(items.length - 1, at + 1);
    else if (e.key === "ArrowUp") next = at < 0 ? 0 : Math.max(0, at - 1);
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = items.length - 1;
    else if (e.key === "Enter" && at >= 0) this.focusReplyOnOpen = true;
    if (next < 0) return;
    e.preventDefault();
    items[next]!.focus();
    items[next]!.scrollIntoView({ block: "nearest" });
  }

  private renderList(): void {
    const focusedId = (document.activeElement as HTMLElement | null)?.closest?.("[data-patient-id]")?.getAttribute("data-patient-id");
    const list = this.conversations;
    const attention = list?.filter((c) => c.needs_attention).length ?? 0;
    const urgent = list?.filter((c) => c.needs_attention && c.priority === "urgent").length ?? 0;
    const unread = list?.filter((c) => c.unread).length ?? 0;
    this.summaryEl.textContent = list
      ? (attention === 0
          ? "All caught up"
          : `${attention} need${attention === 1 ? "s" : ""} attention${urgent ? ` · ${urgent} urgent` : ""}`) +
        (unread ? ` · ${unread} unread` : "")
      : "";

    if (this.listError && !list) {
      replace(this.listStatus, errorPanel(this.listError, () => void this.refresh()));
      return;
    }
    replace(
      this.listStatus,
      this.listError ? h("p", { class: "stale", role: "status" }, `${errorMessage(this.listError)} Showing the last list we loaded.`) : null,
    );
    if (!list) return;
    const me = this.me();
    const shown = list.filter((c) => inView(c, this.filter, me));
    const signature = JSON.stringify([this.selectedId, this.filter, me, new Date().toDateString(), shown]);
    if (signature === this.listShown) return;
    this.listShown = signature;
    if (shown.length === 0) {
      replace(
        this.listEl,
        h(
          "li",
          null,
          this.filter === "all"
            ? emptyState("No conversations yet", "New patient texts appear here.")
            : emptyState(this.filter === "attention" ? "Nothing needs attention" : `Nothing in ${VIEW_LABELS[this.filter]}`, "Pick All to see every conversation."),
        ),
      );
      return;
    }
    replace(this.listEl, ...shown.map((c) => this.renderItem(c)));
    if (focusedId) (this.listEl.querySelector(`[data-patient-id="${CSS.escape(focusedId)}"]`) as HTMLElement | null)?.focus();
  }

  private renderItem(c: Conversation): HTMLElement {
    const urgent = c.needs_attention && c.priority === "urgent";
    const selected = c.patient_id === this.selectedId;
    const team = c.team ? TEAM_LABELS[c.team] ?? humanize(c.team) : null;
    return h(
      "li",
      null,
      h(
        "a",
        {
          href: `#/inbox/${encodeURIComponent(c.patient_id)}`,
          class: `conv${c.needs_attention ? " conv-attention" : ""}${urgent ? " conv-urgent" : ""}${c.unread ? " conv-unread" : ""}`,
          "data-testid": "conversation-item",
          "data-patient-id": c.patient_id,
          "data-needs-attention": String(c.needs_attention),
          "data-priority": c.priority ?? "",
          "data-unread": String(Boolean(c.unread)),
          "data-assignee": c.assignee ?? "",
          "aria-current": selected ? "true" : null,
        },
        h(
          "span",
          { class: "conv-top" },
          h(
            "span",
            { class: "conv-name", "data-testid": "conversation-name" },
            c.unread ? h("span", { class: "unread-dot", "data-testid": "unread-marker", "aria-hidden": "true" }) : null,
            c.unread ? visuallyHidden("Unread: ") : null,
            c.patient_name || "Unknown patient",
          ),
          h("time", { class: "conv-time", datetime: c.last_at, title: this.ctx.fmt.dateTime(c.last_at) }, this.ctx.fmt.short(c.last_at)),
        ),
        h(
          "span",
          { class: "conv-snippet", "data-testid": "conversation-snippet" },
          c.last_direction === "out" ? h("span", { class: "conv-you" }, "You: ") : visuallyHidden("Patient: "),
          c.last_body,
        ),
        c.needs_attention || c.reason || c.intent || c.assignee || team
          ? h(
              "span",
              { class: "conv-tags" },
              urgent ? badge("Urgent", "danger", "urgent-badge") : null,
              c.needs_attention ? badge("Needs attention", "warn", "attention-badge") : null,
              team ? badge(team, "info", "team-badge") : null,
              c.assignee
                ? h("span", { class: "conv-assignee", "data-testid": "assignee-tag", title: `Assigned to ${c.assignee}` }, `→ ${staffLabel(c.assignee)}`)
                : null,
              c.reason || c.intent ? h("span", { class: "conv-reason" }, humanize(c.reason ?? c.intent ?? "")) : null,
            )
          : null,
      ),
    );
  }

  // ---- thread -----------------------------------------------------------------------------------

  private select(patientId: string | null): void {
    if (patientId === this.selectedId && this.composer) return;
    this.saveDraft();
    this.selectedId = patientId;
    this.thread = null;
    this.threadError = null;
    this.root.dataset["hasSelection"] = String(patientId !== null);
    for (const a of this.listEl.querySelectorAll<HTMLAnchorElement>("a.conv")) {
      if (a.dataset["patientId"] === patientId) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    }
    if (!patientId) {
      this.composer = null;
      replace(this.threadPane, h("div", { class: "thread-empty" }, emptyState("Select a conversation", "Pick a patient on the left to read and reply.")));
      return;
    }
    this.threadHeader = h("div", { class: "thread-head" });
    this.messagesEl = h("ol", { class: "messages", "data-testid": "messages", "aria-label": "Messages", tabindex: "0" });
    this.composer = this.buildComposer(patientId);
    replace(this.threadPane, this.threadHeader, h("div", { class: "messages-scroll" }, this.messagesEl), this.composer);
    this.renderThreadHeader();
    replace(this.messagesEl, h("li", null, spinner("Loading messages…")));
    if (this.focusReplyOnOpen) (this.composer.querySelector("textarea") as HTMLTextAreaElement).focus();
    this.focusReplyOnOpen = false;
    void this.loadThread(patientId);
  }

  private renderThreadHeader(): void {
    const id = this.selectedId;
    if (!id) return;
    const conv = this.conversation(id);
    const p = this.thread?.patient;
    const name = p ? fullName(p.first_name, p.last_name) : conv?.patient_name || "Conversation";
    const hold = this.thread?.staff_in_conversation ?? null;
    const unknown = id.startsWith("phone:") && this.thread !== null && !p;
    const assignee = this.thread ? this.thread.assignee ?? null : conv?.assignee ?? null;
    const signature = JSON.stringify([id, p ?? null, conv ?? null, hold, unknown, assignee, this.staffList]);
    if (signature === this.headerShown && this.threadHeader.childElementCount > 0) return;
    this.headerShown = signature;
    const resolve = conv?.needs_attention
      ? h(
          "button",
          { type: "button", class: "btn btn-secondary", "data-testid": "resolve-button", onclick: (e: MouseEvent) => void this.resolve(e.currentTarget as HTMLButtonElement) },
          icon(ICONS.check),
          "Mark resolved",
        )
      : null;
    // while staff are in the conversation the assistant leaves it to them; this gives it back
    const handBack = hold
      ? h(
          "button",
          {
            type: "button",
            class: "btn btn-secondary",
            "data-testid": "hand-back-button",
            title: `The assistant answers this patient again (otherwise it waits until ${this.ctx.fmt.dateTime(hold.until)})`,
            onclick: (e: MouseEvent) => void this.handBack(e.currentTarget as HTMLButtonElement),
          },
          icon(ICONS.refresh),
          "Hand back to assistant",
        )
      : null;
    const link = unknown
      ? h(
          "button",
          { type: "button", class: "btn btn-secondary", "data-testid": "link-button", "aria-expanded": "false", onclick: (e: MouseEvent) => this.toggleLinkPicker(e.currentTarget as HTMLButtonElement) },
          icon(ICONS.patients),
          "Link to patient",
        )
      : null;
    const hadFocus = this.threadHeader.contains(document.activeElement);
    replace(
      this.threadHeader,
      h("a", { href: "#/inbox", class: "back-link" }, icon(ICONS.back), "All conversations"),
      h(
        "div",
        { class: "thread-title-row" },
        h(
          "div",
          { class: "thread-who" },
          h("h2", { "data-testid": "thread-title", id: "thread-title" }, name),
          h(
            "p",
            { class: "thread-meta" },
            h("span", { class: "nowrap" }, p?.phone ? formatPhone(p.phone) : conv?.phone_masked || ""),
            p && p.language !== "en" ? badge(languageName(p.language), "info") : null,
            p?.opted_out ? badge("Opted out", "danger", "optout-badge") : null,
            conv?.needs_attention && conv.priority === "urgent" ? badge("Urgent", "danger") : null,
            conv?.needs_attention ? badge("Needs attention", "warn") : null,
            hold ? badge(`With ${hold.by || "staff"}`, "info", "staff-hold-badge") : null,
            conv?.reason ? h("span", { class: "muted" }, humanize(conv.reason)) : null,
          ),
        ),
        h("div", { class: "thread-actions" },
          p ? h("a", { href: `#/patients/${encodeURIComponent(p.id)}`, class: "btn btn-secondary", "data-testid": "patient-page-link" }, "Patient page") : null,
          this.assigneePicker(assignee), link, handBack, resolve),
      ),
    );
    this.threadPane.setAttribute("aria-labelledby", "thread-title");
    if (hadFocus) (this.threadHeader.querySelector("button, a") as HTMLElement | null)?.focus();
    this.updateComposer();
  }

  private renderMessages(): void {
    if (!this.selectedId) return;
    const scroller = this.messagesEl.parentElement;
    const atBottom = !scroller || scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    const firstRender = !this.messagesEl.querySelector("[data-testid=message]");
    if (this.threadError) {
      if (firstRender) replace(this.messagesEl, h("li", null, errorPanel(this.threadError, () => void this.loadThread(this.selectedId!))));
      return;
    }
    const messages = [...(this.thread?.messages ?? [])].sort((a, b) => Date.parse(a.at || "0") - Date.parse(b.at || "0"));
    const signature = JSON.stringify([this.selectedId, new Date().toDateString(), messages]);
    if (!firstRender && signature === this.threadShown) return;
    this.threadShown = signature;
    if (messages.length === 0) {
      replace(this.messagesEl, h("li", null, emptyState("No messages yet", "Write the first one below.")));
      return;
    }
    const items: HTMLElement[] = [];
    let day = "";
    for (const m of messages) {
      const d = this.ctx.fmt.day(m.at);
      if (d !== day) {
        day = d;
        items.push(h("li", { class: "day-sep", "aria-hidden": "false" }, h("span", null, this.ctx.fmt.dayHeading(m.at))));
      }
      items.push(this.renderMessage(m));
    }
    replace(this.messagesEl, ...items);
    if (scroller && (atBottom || firstRender)) scroller.scrollTop = scroller.scrollHeight;
  }

  private renderMessage(m: Message): HTMLElement {
    const fmt = this.ctx.fmt;
    const time = h("time", { datetime: m.at, title: fmt.dateTime(m.at) }, fmt.timeOnly(m.at));
    const common = { "data-testid": "message", "data-kind": m.kind, "data-message-id": m.message_id };
    if (m.kind === "call") return this.renderCall(m, time, common);
    if (m.kind === "note") {
      return h(
        "li",
        { ...common, class: "note note-internal" },
        icon(NOTE_ICON, "icon note-icon"),
        h(
          "div",
          { class: "note-main" },
          h("p", { class: "note-label" }, h("strong", null, "Internal note"), badge("Staff only", "neutral")),
          h("p", { class: "note-body", "data-testid": "message-body" }, m.body),
          h("p", { class: "note-meta" }, time, " · ", h("span", { "data-testid": "note-author" }, m.author ?? "staff")),
        ),
      );
    }
    if (m.kind === "staff_alert" || m.kind === "task") {
      const isAlert = m.kind === "staff_alert";
      const done = m.status === "done";
      const handedBack = m.kind === "task" && m.workflow === "staff" && m.step === "hand_back";
      return h(
        "li",
        { ...common, class: `note note-${isAlert ? "alert" : "task"}${m.priority === "urgent" ? " note-urgent" : ""}${done ? " note-done" : ""}` },
        icon(isAlert ? ICONS.alert : ICONS.task, "icon note-icon"),
        h(
          "div",
          { class: "note-main" },
          h(
            "p",
            { class: "note-label" },
            h("strong", null, isAlert ? "Staff alert" : handedBack ? "Handed back" : "Task"),
            m.priority === "urgent" ? badge("Urgent", "danger") : null,
            m.status && !handedBack ? badge(done ? "Done" : humanize(m.status), done ? "ok" : "neutral") : null,
          ),
          h("p", { class: "note-body", "data-testid": "message-body" }, m.body),
          h("p", { class: "note-meta" }, time, handedBack ? ` · ${m.reason ?? ""}` : m.workflow ? ` · ${humanize(m.workflow)}` : ""),
        ),
      );
    }
    const inbound = m.kind === "sms_in";
    const failed = /fail|undeliver/i.test(m.status);
    const meta: (Node | string)[] = [time];
    if (!inbound && m.status) meta.push(" · ", h("span", { class: failed ? "status-failed" : "" }, humanize(m.status)));
    // why a text failed or was held back (the carrier's code, a spend limit, an opt-out)
    if (!inbound && m.status_detail && (failed || m.status === "suppressed"))
      meta.push(" ", h("span", { class: "status-detail", "data-testid": "status-detail" }, `(${m.status_detail})`));
    if (m.workflow) meta.push(` · ${humanize(m.workflow)}${m.step && m.step !== m.workflow ? ` (${humanize(m.step)})` : ""}`);
    return h(
      "li",
      { ...common, class: `bubble-row ${inbound ? "from-patient" : "from-practice"}` },
      h(
        "div",
        { class: `bubble${failed ? " bubble-failed" : ""}` },
        visuallyHidden(inbound ? "Patient wrote: " : "Practice sent: "),
        h("p", { class: "bubble-body", "data-testid": "message-body" }, m.body),
      ),
      h("p", { class: "bubble-meta" }, ...meta),
    );
  }

  /** A phone call: how it ended, the one-line summary, and the turns behind a disclosure. */
  private renderCall(m: Message, time: HTMLElement, common: Record<string, string>): HTMLElement {
    const call = m.call;
    const outcome = call?.outcome ?? "missed";
    const tone = CALL_TONES[outcome] ?? "neutral";
    const seconds = call?.started_at && call.ended_at
      ? Math.max(0, Math.round((Date.parse(call.ended_at) - Date.parse(call.started_at)) / 1000))
      : null;
    const length = seconds === null ? "" : seconds < 60 ? ` · ${seconds} s` : ` · ${Math.round(seconds / 60)} min`;
    // the label already says it is a call: the summary goes on from there
    const summary = m.body.replace(/^(phone|missed) call:\s*/i, "");
    const turns = call?.turns ?? [];
    return h(
      "li",
      { ...common, class: `note note-call${outcome === "urgent" ? " note-urgent" : ""}` },
      icon(ICONS.phone, "icon note-icon"),
      h(
        "div",
        { class: "note-main" },
        h(
          "p",
          { class: "note-label" },
          h("strong", null, outcome === "missed" ? "Missed call" : "Phone call"),
          badge(CALL_LABELS[outcome] ?? humanize(outcome), tone),
        ),
        summary ? h("p", { class: "note-body", "data-testid": "message-body" }, summary.charAt(0).toUpperCase() + summary.slice(1)) : null,
        h("p", { class: "note-meta" }, time, length, call?.reached_agent ? " · answered by staff" : ""),
        turns.length
          ? h(
              "details",
              { class: "call-turns" },
              h("summary", null, `Transcript (${turns.length} ${turns.length === 1 ? "turn" : "turns"})`),
              h(
                "ol",
                null,
                ...turns.map((t) =>
                  h(
                    "li",
                    null,
                    t.caller ? h("p", null, h("strong", null, "Caller: "), t.caller) : null,
                    t.agent ? h("p", null, h("strong", null, "Assistant: "), t.agent) : null,
                  ),
                ),
              ),
            )
          : null,
      ),
    );
  }

  // ---- actions ----------------------------------------------------------------------------------

  private buildComposer(patientId: string): HTMLFormElement {
    this.composeMode = "reply"; // each thread opens on a reply to the patient
    this.savedReplyList = [];
    const input = h("textarea", {
      id: "reply-input",
      name: "body",
      rows: "3",
      maxlength: "1600",
      placeholder: "Write a reply…",
      "data-testid": "reply-input",
      "aria-describedby": "reply-hint reply-count",
    });
    input.value = this.drafts.get(patientId) ?? "";
    const counter = h("span", { id: "reply-count", class: "reply-count", "aria-live": "off" });
    const error = h("p", { class: "form-error", role: "alert", "data-testid": "reply-error", hidden: true });
    const send = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "reply-send" }, icon(ICONS.send), "Send");
    const updateCount = (): void => {
      const s = smsSegments(input.value);
      counter.textContent = s.chars && this.composeMode === "reply" ? `${s.chars} characters · ${s.segments} text${s.segments === 1 ? "" : "s"}` : "";
    };
    // a reply goes to the patient; a note stays with staff: two modes of one box, told apart by colour and words
    const modes = h(
      "div",
      { class: "segmented compose-modes", role: "group", "aria-label": "Write" },
      h("button", { type: "button", class: "seg", "data-testid": "compose-reply", "aria-pressed": "true", onclick: () => this.setComposeMode("reply") }, "Reply"),
      h("button", { type: "button", class: "seg", "data-testid": "compose-note", "aria-pressed": "false", onclick: () => this.setComposeMode("note") }, "Internal note"),
    );
    const saved = h("select", { class: "saved-replies", "data-testid": "saved-replies", "aria-label": "Insert a saved reply", disabled: true },
      h("option", { value: "" }, "Saved replies…"));
    saved.addEventListener("change", () => {
      const reply = this.savedReplyList.find((r) => r.id === saved.value);
      saved.value = "";
      if (!reply) return;
      input.value = input.value.trim() ? `${input.value.trimEnd()} ${reply.body}` : reply.body;
      updateCount();
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    });
    void this.loadSavedReplies(patientId, saved);
    input.addEventListener("input", updateCount);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    updateCount();
    const form = h(
      "form",
      { class: "composer", "data-testid": "reply-form", novalidate: true },
      h("div", { class: "compose-top" }, modes, saved),
      h("label", { for: "reply-input", class: "sr-only", id: "reply-label" }, "Reply"),
      error,
      input,
      h(
        "div",
        { class: "composer-bar" },
        h("span", { id: "reply-hint", class: "muted composer-hint" }, "Sent as a text from the practice number. Ctrl+Enter sends."),
        counter,
        send,
      ),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (this.composeMode === "note") void this.sendNote(patientId, input, send, error);
      else void this.sendReply(patientId, input, send, error, updateCount);
    });
    return form;
  }

  // ---- inbox2: assignee, notes, saved replies -----------------------------------------------------

  private savedReplyList: SavedReply[] = [];

  private async loadSavedReplies(patientId: string, select: HTMLSelectElement): Promise<void> {
    try {
      const replies = await this.ctx.api.savedReplies(patientId);
      if (this.destroyed || patientId !== this.selectedId) return;
      this.savedReplyList = replies;
      select.append(...replies.map((r) => h("option", { value: r.id, title: r.body }, r.title)));
      select.disabled = replies.length === 0;
    } catch (err) {
      if (!(err instanceof SessionEnded)) select.title = `Saved replies unavailable: ${errorMessage(err)}`;
    }
  }

  private setComposeMode(mode: "reply" | "note"): void {
    this.composeMode = mode;
    const form = this.composer;
    if (!form) return;
    form.querySelector("[data-testid=compose-reply]")!.setAttribute("aria-pressed", String(mode === "reply"));
    form.querySelector("[data-testid=compose-note]")!.setAttribute("aria-pressed", String(mode === "note"));
    this.updateComposer();
    form.querySelector("textarea")!.dispatchEvent(new Event("input"));
    form.querySelector("textarea")!.focus();
  }

  /** Who has this conversation: a select of the practice's staff (and the viewer), "Unassigned" first. */
  private assigneePicker(assignee: string | null): HTMLElement | null {
    const id = this.selectedId;
    if (!id || !this.staffList) return null;
    const people = [...new Set([...this.staffList.staff, ...(assignee ? [assignee] : [])])];
    const select = h(
      "select",
      { id: "assignee-select", "data-testid": "assignee-select", "aria-label": "Assigned to" },
      h("option", { value: "" }, "Unassigned"),
      ...people.map((u) => h("option", { value: u, selected: u === assignee }, u === this.staffList?.me ? `${staffLabel(u)} (me)` : staffLabel(u))),
    );
    select.value = assignee ?? "";
    select.addEventListener("change", () => void this.assign(id, select.value || null, select));
    return h("label", { class: "assignee", for: "assignee-select" }, h("span", { class: "muted" }, "Assigned to"), select);
  }

  private async assign(id: string, assignee: string | null, select: HTMLSelectElement): Promise<void> {
    select.disabled = true;
    try {
      const now = await this.ctx.api.assign(id, assignee);
      const conv = this.conversation(id);
      if (conv) conv.assignee = now;
      if (this.thread && this.selectedId === id) this.thread.assignee = now;
      this.ctx.notify(now ? `Assigned to ${staffLabel(now)}` : "Unassigned");
      this.renderList();
      this.renderThreadHeader();
      (this.threadHeader.querySelector("#assignee-select") as HTMLElement | null)?.focus();
    } catch (err) {
      select.disabled = false;
      if (!(err instanceof SessionEnded)) this.ctx.notify(`Couldn't assign. ${errorMessage(err)}`, "error");
    }
  }

  private async sendNote(patientId: string, input: HTMLTextAreaElement, send: HTMLButtonElement, error: HTMLElement): Promise<void> {
    const body = input.value.trim();
    error.hidden = true;
    if (!body) {
      error.textContent = "Write the note first.";
      error.hidden = false;
      input.focus();
      return;
    }
    send.disabled = true;
    send.setAttribute("aria-busy", "true");
    try {
      await this.ctx.api.addNote(patientId, body);
      input.value = "";
      this.drafts.delete(patientId);
      this.ctx.notify("Note added (staff only)");
      if (this.selectedId === patientId) await this.loadThread(patientId);
    } catch (err) {
      if (err instanceof SessionEnded) return;
      error.textContent = `Note not saved. ${errorMessage(err)}`;
      error.hidden = false;
    } finally {
      send.removeAttribute("aria-busy");
      this.updateComposer();
      if (this.selectedId === patientId) input.focus();
    }
  }

  private updateComposer(): void {
    const form = this.composer;
    if (!form) return;
    const note = this.composeMode === "note";
    const optedOut = (this.thread?.opted_out ?? false) && !note; // a note is never sent: opt-out does not stop it
    const input = form.querySelector("textarea")!;
    const send = form.querySelector<HTMLButtonElement>("button[type=submit]")!;
    input.disabled = optedOut;
    input.placeholder = note ? "Write an internal note (only staff see it)…" : optedOut ? "Texting is off for this patient" : "Write a reply…";
    send.disabled = optedOut || send.getAttribute("aria-busy") === "true";
    send.lastChild!.textContent = note ? "Add note" : "Send";
    const hint = form.querySelector("#reply-hint")!;
    hint.textContent = note
      ? "Only staff see notes: never sent to the patient. Ctrl+Enter adds it."
      : optedOut
        ? "This patient opted out of texts (replied STOP). They can text START to opt back in."
        : "Sent as a text from the practice number. Ctrl+Enter sends.";
    form.querySelector("#reply-label")!.textContent = note ? "Internal note" : "Reply";
    (form.querySelector("[data-testid=saved-replies]") as HTMLElement).hidden = note;
    form.classList.toggle("composer-disabled", optedOut);
    form.classList.toggle("composer-note", note);
  }

  private async sendReply(
    patientId: string,
    input: HTMLTextAreaElement,
    send: HTMLButtonElement,
    error: HTMLElement,
    updateCount: () => void,
  ): Promise<void> {
    const body = input.value.trim();
    error.hidden = true;
    if (!body) {
      error.textContent = "Write a message first.";
      error.hidden = false;
      input.focus();
      return;
    }
    send.disabled = true;
    send.setAttribute("aria-busy", "true");
    try {
      await this.ctx.api.reply(patientId, body);
      input.value = "";
      this.drafts.delete(patientId);
      updateCount();
      this.ctx.notify("Reply sent");
      if (this.selectedId === patientId) await Promise.all([this.loadThread(patientId), this.loadList()]);
    } catch (err) {
      if (err instanceof SessionEnded) return;
      error.textContent = `Not sent. ${errorMessage(err)}`;
      error.hidden = false;
    } finally {
      send.removeAttribute("aria-busy");
      this.updateComposer();
      if (this.selectedId === patientId) input.focus();
    }
  }

  private async resolve(button: HTMLButtonElement): Promise<void> {
    const id = this.selectedId;
    if (!id) return;
    button.disabled = true;
    try {
      await this.ctx.api.resolve(id);
      const conv = this.conversation(id);
      if (conv) conv.needs_attention = false;
      this.seenAttention?.delete(id);
      this.ctx.notify(`Marked resolved: ${conv?.patient_name || "conversation"}`);
      this.renderList();
      this.renderThreadHeader();
      (this.composer?.querySelector("textarea") as HTMLElement | null)?.focus();
      void this.loadList();
    } catch (err) {
      button.disabled = false;
      if (!(err instanceof SessionEnded)) this.ctx.notify(`Couldn't mark resolved. ${errorMessage(err)}`, "error");
    }
  }

  private async handBack(button: HTMLButtonElement): Promise<void> {
    const id = this.selectedId;
    if (!id) return;
    button.disabled = true;
    try {
      await this.ctx.api.handBack(id);
      this.ctx.notify("Handed back: the assistant answers this patient's next text");
      if (this.selectedId === id) await this.loadThread(id);
    } catch (err) {
      button.disabled = false;
      if (!(err instanceof SessionEnded)) this.ctx.notify(`Couldn't hand back. ${errorMessage(err)}`, "error");
    }
  }

  /** An unknown number: search a patient by name or phone, and move the conversation to them. */
  private toggleLinkPicker(button: HTMLButtonElement): void {
    const open = this.threadHeader.querySelector(".link-picker");
    if (open) {
      open.remove();
      button.setAttribute("aria-expanded", "false");
      return;
    }
    button.setAttribute("aria-expanded", "true");
    const results = h("ul", { class: "link-results", "data-testid": "link-results", "aria-label": "Matching patients" });
    let seq = 0;
    const search = async (q: string): Promise<void> => {
      const mine = ++seq;
      if (q.trim().length < 2) {
        replace(results);
        return;
      }
      try {
        const found = (await this.ctx.api.patients(q.trim())).slice(0, 8);
        if (mine !== seq) return;
        replace(
          results,
          ...(found.length
            ? found.map((p) =>
                h(
                  "li",
                  null,
                  h(
                    "button",
                    { type: "button", class: "link-option", "data-testid": "link-option", onclick: () => void this.linkTo(p.id, fullName(p.first_name, p.last_name)) },
                    h("strong", null, fullName(p.first_name, p.last_name)),
                    h("span", { class: "muted" }, p.phone_masked),
                  ),
                ),
              )
            : [h("li", { class: "muted" }, "No patient matches")]),
        );
      } catch (err) {
        if (!(err instanceof SessionEnded) && mine === seq) replace(results, h("li", { class: "form-error" }, errorMessage(err)));
      }
    };
    const input = h("input", {
      type: "search",
      id: "link-search",
      placeholder: "Patient name or phone",
      autocomplete: "off",
      "data-testid": "link-search",
      oninput: () => void search(input.value),
    });
    this.threadHeader.append(
      h("div", { class: "link-picker", "data-testid": "link-picker" }, h("label", { for: "link-search" }, "Whose number is this?"), input, results),
    );
    input.focus();
  }

  private async linkTo(patientId: string, name: string): Promise<void> {
    const id = this.selectedId;
    if (!id) return;
    try {
      await this.ctx.api.link(id, patientId);
      this.ctx.notify(`Linked to ${name}`);
      this.drafts.delete(id);
      location.hash = `#/inbox/${encodeURIComponent(patientId)}`;
      void this.loadList();
    } catch (err) {
      if (!(err instanceof SessionEnded)) this.ctx.notify(`Couldn't link. ${errorMessage(err)}`, "error");
    }
  }

  private saveDraft(): void {
    const text = this.composer?.querySelector("textarea")?.value ?? "";
    if (!this.selectedId) return;
    if (text.trim()) this.drafts.set(this.selectedId, text);
    else this.drafts.delete(this.selectedId);
  }
}
