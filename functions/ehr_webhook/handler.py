"""EHR webhooks (`POST /ehr/fhir`, `POST /ehr/hl7v2`): HMAC-verified, parsed, stored; bad
payloads get 400 + OperationOutcome and are quarantined for replay; large ones are queued (202)."""

import base64
import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from careloop.adapters.aws import archive, import_jobs, import_queue, services
from careloop.ehr.jobs import (
    STATUS_PATH,
    Limits,
    open_job,
    quarantine_refused,
    queued_entries,
    read_body,
)
from careloop.ehr.signing import verify_signature
from careloop.errors import RefusedBody, SignatureError
from careloop.intake import Kind, operation_outcome, receive_verified
from careloop.settings import get_settings

# No X-Ray SDK (Powertools Tracer): it costs ~150-300 ms of cold start here; the functions
# use Lambda's active tracing instead (see README, "Observability").
logger, metrics = Logger(), Metrics(namespace="Careloop")
app = APIGatewayRestResolver()
REFUSED_CODES = {413: "too-long", 415: "not-supported"}  # FHIR issue types; else "invalid"


def _secret() -> str:
    s = get_settings()
    if s.webhook_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        return parameters.get_secret(s.webhook_secret_arn, max_age=300)
    return s.webhook_secret


def _header(name: str) -> str | None:
    headers = {k.lower(): v for k, v in (app.current_event.headers or {}).items()}
    return headers.get(name)


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def _status_url(job_id: str) -> str:
    """Absolute, as the EHR called us: API Gateway's own domain carries the stage in the path."""
    domain = app.current_event.request_context.domain_name
    stage = f"/{app.current_event.request_context.stage}" if domain and ".execute-api." in domain else ""
    host = _header("host") or domain
    return f"{'https' if domain else 'http'}://{host}{stage}{STATUS_PATH}{job_id}" if host else STATUS_PATH + job_id


def _receive(kind: Kind) -> Response:
    raw = _raw_body()
    verify_signature(_secret(), raw, _header("x-careloop-signature"))  # over the bytes as sent
    s, now = get_settings(), services().clock.now()
    try:
        body = read_body(raw, _header("content-encoding"), Limits.of(s))
    except RefusedBody as exc:
        key = quarantine_refused(archive(), kind, exc, now)
        logger.warning("ehr payload refused", extra={"kind": kind, "status": exc.status, "key": key, "bytes": len(raw)})
        metrics.add_metric("EhrQuarantined", MetricUnit.Count, 1)
        return Response(exc.status, "application/fhir+json",
                        operation_outcome([exc.issue], code=REFUSED_CODES.get(exc.status, "invalid")))
    if (entries := queued_entries(kind, body, Limits.of(s))) is not None:
        job = open_job(import_jobs(), import_queue(), archive(), kind, body, entries, now, s.ehr_import_batch,
                       gzipped=raw if raw is not body else None)
        url = _status_url(job.job_id)
        logger.info("ehr payload queued", extra={"kind": kind, "job_id": job.job_id, "entries": entries,
                                                 "bytes": len(body)})
        metrics.add_metric("EhrQueued", MetricUnit.Count, 1)
        return Response(202, "application/json", json.dumps({"job_id": job.job_id, "status_url": url,
                                                             "state": job.state, "entries": entries}),
                        headers={"Location": url})
    result = receive_verified(services(), archive(), kind, body, wants_hl7_ack="hl7" in (_header("accept") or "").lower())
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


@app.get("/ehr/jobs/<job_id>")
def job_status(job_id: str) -> Response:
    # a GET has no body: the signature covers the path (/ehr/jobs/<id>), either form
    verify_signature(_secret(), f"{STATUS_PATH}{job_id}".encode(), _header("x-careloop-signature"))
    job = import_jobs().get_job(job_id) if job_id.isalnum() and len(job_id) <= 64 else None
    if job is None:
        return Response(404, "application/fhir+json",
                        operation_outcome([f"job {job_id[:64]!r}: no such import job"], code="not-found"))
    return Response(200, "application/json", json.dumps(job.status(_status_url(job_id))))


@app.exception_handler(SignatureError)
def unauthorised(exc: SignatureError) -> Response:
    logger.warning("webhook signature rejected", extra={"reason": str(exc)})
    return Response(401, "application/fhir+json", operation_outcome([str(exc)], code="security"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)
