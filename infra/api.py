"""The api construct: the REST API (EHR webhooks on /ehr with HMAC, the staff API on /api with
Cognito, the patients' booking routes on /b and /booking/api, public), its logs, throttles,
request validation and gateway responses, and the webhook secret the EHR signs with."""

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
THROTTLE_BY_AUTH = {"hmac": EHR_THROTTLE, "cognito": STAFF_THROTTLE}
# The public booking routes: anyone with the URL can call them, so their buckets are small. A
# patient makes one booking in a visit; 5/s across the whole practice is far above real use and
# keeps a scripted flood from claiming every slot. Reading the page, types and slots is a few
# requests per patient. (Per IP: infra.waf; per token: the booking service.)
BOOK_THROTTLE = Throttle(rate=5, burst=10)
BOOKING_READ_THROTTLE = Throttle(rate=10, burst=20)
# POST /booking/api/book carries a token, a type id, a start time and perhaps a provider id:
# well under 1 KB. infra.waf blocks larger bodies; the model below bounds each field.
BOOK_BODY_MAX_BYTES = 2048
BOOK_REQUEST_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="BookRequest",
    type=apigw.JsonSchemaType.OBJECT,
    required=["t", "type", "start"],
    max_properties=16,  # the contract may grow optional fields; it stays small
    properties={
        "t": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=64),
        "type": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=64),
        "start": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=10, max_length=40),
        "provider": apigw.JsonSchema(
            type=[apigw.JsonSchemaType.STRING, apigw.JsonSchemaType.NULL], max_length=64
        ),
    },
)
# The contract's error shape (booking.md): the validator's own answer would be {"message": ...}.
BAD_BOOK_BODY = (
    '{"error": "invalid request body: t, type and start are required strings '
    '(start ISO 8601), provider an optional string"}'
)


def route_throttle(spec: wiring.FunctionSpec, route: wiring.Route) -> Throttle:
    if not isinstance(spec.source, wiring.ApiSource):
        raise TypeError(f"{spec.name} has no routes")
    if spec.source.auth == "public":
        return BOOK_THROTTLE if route.method == "POST" else BOOKING_READ_THROTTLE
    return THROTTLE_BY_AUTH[spec.source.auth]


def route_throttles() -> dict[str, apigw.MethodDeploymentOptions]:
    """Stage method settings (`/<resource path>/<METHOD>`) for every route of the wiring table;
    data tracing stays off and logging at ERROR on each, as on the stage."""
    settings = {
        f"{route.path}/{route.method}": _method_options(route_throttle(spec, route))
        for spec in wiring.FUNCTIONS
        if isinstance(spec.source, wiring.ApiSource)
        for route in spec.source.routes
    }
    # the CORS preflight of each staff route (a MOCK answer, no Lambda) gets a bucket of its own,
    # so a flood of OPTIONS cannot use up the share the routes themselves have
    settings |= {
        f"{route.path}/OPTIONS": _method_options(STAFF_THROTTLE)
        for spec in wiring.FUNCTIONS
        if isinstance(spec.source, wiring.ApiSource) and spec.source.auth == "cognito"
        for route in spec.source.routes
    }
    return settings


def _method_options(throttle: Throttle) -> apigw.MethodDeploymentOptions:
    return apigw.MethodDeploymentOptions(
        throttling_rate_limit=throttle.rate,
        throttling_burst_limit=throttle.burst,
        logging_level=apigw.MethodLoggingLevel.ERROR,
        data_trace_enabled=False,
        metrics_enabled=True,
    )


class Api(Construct):
    """`api`, `authorizer`, `request_validator`, `public_methods` (routes whose auth is the HMAC
    in the handler), `booking_methods` (public: the personal token, checked in the handler),
    `book_model`, `webhook_secret` and `generated_webhook_secret` (None when imported)."""

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
        self.user_pool = user_pool  # the staff API manages its staff accounts (grants.STAFF_ADMIN)
        self.public_methods: list[apigw.Method] = []
        self.booking_methods: list[apigw.Method] = []
        self.webhook_secret, self.generated_webhook_secret = self._webhook_secret()
        self.api = self._rest_api(user_pool)

    def _rest_api(self, user_pool: cognito.IUserPool) -> apigw.RestApi:
        access_name = f"/aws/apigateway/{self.prefix}-access"
        access_logs = log_group(self, "ApiAccessLogs", access_name, self.key)
        api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{self.prefix}-api",
            description=(
                "Careloop: EHR webhooks (/ehr, HMAC), the staff API (/api, Cognito), "
                "patient booking (/b, /booking/api, public)"
            ),
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
                # the stage default: for a method the wiring table does not know (there is none; a test checks)
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
        self.book_model = api.add_model(
            "BookRequestModel",
            content_type="application/json",
            model_name="BookRequest",
            description="POST /booking/api/book (booking.md): t, type, start, provider?",
            schema=BOOK_REQUEST_SCHEMA,
        )
        api.add_gateway_response(
            "BadRequestBody",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            response_headers={"Access-Control-Allow-Origin": f"'{self.web_origin}'"},
            templates={"application/json": BAD_BOOK_BODY},
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
        handler) for `hmac`, none (the personal token in the handler) for `public`."""
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
            elif source.auth == "public":
                # No CORS preflight: the booking page calls its API on its own origin (CloudFront
                # sends /b/* and /booking/api/* here), so the browser never asks.
                method = resource.add_method(
                    route.method,
                    integration,
                    authorization_type=apigw.AuthorizationType.NONE,
                    request_validator=self.request_validator,
                    request_models={"application/json": self.book_model}
                    if route.method == "POST"
                    else None,
                )
                self.booking_methods.append(method)
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
