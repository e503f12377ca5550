// Sign-in against Amazon Cognito's own JSON API (USER_PASSWORD_AUTH), with no SDK: InitiateAuth,
// RespondToAuthChallenge (NEW_PASSWORD_REQUIRED), token refresh and sign-out. Tokens live in sessionStorage.
import type { CognitoConfig } from "./types";

export interface Session {
  idToken: string;
  accessToken: string;
  refreshToken: string | null;
  email: string;
  /** Epoch milliseconds when the ID token stops being accepted. */
  expiresAt: number;
}

export type SignInResult =
  | { kind: "signedIn"; session: Session }
  | { kind: "newPasswordRequired"; email: string; challengeSession: string };

/** A Cognito error, by its short type name ("NotAuthorizedException"), with a message for people. */
export class AuthError extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(friendlyMessage(code, detail));
    this.name = "AuthError";
  }
}

const STORAGE_KEY = "careloop.session";
const REFRESH_MARGIN_MS = 60_000;

function friendlyMessage(code: string, detail: string): string {
  switch (code) {
    case "NotAuthorizedException":
      if (/attempts exceeded/i.test(detail)) return "Too many failed attempts. Wait a few minutes, then try again.";
      if (/expired|session/i.test(detail) && !/password/i.test(detail)) return "This sign-in took too long. Please start again.";
      return "Wrong email or password.";
    case "UserNotFoundException":
      return "Wrong email or password.";
    case "UserNotConfirmedException":
      return "This account isn't confirmed yet. Ask your practice administrator.";
    case "PasswordResetRequiredException":
      return "Your password must be reset. Ask your practice administrator.";
    case "InvalidPasswordException":
      return detail
        ? `That password doesn't meet the rules: ${detail.replace(/^password does not conform to policy:\s*/i, "")}.`.replace(/\.\.$/, ".")
        : "That password doesn't meet the rules. Choose a longer, stronger one.";
    case "TooManyRequestsException":
    case "LimitExceededException":
      return "Too many attempts. Wait a minute, then try again.";
    case "CodeMismatchException":
    case "ExpiredCodeException":
      return "This sign-in step expired. Please start again.";
    case "NetworkError":
      return "Can't reach the sign-in service. Check your connection and try again.";
    default:
      return "Sign-in failed. Please try again, or ask your practice administrator.";
  }
}

async function call(cfg: CognitoConfig, target: string, body: unknown): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(cfg.endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}`,
      },
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new AuthError("NetworkError", "");
  }
  const text = await res.text();
  let data: Record<string, unknown> = {};
  try {
    data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    /* not JSON: handled below by status */
  }
  if (!res.ok) {
    // "__type" may be "NotAuthorizedException" or "com.amazonaws...#NotAuthorizedException"; the header may add ":<url>".
    const rawType = res.headers.get("x-amzn-errortype") ?? String(data["__type"] ?? data["code"] ?? "");
    const code = rawType.split(":")[0]!.split("#").pop() || `HTTP${res.status}`;
    const detail = String(data["message"] ?? data["Message"] ?? "");
    throw new AuthError(code, detail);
  }
  return data;
}

function jwtExpiry(token: string): number | null {
  try {
    const payload = token.split(".")[1];
    if (!payload) return null;
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

function toSession(result: unknown, email: string, previousRefresh: string | null): Session {
  const r = (result ?? {}) as Record<string, unknown>;
  const idToken = typeof r["IdToken"] === "string" ? r["IdToken"] : "";
  const accessToken = typeof r["AccessToken"] === "string" ? r["AccessToken"] : "";
  if (!idToken) throw new AuthError("InvalidResponse", "no IdToken");
  const expiresIn = typeof r["ExpiresIn"] === "number" ? r["ExpiresIn"] : 3600;
  return {
    idToken,
    accessToken,
    refreshToken: typeof r["RefreshToken"] === "string" ? r["RefreshToken"] : previousRefresh,
    email,
    expiresAt: jwtExpiry(idToken) ?? Date.now() + expiresIn * 1000,
  };
}

export async function signIn(cfg: CognitoConfig, email: string, password: string): Promise<SignInResult> {
  const data = await call(cfg, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: cfg.clientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  if (data["AuthenticationResult"]) {
    return { kind: "signedIn", session: toSession(data["AuthenticationResult"], email, null) };
  }
  if (data["ChallengeName"] === "NEW_PASSWORD_REQUIRED" && typeof data["Session"] === "string") {
    const params = (data["ChallengeParameters"] ?? {}) as Record<string, unknown>;
    const username = typeof params["USER_ID_FOR_SRP"] === "string" ? params["USER_ID_FOR_SRP"] : email;
    return { kind: "newPasswordRequired", email: username, challengeSession: data["Session"] };
  }
  throw new AuthError(String(data["ChallengeName"] ?? "UnsupportedChallenge"), "");
}

export async function completeNewPassword(
  cfg: CognitoConfig,
  email: string,
  challengeSession: string,
  newPassword: string,
): Promise<Session> {
  const data = await call(cfg, "RespondToAuthChallenge", {
    ChallengeName: "NEW_PASSWORD_REQUIRED",
    ClientId: cfg.clientId,
    Session: challengeSession,
    ChallengeResponses: { USERNAME: email, NEW_PASSWORD: newPassword },
  });
  if (!data["AuthenticationResult"]) throw new AuthError(String(data["ChallengeName"] ?? "UnsupportedChallenge"), "");
  return toSession(data["AuthenticationResult"], email, null);
}

export async function refreshSession(cfg: CognitoConfig, session: Session): Promise<Session> {
  if (!session.refreshToken) throw new AuthError("NotAuthorizedException", "no refresh token");
  const data = await call(cfg, "InitiateAuth", {
    AuthFlow: "REFRESH_TOKEN_AUTH",
    ClientId: cfg.clientId,
    AuthParameters: { REFRESH_TOKEN: session.refreshToken },
  });
  return toSession(data["AuthenticationResult"], session.email, session.refreshToken);
}

/** Best effort: revokes the tokens at Cognito. The local session is cleared whatever happens. */
export async function signOutRemote(cfg: CognitoConfig, session: Session): Promise<void> {
  if (!session.accessToken) return;
  try {
    await call(cfg, "GlobalSignOut", { AccessToken: session.accessToken });
  } catch {
    /* already expired or unreachable: nothing more to do */
  }
}

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.idToken !== "string" || !s.idToken) return null;
    return {
      idToken: s.idToken,
      accessToken: s.accessToken ?? "",
      refreshToken: s.refreshToken ?? null,
      email: s.email ?? "",
      expiresAt: typeof s.expiresAt === "number" ? s.expiresAt : 0,
    };
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

export function needsRefresh(session: Session, now = Date.now()): boolean {
  return session.expiresAt > 0 && session.expiresAt - now < REFRESH_MARGIN_MS;
}
