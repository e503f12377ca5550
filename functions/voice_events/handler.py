"""Amazon Connect contact events (EventBridge): every ended call into the staff inbox, and one
text-back for a missed call (careloop.voice.missed)."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from careloop.adapters.aws import services
from careloop.voice.contact import ContactEventError
from careloop.voice.missed import handle_contact_event

# No X-Ray SDK (Powertools Tracer): it costs ~150-300 ms of cold start here; the functions
# use Lambda's active tracing instead (see README, "Observability").
logger, metrics = Logger(), Metrics(namespace="Careloop")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event, context):
    try:
        outcome = handle_contact_event(services(), event)
    except ContactEventError as exc:
        # ids and the reason only; raised again so Lambda's retries and then the DLQ keep the event
        logger.warning("unreadable contact event", extra={
            "event_id": event.get("id") if isinstance(event, dict) else None, "reason": str(exc)})
        metrics.add_metric("UnreadableContactEvent", MetricUnit.Count, 1)
        raise
    logger.info("contact event", extra={"contact_id": outcome.contact_id, "action": outcome.action,
                                        "outcome": outcome.outcome})
    if outcome.action != "ignored":
        metrics.add_metric("CallsEnded", MetricUnit.Count, 1)
    if outcome.action == "texted":
        metrics.add_metric("MissedCallTextBacks", MetricUnit.Count, 1)
    return {"contact_id": outcome.contact_id, "action": outcome.action, "outcome": outcome.outcome}
