// Loads the runtime configuration the backend serves at /config.json (never built into the bundle),
// so one build runs against any stage; and the clock the app reads "now" from (the local stack's).
import type { AppConfig } from "./types";

export class ConfigError extends Error {}

function need(value: unknown, name: string): string {
  if (typeof value !== "string" || value.trim() === "") throw new ConfigError(`config.json has no ${name}`);
  return value;
}

export async function loadConfig(url = "/config.json"): Promise<AppConfig> {
  let raw: unknown;
  try {
    const res = await fetch(url, { cache: "no-store", headers: { Accept: "application/json" } });
    if (!res.ok) throw new ConfigError(`GET ${url} answered ${res.status}`);
    raw = await res.json();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`could not read ${url}`);
  }
  const c = (raw ?? {}) as Record<string, unknown>;
  const cognito = (c["cognito"] ?? {}) as Record<string, unknown>;
  return {
    practiceName: typeof c["practiceName"] === "string" ? c["practiceName"] : "",
    // only the local stack serves one: in AWS "now" is the browser's own clock
    devClock: typeof c["devClock"] === "string" && c["devClock"] !== "" ? c["devClock"] : null,
    apiBase: (typeof c["apiBase"] === "string" && c["apiBase"] !== "" ? c["apiBase"] : "/api").replace(/\/+$/, ""),
    cognito: {
      // A relative endpoint ("/cognito/") is resolved against the page, an absolute one used as is.
      endpoint: new URL(need(cognito["endpoint"], "cognito.endpoint"), location.href).toString(),
      region: typeof cognito["region"] === "string" ? cognito["region"] : "",
      clientId: need(cognito["clientId"], "cognito.clientId"),
      userPoolId: typeof cognito["userPoolId"] === "string" ? cognito["userPoolId"] : "",
    },
  };
}

/** "Now" for the app: the browser's clock, shifted to the local stack's virtual clock when the
 * config names one, so after `/dev/clock/advance` "Today" and analytics' default period follow it. */
export class AppClock {
  private offsetMs = 0;
  private timer: number | undefined;

  constructor(private readonly url: string | null) {}

  readonly now = (): Date => new Date(Date.now() + this.offsetMs);

  /** Read the stack's clock once; a failed read keeps the last offset (the stack may be restarting). */
  async sync(): Promise<void> {
    if (!this.url) return;
    try {
      const res = await fetch(this.url, { cache: "no-store", headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const body = (await res.json()) as Record<string, unknown>;
      const at = typeof body["now"] === "string" ? Date.parse(body["now"]) : NaN;
      if (!Number.isNaN(at)) this.offsetMs = at - Date.now();
    } catch {
      /* keep the last offset */
    }
  }

  /** Re-read the stack's clock every `everyMs` and call `moved` when it jumped (an advance). */
  follow(moved: () => void, everyMs = 5_000): void {
    if (!this.url || this.timer !== undefined) return;
    this.timer = window.setInterval(() => {
      const before = this.offsetMs;
      void this.sync().then(() => {
        if (Math.abs(this.offsetMs - before) > 60_000) moved();
      });
    }, everyMs);
  }
}
