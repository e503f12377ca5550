"""EHR webhooks (`POST /ehr/fhir`, `POST /ehr/hl7v2`): HMAC-verified, parsed, stored; bad
payloads get 400 + OperationOutcome and are quarantined for replay."""

import base64

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from careloop.adapters.aws import archive, services
from careloop.errors import SignatureError
from careloop.intake import Kind, operation_outcome, receive
from careloop.settings import get_settings

# No X-Ray SDK (Powertools Tracer): it costs ~150-300 ms of cold start here; the functions
# use Lambda's active tracing instead (see README, "Observability").
logger, metrics = Logger(), Metrics(namespace="Careloop")
app = APIGatewayRestResolver()


def _secret() -> str:
    s = get_settings()
    if s.webhook_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        return parameters.get_secret(s.webhook_secret_arn, max_age=300)
    return s.webhook_secret


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def _receive(kind: Kind) -> Response:
    headers = app.current_event.headers or {}
    accept = (headers.get("accept") or headers.get("Accept") or "").lower()
    result = receive(
        services(), archive(), kind, _raw_body(),
        headers.get("x-careloop-signature") or headers.get("X-Careloop-Signature"), _secret(),
        wants_hl7_ack="hl7" in accept,
    )
    # codes, not sentences: a warning's wording may name a record, its code never does
    logger.info("ehr payload", extra={"kind": kind, "status": result.status, "key": result.archive_key,
                                      "counts": result.counts, "warning_codes": sorted(set(result.warning_codes))})
    metrics.add_metric("EhrAccepted" if result.status < 400 else "EhrQuarantined", MetricUnit.Count, 1)
    if result.warnings:
        metrics.add_metric("EhrWarnings", MetricUnit.Count, len(result.warnings))
    return Response(status_code=result.status, content_type=result.content_type, body=result.body)


@app.post("/ehr/fhir")
def fhir() -> Response:
    return _receive("fhir")


@app.post("/ehr/hl7v2")
def hl7v2() -> Response:
    return _receive("hl7v2")


@app.exception_handler(SignatureError)
def unauthorised(exc: SignatureError) -> Response:
    logger.warning("webhook signature rejected", extra={"reason": str(exc)})
    return Response(401, "application/fhir+json", operation_outcome([str(exc)], code="security"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)
