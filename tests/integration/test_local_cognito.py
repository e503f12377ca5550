"""Local mode's /cognito/ passthrough on the local stack: an admin call from the browser side is
refused and changes nothing, while the web app's sign-in still gets a token that opens /api."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from careloop_local.runtime import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD


def cognito(served: str, action: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        served + "/cognito/", method="POST", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_admin_create_user_through_the_passthrough_is_refused(stack, served):
    import boto3

    # When someone calls AdminCreateUser through the browser-facing Cognito endpoint
    status, body = cognito(served, "AdminCreateUser", {
        "UserPoolId": stack.res.user_pool_id, "Username": "intruder@example.com",
        "TemporaryPassword": "Intruder-pass-1!", "MessageAction": "SUPPRESS"})
    # Then it is refused, naming the call, and no user was made
    assert status == 403, body
    assert body["__type"] == "AccessDeniedException" and "AdminCreateUser" in body["message"]
    users = boto3.client("cognito-idp").list_users(UserPoolId=stack.res.user_pool_id)["Users"]
    assert "intruder@example.com" not in {u["Username"] for u in users}


def test_sign_in_through_the_passthrough_still_opens_the_api(stack, served):
    # When the staff member signs in as the web app does
    status, body = cognito(served, "InitiateAuth", {
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": stack.res.client_id,
        "AuthParameters": {"USERNAME": DEMO_STAFF_EMAIL, "PASSWORD": DEMO_STAFF_PASSWORD}})
    # Then Cognito (moto) answers with tokens, and the ID token passes the exact-issuer check
    assert status == 200, body
    token = body["AuthenticationResult"]["IdToken"]
    req = urllib.request.Request(served + "/api/me", headers={"Authorization": token})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
        assert json.loads(resp.read())["username"]
    # and a wrong password is still Cognito's own answer, passed through
    status, body = cognito(served, "InitiateAuth", {
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": stack.res.client_id,
        "AuthParameters": {"USERNAME": DEMO_STAFF_EMAIL, "PASSWORD": "wrong-Password-1!"}})
    assert status == 400 and "NotAuthorized" in body.get("__type", "")
