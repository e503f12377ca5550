// Loads the runtime configuration the backend serves at /config.json (never built into the bundle),
// so one build runs against any stage: local stack, staging, a practice's own AWS account.
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
