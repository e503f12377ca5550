"""Dispatcher: every minute, due actions are re-checked, gated and handed over exactly once."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from careloop.adapters.aws import services
from careloop.engine.dispatcher import tick

# No X-Ray SDK (Powertools Tracer): it costs ~150-300 ms of cold start here; the functions
# use Lambda's active tracing instead (see README, "Observability").
logger, metrics = Logger(), Metrics(namespace="Careloop")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event, context):
    result = tick(services())
    summary = {"sent": len(result.sent), "skipped": len(result.skipped),
               "deferred": len(result.deferred), "lost": result.lost}
    logger.info("tick", extra=summary)
    metrics.add_metric("ActionsSent", MetricUnit.Count, summary["sent"])
    metrics.add_metric("ActionsSkipped", MetricUnit.Count, summary["skipped"])
    return summary
