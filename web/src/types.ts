// Shapes of /config.json and of the staff API (/api/...), as the app reads them.
// The decoders in api.ts coerce whatever arrives into these, so extra or missing fields never crash a page.
import type * as wire from "./api-types";

export interface CognitoConfig {
  endpoint: string;
  region: string;
  clientId: string;
  userPoolId: string;
}

export interface AppConfig {
  practiceName: string;
  apiBase: string;
  /** The local stack's clock (GET -> {"now": ISO}); null in AWS. */
  devClock: string | null;
  cognito: CognitoConfig;
}

// ---- the staff API's bodies: generated from its OpenAPI document (api-types.ts, `make openapi`) ----
// Re-exported as they are where the app uses them as they arrive; where a decoder in api.ts fills
// in a field (a thread's number and opt-out, a null provider as ""), the app's type says so.

export type Role = "admin" | "front_desk" | "clinical" | "billing";
export type Priority = wire.Conversation["priority"];
export type MessageKind = wire.Message["kind"];

export type Practice = wire.Practice;
export type Me = wire.Me;
export type Conversation = wire.Conversation;
export type CallTurn = wire.CallTurn;
/** A phone call on the thread: how it ended and what was said (voice agent or missed). */
export type CallView = wire.CallView;
/** A staff member in the conversation: the assistant leaves it to them until `until` or a hand-back. */
export type StaffHold = wire.StaffHold;

/** The patient of a thread; the decoder reads a missing phone as "". */
export interface ThreadPatient extends Omit<wire.ThreadPatient, "phone"> {
  phone: string;
}

/** A message as decoded: `call` is always there (null but for calls). */
export interface Message extends Omit<wire.Message, "call"> {
  call: CallView | null;
}

/** A thread as decoded: the masked number and opt-out filled in for a patient's thread too. */
export interface Thread extends Omit<wire.Thread, "patient" | "phone_masked" | "opted_out" | "messages"> {
  /** null for an unknown number's thread (`phone:<E.164>`), until staff link it to a patient. */
  patient: ThreadPatient | null;
  phone_masked: string;
  opted_out: boolean;
  messages: Message[];
}

/** The decoders read a missing provider or visit type as "". */
export interface NextAppointment extends Omit<wire.NextAppointment, "provider" | "visit_type"> {
  provider: string;
  visit_type: string;
}

export interface PatientRow extends Omit<wire.PatientRow, "next_appointment"> {
  next_appointment: NextAppointment | null;
}

export interface Appointment extends Omit<wire.Appointment, "provider" | "location" | "visit_type"> {
  provider: string;
  location: string;
  visit_type: string;
}

export type WorkflowStep = wire.WorkflowStep;

/** A workflow card: the history is not read from the list. */
export type Workflow = Omit<wire.Workflow, "history">;

/** One row of a "rates by" table (careloop/analytics/summary.py _rate_row); by workflow adds sent/delivered. */
export interface RateRow {
  name: string;
  n: number;
  reminded: number;
  confirmed: number;
  confirmation_rate: number;
  past: number;
  no_shows: number;
  no_show_rate: number;
  replied: number;
  reply_rate: number;
  sent: number;
  delivered: number;
}

/** A by-workflow row: the workflow's texts and the rates of the visits it texted. */
export type WorkflowStats = RateRow & { workflow: string };

/** One bucket (a day, or the Monday of a week) of the series over time. */
export interface SeriesPoint {
  bucket: string;
  sent: number;
  delivered: number;
  replies: number;
  confirmed: number;
  no_shows: number;
  recovered: number;
}

export type SeriesKey = Exclude<keyof SeriesPoint, "bucket">;

export interface IntentRow {
  intent: string;
  texts: number;
  answered_automatically: number;
  handed_to_staff: number;
}

/** The SMS agent's volumes: answered by itself vs handed to staff, and staff's first-reply time. */
export interface AgentStats {
  texts: number;
  answered_automatically: number;
  handed_to_staff: number;
  automation_rate: number;
  staff_replies: number;
  handoffs: number;
  handoffs_answered: number;
  median_first_reply_minutes: number | null;
  by_intent: IntentRow[];
}

export interface VersionRow {
  version: number | null;
  label: string;
  n: number;
  confirmed: number;
  confirmation_rate: number;
  ci_low: number;
  ci_high: number;
}

/** One workflow's versions side by side, newest first, with the sentence comparing the newest two. */
export interface WorkflowVersions {
  workflow: string;
  versions: VersionRow[];
  sentence: string;
}

export interface Roi {
  recovered_by_careloop: number;
  confirmed_attributable: number;
  visits: number;
  value_per_visit: number;
  currency: string;
  value: number;
  formula: string;
}

export interface AnalyticsSummary {
  period: { from: string; to: string };
  bucket: "day" | "week";
  sent: number;
  delivered: number;
  failed: number;
  delivery_rate: number;
  replies: number;
  responses: number;
  response_rate: number;
  patients_texted: number;
  appointments: number;
  reminded: number;
  confirmed: number;
  confirmation_rate: number;
  no_shows: number;
  no_show_rate: number;
  cancelled: number;
  recovered: number;
  recovered_by_careloop: number;
  recovery_rate: number;
  series: SeriesPoint[];
  by_workflow: WorkflowStats[];
  by_provider: RateRow[];
  by_location: RateRow[];
  by_visit_type: RateRow[];
  by_language: RateRow[];
  by_patient_type: RateRow[];
  agent: AgentStats;
  versions: WorkflowVersions[];
  roi: Roi;
  definitions: Record<string, string>;
  workflow_names: Record<string, string>;
  voice: VoiceStats | null;
}

/** The voice agent's calls in the period (careloop.voice.analytics). */
export interface VoiceStats {
  calls: number;
  answered_by_agent: number;
  booked_by_voice: number;
  transferred: number;
  callbacks: number;
  urgent: number;
  missed: number;
  text_backs: number;
  booked_after_text_back: number;
  text_back_booking_rate: number;
}

// ---- inbox2: assignment, saved replies ----------------------------------------------------------

/** Who a conversation can be assigned to, and who is signed in (for "Mine"). */
export type StaffList = wire.StaffList;

/** A saved reply filled in for one patient, in their language. */
export type SavedReply = wire.SavedReply;

// ---- roles, staff accounts (#/staff, admins) -----------------------------------------------------

export type StaffMember = wire.StaffMember;
export type StaffDirectory = wire.StaffDirectory;

// ---- wfeditor: the workflow editor (#/workflows/<id>) -------------------------------------------

/** A stored workflow definition as the editor edits it (careloop/workflows/model.py). */
export interface WorkflowDefinition {
  id: string;
  name: string;
  description: string;
  version: number;
  enabled: boolean;
  priority: number;
  trigger: { on: string; status?: string | null; workflow?: string | null; step?: string | null };
  steps: StepDefinition[];
  history?: unknown[];
}

export interface StepDefinition {
  id: string;
  name?: string;
  timing: { anchor: "start" | "trigger"; offset_minutes: number; catch_up_min_lead_minutes?: number | null; grace_minutes?: number | null };
  conditions: { field: string; op: string; value?: unknown }[];
  action: { type: string; template: Record<string, string>; priority?: string; workflow?: string | null };
  only_if_no_response?: boolean;
}

export interface WorkflowDetail {
  workflow: Workflow;
  definition: WorkflowDefinition;
  template_fields: string[];
  condition_fields: string[];
  condition_ops: string[];
  test_contacts: string[];
  part_budget: number;
}

export interface TextPreview {
  language: string;
  text: string | null;
  error: string | null;
  parts: number;
  encoding: string;
  characters: number;
  worst_case_parts: number;
  warning: string | null;
}

export interface WorkflowPreview {
  valid: boolean;
  error: string | null;
  patient: string;
  steps: { index: number; id: string; type: string; texts: TextPreview[] }[];
}

export interface FieldChange {
  field: string;
  step: string | null;
  old: unknown;
  new: unknown;
}

export interface WorkflowVersion {
  version: number;
  enabled: boolean;
  at: string | null;
  by: string;
  why: string;
  changes: FieldChange[];
}

export interface DryRunRow {
  patient: string;
  patient_id: string;
  appointment: string | null;
  step: string;
  kind: string;
  outcome: "send" | "held";
  at: string;
  at_text: string;
  text: string | null;
  gate: string | null;
  reason: string | null;
}

export interface DryRunReport {
  days: number;
  total: number;
  would_send: number;
  per_step: { step: string; count: number }[];
  per_day: { day: string; count: number }[];
  held: { gate: string; count: number }[];
  rows: DryRunRow[];
  truncated: boolean;
}

// ---- end wfeditor --------------------------------------------------------------------------------
