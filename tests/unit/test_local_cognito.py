"""Local mode's Cognito (careloop_local.http): the ID-token check takes only this pool's exact
issuer, and the browser-facing passthrough forwards only the web app's sign-in calls."""

from __future__ import annotations

import json
import re
import time
from types import SimpleNamespace

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from careloop_local.http import (
    COGNITO_SIGN_IN_ACTIONS,
    CognitoAuthorizer,
    cognito_issuer,
    forward_cognito,
)

POOL = "us-east-1_Abc123"
CLIENT = "client-1"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})


def authorizer() -> CognitoAuthorizer:
    stack = SimpleNamespace(res=SimpleNamespace(user_pool_id=POOL, client_id=CLIENT), moto_url="http://127.0.0.1:9")
    auth = CognitoAuthorizer(stack)
    auth._keys = KeySet([KEY])  # the pool's JWKS, without fetching it from moto
    return auth


def id_token(**overrides) -> str:
    claims = {"iss": cognito_issuer(POOL), "aud": CLIENT, "token_use": "id", "exp": int(time.time()) + 600,
              "sub": "u1", "cognito:username": "staff"} | overrides
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, KEY)


def test_a_token_of_this_pool_is_accepted():
    assert cognito_issuer(POOL) == f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}"
    assert authorizer().claims(id_token())["sub"] == "u1"


@pytest.mark.parametrize("issuer", [
    f"https://cognito-idp.us-east-1.amazonaws.com/x{POOL}",  # another pool whose id ends with ours
    f"https://cognito-idp.us-east-1.amazonaws.com/other/{POOL}",
    f"https://evil.example/{POOL}",
    f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL}",
    f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}/",
])
def test_a_token_from_another_issuer_is_rejected(issuer):
    # Given a token signed with a trusted key, for our app client, but issued by another pool
    # Then it opens nothing
    assert authorizer().claims(id_token(iss=issuer)) is None


def test_a_token_without_an_issuer_is_rejected():
    token = jwt.encode({"alg": "RS256", "kid": "k1"},
                       {"aud": CLIENT, "token_use": "id", "exp": int(time.time()) + 600}, KEY)
    assert authorizer().claims(token) is None


def cognito_request(action: str | None) -> Request:
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if action is not None:
        headers["X-Amz-Target"] = action
    return Request(EnvironBuilder(method="POST", path="/cognito/", headers=headers,
                                  data=json.dumps({"UserPoolId": POOL, "Username": "intruder"})).get_environ())


@pytest.mark.parametrize("target", [
    "AWSCognitoIdentityProviderService.AdminCreateUser",
    "AWSCognitoIdentityProviderService.AdminSetUserPassword",
    "AWSCognitoIdentityProviderService.ListUsers",
    "AWSCognitoIdentityProviderService.CreateUserPool",
    "SomethingElse.InitiateAuth",
    "InitiateAuth",
    "",
    None,
])
def test_the_passthrough_refuses_every_other_call_and_names_it(target):
    # When a call the web app never makes arrives (moto's port is closed: nothing may be forwarded)
    response = forward_cognito("http://127.0.0.1:9", cognito_request(target))
    # Then it is refused with Cognito's error shape, naming the call
    body = json.loads(response.get_data())
    assert response.status_code == 403
    assert body["__type"] == "AccessDeniedException"
    assert (target or "no X-Amz-Target") in body["message"]


def test_the_passthrough_allows_exactly_the_web_apps_sign_in_calls():
    # the calls web/src/auth.ts makes: call(cfg, "<Action>", ...)

    from tests.conftest import ROOT

    sent = set(re.findall(r'call\(cfg, "(\w+)"', (ROOT / "web" / "src" / "auth.ts").read_text()))
    assert sent == COGNITO_SIGN_IN_ACTIONS
