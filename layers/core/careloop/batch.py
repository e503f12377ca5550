"""Partial batch responses for the queue and stream consumers: Powertools' BatchProcessor, with
each failed record logged once at WARNING by its ids and exception class (never its body)."""

from __future__ import annotations

from typing import Any, Protocol

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, ExceptionInfo


class WarningLog(Protocol):
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


def record_ids(record: Any) -> dict[str, str]:
    """The ids that find a record again (SQS message id, stream event id and sequence number),
    from the data class or, when it could not be built, the raw record. Nothing else."""
    raw = getattr(record, "raw_event", record)
    if not isinstance(raw, dict):
        return {}
    stream = raw.get("dynamodb") or raw.get("kinesis") or {}
    ids = {
        "message_id": raw.get("messageId"),
        "event_id": raw.get("eventID"),
        "sequence_number": stream.get("SequenceNumber") or stream.get("sequenceNumber"),
        "event_source": raw.get("eventSource"),
    }
    return {k: str(v) for k, v in ids.items() if v}


class LoggedBatchProcessor(BatchProcessor):
    """Powertools logs a failed record only at DEBUG (or, given a logger, with the exception's
    text, which can quote a body): here it is one WARNING line of ids and the exception class."""

    def __init__(self, event_type: EventType, log: WarningLog) -> None:
        # one failed record must not fail its batch-mates: they are reported, not raised
        super().__init__(event_type=event_type, raise_on_entire_batch_failure=False)
        self._log = log

    def failure_handler(self, record: Any, exception: ExceptionInfo):
        error = exception[0].__name__ if exception[0] else "unknown"
        self._log.warning("batch record failed", extra={**record_ids(record), "error": error})
        return super().failure_handler(record, exception)


def partial_batch_processor(event_type: EventType, log: WarningLog) -> BatchProcessor:
    """The processor every consumer hands to `process_partial_response`."""
    return LoggedBatchProcessor(event_type, log)
