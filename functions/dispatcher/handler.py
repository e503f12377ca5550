"""Dispatcher: every minute, due actions are re-checked, gated and handed over exactly once."""

import time

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from careloop.adapters.aws import services
from careloop.engine.dispatcher import tick
from careloop.sms import stuck

WORKERS = 8  # patients in parallel: each action is a handful of sequential DynamoDB calls

# No X-Ray SDK (Powertools Tracer): it costs ~150-300 ms of cold start here; the functions
# use Lambda's active tracing instead (see README, "Observability").
logger, metrics = Logger(), Metrics(namespace="Careloop")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event, context):
    # stop taking new patients 5 s before the timeout; the rest waits for the next minute
    deadline = time.monotonic() + max(1.0, context.get_remaining_time_in_millis() / 1000 - 5)
    result = tick(services(), workers=WORKERS, deadline=deadline)
    summary = {"sent": len(result.sent), "skipped": len(result.skipped),
               "deferred": len(result.deferred), "lost": result.lost, "errors": len(result.errors)}
    for action_id, error in result.errors.items():  # given back: the next tick tries them again
        logger.warning("action failed", extra={"action_id": action_id, "error": error})
    if stuck.due(services().clock.now()):
        summary["stuck"] = len(stuck.sweep_stuck(services()))
        metrics.add_metric("SmsStuckInSending", MetricUnit.Count, summary["stuck"])
    logger.info("tick", extra=summary)
    metrics.add_metric("ActionsSent", MetricUnit.Count, summary["sent"])
    metrics.add_metric("ActionsSkipped", MetricUnit.Count, summary["skipped"])
    metrics.add_metric("ActionErrors", MetricUnit.Count, summary["errors"])
    # published on every tick (0 when nothing is due): no data means the dispatcher stopped
    metrics.add_metric("DueActionLag", MetricUnit.Seconds, result.oldest_due_s)
    return summary
