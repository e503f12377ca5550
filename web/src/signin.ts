// The sign-in screen: email + password against Cognito, then whatever Cognito asks next, in any order:
// "choose a new password" (first sign-in), "set up your authenticator app" (MFA_SETUP: the staff pool
// requires a second factor) and "enter the 6-digit code" (SOFTWARE_TOKEN_MFA).
import {
  answerMfaCode,
  associateSoftwareToken,
  AuthError,
  challengeExpired,
  completeMfaSetup,
  completeNewPassword,
  groupSecret,
  normaliseCode,
  signIn,
  totpUri,
  verifySoftwareToken,
  type Challenge,
  type Session,
  type SignInResult,
} from "./auth";
import { h, replace } from "./dom";
import type { AppConfig } from "./types";
import { spinner } from "./ui";

interface Options {
  /** Shown above the form, e.g. "Your session has ended." */
  notice?: string | null;
  onSignedIn: (session: Session) => void;
}

/** One sign-in in progress: where to draw, and whether this sign-in already changed the password. */
interface Flow {
  card: HTMLElement;
  config: AppConfig;
  options: Options;
  passwordChanged: boolean;
}

function field(id: string, label: string, input: HTMLInputElement, hint?: string): HTMLElement {
  input.id = id;
  if (hint) input.setAttribute("aria-describedby", `${id}-hint`);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "field-hint", id: `${id}-hint` }, hint) : null,
  );
}

function errorBox(testid: string): HTMLElement {
  return h("div", { class: "form-error", role: "alert", "data-testid": testid, hidden: true });
}

function showError(box: HTMLElement, message: string): void {
  box.textContent = message;
  box.hidden = false;
}

function busy(button: HTMLButtonElement, on: boolean, label: string, busyLabel: string): void {
  button.disabled = on;
  button.setAttribute("aria-busy", String(on));
  button.textContent = on ? busyLabel : label;
}

export function renderSignIn(root: HTMLElement, config: AppConfig, options: Options): void {
  document.title = "Sign in · Careloop";
  const card = h("div", { class: "signin-card" });
  replace(
    root,
    h(
      "main",
      { class: "signin", id: "main" },
      h(
        "div",
        { class: "signin-brand" },
        h("span", { class: "brand-mark", "aria-hidden": "true" }, "C"),
        h("span", { class: "brand-name" }, "Careloop"),
      ),
      card,
      h("p", { class: "signin-foot muted" }, "Trouble signing in? Ask your practice administrator."),
    ),
  );
  showPasswordForm(card, config, options);
}

const CODE_HINT = "Enter the 6-digit code from your authenticator app.";

/** A field for a 6-digit TOTP code: numeric keyboard on phones, one-time-code autofill, spaces allowed. */
function codeInput(testid: string): HTMLInputElement {
  return h("input", {
    type: "text",
    name: "one-time-code",
    class: "code-input",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    pattern: "[0-9 ]*",
    maxlength: 7,
    required: true,
    spellcheck: "false",
    "data-testid": testid,
  });
}

/** Goes on to whatever Cognito asked for next. */
function proceed(flow: Flow, result: SignInResult): void {
  switch (result.kind) {
    case "signedIn":
      flow.options.onSignedIn(result.session);
      return;
    case "newPasswordRequired":
      showNewPasswordForm(flow, result.challenge);
      return;
    case "mfaRequired":
      showMfaForm(flow, result.challenge);
      return;
    case "mfaSetup":
      showMfaSetup(flow, result.challenge);
      return;
  }
}

/** Back to email + password (the challenge session is gone), saying why. */
function startOver(flow: Flow, challenge: Challenge, err: AuthError, notice: string): void {
  const text = /attempts exceeded/i.test(err.detail) ? err.message : notice;
  showPasswordForm(flow.card, flow.config, { ...flow.options, notice: text }, challenge.email);
}

function withPassword(flow: Flow): string {
  return flow.passwordChanged ? "with your new password" : "with your email and password";
}

function showPasswordForm(card: HTMLElement, config: AppConfig, options: Options, knownEmail = ""): void {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, "data-testid": "signin-email", autocapitalize: "none", spellcheck: "false", value: knownEmail || null });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true, "data-testid": "signin-password" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", "data-testid": "signin-submit" }, "Sign in");
  const error = errorBox("signin-error");
  const form = h(
    "form",
    { class: "signin-form", "data-testid": "signin-form", novalidate: true, "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    config.practiceName ? h("p", { class: "muted signin-practice", "data-testid": "signin-practice" }, config.practiceName) : null,
    options.notice ? h("p", { class: "notice", role: "status", "data-testid": "signin-notice" }, options.notice) : null,
    error,
    field("signin-email", "Email", email),
    field("signin-password", "Password", password),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const address = email.value.trim();
    if (!address || !password.value) {
      showError(error, "Enter your email and password.");
      (address ? password : email).focus();
      return;
    }
    busy(submit, true, "Sign in", "Signing in…");
    try {
      const result = await signIn(config.cognito, address, password.value);
      proceed({ card, config, options, passwordChanged: false }, result);
    } catch (err) {
      showError(error, err instanceof AuthError ? err.message : "Sign-in failed. Please try again.");
      password.value = "";
      password.focus();
      busy(submit, false, "Sign in", "Signing in…");
    }
  });
  replace(card, form);
  (knownEmail ? password : email).focus();
}

function showNewPasswordForm(flow: Flow, challenge: Challenge): void {
  const { card, config, options } = flow;
  const email = challenge.email;
  const rules = "At least 8 characters, with upper- and lower-case letters, a number and a symbol.";
  const first = h("input", { type: "password", name: "new-password", autocomplete: "new-password", required: true, "data-testid": "newpw-password" });
  const second = h("input", { type: "password", name: "confirm-password", autocomplete: "new-password", required: true, "data-testid": "newpw-confirm" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", "data-testid": "newpw-submit" }, "Save password and sign in");
  const error = errorBox("newpw-error");
  const form = h(
    "form",
    { class: "signin-form", "data-testid": "newpw-form", novalidate: true, "aria-labelledby": "newpw-title" },
    h("h1", { id: "newpw-title", tabindex: "-1" }, "Choose a new password"),
    h("p", { class: "muted" }, `This is the first time ${email} signs in. Choose a password only you know.`),
    h("input", { type: "email", name: "username", autocomplete: "username", value: email, hidden: true, readonly: true }),
    error,
    field("newpw-password", "New password", first, rules),
    field("newpw-confirm", "Type it again", second),
    submit,
    h("button", { type: "button", class: "btn btn-link", onclick: () => showPasswordForm(card, config, options) }, "Back to sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (first.value.length < 8) {
      showError(error, "Use at least 8 characters.");
      first.focus();
      return;
    }
    if (first.value !== second.value) {
      showError(error, "The two passwords don't match.");
      second.focus();
      return;
    }
    busy(submit, true, "Save password and sign in", "Saving…");
    try {
      const result = await completeNewPassword(config.cognito, challenge, first.value);
      proceed({ ...flow, passwordChanged: true }, result);
    } catch (err) {
      if (challengeExpired(err)) {
        // The challenge session is single-use and short-lived: start over from the temporary password.
        startOver(flow, challenge, err, "That step expired. Sign in again with your temporary password.");
        return;
      }
      showError(error, err instanceof AuthError ? err.message : "Couldn't save the password. Please try again.");
      busy(submit, false, "Save password and sign in", "Saving…");
      first.focus();
    }
  });
  replace(card, form);
  first.focus();
}

/** SOFTWARE_TOKEN_MFA: the 6-digit code from the app the person enrolled earlier. */
function showMfaForm(flow: Flow, challenge: Challenge): void {
  const { card, config, options } = flow;
  const code = codeInput("mfa-code");
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", "data-testid": "mfa-submit" }, "Verify");
  const error = errorBox("mfa-error");
  const form = h(
    "form",
    { class: "signin-form", "data-testid": "mfa-form", novalidate: true, "aria-labelledby": "mfa-title" },
    h("h1", { id: "mfa-title", tabindex: "-1" }, "Enter your code"),
    h("p", { class: "muted" }, `Open the authenticator app on your phone and type the 6-digit code it shows for Careloop (${challenge.email}).`),
    error,
    field("mfa-code", "6-digit code", code, "A new code appears every 30 seconds."),
    submit,
    h("button", { type: "button", class: "btn btn-link", onclick: () => showPasswordForm(card, config, options, challenge.email) }, "Back to sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const digits = normaliseCode(code.value);
    if (!digits) {
      showError(error, CODE_HINT);
      code.focus();
      return;
    }
    busy(submit, true, "Verify", "Checking…");
    try {
      proceed(flow, await answerMfaCode(config.cognito, challenge, digits));
    } catch (err) {
      if (challengeExpired(err)) {
        startOver(flow, challenge, err, `That sign-in took too long. Sign in again ${withPassword(flow)}.`);
        return;
      }
      // A wrong code leaves the challenge open: the person may try the next code.
      showError(error, err instanceof AuthError ? err.message : "Couldn't check the code. Please try again.");
      busy(submit, false, "Verify", "Checking…");
      code.value = "";
      code.focus();
    }
  });
  replace(card, form);
  code.focus();
}

/** Copies text to the clipboard; where that isn't allowed, selects `shown` so Ctrl+C works. */
async function copy(text: string, shown: HTMLElement, button: HTMLButtonElement, label: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    getSelection()?.selectAllChildren(shown);
    button.textContent = "Press Ctrl+C";
  }
  window.setTimeout(() => (button.textContent = label), 2500);
}

/**
 * MFA_SETUP: AssociateSoftwareToken -> show the secret -> VerifySoftwareToken with the first code ->
 * RespondToAuthChallenge(MFA_SETUP). Every step answers with the session for the next.
 */
function showMfaSetup(flow: Flow, challenge: Challenge): void {
  const { card, config } = flow;
  replace(card, h("div", { class: "signin-form", "data-testid": "mfasetup-loading" }, h("h1", { id: "mfasetup-title", tabindex: "-1" }, "Set up two-step sign-in"), spinner("Preparing your setup key…")));
  const expiredNotice = `Setting up took too long. Sign in again ${withPassword(flow)} to get a new setup key, and remove any Careloop entry you already added to your authenticator app.`;
  associateSoftwareToken(config.cognito, challenge).then(
    ({ secretCode, challenge: next }) => showMfaSetupForm(flow, next, secretCode, expiredNotice),
    (err: unknown) => {
      if (challengeExpired(err)) {
        startOver(flow, challenge, err, expiredNotice);
        return;
      }
      const error = errorBox("mfasetup-error");
      showError(error, err instanceof AuthError ? err.message : "Couldn't start setting up two-step sign-in. Please try again.");
      replace(
        card,
        h(
          "div",
          { class: "signin-form" },
          h("h1", { id: "mfasetup-title", tabindex: "-1" }, "Set up two-step sign-in"),
          error,
          h("button", { type: "button", class: "btn btn-primary btn-block", onclick: () => showMfaSetup(flow, challenge) }, "Try again"),
          h("button", { type: "button", class: "btn btn-link", onclick: () => showPasswordForm(card, config, flow.options, challenge.email) }, "Back to sign in"),
        ),
      );
    },
  );
}

function showMfaSetupForm(flow: Flow, challenge: Challenge, secretCode: string, expiredNotice: string): void {
  const { card, config, options } = flow;
  const uri = totpUri(secretCode, challenge.email);
  const secret = h("code", { class: "mfasetup-secret", "data-testid": "mfasetup-secret" }, groupSecret(secretCode));
  const copySecret = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "mfasetup-copy" }, "Copy key");
  copySecret.addEventListener("click", () => void copy(secretCode, secret, copySecret, "Copy key"));
  const link = h("code", { class: "mfasetup-uri", "data-testid": "mfasetup-uri" }, uri);
  const copyLink = h("button", { type: "button", class: "btn btn-link btn-small", "data-testid": "mfasetup-copy-uri" }, "Copy link");
  copyLink.addEventListener("click", () => void copy(uri, link, copyLink, "Copy link"));
  const code = codeInput("mfasetup-code");
  const label = "Verify and sign in";
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", "data-testid": "mfasetup-submit" }, label);
  const error = errorBox("mfasetup-error");
  const form = h(
    "form",
    { class: "signin-form", "data-testid": "mfasetup-form", novalidate: true, "aria-labelledby": "mfasetup-title" },
    h("h1", { id: "mfasetup-title", tabindex: "-1" }, "Set up two-step sign-in"),
    h(
      "p",
      { class: "muted" },
      "Careloop shows patient information, so every sign-in also needs a code from an authenticator app on your phone " +
        "(Google Authenticator, Microsoft Authenticator, 1Password or similar).",
    ),
    h(
      "ol",
      { class: "mfasetup-steps" },
      h(
        "li",
        null,
        h("p", null, "In the app, add an account and choose to enter a setup key. Type this key:"),
        h("div", { class: "mfasetup-key" }, secret, copySecret),
        h("p", { class: "field-hint" }, `Account: Careloop (${challenge.email}). Type: time-based.`),
        h("p", { class: "field-hint" }, "Apps that accept a setup link can use this instead: ", copyLink),
        link,
      ),
      h("li", null, h("label", { for: "mfasetup-code" }, "Type the 6-digit code the app now shows:"), error, code),
    ),
    submit,
    h("button", { type: "button", class: "btn btn-link", onclick: () => showPasswordForm(card, config, options, challenge.email) }, "Back to sign in"),
  );
  code.id = "mfasetup-code";
  // After VerifySoftwareToken succeeds the app is enrolled; a retry only repeats the last step.
  let verified: Challenge | null = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const digits = normaliseCode(code.value);
    if (!verified && !digits) {
      showError(error, CODE_HINT);
      code.focus();
      return;
    }
    busy(submit, true, label, "Checking…");
    try {
      verified ??= await verifySoftwareToken(config.cognito, challenge, digits!);
    } catch (err) {
      if (challengeExpired(err)) {
        startOver(flow, challenge, err, expiredNotice);
        return;
      }
      showError(error, err instanceof AuthError ? err.message : "Couldn't check the code. Please try again.");
      busy(submit, false, label, "Checking…");
      code.value = "";
      code.focus();
      return;
    }
    try {
      proceed(flow, await completeMfaSetup(config.cognito, verified));
    } catch (err) {
      if (challengeExpired(err)) {
        startOver(flow, challenge, err, `Your authenticator app is set up. Sign in again ${withPassword(flow)}, then enter the code it shows.`);
        return;
      }
      showError(error, err instanceof AuthError ? err.message : "Couldn't finish signing in. Please try again.");
      busy(submit, false, label, "Checking…");
    }
  });
  replace(card, form);
  form.querySelector<HTMLElement>("h1")?.focus();
}
