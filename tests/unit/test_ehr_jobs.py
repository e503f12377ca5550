"""Large EHR payloads behind a queue (careloop.ehr.jobs) on the in-memory core: which bodies are
queued or refused, a job applied in batches with its counts, refused entries quarantined, a
redelivery or a second worker counting nothing twice, a slice running out going on from the
checkpoint, and a batch that keeps failing marking its job failed on its last attempt."""

from __future__ import annotations

import gzip
import json

import pytest

from careloop.ehr.bulk import StoreWriter
from careloop.ehr.jobs import (
    JOB_QUARANTINE_PREFIX,
    Limits,
    apply_part,
    open_job,
    queued_entries,
    read_body,
    run_job,
)
from careloop.errors import RefusedBody
from careloop_local.fakes import ListImportQueue, MemoryImportJobs
from tests.unit.test_records_intake import DictArchive

LIMITS = Limits(queue_bytes=50_000, queue_entries=20, max_body_bytes=200_000, max_inflated_bytes=2_000_000)


def patient(i: int, **extra) -> dict:
    return {"resourceType": "Patient", "id": f"job-p{i}", "meta": {"versionId": "1", "lastUpdated": "2026-11-20T10:00:00Z"},
            "identifier": [{"system": "urn:mrn", "value": f"JOB{i:05d}"}],
            "name": [{"family": "Reyes", "given": ["Ana"]}],
            "telecom": [{"system": "phone", "value": f"617-555-{i % 10000:04d}", "use": "mobile"}]} | extra


def bundle(resources: list[dict]) -> bytes:
    return json.dumps({"resourceType": "Bundle", "type": "collection",
                       "entry": [{"resource": r} for r in resources]}).encode()


@pytest.fixture
def parts():
    return DictArchive(), MemoryImportJobs(), ListImportQueue()


def queued(svc, parts, body: bytes, batch_size: int = 10):
    archive, jobs, queue = parts
    entries = queued_entries("fhir", body, LIMITS)
    assert entries is not None
    return open_job(jobs, queue, archive, "fhir", body, entries, svc.clock.now(), batch_size)


def never() -> bool:
    return False


# ---- which bodies go behind the queue, and which are refused ---------------------------------


def test_small_payloads_keep_the_request_path_and_large_ones_are_queued():
    small = bundle([patient(i) for i in range(20)])
    assert queued_entries("fhir", small, LIMITS) is None  # 20 entries: not over the limit
    assert queued_entries("fhir", bundle([patient(i) for i in range(21)]), LIMITS) == 21
    padded = bundle([patient(1, text={"status": "generated", "div": "x" * 60_000})])
    assert queued_entries("fhir", padded, LIMITS) == 1  # one entry, but over queue_bytes
    # not JSON, not a Bundle, or HL7: the request's own path names the problem
    assert queued_entries("fhir", b"{" * 60_000, LIMITS) is None
    assert queued_entries("fhir", json.dumps(patient(1, text={"div": "x" * 60_000})).encode(), LIMITS) is None
    assert queued_entries("hl7v2", b"MSH|" + b"x" * 60_000, LIMITS) is None


def test_bodies_over_the_limits_are_refused_naming_the_limit():
    with pytest.raises(RefusedBody) as too_big:
        read_body(b"x" * 200_001, None, LIMITS)
    assert too_big.value.status == 413 and "200,000-byte limit" in too_big.value.issue
    assert too_big.value.body == b"x" * 200_001  # what was read, for the quarantine
    bomb = gzip.compress(b" " * 3_000_000)
    with pytest.raises(RefusedBody) as inflated:
        read_body(bomb, "gzip", LIMITS)
    assert inflated.value.status == 413 and "inflates to more than the 2,000,000-byte limit" in inflated.value.issue
    with pytest.raises(RefusedBody) as corrupt:
        read_body(b"\x1f\x8b not gzip", "gzip", LIMITS)
    assert corrupt.value.status == 400 and "not valid gzip" in corrupt.value.issue
    with pytest.raises(RefusedBody) as cut:
        read_body(gzip.compress(b"{}" * 1000)[:-12], "gzip", LIMITS)
    assert cut.value.status == 400
    with pytest.raises(RefusedBody) as unknown:
        read_body(b"{}", "br", LIMITS)
    assert unknown.value.status == 415 and "'br'" in unknown.value.issue


def test_a_gzip_body_is_inflated():
    body = bundle([patient(1)])
    assert read_body(gzip.compress(body), "gzip", LIMITS) == body
    assert read_body(body, None, LIMITS) == body


# ---- the worker --------------------------------------------------------------------------------


def test_a_job_is_applied_in_batches_with_counts_and_refused_entries_quarantined(svc, parts):
    archive, jobs, queue = parts
    # Given 43 entries: 38 patients, 3 broken ones, 2 observations Careloop does not use
    resources = [patient(i) for i in range(40)]
    resources[7] = {"resourceType": "Patient", "id": "job-bad1", "birthDate": "not-a-date"}
    resources[23] = {"resourceType": "Patient", "id": "job-bad2", "gender": 12}
    resources += [{"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "x"}}] * 2
    resources.append({"resourceType": "Patient", "id": "job-bad3", "birthDate": "1800-99-99"})
    job = queued(svc, parts, bundle(resources))
    assert (job.state, job.entries, job.batches, queue.queued) == ("queued", 43, 5, [job.job_id])
    assert archive.get(job.key)[0] == bundle(resources)  # the payload, archived under the job id
    # When the worker takes it
    assert run_job(svc, archive, jobs, queue, job.job_id, out_of_time=never) == "done"
    # Then every entry is accounted for, and the records are in
    done = jobs.get_job(job.job_id)
    assert done.state == "done" and done.next_batch == 5 and done.finished_at is not None
    p = done.progress
    assert (p.done, p.applied, p.refused, p.quarantined, p.skipped) == (43, 38, 3, 3, 2)
    assert (p.patients, p.unchanged) == (38, 0)
    assert len(svc.records.all_patients()) == 38
    # And the refused entries are in quarantine, with their reasons, by job and batch
    kept = [k for k in archive.list(JOB_QUARANTINE_PREFIX + job.job_id) if not k.endswith(".reason.json")]
    assert len(kept) == 3
    reasons = [json.loads(archive.get(k + ".reason.json")[0]) for k in kept]
    assert any("Bundle.entry[7]" in i for r in reasons for i in r["issues"])
    assert {e["resource"]["id"] for k in kept for e in json.loads(archive.get(k)[0])["entry"]} == \
        {"job-bad1", "job-bad2", "job-bad3"}


def test_a_redelivered_message_of_a_finished_job_changes_nothing(svc, parts):
    archive, jobs, queue = parts
    job = queued(svc, parts, bundle([patient(i) for i in range(25)]))
    run_job(svc, archive, jobs, queue, job.job_id, out_of_time=never)
    before = jobs.get_job(job.job_id)
    # When the same message comes again
    assert run_job(svc, archive, jobs, queue, job.job_id, out_of_time=never) == "finished_before"
    # Then nothing was counted or written twice
    assert jobs.get_job(job.job_id) == before and len(svc.records.all_patients()) == 25


def test_a_slice_that_runs_out_goes_on_from_the_checkpoint(svc, parts):
    archive, jobs, queue = parts
    job = queued(svc, parts, bundle([patient(i) for i in range(35)]))
    queue.queued.clear()
    ticks = iter([False, False, True])  # time for two batches, then the slice is over
    assert run_job(svc, archive, jobs, queue, job.job_id, out_of_time=lambda: next(ticks)) == "continued"
    half = jobs.get_job(job.job_id)
    assert (half.state, half.next_batch, half.progress.done) == ("running", 2, 20)
    assert queue.queued == [job.job_id]  # queued on, for the next slice
    assert run_job(svc, archive, jobs, queue, job.job_id, out_of_time=never) == "done"
    final = jobs.get_job(job.job_id)
    assert (final.progress.done, final.progress.applied, final.progress.patients) == (35, 35, 35)


def test_a_batch_applied_but_not_committed_is_applied_again_without_duplicates(svc, parts):
    archive, jobs, queue = parts
    # Given a worker that applied batch 1 and died before committing it (a timeout)
    body = bundle([patient(i) for i in range(30)])
    job = queued(svc, parts, body)
    entries = json.loads(body)["entry"]
    apply_part(svc, archive, StoreWriter(svc), job, 0, entries[:10], {},
               {"resourceType": "Bundle", "type": "collection"}, svc.clock.now())
    assert len(svc.records.all_patients()) == 10 and jobs.get_job(job.job_id).next_batch == 0
    # When the message comes back
    assert run_job(svc, archive, jobs, queue, job.job_id, out_of_time=never) == "done"
    # Then every entry is counted once, and each patient is there once
    final = jobs.get_job(job.job_id)
    assert (final.progress.done, final.progress.applied) == (30, 30)
    assert (final.progress.patients, final.progress.unchanged) == (20, 10)  # batch 1's were there already
    assert sorted(p.id for p in svc.records.all_patients()) == sorted(f"job-p{i}" for i in range(30))


def test_a_second_worker_on_the_same_batch_stops_at_the_commit(svc, parts):
    archive, jobs, queue = parts
    job = queued(svc, parts, bundle([patient(i) for i in range(30)]))
    # Given another delivery that committed batch 1 while this one was applying it
    real_commit = jobs.commit_batch

    def raced(job_id, index, progress, at):
        if index == 0:
            assert real_commit(job_id, 0, progress, at)  # the other worker's commit
        return real_commit(job_id, index, progress, at)

    jobs.commit_batch = raced  # type: ignore[method-assign]
    assert run_job(svc, archive, jobs, queue, job.job_id, out_of_time=never) == "superseded"
    assert jobs.get_job(job.job_id).progress.done == 10  # batch 1 counted once


def test_a_batch_that_keeps_failing_fails_its_job_on_the_last_attempt(svc, parts, monkeypatch):
    archive, jobs, queue = parts
    job = queued(svc, parts, bundle([patient(i) for i in range(30)]))

    def broken(records):
        raise ConnectionError("the store is down")

    monkeypatch.setattr(svc.records, "put_new_records", broken)
    with pytest.raises(ConnectionError):
        run_job(svc, archive, jobs, queue, job.job_id, out_of_time=never)
    retried = jobs.get_job(job.job_id)
    assert (retried.state, retried.failures, retried.next_batch) == ("running", 1, 0)
    assert retried.error == "batch 1 of 3 failed (ConnectionError)"  # the class, never the text
    with pytest.raises(ConnectionError):
        run_job(svc, archive, jobs, queue, job.job_id, out_of_time=never, final_attempt=True)
    failed = jobs.get_job(job.job_id)
    assert failed.state == "failed" and "DLQ" in failed.error and failed.failures == 2
    assert failed.status("/ehr/jobs/x")["state"] == "failed"


def test_an_unknown_job_is_reported_missing(svc, parts):
    archive, jobs, queue = parts
    assert run_job(svc, archive, jobs, queue, "0" * 32, out_of_time=never) == "missing"
