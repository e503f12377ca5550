// The sign-in screen: email + password against Cognito, then "choose a new password" when Cognito asks.
import { AuthError, completeNewPassword, signIn, type Session } from "./auth";
import { h, replace } from "./dom";
import type { AppConfig } from "./types";

interface Options {
  /** Shown above the form, e.g. "Your session has ended." */
  notice?: string | null;
  onSignedIn: (session: Session) => void;
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

function showPasswordForm(card: HTMLElement, config: AppConfig, options: Options): void {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, "data-testid": "signin-email", autocapitalize: "none", spellcheck: "false" });
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
      if (result.kind === "signedIn") {
        options.onSignedIn(result.session);
        return;
      }
      showNewPasswordForm(card, config, options, result.email, result.challengeSession, address);
    } catch (err) {
      showError(error, err instanceof AuthError ? err.message : "Sign-in failed. Please try again.");
      password.value = "";
      password.focus();
      busy(submit, false, "Sign in", "Signing in…");
    }
  });
  replace(card, form);
  email.focus();
}

function showNewPasswordForm(
  card: HTMLElement,
  config: AppConfig,
  options: Options,
  username: string,
  challengeSession: string,
  email: string,
): void {
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
      const session = await completeNewPassword(config.cognito, username, challengeSession, first.value);
      options.onSignedIn({ ...session, email });
    } catch (err) {
      if (err instanceof AuthError && err.code === "NotAuthorizedException") {
        // The challenge session is single-use and short-lived: start over from the temporary password.
        showPasswordForm(card, config, { ...options, notice: "That step expired. Sign in again with your temporary password." });
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
