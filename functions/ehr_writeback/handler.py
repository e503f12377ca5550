"""EHR write-back: the queue of confirmations, cancellations and consent changes -> the EHR's
FHIR API; and the resources an id-only Subscription notification named, fetched and applied. Retried with backoff in the port; what still fails goes back to the queue and, after
five receives, to its DLQ for replay (`careloop` never drops a patient's answer)."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from careloop.batch import partial_batch_processor
from careloop.ehr.writeback import HttpWriteback, WritebackEvent, deliver, fetch_request
from careloop.settings import get_settings

logger, metrics = Logger(), Metrics(namespace="Careloop")
processor = partial_batch_processor(EventType.SQS, logger)
_port: HttpWriteback | None = None


def _token() -> str | None:
    arn = get_settings().ehr_token_secret_arn
    if not arn:
        return None
    from aws_lambda_powertools.utilities import parameters

    return parameters.get_secret(arn, max_age=300)


def port() -> HttpWriteback:
    global _port
    if _port is None:
        _port = HttpWriteback(get_settings().practice().ehr.fhir_base_url or "", token=_token)
    return _port


def record_handler(record: SQSRecord) -> None:
    event = WritebackEvent.model_validate_json(record.body)
    if event.kind == "fetch_resource":  # an id-only notification's resource: read it, apply it
        # imported here: the store and intake stay off the cold start of plain write-backs
        from careloop.adapters.aws import archive, services
        from careloop.intake import apply_fetched

        resource = port().send(fetch_request(event))
        applied = apply_fetched(services(), archive(), resource or {}, services().clock.now())
        logger.info("fetched", extra={"ref": event.ref, "applied": applied is not None})
        metrics.add_metric("EhrFetched", MetricUnit.Count, 1)
        return
    appointment_of = None
    if event.kind == "appointment_created":  # a self-scheduled booking: the EHR gets the stored appointment
        from careloop.adapters.aws import services

        appointment_of = services().records.get_appointment
    sent = deliver(event, port(), appointment_of)
    logger.info("writeback", extra={"kind": event.kind, "requests": sent, "key": event.dedupe_key})
    metrics.add_metric("EhrWriteback", MetricUnit.Count, sent)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event, context):
    return process_partial_response(event, record_handler, processor, context)
