"""The figure of issue 15: a 40,000-patient Bundle (made from the Synthea samples) posted to the
local stack over real HTTP is answered 202 at once, then fully applied by the import worker,
every patient once. Its own module: its own stack, so no other test waits on 40,000 records.
How fast is measured by `make bench` (tests/bench/bench_bulk_webhook.py), never asserted here."""

from __future__ import annotations

import gzip
import json
import urllib.request

from careloop.intake import sign
from tests.integration.test_ehr_bulk_webhook import request
from tests.integration.test_ehr_webhook import SECRET
from tests.synthea_panel import patient_bundle

PATIENTS = 40_000


def test_a_40000_patient_bundle_is_accepted_then_applied_once_each(stack, served):
    # Given the Bundle gzipped, as the webhook's guide says to send one over 5 MB
    packed = gzip.compress(patient_bundle(PATIENTS, prefix="panel"))
    # When the EHR posts it
    req = urllib.request.Request(served + "/ehr/fhir", data=packed, method="POST", headers={
        "Content-Type": "application/fhir+json", "Content-Encoding": "gzip",
        "X-Careloop-Signature": sign(SECRET, packed)})
    with urllib.request.urlopen(req, timeout=60) as resp:
        status, answer = resp.status, json.loads(resp.read())
    # Then it is accepted for the queue, and the worker applies all of it
    assert status == 202 and answer["entries"] == PATIENTS
    stack.drain_queue("ehr_import", timeout=3600)
    code, job = request(answer["status_url"])
    assert code == 200 and job["state"] == "done", job
    assert (job["done"], job["applied"], job["refused"], job["skipped"]) == (PATIENTS, PATIENTS, 0, 0)
    assert (job["patients"], job["unchanged"], job["batches_done"]) == (PATIENTS, 0, job["batches"])
    # And every patient is stored once: no duplicates, none missing
    db = stack._client("dynamodb")
    ids: list[str] = []
    for page in db.get_paginator("scan").paginate(
            TableName=stack.res.tables["records"], ProjectionExpression="pk",
            FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": {"S": "PAT#panel-"}}):
        ids += [i["pk"]["S"] for i in page["Items"]]
    assert len(ids) == len(set(ids)) == PATIENTS
    assert set(ids) == {f"PAT#panel-{i}" for i in range(PATIENTS)}
