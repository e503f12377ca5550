"""SMS sender: the send queue -> End User Messaging SMS, paced to the origination's rate.

Transient errors fail the record (the queue retries, then its DLQ); permanent ones are
recorded on the message and never retried.
"""

import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from careloop import wiring
from careloop.adapters.aws import services, sms_channel
from careloop.adapters.clients import client
from careloop.batch import partial_batch_processor
from careloop.errors import SendError
from careloop.settings import get_settings
from careloop.sms.pacing import Pacer
from careloop.sms.sender import send_queued

# No X-Ray SDK (Powertools Tracer): it costs ~150-300 ms of cold start here; the functions
# use Lambda's active tracing instead (see README, "Observability").
logger, metrics = Logger(), Metrics(namespace="Careloop")
processor = partial_batch_processor(EventType.SQS, logger)
# the number's rate is shared by the queue's concurrent consumers (wiring: max_concurrency)
_SOURCE = wiring.by_name("sms_sender").source
_CONSUMERS = (_SOURCE.max_concurrency if isinstance(_SOURCE, wiring.QueueSource) else None) or 1
pacer = Pacer(get_settings().sms_parts_per_second / _CONSUMERS)


def sqs_client():
    return client("sqs")


def record_handler(record: SQSRecord) -> None:
    message_id = json.loads(record.body)["message_id"]
    try:
        outcome = send_queued(services(), sms_channel(), message_id, pace=pacer.wait)
    except SendError as exc:  # transient: back off through the queue (10 s, 20 s, 40 s ... 15 min), then the DLQ
        backoff(record, unconfirmed=exc.code == "network")
        raise
    logger.info("send", extra={"message_id": message_id, "outcome": outcome.status})
    metrics.add_metric(f"Sms_{outcome.status}", MetricUnit.Count, 1)


def backoff(record: SQSRecord, unconfirmed: bool = False) -> None:
    """An unconfirmed send (no answer: it may have gone out) waits at least a minute, so the
    carrier's delivery event marks it sent before the retry looks (careloop.sms.events)."""
    attempt = int(record.attributes.approximate_receive_count or 1)
    delay = min(900, 10 * 2 ** (attempt - 1))
    try:
        sqs_client().change_message_visibility(
            QueueUrl=get_settings().queue_send, ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=max(60, delay) if unconfirmed else delay)
    except Exception:  # noqa: BLE001 - the queue's own visibility timeout still retries it
        logger.warning("backoff not set", extra={"message_id": record.message_id})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event, context):
    return process_partial_response(event, record_handler, processor, context)
