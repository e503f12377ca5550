"""Delivery events: End User Messaging -> SNS -> SQS -> message status, undeliverable flags."""

import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from careloop.adapters.aws import services
from careloop.batch import partial_batch_processor
from careloop.sms.events import apply_delivery_event
from careloop.sms.payloads import unreadable_reason, unwrap_sns

# No X-Ray SDK (Powertools Tracer): it costs ~150-300 ms of cold start here; the functions
# use Lambda's active tracing instead (see README, "Observability").
logger, metrics = Logger(), Metrics(namespace="Careloop")
processor = partial_batch_processor(EventType.SQS, logger)


def record_handler(record: SQSRecord) -> None:
    try:
        event = unwrap_sns(json.loads(record.body))
    except Exception as exc:  # malformed: logged (ids only) and counted, then retried / to the DLQ
        bad_payload(record, exc)
        raise
    outcome = apply_delivery_event(services(), event)
    logger.info("delivery", extra={"message_id": outcome.message_id, "status": outcome.status})
    metrics.add_metric(f"Delivery_{outcome.status.replace(' ', '_')}", MetricUnit.Count, 1)


def bad_payload(record: SQSRecord, exc: Exception) -> None:
    logger.warning("unreadable payload", extra={"sqs_message_id": record.message_id, "reason": unreadable_reason(exc)})
    metrics.add_metric("UnreadablePayload", MetricUnit.Count, 1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event, context):
    return process_partial_response(event, record_handler, processor, context)
