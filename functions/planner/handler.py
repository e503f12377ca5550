"""Planner: DynamoDB stream of the records table -> planned workflow actions.

Redelivered records change nothing: action keys are deterministic and writes conditional.
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from careloop.adapters.aws import services
from careloop.batch import partial_batch_processor
from careloop.engine.planner import plan_appointment_change
from careloop.models import Appointment

# No X-Ray SDK (Powertools Tracer): it costs ~150-300 ms of cold start here; the functions
# use Lambda's active tracing instead (see README, "Observability").
logger, metrics = Logger(), Metrics(namespace="Careloop")
processor = partial_batch_processor(EventType.DynamoDBStreams, logger)


def _appointment(image: dict | None) -> Appointment | None:
    return Appointment.model_validate(image) if image else None


def record_handler(record: DynamoDBRecord) -> None:
    new = record.dynamodb.new_image if record.dynamodb else None
    old = record.dynamodb.old_image if record.dynamodb else None
    key = (new or old or {}).get("pk", "")
    if not key.startswith("APT#") or not new:
        return
    svc = services()
    result = plan_appointment_change(svc, _appointment(old), Appointment.model_validate(new), svc.clock.now())
    logger.info("planned", extra={"appointment": new["id"], "planned": len(result.planned),
                                  "skipped": len(result.skipped), "cancelled": len(result.cancelled)})
    metrics.add_metric("ActionsPlanned", MetricUnit.Count, len(result.planned))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event, context):
    return process_partial_response(event, record_handler, processor, context)
