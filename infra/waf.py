"""The waf construct: a regional AWS WAF v2 web ACL on the API stage that limits the public booking
routes per client IP and blocks oversized bodies; /ehr and /api pass untouched (they sign in)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.api import BOOK_BODY_MAX_BYTES
from infra.common import log_group

# Requests per client IP in any 5-minute window on /b and /booking/api. A patient opening a link,
# looking at a few days and booking makes about ten; a family on one phone a few times that.
BOOKING_PER_CLIENT_IP = 100
# Per connecting address: through CloudFront that is an edge server shared by many patients of
# the practice, so it is set high; it bites on floods sent to the execute-api URL directly.
BOOKING_PER_SOURCE_IP = 1000
RATE_WINDOW_S = 300
# WAF sees the path as API Gateway receives it (with or without the stage): match inside it.
BOOKING_PATH_PARTS = ("/b/", "/booking/api/")
TOO_MANY = "too-many-requests"
TOO_LARGE = "body-too-large"


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


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    # No sampled requests: a sample keeps the URI and query, and those carry the personal token.
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=False
    )


def _block(status: int, body_key: str) -> wafv2.CfnWebACL.RuleActionProperty:
    return wafv2.CfnWebACL.RuleActionProperty(
        block=wafv2.CfnWebACL.BlockActionProperty(
            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                response_code=status, custom_response_body_key=body_key
            )
        )
    )


class Waf(Construct):
    """`web_acl` (regional), `association` (the API stage) and `log_group_names` (WAF's logs,
    with the token-bearing URI and query redacted)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, prefix: str, key: kms.IKey, stage: apigw.Stage
    ) -> None:
        super().__init__(scope, construct_id)
        self.web_acl = wafv2.CfnWebACL(
            self,
            "ApiWebAcl",
            name=f"{prefix}-api",
            description="Per-IP rate limits and a body-size cap on the public booking routes",
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
            },
            rules=[self._body_size_rule(), self._per_client_ip_rule(), self._per_source_ip_rule()],
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

    def _body_size_rule(self) -> wafv2.CfnWebACL.RuleProperty:
        too_large = wafv2.CfnWebACL.StatementProperty(
            size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                    body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
                ),
                comparison_operator="GT",
                size=BOOK_BODY_MAX_BYTES,
                text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
            )
        )
        return wafv2.CfnWebACL.RuleProperty(
            name="booking-body-size",
            priority=0,
            statement=wafv2.CfnWebACL.StatementProperty(
                and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=[booking_paths(), too_large])
            ),
            action=_block(413, TOO_LARGE),
            visibility_config=_visibility("booking-body-size"),
        )

    def _per_client_ip_rule(self) -> wafv2.CfnWebACL.RuleProperty:
        # Through CloudFront the connecting address is the edge's; the patient's is the first one
        # in X-Forwarded-For. A caller can forge that header, so this rule is paired with the
        # per-source one below and with the per-token limits of the booking service. Without the
        # header (a direct call) WAF skips this rule and the per-source one counts the caller;
        # with a header whose first entry is no IP address (CloudFront always puts one there
        # for a real browser), the request is blocked (MATCH).
        return _rate_rule("booking-per-client-ip", 1, BOOKING_PER_CLIENT_IP, aggregate_key_type="FORWARDED_IP",
                          forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                              header_name="X-Forwarded-For", fallback_behavior="MATCH"))

    def _per_source_ip_rule(self) -> wafv2.CfnWebACL.RuleProperty:
        return _rate_rule("booking-per-source-ip", 2, BOOKING_PER_SOURCE_IP, aggregate_key_type="IP")


def _rate_rule(name: str, priority: int, limit: int, *, aggregate_key_type: str,
               forwarded_ip_config: wafv2.CfnWebACL.ForwardedIPConfigurationProperty | None = None,
               ) -> wafv2.CfnWebACL.RuleProperty:
    """A rate-based rule on the booking paths: over `limit` requests per window and key, 429."""
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type=aggregate_key_type, forwarded_ip_config=forwarded_ip_config,
                limit=limit, evaluation_window_sec=RATE_WINDOW_S, scope_down_statement=booking_paths(),
            )
        ),
        action=_block(429, TOO_MANY),
        visibility_config=_visibility(name),
    )
