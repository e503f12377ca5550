"""Large EHR payloads behind a queue: the webhook archives a big Bundle and answers 202 with a
status URL; the ehr_import worker applies it in batches through the bulk engine, with progress.

A job is a record (`JOB#<id>`) with a checkpoint: batch `next_batch` is the next to apply, and
committing a batch moves it on only once, so a redelivered or timed-out message goes on from
the last committed batch and nothing is counted twice (applying a batch again writes nothing:
the records are versioned).
"""

from __future__ import annotations

import gzip
import json
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from careloop.ehr.payload import Archive, Kind, payload_key, quarantine, queue_fetches
from careloop.errors import RefusedBody
from careloop.settings import Settings

if TYPE_CHECKING:  # the worker's side loads the FHIR mapper; the webhook's answer of 202 does not
    from careloop.ehr.bulk import StoreWriter
    from careloop.ports import ImportJobStore, ImportQueue, Services

JobState = Literal["queued", "running", "done", "failed"]
JOB_ARCHIVE_PREFIX = "archive/jobs/"  # the archived payload of a job: <prefix><job id>.json
JOB_QUARANTINE_PREFIX = "quarantine/fhir/jobs/"  # a job's refused entries, one Bundle per batch
STATUS_PATH = "/ehr/jobs/"
# the resource types a batch works; anything else in a Bundle is counted as skipped (not used)
USED_TYPES = frozenset({"Practitioner", "PractitionerRole", "Location", "Patient", "Appointment", "Schedule", "Slot"})


@dataclass(frozen=True)
class Limits:
    """Sizes of the webhook (settings `ehr_*`, see README "Large payloads")."""

    queue_bytes: int  # a FHIR body over this is queued (202)
    queue_entries: int  # so is a Bundle of more entries than this
    max_body_bytes: int  # a body over this, as sent, is refused (413) and quarantined
    max_inflated_bytes: int  # and so is a gzip body that inflates to more than this

    @classmethod
    def of(cls, s: Settings) -> Limits:
        return cls(s.ehr_queue_bytes, s.ehr_queue_entries, s.ehr_max_body_bytes, s.ehr_max_inflated_bytes)


class JobProgress(BaseModel):
    """One batch's counts, added to its job's when the batch is committed."""

    model_config = ConfigDict(extra="ignore")

    done: int = 0  # entries worked: applied + refused + skipped
    applied: int = 0  # entries applied (written, unchanged or older than stored)
    refused: int = 0  # entries that could not be understood
    quarantined: int = 0  # refused entries kept in quarantine for `careloop ehr replay`
    skipped: int = 0  # resources Careloop does not use (Observation, Encounter...)
    patients: int = 0  # records written: new or changed
    appointments: int = 0
    unchanged: int = 0
    stale: int = 0
    merges: int = 0

    def plus(self, other: JobProgress) -> JobProgress:
        return JobProgress(**{k: getattr(self, k) + getattr(other, k) for k in JobProgress.model_fields})


class ImportJob(BaseModel):
    model_config = ConfigDict(extra="ignore")

    job_id: str
    kind: Kind = "fhir"
    key: str  # the archived payload
    state: JobState = "queued"
    entries: int = 0
    batch_size: int = 500
    batches: int = 0
    next_batch: int = 0  # the checkpoint: batches before it are applied and counted
    progress: JobProgress = JobProgress()
    failures: int = 0  # failed attempts at a batch, all told
    error: str = ""  # why the last attempt failed, or why the job failed (never PHI)
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None

    def status(self, status_url: str) -> dict:
        """The answer of the status URL: state, counts and where the job is."""
        return {"job_id": self.job_id, "status_url": status_url, "state": self.state, "entries": self.entries,
                "batches": self.batches, "batches_done": self.next_batch, **self.progress.model_dump(),
                "failures": self.failures, "error": self.error, "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None}


# ---- the webhook's side ----------------------------------------------------------------------


def read_body(raw: bytes, content_encoding: str | None, limits: Limits) -> bytes:
    """The body as the EHR meant it: `Content-Encoding: gzip` inflated (a 40,000-patient Bundle
    is ~8 MB of JSON, ~1 MB gzipped: under API Gateway's and Lambda's limits). RefusedBody
    names the limit a body is over, an encoding it does not take, or gzip that is corrupt."""
    if len(raw) > limits.max_body_bytes:
        raise RefusedBody(f"body: {len(raw):,} bytes is over the {limits.max_body_bytes:,}-byte limit of this "
                           f"webhook; send it gzipped (Content-Encoding: gzip) or import it with "
                           f"`careloop ehr import`", raw)
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "x-gzip"):
        raise RefusedBody(f"Content-Encoding: {encoding[:40]!r} is not supported (gzip or none)", raw, 415)
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, limits.max_inflated_bytes + 1)
    except zlib.error as exc:
        raise RefusedBody(f"body: not valid gzip ({exc})", raw, 400) from exc
    if len(body) > limits.max_inflated_bytes or inflater.unconsumed_tail:
        raise RefusedBody(f"body: inflates to more than the {limits.max_inflated_bytes:,}-byte limit of this "
                           f"webhook; import it with `careloop ehr import`", raw)
    if not inflater.eof:
        raise RefusedBody("body: the gzip stream is cut short", raw, 400)
    return body


def quarantine_refused(archive: Archive, kind: Kind, exc: RefusedBody, now: datetime) -> str:
    """Quarantine what was read of a refused body, with the limit as its reason -> its key."""
    import hashlib

    key = payload_key("quarantine", kind, now, hashlib.sha256(exc.body).hexdigest())
    quarantine(archive, key, kind, exc.body, [exc.issue], now)
    return key


def queued_entries(kind: Kind, body: bytes, limits: Limits) -> int | None:
    """How many entries a payload has when it goes behind the queue (a FHIR Bundle over
    `queue_bytes`, or of more than `queue_entries` entries), else None: the request's own path."""
    if kind != "fhir":
        return None
    # an upper bound on the entries without parsing: each has a resource or a request
    if len(body) <= limits.queue_bytes and body.count(b'"resource"') + body.count(b'"request"') <= limits.queue_entries:
        return None
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None  # the request's path names the problem and quarantines it
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle" or not isinstance(data.get("entry"), list):
        return None
    entries = len(data["entry"])
    return entries if len(body) > limits.queue_bytes or entries > limits.queue_entries else None


def open_job(jobs: ImportJobStore, queue: ImportQueue, archive: Archive, kind: Kind, body: bytes, entries: int,
             now: datetime, batch_size: int, *, gzipped: bytes | None = None) -> ImportJob:
    """Archive the payload under a new job id, record the job (queued) and queue it. `gzipped`:
    the body as sent, when it came gzipped (kept so: smaller, and its signature still checks)."""
    job_id = uuid.uuid4().hex
    key = f"{JOB_ARCHIVE_PREFIX}{job_id}.json" + (".gz" if gzipped is not None else "")
    archive.put(key, body if gzipped is None else gzipped,
                {"kind": kind, "job": job_id} | ({"content-encoding": "gzip"} if gzipped is not None else {}))
    job = ImportJob(job_id=job_id, kind=kind, key=key, entries=entries, batch_size=batch_size,
                    batches=-(-entries // batch_size), created_at=now, updated_at=now)
    jobs.create_job(job)
    queue.enqueue(job_id)
    return job


# ---- the worker's side -----------------------------------------------------------------------


class ReadableArchive(Archive, Protocol):
    def get(self, key: str) -> tuple[bytes, dict[str, str]]: ...


WorkOutcome = Literal["done", "continued", "superseded", "finished_before", "missing"]


def run_job(services: Services, archive: ReadableArchive, jobs: ImportJobStore, queue: ImportQueue, job_id: str,
            *, out_of_time: Callable[[], bool], final_attempt: bool = False) -> WorkOutcome:
    """Apply a job's batches from its checkpoint on, committing each; when `out_of_time`, queue
    the job again and return (the next message goes on from the checkpoint). A batch that
    raises is recorded on the job and the exception re-raised (the queue retries the message);
    on the `final_attempt` (its next stop is the DLQ) the job is marked failed."""
    job = jobs.get_job(job_id)
    if job is None:
        return "missing"
    if job.state in ("done", "failed"):
        return "finished_before"  # a redelivery of a finished job: nothing to do
    try:
        work = _work_of(services, archive, job)
    except Exception as exc:
        _failed(jobs, job_id, f"its archived payload could not be read ({type(exc).__name__})", final_attempt,
                services.clock.now())
        raise
    if job.state == "queued":
        jobs.start_job(job_id, services.clock.now())
    entries, shell, context, writer = work.entries, work.shell, work.context, work.writer
    index = job.next_batch
    while index < job.batches:
        if out_of_time():
            queue.enqueue(job_id)
            return "continued"
        now = services.clock.now()
        part = entries[index * job.batch_size:(index + 1) * job.batch_size]
        try:
            progress = apply_part(services, archive, writer, job, index, part, context, shell, now)
        except Exception as exc:
            _failed(jobs, job_id, f"batch {index + 1} of {job.batches} failed ({type(exc).__name__})", final_attempt,
                    now)
            raise
        if not jobs.commit_batch(job_id, index, progress, now):
            return "superseded"  # another delivery committed this batch: it goes on from there
        index += 1
    jobs.finish_job(job_id, "done", services.clock.now())
    return "done"


@dataclass
class _Work:
    """A job's payload as the worker reads it, kept by a warm container for its next slice (the
    Bundle parsed, the names for appointments, the consent ledger read) for WORK_KEPT_S."""

    key: str
    entries: list
    shell: dict
    context: dict[str, dict]
    writer: StoreWriter
    loaded: float


WORK_KEPT_S = 60.0  # a slice after this reads the consent ledger (opt-outs since) and the payload again
_kept: list[_Work] = []  # the last job's, at most one


def _work_of(services: Services, archive: ReadableArchive, job: ImportJob) -> _Work:
    import time

    from careloop.ehr.bulk import StoreWriter, remember_context

    if _kept and _kept[0].key == job.key and time.monotonic() - _kept[0].loaded < WORK_KEPT_S \
            and _kept[0].writer.services is services:
        return _kept[0]
    _kept.clear()
    body, metadata = archive.get(job.key)
    if metadata.get("content-encoding") == "gzip":
        body = gzip.decompress(body)  # the webhook inflated it once within its limit
    data = json.loads(body.decode("utf-8-sig"))
    entries: list = data.get("entry") or []
    context: dict[str, dict] = {}
    for e in entries:  # names for appointments, wherever in the Bundle they come
        if isinstance(e, dict):
            remember_context(context, e.get("resource"))
    # the webhook's rule: the EHR's copy of an online booking replaces it
    writer = StoreWriter(services, supersede_online=True)
    work = _Work(job.key, entries, {k: v for k, v in data.items() if k != "entry"}, context, writer, time.monotonic())
    _kept.append(work)
    return work


def _failed(jobs: ImportJobStore, job_id: str, error: str, final_attempt: bool, now: datetime) -> None:
    """An attempt failed: said on the job (the exception's class, never its text: it may quote a
    record); on the last attempt before the DLQ the job has failed."""
    jobs.note_failure(job_id, error, now)
    if final_attempt:
        jobs.finish_job(job_id, "failed", now, f"{error} on its last attempt; the message is in the DLQ")


def apply_part(services: Services, archive: Archive, writer: StoreWriter, job: ImportJob, index: int, part: list,
               context: dict[str, dict], shell: dict, now: datetime) -> JobProgress:
    """One batch of entries through the bulk engine -> its counts; refused entries are kept in
    quarantine (a Bundle of them, its key fixed by job and batch, so a retry overwrites it)."""
    from careloop.ehr.bulk import map_chunk
    from careloop.ehr.fhir import NOTIFICATION_BUNDLES

    first = index * job.batch_size
    notification = shell.get("type") in NOTIFICATION_BUNDLES
    chunk: list[tuple[str, dict]] = []
    refused: list[tuple[str, str]] = []
    by_where: dict[str, object] = {}
    skipped = 0
    for offset, entry in enumerate(part):
        where = f"Bundle.entry[{first + offset}]"
        by_where[where] = entry
        if not isinstance(entry, dict):
            refused.append((where, "not a JSON object"))
            continue
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") not in USED_TYPES \
                and not (notification and first + offset == 0):  # a notification's status entry
            skipped += 1
            continue
        chunk.append((where, entry))
    batch, good, bad = map_chunk(chunk, context, services.practice, shell, merges=True) if chunk else (None, [], [])
    refused += bad
    progress = JobProgress(done=len(part), applied=len(good), refused=len(refused), skipped=skipped)
    if batch is not None:
        counts = writer.write({}, batch)
        progress = progress.model_copy(update={k: counts[k] for k in ("patients", "appointments", "unchanged",
                                                                       "stale", "merges")})
        queue_fetches(services, [batch], now)
    if refused:
        key = f"{JOB_QUARANTINE_PREFIX}{job.job_id}/batch-{index + 1:05d}.json"
        kept = shell | {"entry": [by_where[w] for w, _ in refused]}
        quarantine(archive, key, "fhir", json.dumps(kept).encode(), [f"{w}: {i}" for w, i in refused], now,
                   details={"job_id": job.job_id, "batch": index + 1})
        progress.quarantined = len(refused)
    return progress

