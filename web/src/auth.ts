// Sign-in against Amazon Cognito's own JSON API (USER_PASSWORD_AUTH), with no SDK: InitiateAuth,
// RespondToAuthChallenge (NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA, MFA_SETUP), the authenticator-app
// enrolment (AssociateSoftwareToken + VerifySoftwareToken), token refresh and sign-out.
// Tokens live in sessionStorage.
import type { CognitoConfig } from "./types";

export interface Session {
  idToken: string;
  accessToken: string;
  refreshToken: string | null;
  email: string;
  /** Epoch milliseconds when the ID token stops being accepted. */
  expiresAt: number;
}

/** Where a sign-in stands between Cognito challenges. The challenge session is single-use and short-lived. */
export interface Challenge {
  /** The name Cognito wants back in ChallengeResponses.USERNAME (may differ from the typed email). */
  username: string;
  /** What the person typed: shown on screen and kept in the session. */
  email: string;
  challengeSession: string;
}

export type SignInResult =
  | { kind: "signedIn"; session: Session }
  | { kind: "newPasswordRequired" | "mfaRequired" | "mfaSetup"; challenge: Challenge };

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
    case "EnableSoftwareTokenMFAException": // VerifySoftwareToken's answer to a wrong code
      return "That code didn't work — check your authenticator app's clock and try again.";
    case "SoftwareTokenMFANotFoundException":
      return "Two-step verification isn't set up for this account. Ask your practice administrator.";
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

/** Turns an InitiateAuth / RespondToAuthChallenge answer into the next step (challenges may chain). */
function nextStep(data: Record<string, unknown>, previous: { username: string; email: string }): SignInResult {
  if (data["AuthenticationResult"]) {
    return { kind: "signedIn", session: toSession(data["AuthenticationResult"], previous.email, null) };
  }
  const name = String(data["ChallengeName"] ?? "");
  const challengeSession = data["Session"];
  if (!name || typeof challengeSession !== "string" || !challengeSession) {
    throw new AuthError(name || "InvalidResponse", "no Session");
  }
  const params = (data["ChallengeParameters"] ?? {}) as Record<string, unknown>;
  const named = [params["USER_ID_FOR_SRP"], params["USERNAME"]].find((v): v is string => typeof v === "string" && v !== "");
  const challenge: Challenge = { username: named ?? previous.username, email: previous.email, challengeSession };
  switch (name) {
    case "NEW_PASSWORD_REQUIRED":
      return { kind: "newPasswordRequired", challenge };
    case "SOFTWARE_TOKEN_MFA":
      return { kind: "mfaRequired", challenge };
    case "MFA_SETUP": {
      // MFAS_CAN_SETUP is a JSON-ish list in a string, e.g. '["SOFTWARE_TOKEN_MFA"]'. Only the app is supported.
      const can = params["MFAS_CAN_SETUP"];
      if (typeof can === "string" && can !== "" && !can.includes("SOFTWARE_TOKEN_MFA")) throw new AuthError("MFA_SETUP", can);
      return { kind: "mfaSetup", challenge };
    }
    default:
      throw new AuthError(name, "");
  }
}

export async function signIn(cfg: CognitoConfig, email: string, password: string): Promise<SignInResult> {
  const data = await call(cfg, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: cfg.clientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  return nextStep(data, { username: email, email });
}

/** Answers NEW_PASSWORD_REQUIRED. In an MFA-required pool the next step is usually MFA_SETUP. */
export async function completeNewPassword(cfg: CognitoConfig, challenge: Challenge, newPassword: string): Promise<SignInResult> {
  const data = await call(cfg, "RespondToAuthChallenge", {
    ChallengeName: "NEW_PASSWORD_REQUIRED",
    ClientId: cfg.clientId,
    Session: challenge.challengeSession,
    ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
  });
  return nextStep(data, challenge);
}

/** Answers SOFTWARE_TOKEN_MFA with the 6-digit code from the authenticator app. */
export async function answerMfaCode(cfg: CognitoConfig, challenge: Challenge, code: string): Promise<SignInResult> {
  const data = await call(cfg, "RespondToAuthChallenge", {
    ChallengeName: "SOFTWARE_TOKEN_MFA",
    ClientId: cfg.clientId,
    Session: challenge.challengeSession,
    ChallengeResponses: { USERNAME: challenge.username, SOFTWARE_TOKEN_MFA_CODE: code },
  });
  return nextStep(data, challenge);
}

/** MFA_SETUP, step 1: a new TOTP secret for this user. Returns it with the session to use next. */
export async function associateSoftwareToken(cfg: CognitoConfig, challenge: Challenge): Promise<{ secretCode: string; challenge: Challenge }> {
  const data = await call(cfg, "AssociateSoftwareToken", { Session: challenge.challengeSession });
  const secretCode = typeof data["SecretCode"] === "string" ? data["SecretCode"].replace(/[\s=]/g, "").toUpperCase() : "";
  if (!/^[A-Z2-7]+$/.test(secretCode)) throw new AuthError("InvalidResponse", "no SecretCode");
  const next = typeof data["Session"] === "string" && data["Session"] ? data["Session"] : challenge.challengeSession;
  return { secretCode, challenge: { ...challenge, challengeSession: next } };
}

/** MFA_SETUP, step 2: proves the app has the secret. Returns the challenge to finish with. */
export async function verifySoftwareToken(cfg: CognitoConfig, challenge: Challenge, code: string): Promise<Challenge> {
  const data = await call(cfg, "VerifySoftwareToken", {
    Session: challenge.challengeSession,
    UserCode: code,
    FriendlyDeviceName: "Careloop",
  });
  if (data["Status"] !== undefined && data["Status"] !== "SUCCESS") throw new AuthError("EnableSoftwareTokenMFAException", String(data["Status"]));
  const next = typeof data["Session"] === "string" && data["Session"] ? data["Session"] : challenge.challengeSession;
  return { ...challenge, challengeSession: next };
}

/** MFA_SETUP, step 3: tells Cognito the app is enrolled; answers with tokens. */
export async function completeMfaSetup(cfg: CognitoConfig, challenge: Challenge): Promise<SignInResult> {
  const data = await call(cfg, "RespondToAuthChallenge", {
    ChallengeName: "MFA_SETUP",
    ClientId: cfg.clientId,
    Session: challenge.challengeSession,
    ChallengeResponses: { USERNAME: challenge.username },
  });
  return nextStep(data, challenge);
}

/**
 * True when a challenge step can't go on and sign-in must start over: Cognito answers an expired or used-up
 * session with NotAuthorizedException ("Invalid session for the user..."); moto (the local stack) with
 * ResourceNotFoundException.
 */
export function challengeExpired(err: unknown): err is AuthError {
  return err instanceof AuthError && (err.code === "NotAuthorizedException" || err.code === "ResourceNotFoundException");
}

/** "JBSWY3DPEHPK3PXP" -> "JBSW Y3DP EHPK 3PXP": easier to read and type into an authenticator app. */
export function groupSecret(secretCode: string): string {
  return secretCode.replace(/(.{4})(?=.)/g, "$1 ");
}

/** The otpauth:// key URI authenticator apps understand (Google's Key Uri Format). */
export function totpUri(secretCode: string, account: string): string {
  return `otpauth://totp/Careloop:${encodeURIComponent(account)}?secret=${secretCode}&issuer=Careloop`;
}

/** The digits of a typed code ("123 456" -> "123456"), or null when it isn't six digits. */
export function normaliseCode(typed: string): string | null {
  const digits = typed.replace(/[\s-]/g, "");
  return /^\d{6}$/.test(digits) ? digits : null;
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
