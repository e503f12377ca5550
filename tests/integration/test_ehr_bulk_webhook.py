"""Large EHR payloads over HTTP (LocalHttp -> the real ehr_webhook and ehr_import handlers ->
DynamoDB/S3/SQS on moto): 202 with a status URL, the worker draining the queue, the status
polled with a signature, 413 for a body over the hard limit (kept in quarantine), gzip bodies,
a redelivered message applying nothing twice, and a job whose batch keeps failing in the DLQ."""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.request

from careloop.intake import sign, sign_timestamped
from careloop_local.events import sqs_event
from tests.integration.test_ehr_webhook import SECRET, objects, post
from tests.synthea_panel import patient_bundle


def request(url: str, *, secret: str | None = SECRET, signature: str | None = None, path: str | None = None):
    from urllib.parse import urlparse

    signed = path or urlparse(url).path
    headers = {} if secret is None and signature is None else {
        "X-Careloop-Signature": signature or sign_timestamped(secret or "", signed.encode())}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def post_gzip(url: str, body: bytes):
    packed = gzip.compress(body)
    req = urllib.request.Request(url + "/ehr/fhir", data=packed, method="POST", headers={
        "Content-Type": "application/fhir+json", "Content-Encoding": "gzip",
        "X-Careloop-Signature": sign(SECRET, packed)})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_a_large_bundle_is_answered_202_and_applied_behind_the_queue(stack, served, ports):
    # Given a Bundle of 450 patients (over the 200 entries a request works itself)
    body = patient_bundle(450, prefix="big")
    # When the EHR posts it
    req = urllib.request.Request(served + "/ehr/fhir", data=body, method="POST", headers={
        "Content-Type": "application/fhir+json", "X-Careloop-Signature": sign(SECRET, body)})
    with urllib.request.urlopen(req, timeout=30) as resp:
        status, location, answer = resp.status, resp.headers["Location"], json.loads(resp.read())
    # Then it is answered 202 with where to ask, archived under its job id, and queued
    assert status == 202 and answer["status_url"] == location == f"{served}/ehr/jobs/{answer['job_id']}"
    assert (answer["state"], answer["entries"]) == ("queued", 450)
    assert f"archive/jobs/{answer['job_id']}.json" in objects("archive/jobs/")
    code, queued = request(location)
    assert code == 200 and (queued["state"], queued["done"], queued["batches"]) == ("queued", 0, 1)
    assert ports.records.get_patient("big-0") is None  # nothing applied inside the request
    # When the worker drains its queue
    assert stack.drain_queue("ehr_import") >= 1
    # Then the job is done with its counts, and every patient is stored
    code, done = request(location)
    assert code == 200 and done["state"] == "done" and done["batches_done"] == 1
    assert (done["done"], done["applied"], done["refused"], done["patients"]) == (450, 450, 0, 450)
    assert len(ports.records.get_patients({f"big-{i}" for i in range(450)})) == 450


def test_a_redelivered_import_message_applies_nothing_twice(stack, served, ports):
    status, _, text = post_gzip(served, patient_bundle(240, prefix="again"))
    job_id = json.loads(text)["job_id"]
    assert status == 202
    stack.drain_queue("ehr_import")
    code, first = request(f"{served}/ehr/jobs/{job_id}")
    # When SQS delivers the same message again (at-least-once)
    message = {"MessageId": "redelivered-1", "ReceiptHandle": "r1", "Body": json.dumps({"job_id": job_id}),
               "Attributes": {"ApproximateReceiveCount": "2"}}
    result = stack.invoke("ehr_import", sqs_event([message], stack.res.queue_arns["ehr_import"]))
    # Then it succeeds and changes nothing
    assert result == {"batchItemFailures": []}
    code, second = request(f"{served}/ehr/jobs/{job_id}")
    assert second == first and (second["done"], second["patients"]) == (240, 240)


def test_the_status_of_an_unknown_job_is_404_naming_it_and_an_unsigned_poll_401(served):
    code, outcome = request(f"{served}/ehr/jobs/feedc0de")
    assert code == 404 and "job 'feedc0de': no such import job" in outcome["issue"][0]["diagnostics"]
    code, outcome = request(f"{served}/ehr/jobs/feedc0de", secret=None)
    assert code == 401 and "missing X-Careloop-Signature" in outcome["issue"][0]["diagnostics"]
    # a signature of another job's path does not open this one
    code, _ = request(f"{served}/ehr/jobs/feedc0de", path="/ehr/jobs/other")
    assert code == 401


def test_a_body_over_the_hard_limit_is_413_naming_it_and_kept_in_quarantine(served):
    # Given a body over the webhook's 5,000,000 bytes (the raw 40,000-patient Bundle is 15 MB)
    body = patient_bundle(14_000, prefix="huge")
    assert len(body) > 5_000_000
    before = set(objects("quarantine/"))
    status, text = post(served, "/ehr/fhir", body)
    outcome = json.loads(text)["issue"][0]
    assert status == 413 and outcome["code"] == "too-long"
    assert "over the 5,000,000-byte limit" in outcome["diagnostics"] and "gzip" in outcome["diagnostics"]
    added = sorted(set(objects("quarantine/")) - before)
    payload = [k for k in added if not k.endswith(".reason.json")]
    assert len(payload) == 1 and payload[0] + ".reason.json" in added
    from careloop.adapters.aws import archive

    assert archive().get(payload[0])[0] == body  # what was read, for replay
    # the same Bundle gzipped is taken (behind the queue)
    status, _, _ = post_gzip(served, body)
    assert status == 202


def test_a_small_gzip_body_takes_the_request_path(served, ports):
    status, _, text = post_gzip(served, patient_bundle(3, prefix="zipped"))
    assert status == 200 and json.loads(text)["resourceType"] == "OperationOutcome"
    assert ports.records.get_patient("zipped-2") is not None


def test_a_job_whose_batch_keeps_failing_lands_in_the_dlq_and_says_so(stack, served):
    from careloop.adapters.aws import archive

    # Given a queued job whose archived payload is gone (every attempt fails)
    status, _, text = post_gzip(served, patient_bundle(300, prefix="lost"))
    job_id = json.loads(text)["job_id"]
    assert status == 202
    key = f"archive/jobs/{job_id}.json.gz"  # kept as sent: gzipped
    assert archive().get(key)[1].get("content-encoding") == "gzip"
    archive().delete(key)
    # When the queue retries it up to its receive limit (the local visibility timeout is 2 s)
    sqs = stack._client("sqs")
    deadline = time.monotonic() + 120
    in_dlq: list = []
    while not in_dlq and time.monotonic() < deadline:
        stack.drain_queue("ehr_import", timeout=5)
        in_dlq = sqs.receive_message(QueueUrl=stack.res.dlqs["ehr_import"], VisibilityTimeout=0).get("Messages", [])
        time.sleep(0.5)
    # Then the message is in the DLQ and the job says it failed, and why
    assert in_dlq and json.loads(in_dlq[0]["Body"]) == {"job_id": job_id}
    code, job = request(f"{served}/ehr/jobs/{job_id}")
    assert code == 200 and job["state"] == "failed" and job["failures"] == 5
    assert job["error"] == "its archived payload could not be read (NoSuchKey) on its last attempt; " \
                           "the message is in the DLQ"
