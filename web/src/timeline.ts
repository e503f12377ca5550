// The patient page's data: what /api/patients/<id>/timeline answers, decoded defensively (the page
// never trusts a shape), kept apart from types.ts so the patient page's branch merges cleanly.

type Rec = Record<string, unknown>;
const obj = (v: unknown): Rec => (v && typeof v === "object" && !Array.isArray(v) ? (v as Rec) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const bool = (v: unknown): boolean => v === true;

export interface TimelineAppointment {
  id: string;
  start: string;
  status: string;
  provider: string;
  location: string;
  visit_type: string;
  confirmed: boolean;
  declined: boolean;
  actions: string[];
  reschedule: boolean; // staff may text the patient a link to move it
  history: AppointmentChange[];
}

// one change of a visit's state, oldest first (careloop/models.py AppointmentChange)
export interface AppointmentChange {
  at: string;
  event: string;
  source: string; // ehr | patient | staff | agent
  by: string;
  detail: string;
}

export interface TimelineEntry {
  kind: string; // text_out | text_in | call | alert | task | staff_action | appointment | consent
  at: string;
  id: string;
  body: string;
  status: string;
  workflow: string;
  event: string;
  reason: string;
  appointment: TimelineAppointment | null;
  action: string;
  source: string;
  by: string;
  note: string;
  text: string;
  detail: string; // an appointment change: its reason, or what it moved from
  delivery: { status: string; detail: string } | null;
  callOutcome: string;
  appointment_id: string; // a text or task about one visit
  withheld: boolean; // the words are not for this role (careloop/roles.py sees_patient_words)
}

export interface Finding {
  severity: string;
  problem: string;
  detail: string;
  action: string;
}

// what the signed-in role may do on the page (the API decides; the page offers only that)
export interface PatientPageMay {
  act_on_appointments: boolean;
  change_consent: boolean;
  open_conversation: boolean;
  all_words: boolean;
}

export interface PatientTimeline {
  patient: { id: string; first_name: string; last_name: string; phone: string; language: string; opted_out: boolean };
  may: PatientPageMay;
  appointments: TimelineAppointment[];
  entries: TimelineEntry[];
  findings: Finding[];
}

function decodeAppointment(v: unknown): TimelineAppointment {
  const a = obj(v);
  return {
    id: str(a["id"]), start: str(a["start"]), status: str(a["status"]), provider: str(a["provider"]),
    location: str(a["location"]), visit_type: str(a["visit_type"]), confirmed: bool(a["confirmed"]),
    declined: bool(a["declined"]), actions: arr(a["actions"]).map(str), reschedule: bool(a["reschedule"]),
    history: arr(a["history"]).map((c) => {
      const x = obj(c);
      return { at: str(x["at"]), event: str(x["event"]), source: str(x["source"]), by: str(x["by"]), detail: str(x["detail"]) };
    }),
  };
}

export function decodeTimeline(v: unknown): PatientTimeline {
  const d = obj(v);
  const p = obj(d["patient"]);
  const may = obj(d["may"]);
  const allowed = (k: string): boolean => may[k] !== false; // an older API without `may`: everything
  return {
    may: { act_on_appointments: allowed("act_on_appointments"), change_consent: allowed("change_consent"),
      open_conversation: allowed("open_conversation"), all_words: allowed("all_words") },
    patient: { id: str(p["id"]), first_name: str(p["first_name"]), last_name: str(p["last_name"]), phone: str(p["phone"]),
      language: str(p["language"]) || "en", opted_out: bool(p["opted_out"]) },
    appointments: arr(d["appointments"]).map(decodeAppointment),
    entries: arr(d["entries"]).map((e) => {
      const x = obj(e);
      const delivery = obj(x["delivery"]);
      return {
        kind: str(x["kind"]), at: str(x["at"]), id: str(x["id"]), body: str(x["body"]), status: str(x["status"]),
        workflow: str(x["workflow"]), event: str(x["event"]), reason: str(x["reason"]),
        appointment: x["appointment"] ? decodeAppointment(x["appointment"]) : null,
        action: str(x["action"]), source: str(x["source"]), by: str(x["by"]), note: str(x["note"]), text: str(x["text"]), detail: str(x["detail"]),
        delivery: x["delivery"] ? { status: str(delivery["status"]), detail: str(delivery["detail"]) } : null,
        callOutcome: str(obj(x["call"])["outcome"]),
        appointment_id: str(x["appointment_id"]),
        withheld: bool(x["withheld"]),
      };
    }),
    findings: arr(d["findings"]).map((f) => {
      const x = obj(f);
      return { severity: str(x["severity"]), problem: str(x["problem"]), detail: str(x["detail"]), action: str(x["action"]) };
    }),
  };
}

