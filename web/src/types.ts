// Shapes of /config.json and of the staff API (/api/...), as the app reads them.
// The decoders in api.ts coerce whatever arrives into these, so extra or missing fields never crash a page.

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

export interface Practice {
  id: string;
  name: string;
  timezone: string;
  phone: string;
}

export interface Me {
  username: string;
  email: string;
  practice: Practice;
  /** The caller's roles (Cognito groups): the app hides what they cannot use; the API is the gate. */
  roles: Role[];
}

export type Priority = "urgent" | "normal" | null;

export interface Conversation {
  patient_id: string;
  patient_name: string;
  phone_masked: string;
  last_body: string;
  last_at: string;
  last_direction: "in" | "out";
  needs_attention: boolean;
  reason: string | null;
  intent: string | null;
  priority: Priority;
  /** inbox2: the team the agent routed it to, who has it, and whether it is unread for the viewer. */
  team?: string | null;
  assignee?: string | null;
  unread?: boolean;
}

export interface ThreadPatient {
  id: string;
  first_name: string;
  last_name: string;
  phone: string;
  language: string;
  opted_out: boolean;
}

export type MessageKind = "sms_out" | "sms_in" | "staff_alert" | "task" | "call" | "note";

export interface CallTurn {
  at: string;
  caller: string;
  agent: string;
  intent: string | null;
}

/** A phone call on the thread: how it ended and what was said (voice agent or missed). */
export interface CallView {
  outcome: string | null;
  reached_agent: boolean;
  started_at: string | null;
  ended_at: string | null;
  turns: CallTurn[];
}

export interface Message {
  message_id: string;
  kind: MessageKind;
  body: string;
  at: string;
  status: string;
  workflow: string | null;
  step: string | null;
  priority: Priority;
  /** Why an alert was raised, or who did it ("sent by …", "by …"). */
  reason: string | null;
  call: CallView | null;
  /** inbox2: who wrote an internal note (kind "note"). */
  author?: string | null;
}

/** A staff member in the conversation: the assistant leaves it to them until `until` or a hand-back. */
export interface StaffHold {
  by: string;
  since: string;
  until: string;
}

export interface Thread {
  /** null for an unknown number's thread (`phone:<E.164>`), until staff link it to a patient. */
  patient: ThreadPatient | null;
  phone_masked: string;
  opted_out: boolean;
  staff_in_conversation: StaffHold | null;
  messages: Message[];
  /** inbox2: the staff user the conversation is assigned to. */
  assignee?: string | null;
}

export interface NextAppointment {
  id: string;
  start: string;
  status: string;
  confirmed: boolean;
  provider: string;
  visit_type: string;
}

export interface PatientRow {
  id: string;
  first_name: string;
  last_name: string;
  phone_masked: string;
  language: string;
  opted_out: boolean;
  next_appointment: NextAppointment | null;
}

export interface Appointment {
  id: string;
  patient_id: string;
  patient_name: string;
  start: string;
  minutes: number;
  status: string;
  confirmed: boolean;
  provider: string;
  location: string;
  visit_type: string;
}

export interface WorkflowStep {
  id: string;
  summary: string;
}

export interface Workflow {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  version: number;
  trigger: string;
  steps: WorkflowStep[];
}

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
export interface StaffList {
  me: string;
  staff: string[];
}

/** A saved reply filled in for one patient, in their language. */
export interface SavedReply {
  id: string;
  title: string;
  body: string;
  language: string;
}

// ---- roles, staff accounts (#/staff, admins) -----------------------------------------------------

export type Role = "admin" | "front_desk" | "clinical" | "billing";

export interface StaffMember {
  username: string;
  email: string;
  roles: Role[];
  status: string;
  enabled: boolean;
}

export interface StaffDirectory {
  staff: StaffMember[];
  roles: { id: Role; label: string }[];
}
