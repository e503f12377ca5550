"""The web construct: the staff identity (Cognito, MFA), the staff app's front (private S3 bucket
with its own key behind CloudFront with OAC and security headers, plus its deployment) and the
patients' booking page and API on the same distribution (/b/*, /booking/api/* -> API Gateway)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from careloop.analytics.report import CSS as REPORT_CSS
from careloop.practice import PracticeProfile
from careloop.roles import ROLE_LABELS, ROLES
from infra.api import API_STAGE
from infra.common import log_group, private_bucket

# The booking page's routes, which CloudFront sends to API Gateway (booking.md).
BOOKING_PAGE_PATH = "/b/*"
BOOKING_API_PATH = "/booking/api/*"
# The staff app's client-side routes get index.html, as local mode serves them
# (careloop_local.http): a path whose last segment has no dot is a route, not a file. Done per
# request on the S3 behaviour only; distribution-wide error pages would also turn the booking
# API's 404 (unknown link) into a 200 page.
# The monthly report (careloop.analytics.report) opens from the staff app as a blob: document,
# which inherits the app's CSP; its one inline <style> is allowed by its hash, as in the app's own
# meta CSP (web/src/index.html). Computed from the CSS, so a restyled report cannot be blocked.
REPORT_STYLE_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(REPORT_CSS.encode()).digest()).decode() + "'"
SPA_ROUTES_FUNCTION = """function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""


class Web(Construct):
    """`user_pool`, `user_pool_client`, `web_bucket`, `distribution`, `web_origin`; `deploy()`
    adds the SPA once the API exists (its config.json names the API's URL)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        profile: PracticeProfile,
        prefix: str,
        key: kms.IKey,
        log_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.profile, self.prefix, self.key, self.log_bucket = profile, prefix, key, log_bucket
        self.user_pool, self.user_pool_client = self._staff_user_pool()
        self.web_bucket, self.distribution = self._web_front()
        self.web_origin = f"https://{self.distribution.distribution_domain_name}"
        self.deployment: s3deploy.BucketDeployment | None = None
        self.log_group_names: list[str] = []

    def _staff_user_pool(self) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        pool = cognito.UserPool(
            self,
            "StaffUserPool",
            user_pool_name=f"{self.prefix}-staff",
            self_sign_up_enabled=False,  # staff are invited by an administrator
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(3),
            ),
            # Staff see PHI: a second factor is required (TOTP app; no SMS, which needs an SNS
            # role and is weaker against SIM swaps).
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Plus tier: threat protection (compromised credentials, adaptive auth) enforced.
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            user_invitation=cognito.UserInvitationConfig(
                email_subject=f"{self.profile.name}: your Careloop staff account",
                email_body="Your Careloop username is {username} and temporary password {####}",
            ),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for role in ROLES:  # careloop/roles.py: the staff API authorises by these groups
            cognito.CfnUserPoolGroup(
                self, f"Group{role.title().replace('_', '')}", user_pool_id=pool.user_pool_id, group_name=role,
                description=f"Careloop {ROLE_LABELS[role]} staff", precedence=ROLES.index(role),
            )
        client = pool.add_client(
            "WebClient",
            user_pool_client_name=f"{self.prefix}-web",
            generate_secret=False,  # a browser app cannot keep a secret
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            disable_o_auth=True,  # no hosted UI: the SPA signs in with the auth flows above
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=cdk.Duration.minutes(60),
            id_token_validity=cdk.Duration.minutes(60),
            refresh_token_validity=cdk.Duration.hours(12),
            # the first sign-in sets up an authenticator app (MFA is required): 3 minutes,
            # Cognito's default, is often too short for that
            auth_session_validity=cdk.Duration.minutes(15),
        )
        self.risk_configuration = self._threat_responses(pool)
        return pool, client

    def _threat_responses(self, pool: cognito.UserPool) -> cognito.CfnUserPoolRiskConfigurationAttachment:
        """What threat protection does, written down rather than left to the console's defaults:
        a password found in a breach list is refused at sign-up, sign-in and password change, and a
        high-risk sign-in (Cognito's adaptive authentication) is blocked. Low and medium risk ask
        for the second factor, which every staff sign-in needs anyway. No risk e-mails: they need
        SES set up on the pool, which the guide leaves to the practice."""
        no_notify = {"notify": False}
        return cognito.CfnUserPoolRiskConfigurationAttachment(
            self,
            "StaffThreatResponses",
            user_pool_id=pool.user_pool_id,
            client_id="ALL",
            compromised_credentials_risk_configuration=(
                cognito.CfnUserPoolRiskConfigurationAttachment.CompromisedCredentialsRiskConfigurationTypeProperty(
                    actions=cognito.CfnUserPoolRiskConfigurationAttachment.CompromisedCredentialsActionsTypeProperty(
                        event_action="BLOCK"
                    ),
                    event_filter=["SIGN_IN", "PASSWORD_CHANGE", "SIGN_UP"],
                )
            ),
            account_takeover_risk_configuration=(
                cognito.CfnUserPoolRiskConfigurationAttachment.AccountTakeoverRiskConfigurationTypeProperty(
                    actions=cognito.CfnUserPoolRiskConfigurationAttachment.AccountTakeoverActionsTypeProperty(
                        low_action=cognito.CfnUserPoolRiskConfigurationAttachment.AccountTakeoverActionTypeProperty(
                            event_action="MFA_IF_CONFIGURED", **no_notify
                        ),
                        medium_action=cognito.CfnUserPoolRiskConfigurationAttachment.AccountTakeoverActionTypeProperty(
                            event_action="MFA_IF_CONFIGURED", **no_notify
                        ),
                        high_action=cognito.CfnUserPoolRiskConfigurationAttachment.AccountTakeoverActionTypeProperty(
                            event_action="BLOCK", **no_notify
                        ),
                    )
                )
            ),
        )

    def _web_front(self) -> tuple[s3.Bucket, cloudfront.Distribution]:
        # Its own key: CloudFront's OAC needs kms:Decrypt on it, and that must not reach PHI.
        web_key = kms.Key(
            self,
            "WebKey",
            alias=f"alias/{self.prefix}-web",
            description=f"Careloop {self.profile.id}: web app assets (no PHI)",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        bucket = private_bucket(
            self,
            "WebBucket",
            key=web_key,
            log_bucket=self.log_bucket,
            log_prefix="s3/web/",
            lifecycle_rules=[
                s3.LifecycleRule(id="tidy-versions", noncurrent_version_expiration=cdk.Duration.days(30))
            ],
        )
        region, suffix = cdk.Aws.REGION, cdk.Aws.URL_SUFFIX
        # The SPA talks to API Gateway and Cognito only (config.json's apiBase and
        # cognito.endpoint, built the same way below). A wildcard on execute-api (not this API's
        # id) because API -> distribution already exists (CORS origin).
        headers = self._security_headers(
            "WebSecurityHeaders",
            f"{self.prefix}-web-security",
            f"connect-src 'self' https://*.execute-api.{region}.{suffix} "
            f"https://cognito-idp.{region}.{suffix}",
            style_src=f"'self' {REPORT_STYLE_HASH}",
        )
        spa_routes = cloudfront.Function(
            self,
            "SpaRoutesFunction",
            function_name=f"{self.prefix}-spa-routes",
            comment="Staff app client-side routes -> /index.html",
            code=cloudfront.FunctionCode.from_inline(SPA_ROUTES_FUNCTION),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        distribution = cloudfront.Distribution(
            self,
            "WebDistribution",
            comment=f"Careloop staff app ({self.profile.id})",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=spa_routes, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            # The staff app serves one practice: reachable from its country only.
            geo_restriction=cloudfront.GeoRestriction.allowlist(self.profile.sms.country),
        )
        return bucket, distribution

    def _security_headers(
        self, construct_id: str, name: str, connect_src: str, *, no_store: bool = False,
        style_src: str = "'self'",
    ) -> cloudfront.ResponseHeadersPolicy:
        """HSTS, nosniff, no framing, no referrer (a booking link's token must not leak to another
        site) and a CSP that allows only this origin's own files plus `connect_src` (and the
        styles of `style_src`). The pages carry their own meta CSP too (web/src/*.html); a browser
        enforces both, so this one must allow everything that one does in AWS."""
        return cloudfront.ResponseHeadersPolicy(
            self,
            construct_id,
            response_headers_policy_name=name,
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(header="Cache-Control", value="no-store", override=True)
                ]
            )
            if no_store
            else None,
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(730),
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(
                    protection=True, mode_block=True, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=(
                        f"default-src 'self'; script-src 'self'; style-src {style_src}; "
                        "img-src 'self' data:; font-src 'self'; object-src 'none'; "
                        f"{connect_src}; "
                        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
                    ),
                    override=True,
                ),
            ),
        )

    def add_booking(self, api: apigw.RestApi) -> None:
        """`/b/*` and `/booking/api/*` on the distribution, to the API stage, never cached.

        The page goes to the booking function (not to a static booking.html in S3) because its
        answer depends on the link: 404 for a forged token, 410 for a spent or expired one, the
        patient's language and first name; and `make run` serves it from the same handler, so
        the deployed page and the local one cannot differ. The API behind it shares the origin,
        so the page needs no CORS."""
        # Built from the API's id, not api.url: the URL names the stage, the stage needs the
        # deployment, the deployment the methods, and the methods already refer to this
        # distribution (CORS origin), which would close a cycle.
        domain = f"{api.rest_api_id}.execute-api.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}"
        origin = origins.HttpOrigin(
            domain,
            origin_path=f"/{API_STAGE}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        )
        # Same headers as the staff app; the page calls only its own origin. no-store: the
        # answers are one patient's (their first name, their slots).
        self.booking_headers = self._security_headers(
            "BookingSecurityHeaders", f"{self.prefix}-booking-security", "connect-src 'self'", no_store=True
        )
        for path, methods in (
            (BOOKING_PAGE_PATH, cloudfront.AllowedMethods.ALLOW_GET_HEAD),
            (BOOKING_API_PATH, cloudfront.AllowedMethods.ALLOW_ALL),  # POST book
        ):
            self.distribution.add_behavior(
                path,
                origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=methods,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                # query (?t=, type, from, days) and headers (Accept-Language, Content-Type) to
                # the API, but not Host: API Gateway answers only to its own name
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy=self.booking_headers,
                compress=True,
            )

    def deploy(self, web_dist: Path | None, api_url: str) -> s3deploy.BucketDeployment | None:
        """The built SPA and its config.json into the bucket (needs the API's URL)."""
        # Only when the SPA has been built (`make` builds web/dist). A synth on a fresh clone or in
        # CI without npm must still work, and an empty bucket is a valid (if blank) state.
        if web_dist is None or not (web_dist / "index.html").is_file():
            return None
        # The SPA reads its settings from /config.json at start-up (web/src/config.ts), so one
        # build serves every practice; the values are only known at deploy time.
        config = s3deploy.Source.json_data(
            "config.json",
            {
                "practiceName": self.profile.name,
                "apiBase": f"{api_url}api",
                "cognito": {
                    "endpoint": f"https://cognito-idp.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}/",
                    "region": cdk.Aws.REGION,
                    "userPoolId": self.user_pool.user_pool_id,
                    "clientId": self.user_pool_client.user_pool_client_id,
                },
            },
        )
        deployment_logs = f"/aws/lambda/{self.prefix}-web-deployment"
        self.log_group_names.append(deployment_logs)
        self.deployment = s3deploy.BucketDeployment(
            self,
            "WebDeployment",
            sources=[s3deploy.Source.asset(str(web_dist)), config],
            destination_bucket=self.web_bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
            log_group=log_group(self, "WebDeploymentLogs", deployment_logs, self.key),
        )
        return self.deployment
