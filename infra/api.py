"""The api construct: the REST API (EHR webhooks on /ehr with HMAC, the staff API on /api with
Cognito), its logs, throttles and gateway responses, and the webhook secret the EHR signs with."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from careloop import wiring
from careloop.practice import PracticeProfile
from infra.common import log_group

API_STAGE = "v1"


@dataclass(frozen=True)
class Throttle:
    rate: float  # requests per second, steady
    burst: int


# Each route has its own token bucket, so a flood of bad signatures on /ehr (401s) cannot use up
# the staff app's share, and a busy inbox cannot starve the EHR's webhooks.
EHR_THROTTLE = Throttle(rate=20, burst=40)  # an EHR's bulk sync is bursty; it retries on 429
STAFF_THROTTLE = Throttle(rate=25, burst=50)
BOOKING_THROTTLE = Throttle(rate=10, burst=20)  # public booking routes (book-infra refines per IP/token)
THROTTLE_BY_AUTH = {"hmac": EHR_THROTTLE, "cognito": STAFF_THROTTLE, "public": BOOKING_THROTTLE}


def route_throttles() -> dict[str, apigw.MethodDeploymentOptions]:
    """Stage method settings (`/<resource path>/<METHOD>`) for every route of the wiring table;
    data tracing stays off and logging at ERROR on each, as on the stage."""
    return {
        f"{route.path}/{route.method}": apigw.MethodDeploymentOptions(
            throttling_rate_limit=THROTTLE_BY_AUTH[spec.source.auth].rate,
            throttling_burst_limit=THROTTLE_BY_AUTH[spec.source.auth].burst,
            logging_level=apigw.MethodLoggingLevel.ERROR,
            data_trace_enabled=False,
            metrics_enabled=True,
        )
        for spec in wiring.FUNCTIONS
        if isinstance(spec.source, wiring.ApiSource)
        for route in spec.source.routes
    }


class Api(Construct):
    """`api`, `authorizer`, `request_validator`, `public_methods` (routes whose auth is the HMAC
    in the handler), `webhook_secret` and `generated_webhook_secret` (None when imported)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        profile: PracticeProfile,
        prefix: str,
        key: kms.IKey,
        user_pool: cognito.IUserPool,
        web_origin: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.profile, self.prefix, self.key, self.web_origin = profile, prefix, key, web_origin
        self.public_methods: list[apigw.Method] = []
        self.webhook_secret, self.generated_webhook_secret = self._webhook_secret()
        self.api = self._rest_api(user_pool)

    def _rest_api(self, user_pool: cognito.IUserPool) -> apigw.RestApi:
        access_name = f"/aws/apigateway/{self.prefix}-access"
        access_logs = log_group(self, "ApiAccessLogs", access_name, self.key)
        api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{self.prefix}-api",
            description="Careloop: EHR webhooks (/ehr, HMAC) and the staff API (/api, Cognito)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,  # execution logging needs the account-level role
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
            fail_on_warnings=True,
            deploy_options=apigw.StageOptions(
                stage_name=API_STAGE,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                tracing_enabled=True,
                metrics_enabled=True,
                # ERROR level and no data trace: request bodies (PHI) never reach the logs.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                # the stage default covers methods without a limit of their own (CORS preflights)
                throttling_rate_limit=STAFF_THROTTLE.rate,
                throttling_burst_limit=STAFF_THROTTLE.burst,
                method_options=route_throttles(),
            ),
        )
        # API Gateway would create the execution log group itself, unencrypted and kept forever.
        execution_name = f"API-Gateway-Execution-Logs_{api.rest_api_id}/{API_STAGE}"
        execution_logs = log_group(self, "ApiExecutionLogs", execution_name, self.key)
        self.log_group_names = [access_name, execution_name]
        api.deployment_stage.node.add_dependency(execution_logs)
        self.request_validator = api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "StaffAuthorizer",
            cognito_user_pools=[user_pool],
            authorizer_name=f"{self.prefix}-staff",
        )
        # Errors produced by API Gateway itself (401 from the authorizer, throttling) must carry
        # CORS headers too, or the browser hides them from the app.
        for response_type, cid in (
            (apigw.ResponseType.DEFAULT_4_XX, "Default4xx"),
            (apigw.ResponseType.DEFAULT_5_XX, "Default5xx"),
        ):
            api.add_gateway_response(
                cid,
                type=response_type,
                response_headers={"Access-Control-Allow-Origin": f"'{self.web_origin}'"},
            )
        return api

    def add_routes(
        self, spec: wiring.FunctionSpec, source: wiring.ApiSource, function: lambda_.Function
    ) -> None:
        """The function's routes of the wiring table: Cognito for `cognito`, none (HMAC in the
        handler) for `hmac`."""
        integration = apigw.LambdaIntegration(function, proxy=True, allow_test_invoke=False)
        for route in source.routes:
            resource = self.api.root.resource_for_path(route.path)
            if source.auth == "cognito":
                method = resource.add_method(
                    route.method,
                    integration,
                    authorizer=self.authorizer,
                    authorization_type=apigw.AuthorizationType.COGNITO,
                    request_validator=self.request_validator,
                )
                resource.add_cors_preflight(
                    allow_origins=[self.web_origin],
                    allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                    allow_headers=["Authorization", "Content-Type"],
                    max_age=cdk.Duration.hours(1),
                )
            else:
                method = resource.add_method(
                    route.method,
                    integration,
                    authorization_type=apigw.AuthorizationType.NONE,
                    request_validator=self.request_validator,
                )
                self.public_methods.append(method)

    def _webhook_secret(self) -> tuple[secretsmanager.ISecret, secretsmanager.Secret | None]:
        ref = self.profile.webhook_secret_ref
        if ref:
            return secretsmanager.Secret.from_secret_name_v2(self, "WebhookSecret", ref), None
        created = secretsmanager.Secret(
            self,
            "WebhookSecret",
            secret_name=f"careloop/{self.profile.id}/webhook-secret",
            description="HMAC secret shared with the EHR for /ehr webhooks",
            encryption_key=self.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True
            ),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        return created, created

    def secret_arn_for_policy(self) -> str:
        if self.generated_webhook_secret is not None:
            return self.generated_webhook_secret.secret_arn
        # An imported-by-name secret's ARN ends in a random 6-character suffix.
        return f"{self.webhook_secret.secret_arn}-??????"
