// Dates, times and numbers as people write them, in the practice's time zone ("Thu Dec 5, 10:00 AM").

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

export class Formatter {
  readonly timeZone: string | undefined;
  private readonly full: Intl.DateTimeFormat;
  private readonly time: Intl.DateTimeFormat;
  private readonly dayKey: Intl.DateTimeFormat;
  private readonly monthDay: Intl.DateTimeFormat;
  private readonly monthDayYear: Intl.DateTimeFormat;
  private readonly weekdayDate: Intl.DateTimeFormat;
  private readonly zoneName: Intl.DateTimeFormat;

  constructor(timeZone: string, locale = "en-US") {
    const tz = validZone(timeZone);
    this.timeZone = tz;
    const base = tz ? { timeZone: tz } : {};
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

  /** "Thu Dec 5, 10:00 AM" */
  dateTime(iso: string): string {
    const d = this.parse(iso);
    if (!d) return "";
    const parts = this.full.formatToParts(d);
    const get = (t: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === t)?.value ?? "";
    return `${get("weekday")} ${get("month")} ${get("day")}, ${get("hour")}:${get("minute")} ${get("dayPeriod")}`.trim();
  }

  /** For lists: "10:00 AM" today, "Yesterday", "Dec 5" this year, "Dec 5, 2023" before. */
  short(iso: string, now = new Date()): string {
    const d = this.parse(iso);
    if (!d) return "";
    const key = this.dayKey.format(d);
    if (key === this.dayKey.format(now)) return spaces(this.time.format(d));
    if (key === this.dayKey.format(new Date(now.getTime() - 86_400_000))) return "Yesterday";
    const sameYear = key.slice(0, 4) === this.dayKey.format(now).slice(0, 4);
    return (sameYear ? this.monthDay : this.monthDayYear).format(d);
  }

  /** "10:00 AM" */
  timeOnly(iso: string): string {
    const d = this.parse(iso);
    return d ? spaces(this.time.format(d)) : "";
  }

  /** A key that is equal for two instants on the same calendar day in the practice's zone. */
  day(iso: string): string {
    const d = this.parse(iso);
    return d ? this.dayKey.format(d) : "";
  }

  /** "Today", "Yesterday" or "Thursday, December 5" */
  dayHeading(iso: string, now = new Date()): string {
    const d = this.parse(iso);
    if (!d) return "";
    const key = this.dayKey.format(d);
    if (key === this.dayKey.format(now)) return "Today";
    if (key === this.dayKey.format(new Date(now.getTime() - 86_400_000))) return "Yesterday";
    if (key === this.dayKey.format(new Date(now.getTime() + 86_400_000))) return "Tomorrow";
    return this.weekdayDate.format(d);
  }

  /** "EST" / "EDT": shown next to times so nobody wonders whose clock they are. */
  zoneAbbreviation(now = new Date()): string {
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
