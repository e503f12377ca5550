"""SMS sender: the send queue -> End User Messaging SMS, paced to the origination's rate.

Transient errors fail the record (the queue retries, then its DLQ); permanent ones are
recorded on the message and never retried.
"""

import json

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from careloop.adapters.aws import services, sms_channel
from careloop.settings import get_settings
from careloop.sms.pacing import Pacer
from careloop.sms.sender import send_queued

logger, metrics, tracer = Logger(), Metrics(namespace="Careloop"), Tracer()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
pacer = Pacer(get_settings().sms_parts_per_second)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    message_id = json.loads(record.body)["message_id"]
    pacer.wait()
    outcome = send_queued(services(), sms_channel(), message_id)
    logger.info("send", extra={"message_id": message_id, "outcome": outcome.status})
    metrics.add_metric(f"Sms_{outcome.status}", MetricUnit.Count, 1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event, context):
    return process_partial_response(event, record_handler, processor, context)
