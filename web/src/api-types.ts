// Careloop staff API (version 1): the bodies it takes and answers.
// GENERATED from docs/openapi/staff-api.json by `make openapi`; do not edit by hand.
// Objects may carry more fields than listed (the API passes through what the core adds).

export interface Appointment {
  id: string;
  patient_id: string;
  patient_name: string;
  start: string;
  minutes: number;
  status: string;
  confirmed: boolean;
  provider: string | null;
  location: string | null;
  visit_type: string | null;
}

export interface AppointmentDone {
  appointment: Record<string, unknown>;
  changed: boolean;
  /** Whether the EHR was told (when it allows) */
  ehr_told?: boolean | null;
}

export interface AppointmentList {
  appointments: Appointment[];
}

export interface AssignRequest {
  /** A staff user, or null to unassign */
  assignee: string | null;
}

export interface Assigned {
  patient_id: string;
  assignee: string | null;
}

export interface AuditReport {
  generated_at: string;
  stale_days: number;
  summary: Record<string, unknown>;
  rows: Record<string, unknown>[];
}

export interface BookingDecided {
  appointment: Record<string, unknown>;
}

export interface CallTurn {
  at: string;
  caller: string;
  agent: string;
  intent: string | null;
}

export interface CallView {
  outcome: string | null;
  reached_agent: boolean;
  started_at: string | null;
  ended_at: string | null;
  turns: CallTurn[];
}

export interface ConsentChanged {
  changed: boolean;
  opted_out: boolean;
}

export interface ConsentRequest {
  opted_out: boolean;
  /** How the patient asked (a call, a signed form): kept as proof */
  note: string;
  /** An opt-in needs the patient's documented consent */
  documented_consent?: boolean;
}

export interface Conversation {
  /** The patient's id, or phone:<E.164> for an unknown number */
  patient_id: string;
  patient_name: string;
  phone_masked: string;
  last_body: string;
  last_at: string;
  last_direction: "in" | "out";
  needs_attention: boolean;
  reason: string | null;
  intent: string | null;
  priority: "urgent" | "normal" | null;
  /** The team its open alert or task is routed to */
  team: string | null;
  assignee: string | null;
  /** Unread for the signed-in staff user */
  unread: boolean;
}

export interface DryRunRequest {
  /** The definition as it would go live */
  definition: Record<string, unknown>;
  /** How many days ahead (at most 14) */
  days?: number;
}

export interface EnableRequest {
  enabled: boolean;
  /** Why it changed (required; kept in the history) */
  why: string;
}

export interface ErrorAnswer {
  /** What is wrong, naming the field first */
  message: string;
  /** A request that failed validation: each field and its problem */
  errors?: FieldProblem[];
}

export interface FieldProblem {
  /** Where: "body.email", "query.from", "path.patient_id" */
  field: string;
  problem: string;
}

export interface HandedBack {
  handed_back: boolean;
}

export interface InboxPage {
  conversations: Conversation[];
}

export interface InviteRequest {
  /** The new staff member's email address */
  email: string;
  role: "admin" | "front_desk" | "clinical" | "billing";
}

export interface LinkRequest {
  /** The patient this number's conversation belongs to */
  patient_id: string;
}

export interface Linked {
  patient_id: string;
  moved: number;
}

export interface Me {
  username: string;
  email: string;
  /** The caller's roles (Cognito groups) */
  roles: ("admin" | "front_desk" | "clinical" | "billing")[];
  practice: Practice;
}

export interface Message {
  message_id: string;
  kind: "sms_out" | "sms_in" | "staff_alert" | "task" | "call" | "note";
  body: string;
  at: string;
  status: string;
  workflow: string | null;
  step: string | null;
  priority: "urgent" | "normal" | null;
  intent: string | null;
  needs_attention: boolean;
  team: string | null;
  /** Why an alert was raised, or who did it ("sent by ...") */
  reason: string | null;
  /** A phone call (kind call): how it ended and what was said */
  call?: CallView | null;
  /** Who wrote an internal note (kind note) */
  author?: string | null;
  /** A text's failure or hold-back reason (kind sms_out): the carrier's code, 'quota: ...', 'opted out' */
  status_detail?: string | null;
}

export interface MessageCreated {
  message_id: string;
}

export interface NextAppointment {
  id: string;
  start: string;
  status: string;
  confirmed: boolean;
  provider: string | null;
  visit_type: string | null;
}

export interface NoteRequest {
  /** The note (at most 2000 characters once spaces are collapsed) */
  body: string;
}

export interface PatientList {
  patients: PatientRow[];
}

export interface PatientRow {
  id: string;
  first_name: string;
  last_name: string;
  phone_masked: string;
  language: string;
  opted_out: boolean;
  undeliverable: boolean;
  next_appointment: NextAppointment | null;
}

export interface PatientTimeline {
  patient: ThreadPatient;
  now: string;
  /** Each appointment with the actions staff may take */
  appointments: Record<string, unknown>[];
  /** Texts, calls, appointments, consent and delivery, newest first */
  entries: Record<string, unknown>[];
  /** The data-quality findings for this patient */
  findings: Record<string, unknown>[];
}

export interface Practice {
  id: string;
  name: string;
  timezone: string;
  phone: string;
}

export interface PreviewRequest {
  /** The edited (unsaved) workflow definition */
  definition: Record<string, unknown>;
  /** Render for this patient instead of the sample */
  patient_id?: string | null;
}

export interface ReadMark {
  patient_id: string;
  read_at: string;
}

export interface ReplyRequest {
  /** The text to send (at most 1000 characters once spaces are collapsed) */
  body: string;
}

export interface RescheduleLinkRequest {
  /** Which of the patient's upcoming visits the link moves */
  appointment_id: string;
}

export interface RescheduleLinkSent {
  message_id: string;
  appointment_id: string;
}

export interface Resolved {
  /** How many open alerts and tasks were closed */
  resolved: number;
}

export interface RoleChanged {
  username: string;
  roles: ("admin" | "front_desk" | "clinical" | "billing")[];
}

export interface RoleOption {
  id: "admin" | "front_desk" | "clinical" | "billing";
  label: string;
}

export interface RoleRequest {
  role: "admin" | "front_desk" | "clinical" | "billing";
}

export interface SavedReplies {
  language: string;
  replies: SavedReply[];
}

export interface SavedReply {
  id: string;
  title: string;
  body: string;
  language: string;
}

export interface SentForTest {
  message_id: string;
  /** The text as sent */
  body: string;
  to: string;
  status: string;
}

export interface StaffDirectory {
  staff: StaffMember[];
  roles: RoleOption[];
}

export interface StaffHold {
  by: string;
  since: string;
  until: string;
}

export interface StaffList {
  me: string;
  staff: string[];
}

export interface StaffMember {
  username: string;
  email: string;
  roles: ("admin" | "front_desk" | "clinical" | "billing")[];
  status: string;
  enabled: boolean;
}

export interface TestSendRequest {
  step: string;
  language?: string;
  /** A number on the practice's test-contacts list */
  phone: string;
  /** The edited, unsaved version; else the stored one */
  definition?: Record<string, unknown> | null;
}

export interface Thread {
  /** null for an unknown number's thread until staff link it */
  patient: ThreadPatient | null;
  /** An unknown number's thread: the number, masked */
  phone_masked?: string | null;
  /** An unknown number's thread: whether the number opted out */
  opted_out?: boolean | null;
  staff_in_conversation: StaffHold | null;
  assignee: string | null;
  messages: Message[];
}

export interface ThreadPatient {
  id: string;
  first_name: string;
  last_name: string;
  phone: string | null;
  language: string;
  opted_out: boolean;
  undeliverable: boolean;
}

export interface UndoRequest {
  /** The version being undone: refused (409) if it is no longer the latest */
  version?: number | null;
}

export interface WaitlistRequest {
  waitlist: boolean;
}

export interface WaitlistState {
  patient: string;
  waitlist: boolean;
  since: string | null;
  source?: string | null;
}

export interface Workflow {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  version: number;
  /** What starts it, in words */
  trigger: string;
  /** When its first step happens, as people say it: "2 days before a visit" */
  starts: string;
  steps: WorkflowStep[];
  history: Record<string, unknown>[];
}

export interface WorkflowHistory {
  /** The definition now, then the earlier versions, newest first */
  versions: Record<string, unknown>[];
}

export interface WorkflowList {
  workflows: Workflow[];
}

export interface WorkflowSave {
  /** The workflow definition; its id must match the URL */
  workflow: Record<string, unknown>;
  /** Why it changed (required; kept in the history) */
  why: string;
}

export interface WorkflowStep {
  id: string;
  /** What staff call it ("Reminder 2 days before"); the id is secondary text */
  name: string;
  type: string;
  summary: string;
  /** The English text's opening words, fields as [first name] */
  first_words: string;
}
