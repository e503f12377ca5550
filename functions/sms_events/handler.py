"""Delivery events: End User Messaging -> SNS -> SQS -> message status, undeliverable flags."""

import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from careloop.adapters.aws import services
from careloop.sms.events import apply_delivery_event
from careloop.sms.payloads import unwrap_sns

# No X-Ray SDK (Powertools Tracer): it costs ~150-300 ms of cold start here; the functions
# use Lambda's active tracing instead (see README, "Observability").
logger, metrics = Logger(), Metrics(namespace="Careloop")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    event = unwrap_sns(json.loads(record.body))
    outcome = apply_delivery_event(services(), event)
    logger.info("delivery", extra={"message_id": outcome.message_id, "status": outcome.status})
    metrics.add_metric(f"Delivery_{outcome.status.replace(' ', '_')}", MetricUnit.Count, 1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event, context):
    return process_partial_response(event, record_handler, processor, context)
