"""Issue 15 item 5, checked on the synthesised template (not the constructs): every public route is
behind the web ACL, which has the managed common and known-bad-inputs sets, the IP reputation list,
per-IP rate limits and a body cap for each route family; every route has its own throttle; CORS
names the web app's origin and nothing else; both CloudFront behaviour families send the security
headers with a CSP the web app's pages fit inside; Cognito blocks compromised credentials.

The WAF statements are evaluated here (the subset the stack uses: URI-path CONTAINS byte matches
under URL_DECODE/LOWERCASE, Not/And/Or, the Content-Length regex), against the path API Gateway
sees for each route, so a rule scoped to the wrong paths fails a test rather than reading right."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import unquote

import pytest

from careloop import wiring
from infra.api import API_STAGE
from infra.waf import (
    API_PER_SOURCE_IP,
    COMMON_RULES,
    EHR_CONTENT_LENGTH_TOO_BIG,
    IP_REPUTATION,
    KNOWN_BAD_INPUTS,
    STAFF_BODY_MAX_BYTES,
)

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
REGION, URL_SUFFIX, DOMAIN = "us-east-1", "amazonaws.com", "d111111abcdef8.cloudfront.net"
ROUTES = [(spec, route) for spec in wiring.FUNCTIONS if isinstance(spec.source, wiring.ApiSource)
          for route in spec.source.routes]


def _resolve(value, synth) -> str:
    """A template string value with the pseudo parameters and the distribution's domain filled in."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_resolve(p, synth) for p in parts)
    if value == {"Ref": "AWS::Region"}:
        return REGION
    if value == {"Ref": "AWS::URLSuffix"}:
        return URL_SUFFIX
    if value == {"Fn::GetAtt": [synth.logical_id(synth.build.stack.distribution), "DomainName"]}:
        return DOMAIN
    raise AssertionError(f"cannot resolve {value!r}")


def _acl(synth) -> dict:
    (acl,) = synth.of_type("AWS::WAFv2::WebACL").values()
    return acl["Properties"]


def _rules(synth) -> dict[str, dict]:
    return {r["Name"]: r for r in _acl(synth)["Rules"]}


def _transform(value: str, transformations: list[dict]) -> str:
    for t in sorted(transformations, key=lambda t: t["Priority"]):
        value = {"URL_DECODE": unquote, "LOWERCASE": str.lower, "NONE": lambda v: v}[t["Type"]](value)
    return value


def _matches(statement: dict, request: dict) -> bool:
    """Whether `statement` matches `request` ({"path", "headers", "body_size"}) as WAF evaluates it."""
    (kind, spec), = statement.items()
    if kind == "NotStatement":
        return not _matches(spec["Statement"], request)
    if kind == "AndStatement":
        return all(_matches(s, request) for s in spec["Statements"])
    if kind == "OrStatement":
        return any(_matches(s, request) for s in spec["Statements"])
    if kind == "ByteMatchStatement":
        assert spec["FieldToMatch"] == {"UriPath": {}} and spec["PositionalConstraint"] == "CONTAINS"
        return spec["SearchString"] in _transform(request["path"], spec["TextTransformations"])
    if kind == "SizeConstraintStatement":
        assert spec["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}
        assert spec["ComparisonOperator"] == "GT"
        # over the 16 KB WAF inspects of an API Gateway body, OversizeHandling MATCH says "over"
        return request.get("body_size", 0) > spec["Size"] or request.get("body_size", 0) > 16_384
    if kind == "RegexMatchStatement":
        header = spec["FieldToMatch"]["SingleHeader"]["Name"]
        value = request.get("headers", {}).get(header)
        return value is not None and re.search(spec["RegexString"], value) is not None
    raise AssertionError(f"the evaluator does not know {kind}")


def _gateway_path(path: str) -> str:
    """The URI WAF sees for a route: the stage, then the path with its parameters filled."""
    return f"/{API_STAGE}" + re.sub(r"\{[^}]+\}", "x1", path)


def _scope(rule: dict) -> dict:
    statement = rule["Statement"]
    if "RateBasedStatement" in statement:
        return statement["RateBasedStatement"]["ScopeDownStatement"]
    return statement["ManagedRuleGroupStatement"].get("ScopeDownStatement") or {
        "OrStatement": {"Statements": []}}


def _applies(rule: dict, path: str) -> bool:
    statement = rule["Statement"]
    if "ManagedRuleGroupStatement" in statement and "ScopeDownStatement" not in statement[
            "ManagedRuleGroupStatement"]:
        return True
    return _matches(_scope(rule), {"path": path})


# --- WAF on every public route -------------------------------------------------------------------


def test_the_web_acl_guards_the_one_stage_every_route_is_deployed_on(synth):
    (api_id,) = synth.of_type("AWS::ApiGateway::RestApi")
    (stage_id,) = synth.of_type("AWS::ApiGateway::Stage")
    methods = synth.of_type("AWS::ApiGateway::Method").values()
    assert {json.dumps(m["Properties"]["RestApiId"]) for m in methods} == {json.dumps({"Ref": api_id})}
    (association,) = synth.of_type("AWS::WAFv2::WebACLAssociation").values()
    arn = json.dumps(association["Properties"]["ResourceArn"])
    assert f'{{"Ref": "{api_id}"}}, "/stages/", {{"Ref": "{stage_id}"}}' in arn
    (acl_id,) = synth.of_type("AWS::WAFv2::WebACL")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    # the three kinds of public route are all there, on that API
    assert {spec.source.auth for spec, _ in ROUTES} == {"hmac", "cognito", "public"}


def test_managed_rule_sets_block_as_aws_ships_them(synth):
    rules = _rules(synth)
    for name in (IP_REPUTATION, COMMON_RULES, KNOWN_BAD_INPUTS):
        group = rules[name]["Statement"]["ManagedRuleGroupStatement"]
        assert group["VendorName"] == "AWS" and group["Name"] == name
        assert rules[name]["OverrideAction"] == {"None": {}}  # not "Count": they block
    # the reputation list is looked at before anything else
    assert rules[IP_REPUTATION]["Priority"] == min(r["Priority"] for r in rules.values())
    # only the 8 KB body rule is counted (the size rules below cap each route family instead)
    common = rules[COMMON_RULES]["Statement"]["ManagedRuleGroupStatement"]
    assert common["RuleActionOverrides"] == [{"ActionToUse": {"Count": {}}, "Name": "SizeRestrictions_BODY"}]
    assert "RuleActionOverrides" not in rules[KNOWN_BAD_INPUTS]["Statement"]["ManagedRuleGroupStatement"]


@pytest.mark.parametrize(("spec", "route"), ROUTES, ids=[f"{r.method} {r.path}" for _, r in ROUTES])
def test_every_route_is_behind_reputation_bad_inputs_and_a_rate_rule(synth, spec, route):
    rules, path = _rules(synth), _gateway_path(route.path)
    assert _applies(rules[IP_REPUTATION], path) and _applies(rules[KNOWN_BAD_INPUTS], path)
    rate_rules = [r for r in rules.values() if "RateBasedStatement" in r["Statement"]]
    covering = [r["Name"] for r in rate_rules if _applies(r, path)]
    assert covering, f"{route.method} {route.path}: no rate-based rule covers it"
    for r in rate_rules:
        assert r["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    # the common rule set everywhere but the HMAC-signed webhooks (FHIR/HL7 bodies trip it)
    assert _applies(rules[COMMON_RULES], path) is (spec.source.auth != "hmac")


def test_the_api_rate_rule_counts_ehr_and_staff_calls_per_address(synth):
    rule = _rules(synth)["api-per-source-ip"]["Statement"]["RateBasedStatement"]
    assert rule["AggregateKeyType"] == "IP" and rule["Limit"] == API_PER_SOURCE_IP
    assert rule["EvaluationWindowSec"] == 300
    for path in ("/v1/ehr/fhir", "/v1/api/inbox", "/v1/unrouted"):
        assert _matches(rule["ScopeDownStatement"], {"path": path})
    assert not _matches(rule["ScopeDownStatement"], {"path": "/v1/booking/api/book"})


def _blocked_by(synth, request: dict) -> list[str]:
    return [r["Name"] for r in _acl(synth)["Rules"] if "Action" in r and "Block" in r["Action"]
            and "RateBasedStatement" not in r["Statement"] and _matches(r["Statement"], request)]


@pytest.mark.parametrize(("spec", "route"), [(s, r) for s, r in ROUTES if r.method in ("POST", "PUT", "ANY")],
                         ids=lambda v: getattr(v, "path", ""))
def test_every_route_that_takes_a_body_has_a_size_cap(synth, spec, route):
    path = _gateway_path(route.path)
    assert _blocked_by(synth, {"path": path, "body_size": 100, "headers": {"content-length": "100"}}) == []
    if spec.source.auth == "hmac":
        # WAF reads 16 KB of a body at most: the webhook's cap is on the declared length
        big = {"path": path, "body_size": 16_000, "headers": {"content-length": "7000000"}}
        assert _blocked_by(synth, big) == ["ehr-content-length"]
        fine = {"path": path, "body_size": 16_000, "headers": {"content-length": "5999999"}}
        assert _blocked_by(synth, fine) == []  # the webhook refuses and quarantines 5-6 MB itself
    else:
        assert _blocked_by(synth, {"path": path, "body_size": STAFF_BODY_MAX_BYTES + 1}) != []


def test_size_blocks_say_what_happened_and_the_staff_app_can_read_them(synth):
    acl = _acl(synth)
    for name in ("booking-body-size", "staff-body-size", "ehr-content-length"):
        response = _rules(synth)[name]["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 413
        body = acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]
        assert body["ContentType"] == "APPLICATION_JSON" and json.loads(body["Content"])
    for name in ("staff-body-size", "api-per-source-ip"):  # called cross-origin by the staff app
        headers = _rules(synth)[name]["Action"]["Block"]["CustomResponse"]["ResponseHeaders"]
        assert [(h["Name"], _resolve(h["Value"], synth)) for h in headers] == [
            ("Access-Control-Allow-Origin", f"https://{DOMAIN}")]


@pytest.mark.parametrize(("length", "blocked"), [
    ("6000000", True), ("6291457", True), ("10485760", True), ("0006000000", True), ("99999999999", True),
    ("5999999", False), ("5000000", False), ("123", False), ("0", False), ("", False), ("6e6", False),
])
def test_the_content_length_pattern_is_six_million_and_over(length, blocked):
    assert (re.search(EHR_CONTENT_LENGTH_TOO_BIG, length) is not None) is blocked


# --- throttles -------------------------------------------------------------------------------------


def test_every_method_on_the_stage_has_its_own_throttle(synth):
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["Properties"]["MethodSettings"]}
    resources = synth.of_type("AWS::ApiGateway::Resource")

    def path_of(resource_id: str) -> str:
        props = resources[resource_id]["Properties"]
        parent = props["ParentId"].get("Ref")
        return (path_of(parent) if parent in resources else "") + "/" + props["PathPart"]

    for method in synth.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        key = ("/" + path_of(props["ResourceId"]["Ref"]).replace("/", "~1"), props["HttpMethod"])
        assert key in settings, f"{key}: only the stage default throttles it"
        assert settings[key]["ThrottlingRateLimit"] > 0 and settings[key]["ThrottlingBurstLimit"] > 0


# --- CORS ------------------------------------------------------------------------------------------


def _allow_origins(node, path=""):
    """Every Access-Control-Allow-Origin value anywhere in the template, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.lower().endswith("access-control-allow-origin"):
                if value is not True:  # a method response's `true` declares the header, no value
                    yield path + key, value
            elif key == "Name" and isinstance(value, str) and value.lower() == "access-control-allow-origin":
                yield path, node["Value"]
            else:
                yield from _allow_origins(value, f"{path}{key}.")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _allow_origins(value, f"{path}{i}.")


def test_cors_names_the_web_apps_origin_everywhere_and_never_a_wildcard(synth):
    found = list(_allow_origins(synth.resources))
    kinds = {where.split(".")[0] for where, _ in found}
    # the preflight (a MOCK integration), the gateway's own errors, WAF's blocks
    assert {synth.resources[k]["Type"] for k in kinds} >= {
        "AWS::ApiGateway::Method", "AWS::ApiGateway::GatewayResponse", "AWS::WAFv2::WebACL"}
    for where, value in found:
        assert _resolve(value, synth).strip("'") == f"https://{DOMAIN}", where
    # the staff API function answers CORS itself (Powertools) for that origin only
    (inbox,) = [f["Properties"] for f in synth.of_type("AWS::Lambda::Function").values()
                if f["Properties"].get("FunctionName") == "careloop-demo-inbox-api"]
    assert _resolve(inbox["Environment"]["Variables"]["CARELOOP_WEB_ORIGIN"], synth) == f"https://{DOMAIN}"


def test_every_gateway_error_carries_the_cors_origin(synth):
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()}
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for props in responses.values():
        origin = props["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
        assert _resolve(origin, synth) == f"'https://{DOMAIN}'"


# --- CloudFront security headers ---------------------------------------------------------------------


def _csp(text: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in text.split(";")) if d}


def _meta_csp(page: Path) -> dict[str, list[str]]:
    (content,) = re.findall(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', page.read_text())
    return _csp(content)


def _policies(synth) -> dict[str, dict]:
    """PathPattern ('*' for the default) -> the behaviour's response headers policy config."""
    config = synth.resources[synth.logical_id(synth.build.stack.distribution)]["Properties"]["DistributionConfig"]
    behaviours = [("*", config["DefaultCacheBehavior"])] + [(b["PathPattern"], b) for b in config["CacheBehaviors"]]
    policies = synth.of_type("AWS::CloudFront::ResponseHeadersPolicy")
    return {pattern: policies[b["ResponseHeadersPolicyId"]["Ref"]]["Properties"]["ResponseHeadersPolicyConfig"]
            for pattern, b in behaviours}


def test_every_behaviour_sends_the_security_headers(synth):
    policies = _policies(synth)
    assert set(policies) == {"*", "/b/*", "/booking/api/*"}
    for pattern, config in policies.items():
        headers = config["SecurityHeadersConfig"]
        hsts = headers["StrictTransportSecurity"]
        assert hsts["AccessControlMaxAgeSec"] >= 31_536_000 and hsts["IncludeSubdomains"], pattern
        assert headers["ContentTypeOptions"]["Override"] is True
        assert headers["FrameOptions"]["FrameOption"] == "DENY"
        assert headers["ReferrerPolicy"]["ReferrerPolicy"] in ("no-referrer", "strict-origin-when-cross-origin")
        csp = _csp(_resolve(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"], synth))
        assert csp["default-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
        assert csp["object-src"] == ["'none'"] and "'unsafe-inline'" not in json.dumps(csp)
        for header in ("StrictTransportSecurity", "ContentTypeOptions", "FrameOptions", "ReferrerPolicy",
                       "ContentSecurityPolicy"):
            assert headers[header]["Override"] is True, (pattern, header)


# what the pages' meta CSPs allow only for `make run` (the local stack on loopback)
LOCAL_ONLY = {"http://127.0.0.1:*", "http://localhost:*"}


def _allows(sources: list[str], needed: str) -> bool:
    return needed in sources or any("*" in s and fnmatch(needed, s) for s in sources)


@pytest.mark.parametrize(("page", "pattern"), [("index.html", "*"), ("booking/index.html", "/b/*")])
def test_the_header_csp_allows_what_the_page_itself_needs(synth, page, pattern):
    """A browser enforces the page's meta CSP and CloudFront's header both: the header must not
    refuse anything the page's own policy (which the e2e suite runs under) lets through."""
    meta = _meta_csp(ROOT / "web" / "src" / page)
    header = _csp(_resolve(_policies(synth)[pattern]["SecurityHeadersConfig"]["ContentSecurityPolicy"][
        "ContentSecurityPolicy"], synth))
    for directive, sources in meta.items():
        if directive in ("base-uri", "form-action"):  # navigation limits: the stricter one wins, fine
            continue
        allowed = header.get(directive, header["default-src"])
        for source in sources:
            if source in LOCAL_ONLY or source == "https:":  # https: is narrowed to AWS's hosts below
                continue
            assert _allows(allowed, source), f"{page}: {directive} {source} is refused by CloudFront's CSP"


def test_the_staff_csp_reaches_the_api_and_cognito_the_config_names(synth):
    connect = _csp(_resolve(_policies(synth)["*"]["SecurityHeadersConfig"]["ContentSecurityPolicy"][
        "ContentSecurityPolicy"], synth))["connect-src"]
    api_host = f"https://abc123defg.execute-api.{REGION}.{URL_SUFFIX}"  # ApiUrl's host, any API id
    cognito = f"https://cognito-idp.{REGION}.{URL_SUFFIX}"  # config.json cognito.endpoint
    assert _allows(connect, api_host) and _allows(connect, cognito)
    assert not _allows(connect, "https://evil.example") and not _allows(connect, f"https://s3.{REGION}.{URL_SUFFIX}")


# --- Cognito -----------------------------------------------------------------------------------------


def test_staff_pool_enforces_threat_protection_and_blocks_compromised_passwords(synth):
    ((pool_id, pool),) = synth.of_type("AWS::Cognito::UserPool").items()
    assert pool["Properties"]["UserPoolTier"] == "PLUS"
    assert pool["Properties"]["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    (risk,) = synth.of_type("AWS::Cognito::UserPoolRiskConfigurationAttachment").values()
    props = risk["Properties"]
    assert props["UserPoolId"] == {"Ref": pool_id} and props["ClientId"] == "ALL"
    compromised = props["CompromisedCredentialsRiskConfiguration"]
    assert compromised["Actions"] == {"EventAction": "BLOCK"}
    assert set(compromised["EventFilter"]) == {"SIGN_IN", "PASSWORD_CHANGE", "SIGN_UP"}
    assert props["AccountTakeoverRiskConfiguration"]["Actions"]["HighAction"]["EventAction"] == "BLOCK"


# --- webhook secret rotation ----------------------------------------------------------------------------


def test_the_webhook_reads_the_secret_rotation_writes(synth):
    """`careloop ehr rotate-secret` writes {"current", "previous", ...} into the secret the stack
    names; the webhook function is pointed at that secret and may read it (and only it)."""
    (webhook,) = [(k, f["Properties"]) for k, f in synth.of_type("AWS::Lambda::Function").items()
                  if f["Properties"].get("FunctionName") == "careloop-demo-ehr-webhook"]
    name = webhook[1]["Environment"]["Variables"]["CARELOOP_WEBHOOK_SECRET_ARN"]
    assert name == synth.build.profile.webhook_secret_ref == "careloop/demo/webhook-secret"
    role_id = webhook[1]["Role"]["Fn::GetAtt"][0]
    attached = {ref["Ref"] for ref in synth.resources[role_id]["Properties"].get("ManagedPolicyArns", [])
                if isinstance(ref, dict) and "Ref" in ref}
    policies = [p for k, p in synth.resources.items() if k in attached or (
        p["Type"] == "AWS::IAM::Policy" and role_id in json.dumps(p["Properties"].get("Roles", [])))]
    reads = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]
             if "secretsmanager:GetSecretValue" in json.dumps(s["Action"])]
    assert reads and all(f"secret:{name}-??????" in json.dumps(s["Resource"]) for s in reads)
