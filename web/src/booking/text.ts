// The booking page's words in English and Spanish, and dates and times written in the practice's zone.
// Times are always formatted in the zone the slots answer names, never the browser's.

export type Lang = "en" | "es";

export const TEXT = {
  en: {
    title: "Book a visit",
    hello: (name: string) => `Hi ${name},`,
    intro: "pick a visit, a day and a time. It takes a minute.",
    switchTo: "Español",
    switchLabel: "Ver esta página en español",
    loading: "Loading…",
    chooseType: "What is the visit for?",
    minutes: (n: number) => `${n} min`,
    chooseDay: "Choose a day",
    chooseTime: "Choose a time",
    times: (n: number) => (n === 1 ? "1 time" : `${n} times`),
    later: "Later dates",
    otherDay: "See other days",
    otherTime: "Pick another time",
    earlier: "Earlier dates",
    noSlots: "No open times in these dates.",
    change: "Change",
    visit: "Visit",
    day: "Day",
    confirmTitle: "Confirm your visit",
    book: (when: string) => `Book ${when}`,
    booking: "Booking…",
    bookedTitle: "You're booked",
    booked: "Your visit is booked. We'll text you a confirmation and a reminder before it.",
    requestedTitle: "Request sent",
    requested: "The practice will confirm this time with you by text. It is pending until they do.",
    takenTitle: "That time was just taken",
    taken: "Someone booked it a moment ago. Here are the next open times:",
    takenNone: "Someone booked it a moment ago. Please choose another day.",
    expiredTitle: "This link has expired",
    expired: "It has expired or was already used to book. Reply to our text or call the practice for a new link.",
    unknownTitle: "We can't find this link",
    unknown: "Check that the whole link was opened, or contact the practice for a new one.",
    errorTitle: "Something went wrong",
    error: "We couldn't reach the practice. Check your connection and try again.",
    retry: "Try again",
    noTypes: "There is nothing to book online with this link. Please call the practice.",
  },
  es: {
    title: "Reservar una cita",
    hello: (name: string) => `Hola, ${name}:`,
    intro: "elija el tipo de cita, el día y la hora. Toma un minuto.",
    switchTo: "English",
    switchLabel: "View this page in English",
    loading: "Cargando…",
    chooseType: "¿Para qué es la cita?",
    minutes: (n: number) => `${n} min`,
    chooseDay: "Elija un día",
    chooseTime: "Elija una hora",
    times: (n: number) => (n === 1 ? "1 hora" : `${n} horas`),
    later: "Fechas posteriores",
    otherDay: "Ver otros días",
    otherTime: "Elegir otra hora",
    earlier: "Fechas anteriores",
    noSlots: "No hay horas libres en estas fechas.",
    change: "Cambiar",
    visit: "Cita",
    day: "Día",
    confirmTitle: "Confirme su cita",
    book: (when: string) => `Reservar ${when}`,
    booking: "Reservando…",
    bookedTitle: "Cita reservada",
    booked: "Su cita está reservada. Le enviaremos un mensaje de confirmación y un recordatorio antes de la cita.",
    requestedTitle: "Solicitud enviada",
    requested: "El consultorio le confirmará esta hora por mensaje. Queda pendiente hasta entonces.",
    takenTitle: "Esa hora se acaba de ocupar",
    taken: "Alguien la reservó hace un momento. Estas son las próximas horas libres:",
    takenNone: "Alguien la reservó hace un momento. Elija otro día, por favor.",
    expiredTitle: "Este enlace ha vencido",
    expired: "Venció o ya se usó para reservar. Responda a nuestro mensaje o llame al consultorio para pedir uno nuevo.",
    unknownTitle: "No encontramos este enlace",
    unknown: "Compruebe que abrió el enlace completo, o pida uno nuevo al consultorio.",
    errorTitle: "Algo salió mal",
    error: "No pudimos comunicarnos con el consultorio. Revise su conexión e inténtelo de nuevo.",
    retry: "Intentar de nuevo",
    noTypes: "Con este enlace no hay nada que reservar en línea. Llame al consultorio, por favor.",
  },
} as const;

export type Words = (typeof TEXT)[Lang];

/** "en" or "es" from a language tag ("es-MX" -> "es"); anything else reads English. */
export function langOf(tag: string | undefined | null): Lang | undefined {
  const base = (tag || "").toLowerCase().split(/[-_]/)[0];
  return base === "es" ? "es" : base === "en" ? "en" : undefined;
}

/** ICU puts narrow no-break spaces before AM/PM; plain spaces read and match the same everywhere. */
const spaces = (s: string): string => s.replace(/[\u202f\u00a0]/g, " ");

export class Clock {
  private readonly time: Intl.DateTimeFormat;
  private readonly dayLong: Intl.DateTimeFormat;
  private readonly dayShort: Intl.DateTimeFormat;
  private readonly key: Intl.DateTimeFormat;

  constructor(timeZone: string, lang: Lang) {
    // es-US writes "10:00 a.m. ET": the zone as a patient in the US reads it, in either language.
    const locale = lang === "es" ? "es-US" : "en-US";
    const zone = { timeZone };
    this.time = new Intl.DateTimeFormat(locale, {
      ...zone, hour: "numeric", minute: "2-digit", timeZoneName: "shortGeneric",
    });
    this.dayLong = new Intl.DateTimeFormat(locale, { ...zone, weekday: "long", month: "long", day: "numeric" });
    this.dayShort = new Intl.DateTimeFormat(locale, { ...zone, weekday: "short", month: "short", day: "numeric" });
    this.key = new Intl.DateTimeFormat("en-CA", { ...zone, year: "numeric", month: "2-digit", day: "2-digit" });
  }

  /** "10:00 AM ET" */
  timeOf(iso: string): string {
    return spaces(this.time.format(new Date(iso)));
  }
  /** "Thursday, December 3" */
  dayOf(iso: string): string {
    return spaces(this.dayLong.format(new Date(iso)));
  }
  /** "Thu, Dec 3" */
  shortDayOf(iso: string): string {
    return spaces(this.dayShort.format(new Date(iso)));
  }
  /** "2026-12-03": the calendar day in the practice's zone, to group slots by. */
  dayKey(iso: string): string {
    return this.key.format(new Date(iso));
  }
}

/** True when the runtime knows the zone; an unknown one would throw on every format. */
export function knownZone(tz: string | undefined): tz is string {
  if (!tz) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
