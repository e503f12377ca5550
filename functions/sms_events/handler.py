"""Delivery events: End User Messaging -> SNS -> SQS -> message status, undeliverable flags."""

import json

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from careloop.adapters.aws import services
from careloop.sms.events import apply_delivery_event
from careloop.sms.payloads import unwrap_sns

logger, metrics, tracer = Logger(), Metrics(namespace="Careloop"), Tracer()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    event = unwrap_sns(json.loads(record.body))
    outcome = apply_delivery_event(services(), event)
    logger.info("delivery", extra={"message_id": outcome.message_id, "status": outcome.status})
    metrics.add_metric(f"Delivery_{outcome.status.replace(' ', '_')}", MetricUnit.Count, 1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event, context):
    return process_partial_response(event, record_handler, processor, context)
