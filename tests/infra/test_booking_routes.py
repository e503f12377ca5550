"""The patients' booking routes in the synthesised stack: public but throttled, size-checked and
rate-limited per IP, served through CloudFront uncached, with a least-privilege function and table."""

from __future__ import annotations

import json

import pytest

from careloop import tables, wiring
from infra.api import BOOK_BODY_MAX_BYTES, BOOK_THROTTLE, BOOKING_READ_THROTTLE, STAFF_THROTTLE
from infra.waf import BOOKING_PER_CLIENT_IP, BOOKING_PER_SOURCE_IP

pytestmark = pytest.mark.infra

BOOKING = wiring.by_name("booking")
# AWS-managed CloudFront policies (fixed ids)
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _method(synth, path: str, http_method: str) -> dict:
    resource = synth.build.stack.api.root.resource_for_path(path)
    return synth.resources[synth.logical_id(resource.node.find_child(http_method))]["Properties"]


def _policy_actions(synth, name: str) -> set[str]:
    policy = synth.resources[synth.logical_id(synth.build.stack.policies[name])]
    actions: set[str] = set()
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        found = statement["Action"]
        actions |= {found} if isinstance(found, str) else set(found)
    return actions


def _distribution_config(synth) -> dict:
    return synth.resources[synth.logical_id(synth.build.stack.distribution)]["Properties"][
        "DistributionConfig"
    ]


def _web_acl(synth) -> dict:
    return synth.resources[synth.logical_id(synth.build.stack.web_acl)]["Properties"]


# --- the wiring entry -------------------------------------------------------------------------------


def test_wiring_declares_the_contract_routes_as_public():
    assert isinstance(BOOKING.source, wiring.ApiSource) and BOOKING.source.auth == "public"
    assert {(r.method, r.path) for r in BOOKING.source.routes} == {
        ("GET", "/b/{token}"),
        ("GET", "/booking/api/types"),
        ("GET", "/booking/api/slots"),
        ("POST", "/booking/api/book"),
    }
    assert tables.BOOKING.logical in BOOKING.reads and tables.BOOKING.logical in BOOKING.writes
    assert set(BOOKING.sends_to) == {tables.SEND_QUEUE, tables.WRITEBACK_QUEUE}
    assert BOOKING.publishes_to == (tables.STAFF_ALERTS_TOPIC,)
    assert BOOKING.sms is False and BOOKING.llm is False and BOOKING.ehr_token is False


def test_booking_table_spec_is_the_shared_one():
    # the book-flow branch declares the same table; both must agree byte for byte
    assert tables.TableSpec(
        logical="booking", partition_key="pk", sort_key="sk", ttl_attribute="expires_ttl"
    ) == tables.BOOKING
    assert tables.BOOKING in tables.ALL_TABLES and not tables.BOOKING.stream


# --- API Gateway ------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", BOOKING.source.routes, ids=lambda r: f"{r.method} {r.path}")
def test_booking_routes_are_public_proxies_to_the_booking_function(synth, route):
    method = _method(synth, route.path, route.method)
    assert method["HttpMethod"] == route.method
    assert method["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in method
    assert method["Integration"]["Type"] == "AWS_PROXY"
    uri = json.dumps(method["Integration"]["Uri"])
    assert synth.logical_id(synth.build.stack.functions["booking"]) in uri
    assert method["RequestValidatorId"] == {"Ref": synth.logical_id(synth.build.stack.request_validator)}


def test_only_post_book_carries_the_body_model(synth):
    model_id = synth.logical_id(synth.build.stack.book_model)
    assert _method(synth, "/booking/api/book", "POST")["RequestModels"] == {
        "application/json": {"Ref": model_id}
    }
    for path in ("/b/{token}", "/booking/api/types", "/booking/api/slots"):
        assert "RequestModels" not in _method(synth, path, "GET")
    validator = synth.resources[synth.logical_id(synth.build.stack.request_validator)]["Properties"]
    assert validator["ValidateRequestBody"] is True


def test_book_model_bounds_every_field(synth):
    model = synth.resources[synth.logical_id(synth.build.stack.book_model)]["Properties"]
    assert model["ContentType"] == "application/json"
    schema = model["Schema"]
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"t", "type", "start"}
    assert "provider" in schema["properties"] and "provider" not in schema["required"]
    for field in ("t", "type", "start", "provider"):
        assert 0 < schema["properties"][field]["maxLength"] <= 64
    assert schema["maxProperties"] <= 16


def test_a_rejected_body_answers_in_the_contract_error_shape(synth):
    (response,) = [
        r["Properties"]
        for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == "BAD_REQUEST_BODY"
    ]
    assert response["StatusCode"] == "400"
    body = json.loads(response["ResponseTemplates"]["application/json"])
    assert set(body) == {"error"} and "start" in body["error"]


def test_booking_routes_have_small_throttles_of_their_own(synth):
    stage = synth.resources[synth.logical_id(synth.build.stack.api.deployment_stage)]["Properties"]
    settings = {(m["ResourcePath"], m["HttpMethod"]): m for m in stage["MethodSettings"]}
    book = settings[("/~1booking~1api~1book", "POST")]
    assert (book["ThrottlingRateLimit"], book["ThrottlingBurstLimit"]) == (5, 10)
    assert (BOOK_THROTTLE.rate, BOOK_THROTTLE.burst) == (5, 10)
    for path in ("/~1b~1{token}", "/~1booking~1api~1types", "/~1booking~1api~1slots"):
        entry = settings[(path, "GET")]
        assert (entry["ThrottlingRateLimit"], entry["ThrottlingBurstLimit"]) == (
            BOOKING_READ_THROTTLE.rate,
            BOOKING_READ_THROTTLE.burst,
        )
    assert BOOK_THROTTLE.rate < BOOKING_READ_THROTTLE.rate < STAFF_THROTTLE.rate


# --- WAF ----------------------------------------------------------------------------------------------


def test_web_acl_is_regional_and_on_the_api_stage(synth):
    acl = _web_acl(synth)
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    (association,) = synth.of_type("AWS::WAFv2::WebACLAssociation").values()
    props = association["Properties"]
    assert props["WebACLArn"] == {"Fn::GetAtt": [synth.logical_id(synth.build.stack.web_acl), "Arn"]}
    stage_id = synth.logical_id(synth.build.stack.api.deployment_stage)
    assert stage_id in json.dumps(props["ResourceArn"])


def _rule(synth, name: str) -> dict:
    return next(r for r in _web_acl(synth)["Rules"] if r["Name"] == name)


def _scoped_to_booking(statement: dict) -> bool:
    text = json.dumps(statement)
    return '"/booking/api/"' in text and '"/b/"' in text and '"/api/"' not in text.replace("/booking/api/", "")


def test_rate_limits_per_client_ip_and_per_source_ip_on_booking_paths(synth):
    client = _rule(synth, "booking-per-client-ip")["Statement"]["RateBasedStatement"]
    assert client["AggregateKeyType"] == "FORWARDED_IP"
    assert client["ForwardedIPConfig"] == {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "MATCH"}
    assert client["Limit"] == BOOKING_PER_CLIENT_IP and client["EvaluationWindowSec"] == 300
    assert _scoped_to_booking(client["ScopeDownStatement"])
    source = _rule(synth, "booking-per-source-ip")["Statement"]["RateBasedStatement"]
    assert source["AggregateKeyType"] == "IP"
    assert source["Limit"] == BOOKING_PER_SOURCE_IP > BOOKING_PER_CLIENT_IP
    assert _scoped_to_booking(source["ScopeDownStatement"])
    for name in ("booking-per-client-ip", "booking-per-source-ip"):
        block = _rule(synth, name)["Action"]["Block"]["CustomResponse"]
        assert block["ResponseCode"] == 429
        body = _web_acl(synth)["CustomResponseBodies"][block["CustomResponseBodyKey"]]
        assert body["ContentType"] == "APPLICATION_JSON" and "error" in json.loads(body["Content"])


def test_oversized_booking_bodies_are_blocked(synth):
    rule = _rule(synth, "booking-body-size")
    statements = rule["Statement"]["AndStatement"]["Statements"]
    assert _scoped_to_booking(statements[0])
    size = statements[1]["SizeConstraintStatement"]
    assert size["ComparisonOperator"] == "GT" and size["Size"] == BOOK_BODY_MAX_BYTES <= 4096
    assert size["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}
    assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 413
    assert rule["Priority"] < _rule(synth, "booking-per-client-ip")["Priority"]


def test_waf_logs_redact_the_token_and_use_the_data_key(synth):
    (logging,) = synth.of_type("AWS::WAFv2::LoggingConfiguration").values()
    props = logging["Properties"]
    assert {"UriPath": {}} in props["RedactedFields"] and {"QueryString": {}} in props["RedactedFields"]
    assert "aws-waf-logs-careloop-demo-api" in json.dumps(props["LogDestinationConfigs"])
    (group,) = [
        g["Properties"]
        for g in synth.of_type("AWS::Logs::LogGroup").values()
        if g["Properties"]["LogGroupName"] == "aws-waf-logs-careloop-demo-api"
    ]
    assert group["KmsKeyId"] == {"Fn::GetAtt": [synth.logical_id(synth.build.stack.key), "Arn"]}
    for rule in _web_acl(synth)["Rules"]:  # samples would keep URIs, and so tokens
        assert rule["VisibilityConfig"]["SampledRequestsEnabled"] is False


# --- CloudFront -------------------------------------------------------------------------------------


def _behaviour(synth, pattern: str) -> dict:
    return next(b for b in _distribution_config(synth)["CacheBehaviors"] if b["PathPattern"] == pattern)


def _api_origin_id(synth) -> str:
    config = _distribution_config(synth)
    api_id = synth.logical_id(synth.build.stack.api)
    (origin,) = [o for o in config["Origins"] if api_id in json.dumps(o["DomainName"])]
    assert origin["OriginPath"] == "/v1"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    return origin["Id"]


@pytest.mark.parametrize(
    ("pattern", "methods"),
    [("/b/*", {"GET", "HEAD"}), ("/booking/api/*", {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"})],
)
def test_booking_behaviours_reach_the_api_uncached(synth, pattern, methods):
    behaviour = _behaviour(synth, pattern)
    assert behaviour["TargetOriginId"] == _api_origin_id(synth)
    assert set(behaviour["AllowedMethods"]) == methods
    assert behaviour["CachePolicyId"] == CACHING_DISABLED
    assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["ResponseHeadersPolicyId"] == {
        "Ref": synth.logical_id(synth.build.stack.web.booking_headers)
    }


def test_booking_responses_carry_the_staff_apps_security_headers_and_no_store(synth):
    by_name = {
        config["Name"]: config
        for config in (
            p["Properties"]["ResponseHeadersPolicyConfig"]
            for p in synth.of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
        )
    }
    staff, booking = by_name["careloop-demo-web-security"], by_name["careloop-demo-booking-security"]
    for header in ("StrictTransportSecurity", "ContentTypeOptions", "FrameOptions", "ReferrerPolicy"):
        assert booking["SecurityHeadersConfig"][header] == staff["SecurityHeadersConfig"][header]
    assert booking["SecurityHeadersConfig"]["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    csp = booking["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert "connect-src 'self';" in csp and "frame-ancestors 'none'" in csp and "execute-api" not in csp
    assert booking["CustomHeadersConfig"]["Items"] == [
        {"Header": "Cache-Control", "Value": "no-store", "Override": True}
    ]


def test_api_errors_pass_through_cloudfront_unchanged(synth):
    # A 404 for a forged link must reach the patient as a 404: no distribution-wide error pages;
    # the staff app's client-side routes are rewritten by a viewer-request function on S3 only.
    config = _distribution_config(synth)
    assert "CustomErrorResponses" not in config
    (association,) = config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    for pattern in ("/b/*", "/booking/api/*"):
        assert "FunctionAssociations" not in _behaviour(synth, pattern)
    (function,) = synth.of_type("AWS::CloudFront::Function").values()
    assert "/index.html" in function["Properties"]["FunctionCode"]


# --- grants, table, alarms ----------------------------------------------------------------------------


def test_booking_function_texts_only_through_the_send_queue(synth):
    actions = _policy_actions(synth, "booking")
    assert not {a for a in actions if a.startswith(("sms-voice:", "bedrock:", "secretsmanager:"))}
    assert {"sqs:SendMessage", "sns:Publish", "dynamodb:PutItem", "dynamodb:Query"} <= actions
    assert not {a for a in actions if a.startswith("sqs:Receive") or a.startswith("dynamodb:GetRecords")}


def test_booking_function_gets_its_tables_queues_and_origin(synth):
    stack = synth.build.stack
    env = synth.resources[synth.logical_id(stack.functions["booking"])]["Properties"]["Environment"]["Variables"]
    assert env[wiring.table_env("booking")] == {"Ref": synth.logical_id(stack.tables["booking"])}
    assert env[wiring.queue_env(tables.SEND_QUEUE)] == {"Ref": synth.logical_id(stack.queues[tables.SEND_QUEUE])}
    assert wiring.queue_env(tables.WRITEBACK_QUEUE) in env
    assert "CARELOOP_WEB_ORIGIN" in env and "CARELOOP_WEBHOOK_SECRET_ARN" not in env
    assert "BookingBaseUrl" in synth.outputs


def test_every_function_that_writes_texts_links_to_the_deployed_booking_page(synth):
    # Given the demo practice, which offers self-scheduling
    stack = synth.build.stack
    for spec in wiring.FUNCTIONS:
        env = synth.resources[synth.logical_id(stack.functions[spec.name])]["Properties"]["Environment"]["Variables"]
        # Then a function that writes texts and links (a reminder, a reply, a confirmation) mints
        # them on the CloudFront origin the page is served from, with the booking table to keep them
        writes_texts = {tables.MESSAGES.logical, tables.BOOKING.logical} <= set(spec.writes)
        if writes_texts:
            assert wiring.table_env("booking") in env, spec.name
        assert ("CARELOOP_BOOKING_BASE_URL" in env) is writes_texts, spec.name
        if writes_texts:
            assert env["CARELOOP_BOOKING_BASE_URL"] == env.get("CARELOOP_WEB_ORIGIN", env["CARELOOP_BOOKING_BASE_URL"])
    linking = {s.name for s in wiring.FUNCTIONS if {tables.MESSAGES.logical, tables.BOOKING.logical} <= set(s.writes)}
    # (inbox_api: a declined online request texts the patient a link to pick another time; the voice
    # agent's too: the code hook's booking confirmations, the missed-call text-back's link)
    assert linking == {"dispatcher", "sms_inbound", "booking", "inbox_api", "voice", "voice_events"}


def test_booking_table_is_encrypted_recoverable_backed_up_and_expires(synth):
    stack = synth.build.stack
    table_id = synth.logical_id(stack.tables["booking"])
    props = synth.resources[table_id]["Properties"]
    assert props["TableName"] == "careloop-demo-booking"
    assert props["SSESpecification"]["KMSMasterKeyId"] == {"Fn::GetAtt": [synth.logical_id(stack.key), "Arn"]}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_ttl", "Enabled": True}
    assert "StreamSpecification" not in props
    assert synth.resources[table_id]["DeletionPolicy"] == "Retain"
    (selection,) = synth.of_type("AWS::Backup::BackupSelection").values()
    assert table_id in json.dumps(selection["Properties"]["BackupSelection"]["Resources"])


def test_booking_function_has_error_and_throttle_alarms(synth):
    errors, throttles = synth.build.stack.monitoring.function_alarms["booking"]
    for alarm in (errors, throttles):
        props = synth.resources[synth.logical_id(alarm)]["Properties"]
        assert props["AlarmActions"] == [{"Ref": synth.logical_id(synth.build.stack.messaging.ops_topic)}]
