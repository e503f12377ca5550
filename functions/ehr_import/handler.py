"""The import worker: a large EHR payload's job (queued by the webhook with its 202) applied in
batches through the bulk engine, from its checkpoint on; a slice at a time, then queued on."""

import json
import time

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from careloop import tables, wiring
from careloop.adapters.aws import archive, import_jobs, import_queue, services
from careloop.batch import partial_batch_processor
from careloop.ehr.jobs import run_job
from careloop.errors import PayloadError
from careloop.settings import get_settings

logger, metrics = Logger(), Metrics(namespace="Careloop")
processor = partial_batch_processor(EventType.SQS, logger)
# the queue's receive limit: the attempt that reaches it is the last before the DLQ
MAX_RECEIVES = next(f.source.max_receive_count for f in wiring.FUNCTIONS
                    if isinstance(f.source, wiring.QueueSource) and f.source.queue == tables.EHR_IMPORT_QUEUE)
LAST_BATCH_MARGIN_MS = 60_000  # time a batch may need, kept back from Lambda's timeout
_context = None


def record_handler(record: SQSRecord) -> None:
    try:
        job_id = str(json.loads(record.body)["job_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PayloadError("import message: expected {\"job_id\": ...}") from exc
    started, slice_s = time.monotonic(), get_settings().ehr_import_slice_s

    def out_of_time() -> bool:
        left = _context.get_remaining_time_in_millis() if _context is not None else LAST_BATCH_MARGIN_MS + 1
        return time.monotonic() - started > slice_s or left < LAST_BATCH_MARGIN_MS

    final = int(record.attributes.approximate_receive_count or 1) >= MAX_RECEIVES
    try:
        outcome = run_job(services(), archive(), import_jobs(), import_queue(), job_id, out_of_time=out_of_time,
                          final_attempt=final)
    except Exception:
        if final:  # the job is marked failed and its message goes to the DLQ: operators hear of it
            metrics.add_metric("EhrImportFailed", MetricUnit.Count, 1)
        raise
    job = import_jobs().get_job(job_id)
    logger.info("ehr import", extra={"job_id": job_id, "outcome": outcome, "state": job.state if job else None,
                                     "batches_done": job.next_batch if job else None,
                                     "done": job.progress.done if job else None})
    if outcome == "done":
        metrics.add_metric("EhrImportDone", MetricUnit.Count, 1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event, context):
    global _context
    _context = context
    return process_partial_response(event, record_handler, processor, context)
