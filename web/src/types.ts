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
  /** what staff call it ("Reminder 2 days before"); the id is secondary text */
  name: string;
  type: string;
  summary: string;
  /** the English text's opening words, fields as [first name] */
  first_words: string;
}

export interface Workflow {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  version: number;
  trigger: string;
  /** when its first step happens, as people say it: "2 days before a visit" */
  starts: string;
  steps: WorkflowStep[];
}

export interface WorkflowStats {
  workflow: string;
  sent: number;
  delivered: number;
  confirmed: number;
}

export interface AnalyticsSummary {
  period: { from: string; to: string };
  sent: number;
  delivered: number;
  failed: number;
  delivery_rate: number;
  responses: number;
  response_rate: number;
  confirmed: number;
  confirmation_rate: number;
  no_shows: number;
  no_show_rate: number;
  by_workflow: WorkflowStats[];
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
