"""The waf construct: a regional AWS WAF v2 web ACL on the API's one stage, so on every public
route (/ehr webhooks, the staff /api, the booking /b and /booking/api, whether called through
CloudFront or on the execute-api URL): Amazon's IP reputation list, body-size caps per route
family, per-IP rate limits, and the managed common and known-bad-inputs rule sets."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.api import BOOK_BODY_MAX_BYTES
from infra.common import log_group

# Staff API bodies: the largest is a workflow definition (the defaults are under 4 KB; a reply or
# a note is at most 4,000 characters). 16 KB is also what WAF inspects of an API Gateway body by
# default, so nothing it could not look at passes the managed rules unread.
STAFF_BODY_MAX_BYTES = 16_384
# EHR webhooks: Lambda takes at most 6 MB of request, so API Gateway answers a bigger body with
# a 5xx once Lambda refuses it (up to its own 10 MB). WAF cannot read that far into a body, but it
# can read the Content-Length the client declared: 6,000,000 and over is a 413 naming the limit.
# (The webhook itself refuses, and quarantines, anything over 5 MB that does reach it.)
EHR_CONTENT_LENGTH_MAX = 5_999_999
EHR_CONTENT_LENGTH_TOO_BIG = r"^0*([6-9][0-9]{6}|[1-9][0-9]{7,})$"  # 6,000,000 or more
# Per connecting address on /ehr and /api over 5 minutes: 10 a second on average. A practice's
# staff behind one office NAT, each with an inbox polling every 10 s, make a few hundred; an EHR's
# bulk sync sent as the importer sends it (batches of 500) a few dozen. A single address flooding
# bad tokens or bad signatures is cut off here, before it uses up the route's throttle bucket.
API_PER_SOURCE_IP = 3000

# Requests per client IP in any 5-minute window on /b and /booking/api. A patient opening a link,
# looking at a few days and booking makes about ten; a family on one phone a few times that.
BOOKING_PER_CLIENT_IP = 100
# Per connecting address: through CloudFront that is an edge server shared by many patients of
# the practice, so it is set high; it bites on floods sent to the execute-api URL directly.
BOOKING_PER_SOURCE_IP = 1000
RATE_WINDOW_S = 300
# WAF sees the path as API Gateway receives it (with or without the stage): match inside it.
BOOKING_PATH_PARTS = ("/b/", "/booking/api/")
EHR_PATH_PART = "/ehr/"
STAFF_PATH_PART = "/api/"
TOO_MANY = "too-many-requests"
TOO_LARGE = "body-too-large"
STAFF_TOO_LARGE = "staff-body-too-large"
EHR_TOO_LARGE = "ehr-body-too-large"
# The managed rule groups, in evaluation order after our own rules. Version unpinned: AWS updates
# these for new threats, which is the point of using them.
IP_REPUTATION = "AWSManagedRulesAmazonIpReputationList"
COMMON_RULES = "AWSManagedRulesCommonRuleSet"
KNOWN_BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"


def _path_contains(part: str) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="CONTAINS",
            search_string=part,
            text_transformations=[
                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="URL_DECODE"),
                wafv2.CfnWebACL.TextTransformationProperty(priority=1, type="LOWERCASE"),
            ],
        )
    )


def booking_paths() -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(
            statements=[_path_contains(part) for part in BOOKING_PATH_PARTS]
        )
    )


def _not(statement: wafv2.CfnWebACL.StatementProperty) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=statement)
    )


def _and(*statements: wafv2.CfnWebACL.StatementProperty) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=list(statements))
    )


def staff_paths() -> wafv2.CfnWebACL.StatementProperty:
    """/api/ but not /booking/api/ (which contains it)."""
    return _and(_path_contains(STAFF_PATH_PART), _not(_path_contains(BOOKING_PATH_PARTS[1])))


def _body_over(size: int) -> wafv2.CfnWebACL.StatementProperty:
    # OversizeHandling MATCH: a body longer than WAF inspects (16 KB on API Gateway) counts as over.
    return wafv2.CfnWebACL.StatementProperty(
        size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
            ),
            comparison_operator="GT",
            size=size,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _content_length_over_lambda_limit() -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        regex_match_statement=wafv2.CfnWebACL.RegexMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                single_header={"Name": "content-length"}
            ),
            regex_string=EHR_CONTENT_LENGTH_TOO_BIG,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    # No sampled requests: a sample keeps the URI and query, and those carry the personal token.
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=False
    )


def _block(status: int, body_key: str, *, cors_origin: str | None = None) -> wafv2.CfnWebACL.RuleActionProperty:
    """A block answered with `status` and the contract's JSON error; with `cors_origin` (the staff
    API, called cross-origin) the browser is allowed to read it, or the app sees a network error."""
    headers = (
        [wafv2.CfnWebACL.CustomHTTPHeaderProperty(name="Access-Control-Allow-Origin", value=cors_origin)]
        if cors_origin
        else None
    )
    return wafv2.CfnWebACL.RuleActionProperty(
        block=wafv2.CfnWebACL.BlockActionProperty(
            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                response_code=status, custom_response_body_key=body_key, response_headers=headers
            )
        )
    )


def _managed(name: str, priority: int, *, scope_down: wafv2.CfnWebACL.StatementProperty | None = None,
             counted: tuple[str, ...] = ()) -> wafv2.CfnWebACL.RuleProperty:
    """One AWS managed rule group, blocking as AWS ships it, except the rules in `counted`."""
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=name,
                scope_down_statement=scope_down,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in counted
                ]
                or None,
            )
        ),
        visibility_config=_visibility(name),
    )


class Waf(Construct):
    """`web_acl` (regional), `association` (the API stage) and `log_group_names` (WAF's logs,
    with the token-bearing URI and query redacted)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        key: kms.IKey,
        stage: apigw.Stage,
        web_origin: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.web_origin = web_origin
        self.web_acl = wafv2.CfnWebACL(
            self,
            "ApiWebAcl",
            name=f"{prefix}-api",
            description="IP reputation, body-size caps, per-IP rate limits, AWS common and known-bad-inputs rules",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"{prefix}-api"),
            # The contract's error shape (booking.md), so the page can say what happened.
            custom_response_bodies={
                TOO_MANY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content='{"error": "too many requests: try again in a few minutes"}',
                ),
                TOO_LARGE: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content='{"error": "request body too large"}'
                ),
                # the staff app shows "message" (web/src/api.ts)
                STAFF_TOO_LARGE: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content=f'{{"message": "body: larger than {STAFF_BODY_MAX_BYTES} bytes"}}',
                ),
                EHR_TOO_LARGE: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content=(
                        '{"error": "body: Content-Length is over the 6 MB a webhook call can carry; '
                        'send it gzipped (Content-Encoding: gzip) or split it"}'
                    ),
                ),
            },
            rules=self._rules(),
        )
        self.association = wafv2.CfnWebACLAssociation(
            self, "ApiWebAclAssociation", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
        # WAF requires this prefix on a CloudWatch Logs destination.
        log_name = f"aws-waf-logs-{prefix}-api"
        logs = log_group(self, "ApiWebAclLogs", log_name, key)
        self.log_group_names = [log_name]
        stack = cdk.Stack.of(self)
        self.logging = wafv2.CfnLoggingConfiguration(
            self,
            "ApiWebAclLogging",
            resource_arn=self.web_acl.attr_arn,
            # the log group's ARN without the ":*" that LogGroup.log_group_arn carries
            log_destination_configs=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=log_name,
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(uri_path={}),
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(query_string={}),
            ],
        )
        self.logging.node.add_dependency(logs)

    def _rules(self) -> list[wafv2.CfnWebACL.RuleProperty]:
        """Cheapest and surest first: known-bad addresses, then sizes, then rates (so a flood is
        counted before anything reads its bodies), then the managed signatures."""
        return [
            _managed(IP_REPUTATION, 0),
            self._body_size_rule(),
            self._staff_body_size_rule(),
            self._ehr_content_length_rule(),
            self._per_client_ip_rule(),
            self._per_source_ip_rule(),
            self._api_per_source_ip_rule(),
            # Not on /ehr: those calls are HMAC-signed (checked before anything is parsed), and a
            # FHIR Bundle or HL7 batch legitimately holds what the body rules look for (XHTML
            # narrative, URLs with IP addresses, bodies over 8 KB). The 8 KB body rule is counted
            # everywhere: the size rules above set each route family's own cap.
            _managed(COMMON_RULES, 7, scope_down=_not(_path_contains(EHR_PATH_PART)),
                     counted=("SizeRestrictions_BODY",)),
            _managed(KNOWN_BAD_INPUTS, 8),
        ]

    def _body_size_rule(self) -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name="booking-body-size",
            priority=1,
            statement=_and(booking_paths(), _body_over(BOOK_BODY_MAX_BYTES)),
            action=_block(413, TOO_LARGE),
            visibility_config=_visibility("booking-body-size"),
        )

    def _staff_body_size_rule(self) -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name="staff-body-size",
            priority=2,
            statement=_and(staff_paths(), _body_over(STAFF_BODY_MAX_BYTES)),
            action=_block(413, STAFF_TOO_LARGE, cors_origin=self.web_origin),
            visibility_config=_visibility("staff-body-size"),
        )

    def _ehr_content_length_rule(self) -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name="ehr-content-length",
            priority=3,
            statement=_and(_path_contains(EHR_PATH_PART), _content_length_over_lambda_limit()),
            action=_block(413, EHR_TOO_LARGE),
            visibility_config=_visibility("ehr-content-length"),
        )

    def _per_client_ip_rule(self) -> wafv2.CfnWebACL.RuleProperty:
        # Through CloudFront the connecting address is the edge's; the patient's is the first one
        # in X-Forwarded-For. A caller can forge that header, so this rule is paired with the
        # per-source one below and with the per-token limits of the booking service. Without the
        # header (a direct call) WAF skips this rule and the per-source one counts the caller;
        # with a header whose first entry is no IP address (CloudFront always puts one there
        # for a real browser), the request is blocked (MATCH).
        return _rate_rule("booking-per-client-ip", 4, BOOKING_PER_CLIENT_IP, aggregate_key_type="FORWARDED_IP",
                          forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                              header_name="X-Forwarded-For", fallback_behavior="MATCH"))

    def _per_source_ip_rule(self) -> wafv2.CfnWebACL.RuleProperty:
        return _rate_rule("booking-per-source-ip", 5, BOOKING_PER_SOURCE_IP, aggregate_key_type="IP")

    def _api_per_source_ip_rule(self) -> wafv2.CfnWebACL.RuleProperty:
        """Everything that is not a booking path (/ehr, /api, anything unrouted) per address; the
        answer carries the CORS origin so the staff app can say it was slowed down."""
        return _rate_rule("api-per-source-ip", 6, API_PER_SOURCE_IP, aggregate_key_type="IP",
                          scope_down=_not(booking_paths()), cors_origin=self.web_origin)


def _rate_rule(name: str, priority: int, limit: int, *, aggregate_key_type: str,
               forwarded_ip_config: wafv2.CfnWebACL.ForwardedIPConfigurationProperty | None = None,
               scope_down: wafv2.CfnWebACL.StatementProperty | None = None, cors_origin: str | None = None,
               ) -> wafv2.CfnWebACL.RuleProperty:
    """A rate-based rule (the booking paths unless `scope_down` says otherwise): over `limit`
    requests per window and key, 429."""
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type=aggregate_key_type, forwarded_ip_config=forwarded_ip_config,
                limit=limit, evaluation_window_sec=RATE_WINDOW_S,
                scope_down_statement=scope_down or booking_paths(),
            )
        ),
        action=_block(429, TOO_MANY, cors_origin=cors_origin),
        visibility_config=_visibility(name),
    )
