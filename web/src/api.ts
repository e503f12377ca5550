// The staff API client: every call carries "Authorization: <Cognito ID token>" (API Gateway's Cognito
// authorizer style, no "Bearer"); a 401 ends the session. Decoders turn JSON into the types in types.ts.
import { decodeTimeline, type PatientTimeline } from "./timeline";
import type {
  AgentStats,
  AnalyticsSummary,
  RateRow,
  SeriesKey,
  SeriesPoint,
  WorkflowVersions,
  Appointment,
  Conversation,
  Me,
  Message,
  MessageKind,
  CallView,
  VoiceStats,
  NextAppointment,
  PatientRow,
  Priority,
  Role,
  StaffDirectory,
  StaffHold,
  StaffMember,
  Thread,
  Workflow,
  StaffList,
  SavedReply,
  DryRunReport,
  WorkflowDefinition,
  WorkflowDetail,
  WorkflowPreview,
  WorkflowVersion,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The API said 401 (or the session could not be refreshed): the app goes back to sign-in. */
export class SessionEnded extends ApiError {
  constructor() {
    super(401, "Your session has ended. Please sign in again.");
    this.name = "SessionEnded";
  }
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown, fallback = ""): string =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : fallback;
const optStr = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : Number(v) || 0);
const bool = (v: unknown): boolean => v === true || v === "true";
const priority = (v: unknown): Priority => (v === "urgent" || v === "normal" ? v : null);
const KINDS: readonly MessageKind[] = ["sms_out", "sms_in", "staff_alert", "task", "call", "note"];

function decodeCall(v: unknown): CallView | null {
  if (v === null || typeof v !== "object") return null;
  const o = obj(v);
  return {
    outcome: optStr(o["outcome"]),
    reached_agent: bool(o["reached_agent"]),
    started_at: optStr(o["started_at"]),
    ended_at: optStr(o["ended_at"]),
    turns: arr(o["turns"]).map((t) => {
      const turn = obj(t);
      return { at: str(turn["at"]), caller: str(turn["caller"]), agent: str(turn["agent"]), intent: optStr(turn["intent"]) };
    }),
  };
}

function decodeMe(v: unknown): Me {
  const o = obj(v);
  const p = obj(o["practice"]);
  return {
    username: str(o["username"]),
    email: str(o["email"]),
    practice: { id: str(p["id"]), name: str(p["name"]), timezone: str(p["timezone"]), phone: str(p["phone"]) },
    roles: arr(o["roles"]).filter(isRole),
  };
}

function decodeConversation(v: unknown): Conversation {
  const o = obj(v);
  return {
    patient_id: str(o["patient_id"]),
    patient_name: str(o["patient_name"]),
    phone_masked: str(o["phone_masked"]),
    last_body: str(o["last_body"]),
    last_at: str(o["last_at"]),
    last_direction: o["last_direction"] === "out" ? "out" : "in",
    needs_attention: bool(o["needs_attention"]),
    reason: optStr(o["reason"]),
    intent: optStr(o["intent"]),
    priority: priority(o["priority"]),
    team: optStr(o["team"]),
    assignee: optStr(o["assignee"]),
    unread: bool(o["unread"]),
  };
}

function decodeMessage(v: unknown): Message {
  const o = obj(v);
  const kind = KINDS.find((k) => k === o["kind"]) ?? "sms_out";
  return {
    message_id: str(o["message_id"]),
    kind,
    body: str(o["body"]),
    at: str(o["at"]),
    status: str(o["status"]),
    workflow: optStr(o["workflow"]),
    step: optStr(o["step"]),
    priority: priority(o["priority"]),
    intent: optStr(o["intent"]),
    needs_attention: bool(o["needs_attention"]),
    team: optStr(o["team"]),
    reason: optStr(o["reason"]),
    call: kind === "call" ? decodeCall(o["call"]) : null,
    author: optStr(o["author"]),
  };
}

function decodeStaffHold(v: unknown): StaffHold | null {
  if (v === null || typeof v !== "object") return null;
  const o = obj(v);
  return { by: str(o["by"]), since: str(o["since"]), until: str(o["until"]) };
}

function decodeThread(v: unknown): Thread {
  const o = obj(v);
  const raw = o["patient"];
  const p = raw === null || typeof raw !== "object" ? null : obj(raw);
  return {
    patient: p && {
      id: str(p["id"]),
      first_name: str(p["first_name"]),
      last_name: str(p["last_name"]),
      phone: str(p["phone"]),
      language: str(p["language"], "en"),
      opted_out: bool(p["opted_out"]),
      undeliverable: bool(p["undeliverable"]),
    },
    phone_masked: str(o["phone_masked"]),
    opted_out: p ? bool(p["opted_out"]) : bool(o["opted_out"]),
    staff_in_conversation: decodeStaffHold(o["staff_in_conversation"]),
    messages: arr(o["messages"]).map(decodeMessage),
    assignee: optStr(o["assignee"]),
  };
}

function decodeNextAppointment(v: unknown): NextAppointment | null {
  if (v === null || typeof v !== "object") return null;
  const o = obj(v);
  return {
    id: str(o["id"]),
    start: str(o["start"]),
    status: str(o["status"]),
    confirmed: bool(o["confirmed"]),
    provider: str(o["provider"]),
    visit_type: str(o["visit_type"]),
  };
}

function decodePatient(v: unknown): PatientRow {
  const o = obj(v);
  return {
    id: str(o["id"]),
    first_name: str(o["first_name"]),
    last_name: str(o["last_name"]),
    phone_masked: str(o["phone_masked"]),
    language: str(o["language"], "en"),
    opted_out: bool(o["opted_out"]),
    undeliverable: bool(o["undeliverable"]),
    next_appointment: decodeNextAppointment(o["next_appointment"]),
  };
}

function decodeAppointment(v: unknown): Appointment {
  const o = obj(v);
  return {
    id: str(o["id"]),
    patient_id: str(o["patient_id"]),
    patient_name: str(o["patient_name"]),
    start: str(o["start"]),
    minutes: num(o["minutes"]),
    status: str(o["status"]),
    confirmed: bool(o["confirmed"]),
    provider: str(o["provider"]),
    location: str(o["location"]),
    visit_type: str(o["visit_type"]),
  };
}

export function decodeWorkflow(v: unknown): Workflow {
  const o = obj(v);
  return {
    id: str(o["id"]),
    name: str(o["name"], str(o["id"])),
    description: str(o["description"]),
    enabled: bool(o["enabled"]),
    version: num(o["version"]),
    trigger: str(o["trigger"]),
    starts: str(o["starts"]),
    steps: arr(o["steps"]).map((s) => {
      const so = obj(s);
      return { id: str(so["id"]), name: str(so["name"], str(so["id"])), type: str(so["type"], "sms"),
        summary: str(so["summary"], str(so["id"])), first_words: str(so["first_words"]) };
    }),
  };
}

// ---- analytics (careloop/analytics): the summary the page, its CSVs and the report share -----------

const numOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const SERIES_KEYS: readonly SeriesKey[] = ["sent", "delivered", "replies", "confirmed", "no_shows", "recovered"];

function decodeRateRow(v: unknown): RateRow {
  const o = obj(v);
  return {
    name: str(o["name"], "(none)"),
    n: num(o["n"]),
    reminded: num(o["reminded"]),
    confirmed: num(o["confirmed"]),
    confirmation_rate: num(o["confirmation_rate"]),
    past: num(o["past"]),
    no_shows: num(o["no_shows"]),
    no_show_rate: num(o["no_show_rate"]),
    replied: num(o["replied"]),
    reply_rate: num(o["reply_rate"]),
    sent: num(o["sent"]),
    delivered: num(o["delivered"]),
  };
}

function decodeSeries(v: unknown): SeriesPoint {
  const o = obj(v);
  const point = { bucket: str(o["bucket"]) } as SeriesPoint;
  for (const k of SERIES_KEYS) point[k] = num(o[k]);
  return point;
}

function decodeAgent(v: unknown): AgentStats {
  const o = obj(v);
  return {
    texts: num(o["texts"]),
    answered_automatically: num(o["answered_automatically"]),
    handed_to_staff: num(o["handed_to_staff"]),
    automation_rate: num(o["automation_rate"]),
    staff_replies: num(o["staff_replies"]),
    handoffs: num(o["handoffs"]),
    handoffs_answered: num(o["handoffs_answered"]),
    median_first_reply_minutes: numOrNull(o["median_first_reply_minutes"]),
    by_intent: arr(o["by_intent"]).map((r) => {
      const ro = obj(r);
      return { intent: str(ro["intent"]), texts: num(ro["texts"]), answered_automatically: num(ro["answered_automatically"]),
               handed_to_staff: num(ro["handed_to_staff"]) };
    }),
  };
}

function decodeVersions(v: unknown): WorkflowVersions {
  const o = obj(v);
  return {
    workflow: str(o["workflow"]),
    sentence: str(o["sentence"]),
    versions: arr(o["versions"]).map((r) => {
      const ro = obj(r);
      return { version: numOrNull(ro["version"]), label: str(ro["label"]), n: num(ro["n"]), confirmed: num(ro["confirmed"]),
               confirmation_rate: num(ro["confirmation_rate"]), ci_low: num(ro["ci_low"]), ci_high: num(ro["ci_high"]) };
    }),
  };
}

function decodeStrings(v: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(obj(v)).map(([k, t]) => [k, str(t)]));
}

function decodeSummary(v: unknown): AnalyticsSummary {
  const o = obj(v);
  const period = obj(o["period"]);
  const roi = obj(o["roi"]);
  const counts = ["sent", "delivered", "failed", "delivery_rate", "replies", "responses", "response_rate", "patients_texted",
    "appointments", "reminded", "confirmed", "confirmation_rate", "no_shows", "no_show_rate", "cancelled", "recovered",
    "recovered_by_careloop", "recovery_rate"] as const;
  const figures = Object.fromEntries(counts.map((k) => [k, num(o[k])])) as Record<(typeof counts)[number], number>;
  return {
    period: { from: str(period["from"]), to: str(period["to"]) },
    bucket: o["bucket"] === "week" ? "week" : "day",
    ...figures,
    series: arr(o["series"]).map(decodeSeries),
    by_workflow: arr(o["by_workflow"]).map((w) => ({ ...decodeRateRow(w), workflow: str(obj(w)["workflow"], str(obj(w)["name"])) })),
    by_provider: arr(o["by_provider"]).map(decodeRateRow),
    by_location: arr(o["by_location"]).map(decodeRateRow),
    by_visit_type: arr(o["by_visit_type"]).map(decodeRateRow),
    by_language: arr(o["by_language"]).map(decodeRateRow),
    by_patient_type: arr(o["by_patient_type"]).map(decodeRateRow),
    agent: decodeAgent(o["agent"]),
    versions: arr(o["versions"]).map(decodeVersions),
    roi: {
      recovered_by_careloop: num(roi["recovered_by_careloop"]),
      confirmed_attributable: num(roi["confirmed_attributable"]),
      visits: num(roi["visits"]),
      value_per_visit: num(roi["value_per_visit"]),
      currency: str(roi["currency"], "USD"),
      value: num(roi["value"]),
      formula: str(roi["formula"]),
    },
    definitions: decodeStrings(o["definitions"]),
    workflow_names: decodeStrings(o["workflow_names"]),
    voice: decodeVoice(o["voice"]),
  };
}

function decodeVoice(v: unknown): VoiceStats | null {
  if (v === null || typeof v !== "object") return null;
  const o = obj(v);
  return {
    calls: num(o["calls"]),
    answered_by_agent: num(o["answered_by_agent"]),
    booked_by_voice: num(o["booked_by_voice"]),
    transferred: num(o["transferred"]),
    callbacks: num(o["callbacks"]),
    urgent: num(o["urgent"]),
    missed: num(o["missed"]),
    text_backs: num(o["text_backs"]),
    booked_after_text_back: num(o["booked_after_text_back"]),
    text_back_booking_rate: num(o["text_back_booking_rate"]),
  };
}

export interface ApiOptions {
  base: string;
  /** Resolves to a current ID token, refreshing it if needed; rejects with SessionEnded if it cannot. */
  token: () => Promise<string>;
  /** Called once per 401 before the SessionEnded error propagates. */
  onSessionEnded: () => void;
}

const seg = encodeURIComponent;

export class Api {
  constructor(private readonly opts: ApiOptions) {}

  private async request(method: "GET" | "POST" | "PUT", path: string, body?: unknown, accept = "application/json"): Promise<Response> {
    let token: string;
    try {
      token = await this.opts.token();
    } catch {
      this.opts.onSessionEnded();
      throw new SessionEnded();
    }
    const headers: Record<string, string> = { Authorization: token, Accept: accept };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(this.opts.base + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch {
      throw new ApiError(0, "Can't reach Careloop. Check your connection; we'll keep trying.");
    }
    if (res.status === 401) {
      this.opts.onSessionEnded();
      throw new SessionEnded();
    }
    if (!res.ok) {
      let message = "";
      try {
        const data = obj(await res.json());
        message = str(data["message"]) || str(data["detail"]) || str(data["error"]);
      } catch {
        /* not JSON */
      }
      if (res.status === 403) message ||= "You don't have access to this.";
      throw new ApiError(res.status, message || `The server answered ${res.status}. Please try again.`);
    }
    return res;
  }

  private async json(method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<unknown> {
    const res = await this.request(method, path, body);
    const text = await res.text();
    if (!text) return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiError(res.status, "The server sent something unreadable. Please try again.");
    }
  }

  async me(): Promise<Me> {
    return decodeMe(await this.json("GET", "/me"));
  }

  async inbox(): Promise<Conversation[]> {
    return arr(obj(await this.json("GET", "/inbox"))["conversations"]).map(decodeConversation);
  }

  async thread(patientId: string): Promise<Thread> {
    return decodeThread(await this.json("GET", `/patients/${seg(patientId)}/messages`));
  }

  async reply(patientId: string, body: string): Promise<string> {
    return str(obj(await this.json("POST", `/patients/${seg(patientId)}/messages`, { body }))["message_id"]);
  }

  async resolve(patientId: string): Promise<void> {
    await this.json("POST", `/patients/${seg(patientId)}/resolve`, {});
  }

  /** Every patient, or those a search names (by name or any form of phone number). */
  async patients(query = ""): Promise<PatientRow[]> {
    const path = query ? `/patients?q=${seg(query)}` : "/patients";
    return arr(obj(await this.json("GET", path))["patients"]).map(decodePatient);
  }

  /** The assistant answers this conversation again (staff are done with it). */
  async handBack(patientId: string): Promise<boolean> {
    return bool(obj(await this.json("POST", `/patients/${seg(patientId)}/hand-back`, {}))["handed_back"]);
  }

  /** An unknown number's conversation moves to this patient's thread. */
  async link(conversationId: string, patientId: string): Promise<string> {
    return str(obj(await this.json("POST", `/patients/${seg(conversationId)}/link`, { patient_id: patientId }))["patient_id"]);
  }

  async appointments(from: Date, to: Date): Promise<Appointment[]> {
    const q = `from=${seg(from.toISOString())}&to=${seg(to.toISOString())}`;
    return arr(obj(await this.json("GET", `/appointments?${q}`))["appointments"]).map(decodeAppointment);
  }

  async workflows(): Promise<Workflow[]> {
    return arr(obj(await this.json("GET", "/workflows"))["workflows"]).map(decodeWorkflow);
  }

  /** Returns the updated workflow, or null when the server answered without one. */
  async setWorkflowEnabled(id: string, enabled: boolean, why: string): Promise<Workflow | null> {
    const data = obj(await this.json("POST", `/workflows/${seg(id)}/enabled`, { enabled, why }));
    const wf = obj(data["workflow"] ?? data);
    return typeof wf["id"] === "string" ? decodeWorkflow(wf) : null;
  }

  /** The period's analytics; `bucket` groups the series over time by day or by week. */
  async analytics(from: Date, to: Date, bucket: "day" | "week" = "day"): Promise<AnalyticsSummary> {
    const q = `from=${seg(from.toISOString())}&to=${seg(to.toISOString())}&bucket=${bucket}`;
    return decodeSummary(await this.json("GET", `/analytics/summary?${q}`));
  }

  /** Every table's CSV, or one table's (`table`: a key of the summary, "summary", "series", "agent"…). */
  exportCsvUrl(from: Date, to: Date, table?: string, bucket: "day" | "week" = "day"): string {
    const q = `from=${seg(from.toISOString())}&to=${seg(to.toISOString())}&bucket=${bucket}${table ? `&table=${seg(table)}` : ""}`;
    return `${this.opts.base}/analytics/export.csv?${q}`;
  }

  /** The printable monthly report (YYYY-MM) as HTML text, fetched with the Authorization header. */
  async analyticsReport(month: string): Promise<string> {
    const res = await this.request("GET", `/analytics/report?month=${seg(month)}`, undefined, "text/html");
    return res.text();
  }

  /** The CSV needs the Authorization header, so it is fetched and handed to the browser as a blob. */
  async exportCsv(from: Date, to: Date, table?: string, bucket: "day" | "week" = "day"): Promise<{ blob: Blob; filename: string | null }> {
    const path = this.exportCsvUrl(from, to, table, bucket).slice(this.opts.base.length);
    const res = await this.request("GET", path, undefined, "text/csv");
    const disposition = res.headers.get("content-disposition") ?? "";
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    return { blob: await res.blob(), filename: match?.[1] ? decodeURIComponent(match[1]) : null };
  }

  // ---- inbox2: assignment, internal notes, unread, saved replies ----------------------------------

  /** Who a conversation can be assigned to, and who is signed in (for "Mine"). */
  async assignees(): Promise<StaffList> {
    const o = obj(await this.json("GET", "/assignees"));
    return { me: str(o["me"]), staff: arr(o["staff"]).map((v) => str(v)) };
  }

  /** Assign the conversation to a staff user, or unassign with null; returns who has it now. */
  async assign(conversationId: string, assignee: string | null): Promise<string | null> {
    return optStr(obj(await this.json("POST", `/patients/${seg(conversationId)}/assign`, { assignee }))["assignee"]);
  }

  /** An internal note on the thread: staff only, never sent. */
  async addNote(conversationId: string, body: string): Promise<string> {
    return str(obj(await this.json("POST", `/patients/${seg(conversationId)}/notes`, { body }))["message_id"]);
  }

  /** The signed-in user opened the conversation: no longer unread for them. */
  async markRead(conversationId: string): Promise<void> {
    await this.json("POST", `/patients/${seg(conversationId)}/read`, {});
  }

  async savedReplies(conversationId: string): Promise<SavedReply[]> {
    return arr(obj(await this.json("GET", `/patients/${seg(conversationId)}/saved-replies`))["replies"]).map((v) => {
      const o = obj(v);
      return { id: str(o["id"]), title: str(o["title"]), body: str(o["body"]), language: str(o["language"], "en") };
    });
  }

  // ---- the patient page ----------------------------------------------------------------------

  /** Texts, calls, appointments, consent and delivery, newest first, and the record problems. */
  async patientTimeline(patientId: string): Promise<PatientTimeline> {
    return decodeTimeline(await this.json("GET", `/patients/${seg(patientId)}/timeline`));
  }

  /** confirm | cancel | noshow | fulfilled, by staff (written back to the EHR where it allows). */
  async appointmentAction(appointmentId: string, action: string): Promise<void> {
    await this.json("POST", `/appointments/${seg(appointmentId)}/${seg(action)}`, {});
  }

  /** A consent change by staff: always with a note; an opt-in only with documented consent. */
  async patientConsent(patientId: string, change: { opted_out: boolean; note: string; documented_consent: boolean }): Promise<void> {
    await this.json("POST", `/patients/${seg(patientId)}/consent`, change);
  }

  // ---- staff accounts and the PHI access log (admins; #/staff) ------------------------------------

  async staff(): Promise<StaffDirectory> {
    const o = obj(await this.json("GET", "/staff"));
    return {
      staff: arr(o["staff"]).map(decodeStaffMember),
      roles: arr(o["roles"]).map(obj).filter((r) => isRole(r["id"])).map((r) => ({ id: r["id"] as Role, label: str(r["label"]) })),
    };
  }

  /** A Cognito account for this email (its invitation email goes out) in the role's group. */
  async inviteStaff(email: string, role: Role): Promise<StaffMember> {
    return decodeStaffMember(await this.json("POST", "/staff", { email, role }));
  }

  async setStaffRole(username: string, role: Role): Promise<void> {
    await this.json("PUT", `/staff/${seg(username)}/role`, { role });
  }

  // ---- wfeditor: the workflow editor ----------------------------------------------------------------

  async workflowDetail(id: string): Promise<WorkflowDetail> {
    const o = obj(await this.json("GET", `/workflows/${seg(id)}`));
    const strs = (v: unknown): string[] => arr(v).map((x) => str(x));
    return {
      workflow: decodeWorkflow(o["workflow"]),
      definition: obj(o["definition"]) as unknown as WorkflowDefinition,
      template_fields: strs(o["template_fields"]),
      condition_fields: strs(o["condition_fields"]),
      condition_ops: strs(o["condition_ops"]),
      test_contacts: strs(o["test_contacts"]),
      part_budget: num(o["part_budget"]) || 2,
    };
  }

  async previewWorkflow(id: string, definition: WorkflowDefinition): Promise<WorkflowPreview> {
    const o = obj(await this.json("POST", `/workflows/${seg(id)}/preview`, { definition }));
    return {
      valid: bool(o["valid"]),
      error: optStr(o["error"]),
      patient: str(obj(o["patient"])["name"]),
      steps: arr(o["steps"]).map((s) => {
        const so = obj(s);
        return {
          index: num(so["index"]), id: str(so["id"]), type: str(so["type"]),
          texts: arr(so["texts"]).map((t) => {
            const to = obj(t);
            return {
              language: str(to["language"]), text: optStr(to["text"]), error: optStr(to["error"]), parts: num(to["parts"]),
              encoding: str(to["encoding"]), characters: num(to["characters"]), worst_case_parts: num(to["worst_case_parts"]),
              warning: optStr(to["warning"]),
            };
          }),
        };
      }),
    };
  }

  /** Saves an edit as a new version; `why` is required by the server. */
  async saveWorkflow(id: string, definition: WorkflowDefinition, why: string): Promise<Workflow> {
    return decodeWorkflow(await this.json("PUT", `/workflows/${seg(id)}`, { workflow: definition, why }));
  }

  /** Restores the version before `version` as a new one ("undo of v<version>"). */
  async undoWorkflow(id: string, version: number): Promise<Workflow> {
    return decodeWorkflow(await this.json("POST", `/workflows/${seg(id)}/undo`, { version }));
  }

  async workflowChanges(id: string): Promise<WorkflowVersion[]> {
    return arr(obj(await this.json("GET", `/workflows/${seg(id)}/changes`))["versions"]).map((v) => {
      const o = obj(v);
      return {
        version: num(o["version"]), enabled: bool(o["enabled"]), at: optStr(o["at"]), by: str(o["by"]), why: str(o["why"]),
        changes: arr(o["changes"]).map((c) => {
          const co = obj(c);
          return { field: str(co["field"]), step: optStr(co["step"]), old: co["old"], new: co["new"] };
        }),
      };
    });
  }

  async dryRunWorkflow(id: string, definition: WorkflowDefinition, days: number): Promise<DryRunReport> {
    const o = obj(await this.json("POST", `/workflows/${seg(id)}/dry-run`, { definition, days }));
    const counts = <K extends string>(v: unknown, key: K) =>
      arr(v).map((x) => ({ [key]: str(obj(x)[key]), count: num(obj(x)["count"]) }) as Record<K, string> & { count: number });
    return {
      days: num(o["days"]), total: num(o["total"]), would_send: num(o["would_send"]),
      per_step: counts(o["per_step"], "step"), per_day: counts(o["per_day"], "day"), held: counts(o["held"], "gate"),
      truncated: bool(o["truncated"]),
      rows: arr(o["rows"]).map((r) => {
        const ro = obj(r);
        return {
          patient: str(ro["patient"]), patient_id: str(ro["patient_id"]), appointment: optStr(ro["appointment"]),
          step: str(ro["step"]), kind: str(ro["kind"]), outcome: ro["outcome"] === "send" ? "send" : "held",
          at: str(ro["at"]), at_text: str(ro["at_text"]), text: optStr(ro["text"]), gate: optStr(ro["gate"]),
          reason: optStr(ro["reason"]),
        };
      }),
    };
  }

  async testSendWorkflow(id: string, definition: WorkflowDefinition, step: string, language: string, phone: string): Promise<{ message_id: string; to: string }> {
    const o = obj(await this.json("POST", `/workflows/${seg(id)}/test-send`, { definition, step, language, phone }));
    return { message_id: str(o["message_id"]), to: str(o["to"]) };
  }

  // ---- end wfeditor ---------------------------------------------------------------------------------

  /** The PHI access log as CSV (the download is itself logged). */
  async accessLogCsv(): Promise<{ blob: Blob; filename: string | null }> {
    const res = await this.request("GET", "/access-log/export.csv", undefined, "text/csv");
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(res.headers.get("content-disposition") ?? "");
    return { blob: await res.blob(), filename: match?.[1] ? decodeURIComponent(match[1]) : null };
  }

  // ---- rolegaps: rescheduling from the patient page ------------------------------------------------

  /** Text the patient their own link to move this visit (a staff reply in the thread). */
  async sendRescheduleLink(patientId: string, appointmentId: string): Promise<void> {
    await this.json("POST", `/patients/${seg(patientId)}/reschedule-link`, { appointment_id: appointmentId });
  }
}

const ROLES: readonly Role[] = ["admin", "front_desk", "clinical", "billing"];

function isRole(v: unknown): v is Role {
  return ROLES.some((r) => r === v);
}

function decodeStaffMember(v: unknown): StaffMember {
  const o = obj(v);
  return {
    username: str(o["username"]),
    email: str(o["email"]),
    roles: arr(o["roles"]).filter(isRole),
    status: str(o["status"]),
    enabled: o["enabled"] !== false,
  };
}
