"""Two-step sign-in (TOTP) in the staff web app, in headless Chromium against moto's Cognito.

The deployed staff pool requires MFA with an authenticator app (infra/stack.py), so the browser meets
MFA_SETUP on a person's first sign-in and SOFTWARE_TOKEN_MFA on every later one. This module starts its
own moto server with such a pool (the local stack's pool has no MFA), and a tiny web front like
`careloop local`'s: web/dist, /config.json, /cognito/ proxied to moto, and /api/me + /api/inbox stubbed
so the app shell can open.

What moto 5.2.5 does (checked in server mode), and so what this can and cannot show:
- USER_PASSWORD_AUTH with a *permanent* password returns tokens straight away even when the pool has
  MFA "ON" and the user has no authenticator yet: moto only asks for MFA_SETUP after NEW_PASSWORD_REQUIRED
  (or SRP). Real Cognito asks for MFA_SETUP there too. So the setup screen is reached here through the
  NEW_PASSWORD_REQUIRED -> MFA_SETUP chain only; MFA_SETUP straight after the password is not exercised.
- The pool offers the app only after SetUserPoolMfaConfig(SoftwareTokenMfaConfiguration={"Enabled": True})
  (CreateUserPool has no such parameter); without it NEW_PASSWORD_REQUIRED just signs in.
- AssociateSoftwareToken returns the same fixed secret ("asdfasdfasdf") for every user.
- Codes are only checked when MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true in the moto process (here: this
  test process); otherwise any code is accepted. With it, VerifySoftwareToken and SOFTWARE_TOKEN_MFA both
  answer a wrong code with CodeMismatchException (real Cognito: EnableSoftwareTokenMFAException for
  VerifySoftwareToken) and accept only the current 30-second step (no +/- 1 window), and a wrong code leaves
  the challenge session usable for another try.
- An unknown or used session is ResourceNotFoundException in moto, but NotAuthorizedException
  ("Invalid session for the user, session is expired.") in Cognito, and moto never expires sessions: the
  expiry tests make the browser see Cognito's answer by intercepting one call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ROOT = Path(__file__).resolve().parents[2]
WEB_DIST = ROOT / "web" / "dist"
TEMP_PASSWORD = "Temporary-pass-1!"
NEW_PASSWORD = "Chosen-pass-2024!"
PRACTICE = {
    "id": "p1",
    "name": "Harbor Family Medicine",
    "timezone": "America/New_York",
    "phone": "",
}
CODE_DIDNT_WORK = "That code didn't work — check your authenticator app's clock and try again"
SCREENSHOTS = Path(os.environ.get("CARELOOP_SCREENSHOTS", "/tmp"))


# ---- TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), as an authenticator app computes it --------


def totp(secret: str, at: float | None = None) -> str:
    key = secret.replace(" ", "").upper()
    key = base64.b32decode(key + "=" * (-len(key) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def fresh_totp(secret: str) -> str:
    """A code with at least 5 s left in its step: moto accepts only the current step."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.2)
    return totp(secret)


def wrong_code(secret: str) -> str:
    return f"{(int(totp(secret)) + 500_000) % 1_000_000:06d}"


def test_totp_matches_the_rfc_6238_vectors() -> None:
    # RFC 6238 appendix B, SHA-1 secret "12345678901234567890" (8-digit values; the last 6 digits here).
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, 59) == "287082"
    assert totp(secret, 1111111109) == "081804"
    assert totp(secret, 2000000000) == "279037"


# ---- moto's Cognito with an MFA-required pool, and a small front for the built app --------------------


@dataclass
class MfaStack:
    url: str
    cognito: object  # boto3 cognito-idp client against moto
    pool_id: str
    client_id: str

    def new_user(self) -> str:
        """A staff member invited by an administrator: temporary password, no authenticator yet."""
        email = f"staff-{uuid.uuid4().hex[:8]}@example.org"
        self.cognito.admin_create_user(
            UserPoolId=self.pool_id,
            Username=email,
            TemporaryPassword=TEMP_PASSWORD,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
        return email

    def enrolled_user(self) -> tuple[str, str]:
        """A staff member who already chose a password and set up the authenticator (via the API)."""
        email = self.new_user()
        c, cid = self.cognito, self.client_id
        first = c.initiate_auth(
            ClientId=cid,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": TEMP_PASSWORD},
        )
        username = first["ChallengeParameters"]["USERNAME"]
        setup = c.respond_to_auth_challenge(
            ClientId=cid,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=first["Session"],
            ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": NEW_PASSWORD},
        )
        assert setup["ChallengeName"] == "MFA_SETUP"
        assoc = c.associate_software_token(Session=setup["Session"])
        verified = c.verify_software_token(
            Session=assoc["Session"],
            UserCode=fresh_totp(assoc["SecretCode"]),
            FriendlyDeviceName="Careloop",
        )
        done = c.respond_to_auth_challenge(
            ClientId=cid,
            ChallengeName="MFA_SETUP",
            Session=verified["Session"],
            ChallengeResponses={"USERNAME": username},
        )
        assert "AuthenticationResult" in done
        return email, assoc["SecretCode"]


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _front(moto_url: str, client_id: str, pool_id: str):
    """What `careloop local` serves (layers/local/careloop_local/http.py), reduced to what sign-in needs."""
    from werkzeug.wrappers import Request, Response

    from careloop_local.http import forward_cognito

    def as_json(data, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")

    @Request.application
    def app(request: Request) -> Response:
        path = request.path
        if path == "/config.json":
            return as_json(
                {
                    "practiceName": PRACTICE["name"],
                    "apiBase": "/api",
                    "cognito": {
                        "endpoint": request.host_url.rstrip("/") + "/cognito/",
                        "region": "us-east-1",
                        "clientId": client_id,
                        "userPoolId": pool_id,
                    },
                }
            )
        if path == "/cognito/":  # LocalHttp.on_cognito's passthrough itself (sign-in calls only)
            return forward_cognito(moto_url, request)
        if path.startswith("/api/"):
            # Only an ID token of this pool's app client opens the API (signature checks: test_web_app.py).
            try:
                claims = _claims(request.headers.get("Authorization", ""))
            except (IndexError, ValueError):
                claims = {}
            if claims.get("aud") != client_id or claims.get("token_use") != "id":
                return as_json({"message": "Unauthorized"}, 401)
            if path == "/api/me":
                return as_json(
                    {
                        "username": claims.get("cognito:username", ""),
                        "email": claims.get("email", ""),
                        "practice": PRACTICE,
                    }
                )
            if path == "/api/inbox":
                return as_json({"conversations": []})
            return as_json({"message": "not stubbed"}, 404)
        name = "index.html" if path == "/" else path.lstrip("/")
        target = (WEB_DIST / name).resolve()
        if not target.is_file() or WEB_DIST.resolve() not in target.parents:
            return as_json({"message": "not found"}, 404)
        kind = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}.get(
            target.suffix, "application/octet-stream"
        )
        return Response(
            target.read_bytes(), content_type=kind, headers={"Cache-Control": "no-cache"}
        )

    return app


@pytest.fixture(scope="module")
def mfa_stack() -> Iterator[MfaStack]:
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail("web/dist is missing (build it: cd web && npm ci && npm run build)")
    import boto3
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    with pytest.MonkeyPatch.context() as env:
        # moto reads this on every call, in this process (the server is a thread of it): check the codes.
        env.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        moto_url = f"http://{host}:{port}"
        cognito = boto3.client(
            "cognito-idp",
            endpoint_url=moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        pool_id = cognito.create_user_pool(
            PoolName=f"careloop-mfa-{uuid.uuid4().hex[:6]}",
            UsernameAttributes=["email"],  # as infra/stack.py: people sign in with their email
            MfaConfiguration="ON",
        )["UserPool"]["Id"]
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            MfaConfiguration="ON",
            SoftwareTokenMfaConfiguration={"Enabled": True},
        )
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="web",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        server = make_server("127.0.0.1", 0, _front(moto_url, client_id, pool_id), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield MfaStack(f"http://127.0.0.1:{server.server_port}", cognito, pool_id, client_id)
        finally:
            server.shutdown()
            moto.stop()



class Watched:
    """A page plus what a test must not see: dialogs and uncaught errors."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "dialog",
            lambda dialog: (self.errors.append(f"dialog: {dialog.message}"), dialog.dismiss()),
        )

    def assert_clean(self) -> None:
        assert self.errors == [], f"uncaught errors or dialogs in the page: {self.errors}"


@pytest.fixture()
def app(browser, mfa_stack) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    context.set_default_timeout(15_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=mfa_stack.url)
    watched = Watched(context.new_page())
    yield watched
    context.close()


def sign_in(page, url: str, email: str, password: str) -> None:
    expect(page.get_by_test_id("signin-form")).to_be_visible()
    page.get_by_test_id("signin-email").fill(email)
    page.get_by_test_id("signin-password").fill(password)
    page.get_by_test_id("signin-submit").click()


def choose_new_password(page) -> None:
    expect(page.get_by_test_id("newpw-form")).to_be_visible()
    page.get_by_test_id("newpw-password").fill(NEW_PASSWORD)
    page.get_by_test_id("newpw-confirm").fill(NEW_PASSWORD)
    page.get_by_test_id("newpw-submit").click()


def expire_next(page, target: str) -> None:
    """Answer the next call to `target` as Cognito does once a challenge session has expired."""

    done: list[bool] = []

    def handle(route) -> None:
        if not done and route.request.headers.get("x-amz-target", "").endswith("." + target):
            done.append(True)
            route.fulfill(
                status=400,
                content_type="application/x-amz-json-1.1",
                headers={"x-amzn-errortype": "NotAuthorizedException:"},
                body=json.dumps(
                    {
                        "__type": "NotAuthorizedException",
                        "message": "Invalid session for the user, session is expired.",
                    }
                ),
            )
        else:
            route.continue_()

    page.route("**/cognito/", handle)


# ---- the flows ----------------------------------------------------------------------------------------


def test_first_sign_in_sets_up_the_authenticator_then_every_sign_in_asks_for_a_code(
    app: Watched, mfa_stack: MfaStack
) -> None:
    page = app.page
    email = mfa_stack.new_user()
    page.goto(mfa_stack.url + "/#/inbox")

    # Given a new staff member signs in with the temporary password and chooses their own
    sign_in(page, mfa_stack.url, email, TEMP_PASSWORD)
    choose_new_password(page)

    # Then Careloop asks them to set up an authenticator app, showing the key grouped in fours...
    expect(page.get_by_test_id("mfasetup-form")).to_be_visible()
    shown = page.get_by_test_id("mfasetup-secret").inner_text().strip()
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", shown), (
        f"secret not grouped in fours: {shown!r}"
    )
    secret = shown.replace(" ", "")
    # ...and the otpauth:// link for apps that take one
    uri = page.get_by_test_id("mfasetup-uri").inner_text().strip()
    assert uri == f"otpauth://totp/Careloop:{quote(email, safe='')}?secret={secret}&issuer=Careloop"
    # ...and "Copy key" copies the key without the spaces
    page.get_by_test_id("mfasetup-copy").click()
    expect(page.get_by_test_id("mfasetup-copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.screenshot(path=str(SCREENSHOTS / "careloop-mfa-setup.png"), full_page=True)

    # When they type a wrong code, they are told so and can try again
    page.get_by_test_id("mfasetup-code").fill(wrong_code(secret))
    page.get_by_test_id("mfasetup-submit").click()
    expect(page.get_by_test_id("mfasetup-error")).to_contain_text(CODE_DIDNT_WORK)
    expect(page.get_by_test_id("mfasetup-code")).to_have_value("")

    # When they type the code their app shows (computed here from the key on the page)
    page.get_by_test_id("mfasetup-code").fill(fresh_totp(secret))
    page.get_by_test_id("mfasetup-submit").click()

    # Then they are signed in
    expect(page.get_by_test_id("app-header")).to_be_visible()
    expect(page.get_by_test_id("inbox-list")).to_be_visible()
    expect(page.get_by_test_id("user-name")).to_contain_text(email)

    # When they sign out and sign in again with their new password
    page.get_by_test_id("signout").click()
    expect(page.get_by_test_id("signin-notice")).to_contain_text("signed out")
    sign_in(page, mfa_stack.url, email, NEW_PASSWORD)

    # Then Careloop asks for the code from the app (no setup this time)
    expect(page.get_by_test_id("mfa-form")).to_be_visible()
    expect(page.get_by_test_id("mfasetup-form")).to_have_count(0)

    # When the code isn't six digits, nothing is sent
    page.get_by_test_id("mfa-code").fill("12345")
    page.get_by_test_id("mfa-submit").click()
    expect(page.get_by_test_id("mfa-error")).to_contain_text("6-digit code")

    # When the code is wrong (moto checks codes here, see the module docstring)
    page.get_by_test_id("mfa-code").fill(wrong_code(secret))
    page.get_by_test_id("mfa-submit").click()
    expect(page.get_by_test_id("mfa-error")).to_contain_text(CODE_DIDNT_WORK)
    expect(page.get_by_test_id("mfa-form")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "careloop-mfa-code-error.png"), full_page=True)

    # Then the right one (typed as "123 456", as apps show it) still works in the same sign-in
    code = fresh_totp(secret)
    page.get_by_test_id("mfa-code").fill(f"{code[:3]} {code[3:]}")
    page.get_by_test_id("mfa-submit").click()
    expect(page.get_by_test_id("app-header")).to_be_visible()
    expect(page.get_by_test_id("user-name")).to_contain_text(email)
    app.assert_clean()


def test_an_expired_code_step_goes_back_to_sign_in_with_a_notice(
    app: Watched, mfa_stack: MfaStack
) -> None:
    page = app.page
    email, secret = mfa_stack.enrolled_user()
    page.goto(mfa_stack.url + "/")
    sign_in(page, mfa_stack.url, email, NEW_PASSWORD)
    expect(page.get_by_test_id("mfa-form")).to_be_visible()

    # When the challenge session has expired by the time the code is sent (Cognito: 3 minutes by default)
    expire_next(page, "RespondToAuthChallenge")
    page.get_by_test_id("mfa-code").fill(fresh_totp(secret))
    page.get_by_test_id("mfa-submit").click()

    # Then sign-in starts over, saying why, with the email kept
    expect(page.get_by_test_id("signin-notice")).to_contain_text("took too long")
    expect(page.get_by_test_id("signin-email")).to_have_value(email)
    expect(page.get_by_test_id("app-header")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "careloop-mfa-expired.png"), full_page=True)

    # And signing in again works
    page.get_by_test_id("signin-password").fill(NEW_PASSWORD)
    page.get_by_test_id("signin-submit").click()
    page.get_by_test_id("mfa-code").fill(fresh_totp(secret))
    page.get_by_test_id("mfa-submit").click()
    expect(page.get_by_test_id("app-header")).to_be_visible()
    app.assert_clean()


def test_an_expired_setup_goes_back_to_sign_in_with_the_new_password(
    app: Watched, mfa_stack: MfaStack
) -> None:
    page = app.page
    email = mfa_stack.new_user()
    page.goto(mfa_stack.url + "/")
    sign_in(page, mfa_stack.url, email, TEMP_PASSWORD)
    choose_new_password(page)
    expect(page.get_by_test_id("mfasetup-form")).to_be_visible()
    secret = page.get_by_test_id("mfasetup-secret").inner_text().replace(" ", "")

    # When setting up the app took longer than the challenge session lasts
    expire_next(page, "VerifySoftwareToken")
    page.get_by_test_id("mfasetup-code").fill(fresh_totp(secret))
    page.get_by_test_id("mfasetup-submit").click()

    # Then sign-in starts over: with the password just chosen, and a new key to come
    notice = page.get_by_test_id("signin-notice")
    expect(notice).to_contain_text("new password")
    expect(notice).to_contain_text("new setup key")
    expect(page.get_by_test_id("signin-email")).to_have_value(email)
    expect(page.get_by_test_id("app-header")).to_have_count(0)
    # (Signing in again would meet MFA_SETUP in Cognito; moto signs a permanent-password user in without
    # it, so that step is not checked here.)
    app.assert_clean()
