// Dates, times and numbers as people write them: days in the practice's zone, and a time in the
// viewer's own zone names both clocks when they differ ("8:00 AM PT (11:00 AM ET)").

function validZone(tz: string): string | undefined {
  if (!tz) return undefined;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return tz;
  } catch {
    return undefined; // unknown zone: fall back to the browser's
  }
}

/** ICU puts narrow no-break spaces before AM/PM; plain spaces read and search the same everywhere. */
const spaces = (s: string): string => s.replace(/[\u202f\u00a0]/g, " ");

/** The zone this browser runs in (the viewer's clock). */
export function browserZone(): string | undefined {
  return validZone(new Intl.DateTimeFormat().resolvedOptions().timeZone ?? "");
}

/** "ET", "PT" as people say them; a zone without such a name keeps its short one ("GMT+1"). */
function zoneLabel(zone: string, d: Date, locale: string): string {
  const part = (style: "shortGeneric" | "short"): string =>
    new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: style } as Intl.DateTimeFormatOptions)
      .formatToParts(d)
      .find((p) => p.type === "timeZoneName")?.value ?? "";
  const generic = part("shortGeneric");
  return generic && !generic.includes(" ") ? generic : part("short");
}

/** Where "now" comes from: the browser's clock, or the local stack's when it serves one. */
export type Now = () => Date;

export interface FormatterOptions {
  /** The viewer's zone; the browser's by default. */
  viewerZone?: string;
  now?: Now;
}

export class Formatter {
  readonly timeZone: string | undefined;
  private readonly full: Intl.DateTimeFormat;
  private readonly time: Intl.DateTimeFormat;
  private readonly dayKey: Intl.DateTimeFormat;
  private readonly monthDay: Intl.DateTimeFormat;
  private readonly monthDayYear: Intl.DateTimeFormat;
  private readonly weekdayDate: Intl.DateTimeFormat;
  private readonly zoneName: Intl.DateTimeFormat;
  readonly viewerZone: string | undefined;
  private readonly clock: Now;
  private readonly locale: string;
  private readonly viewer: { full: Intl.DateTimeFormat; time: Intl.DateTimeFormat; wall: Intl.DateTimeFormat } | null;
  private readonly practiceWall: Intl.DateTimeFormat;

  constructor(timeZone: string, locale = "en-US", options: FormatterOptions = {}) {
    const tz = validZone(timeZone);
    this.timeZone = tz;
    this.locale = locale;
    this.clock = options.now ?? (() => new Date());
    const base = tz ? { timeZone: tz } : {};
    const wall = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" } as const;
    this.practiceWall = new Intl.DateTimeFormat("en-CA", { ...base, ...wall });
    // a viewer elsewhere reads times on their own clock first; with the practice's zone unknown
    // everything is already on the viewer's clock, so there is nothing to add
    const viewer = tz ? validZone(options.viewerZone ?? browserZone() ?? "") : undefined;
    this.viewerZone = viewer;
    this.viewer = viewer && viewer !== tz ? {
      full: new Intl.DateTimeFormat(locale, { timeZone: viewer, weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" }),
      time: new Intl.DateTimeFormat(locale, { timeZone: viewer, hour: "numeric", minute: "2-digit" }),
      wall: new Intl.DateTimeFormat("en-CA", { timeZone: viewer, ...wall }),
    } : null;
    this.full = new Intl.DateTimeFormat(locale, {
      ...base, weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit",
    });
    this.time = new Intl.DateTimeFormat(locale, { ...base, hour: "numeric", minute: "2-digit" });
    this.dayKey = new Intl.DateTimeFormat("en-CA", { ...base, year: "numeric", month: "2-digit", day: "2-digit" });
    this.monthDay = new Intl.DateTimeFormat(locale, { ...base, month: "short", day: "numeric" });
    this.monthDayYear = new Intl.DateTimeFormat(locale, { ...base, month: "short", day: "numeric", year: "numeric" });
    this.weekdayDate = new Intl.DateTimeFormat(locale, { ...base, weekday: "long", month: "long", day: "numeric" });
    this.zoneName = new Intl.DateTimeFormat(locale, { ...base, timeZoneName: "short" });
  }

  private parse(iso: string): Date | null {
    if (!iso) return null;
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? null : d;
  }

  /** "Now" on the clock the app follows (the local stack's in `make run`, else the browser's). */
  now(): Date {
    return this.clock();
  }

  /** The viewer's clock, when at this instant it reads another wall time than the practice's. */
  private elsewhere(d: Date): { full: Intl.DateTimeFormat; time: Intl.DateTimeFormat; wall: Intl.DateTimeFormat } | null {
    const v = this.viewer;
    return v && v.wall.format(d) !== this.practiceWall.format(d) ? v : null;
  }

  private label(zone: string | undefined, d: Date): string {
    return zone ? zoneLabel(zone, d, this.locale) : "";
  }

  private static joinFull(f: Intl.DateTimeFormat, d: Date): string {
    const parts = f.formatToParts(d);
    const get = (t: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === t)?.value ?? "";
    return `${get("weekday")} ${get("month")} ${get("day")}, ${get("hour")}:${get("minute")} ${get("dayPeriod")}`.trim();
  }

  /** "Thu Dec 5, 10:00 AM"; seen from another zone "Thu Dec 5, 7:00 AM PT (10:00 AM ET)", and the
   * practice's day too when it is another ("Thu Dec 5, 10:00 PM PT (Fri Dec 6, 1:00 AM ET)"). */
  dateTime(iso: string): string {
    const d = this.parse(iso);
    if (!d) return "";
    const practice = Formatter.joinFull(this.full, d);
    const v = this.elsewhere(d);
    if (!v) return practice;
    const sameDay = v.wall.format(d).slice(0, 10) === this.practiceWall.format(d).slice(0, 10);
    const theirs = sameDay ? spaces(this.time.format(d)) : practice;
    return `${Formatter.joinFull(v.full, d)} ${this.label(this.viewerZone, d)} (${theirs} ${this.label(this.timeZone, d)})`;
  }

  /** For lists: "10:00 AM" today ("7:00 AM PT" from another zone), "Yesterday", "Dec 5" this year,
   * "Dec 5, 2023" before; days are the practice's. */
  short(iso: string, now = this.now()): string {
    const d = this.parse(iso);
    if (!d) return "";
    const key = this.dayKey.format(d);
    if (key === this.dayKey.format(now)) {
      const v = this.elsewhere(d);
      return v ? `${spaces(v.time.format(d))} ${this.label(this.viewerZone, d)}` : spaces(this.time.format(d));
    }
    if (key === this.dayKey.format(new Date(now.getTime() - 86_400_000))) return "Yesterday";
    const sameYear = key.slice(0, 4) === this.dayKey.format(now).slice(0, 4);
    return (sameYear ? this.monthDay : this.monthDayYear).format(d);
  }

  /** "10:00 AM"; seen from another zone "7:00 AM PT (10:00 AM ET)". */
  timeOnly(iso: string): string {
    const d = this.parse(iso);
    if (!d) return "";
    const practice = spaces(this.time.format(d));
    const v = this.elsewhere(d);
    return v ? `${spaces(v.time.format(d))} ${this.label(this.viewerZone, d)} (${practice} ${this.label(this.timeZone, d)})` : practice;
  }

  /** A key that is equal for two instants on the same calendar day in the practice's zone. */
  day(iso: string): string {
    const d = this.parse(iso);
    return d ? this.dayKey.format(d) : "";
  }

  /** "Today", "Yesterday" or "Thursday, December 5": the practice's day, against the app's clock. */
  dayHeading(iso: string, now = this.now()): string {
    const d = this.parse(iso);
    if (!d) return "";
    const key = this.dayKey.format(d);
    if (key === this.dayKey.format(now)) return "Today";
    if (key === this.dayKey.format(new Date(now.getTime() - 86_400_000))) return "Yesterday";
    if (key === this.dayKey.format(new Date(now.getTime() + 86_400_000))) return "Tomorrow";
    return this.weekdayDate.format(d);
  }

  /** "EST" / "EDT": shown next to times so nobody wonders whose clock they are. */
  zoneAbbreviation(now = this.now()): string {
    return this.zoneName.formatToParts(now).find((p) => p.type === "timeZoneName")?.value ?? "";
  }
}

/** A rate as a percentage. Rates arrive as fractions (0.93); a value above 1 is taken as a percentage already. */
export function percent(rate: number): string {
  if (!Number.isFinite(rate)) return "–";
  const pct = rate > 1 ? rate : rate * 100;
  return `${pct.toFixed(pct > 0 && pct < 10 ? 1 : 0)}%`;
}

export function count(n: number): string {
  return new Intl.NumberFormat("en-US").format(n);
}

/** "appointment_booked" -> "Appointment booked" */
export function humanize(id: string): string {
  if (/\s/.test(id.trim())) return id.trim(); // already words (a sentence from the server): leave it alone
  const s = id.replace(/[_\-.]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").trim().toLowerCase();
  const words = s.replace(/\b(sms|ai|ehr|csv|id)\b/g, (w) => w.toUpperCase());
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : "";
}

/** "+16175550101" -> "(617) 555-0101"; other numbers (and masked ones) stay as they are. */
export function formatPhone(phone: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phone);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : phone;
}

export function fullName(first: string, last: string): string {
  return [first, last].filter(Boolean).join(" ") || "Unknown patient";
}

const LANGUAGES: Record<string, string> = { en: "English", es: "Spanish" };
export function languageName(code: string): string {
  return LANGUAGES[code] ?? code.toUpperCase();
}

/** SMS length: GSM-7 texts split at 160/153 characters, anything else (accents, emoji) at 70/67. */
export function smsSegments(text: string): { chars: number; segments: number; unicode: boolean } {
  const gsm = /^[A-Za-z0-9 \r\n@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&'()*+,\-./:;<=>?¡ÄÖÑÜ§¿äöñüà^{}\\[~\]|€]*$/;
  const unicode = !gsm.test(text);
  const chars = [...text].length;
  const single = unicode ? 70 : 160;
  const multi = unicode ? 67 : 153;
  const segments = chars === 0 ? 0 : chars <= single ? 1 : Math.ceil(chars / multi);
  return { chars, segments, unicode };
}
