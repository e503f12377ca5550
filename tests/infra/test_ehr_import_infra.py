"""The import worker of large EHR payloads in the template: its queue (DLQ, receive limit,
visibility over the function's timeout), its event source, a grant to read only the archived
jobs, the webhook's right to queue them, the status route, and the alarms operators hear by."""

from __future__ import annotations

import pytest

from careloop import tables, wiring
from careloop.ehr.jobs import JOB_ARCHIVE_PREFIX

pytestmark = pytest.mark.infra

WORKER = wiring.by_name("ehr_import")


def _statements(synth, name: str) -> dict[str, dict]:
    policy = synth.resources[synth.logical_id(synth.build.stack.policies[name])]
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "Sid" in s}


def _joined(value) -> str:
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(_joined(part) for part in value["Fn::Join"][1])
    return f"<{value.get('Ref') or value['Fn::GetAtt'][0]}>"


def test_the_worker_consumes_its_queue_one_job_at_a_time_with_a_dlq(synth):
    stack = synth.build.stack
    queue = synth.resources[synth.logical_id(stack.queues[tables.EHR_IMPORT_QUEUE])]["Properties"]
    assert queue["VisibilityTimeout"] == WORKER.source.visibility_timeout_s > WORKER.timeout_s
    redrive = queue["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 5
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [synth.logical_id(stack.dlqs[tables.EHR_IMPORT_QUEUE]), "Arn"]}
    function_id = synth.logical_id(stack.functions["ehr_import"])
    (mapping,) = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["FunctionName"] == {"Ref": function_id}]
    assert mapping["BatchSize"] == 1 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    props = synth.resources[function_id]["Properties"]
    assert props["Timeout"] == 300 and props["MemorySize"] == 1024
    assert "CARELOOP_BUCKET_EHR" in props["Environment"]["Variables"]
    assert "CARELOOP_QUEUE_EHR_IMPORT" in props["Environment"]["Variables"]


def test_only_the_worker_reads_archived_jobs_and_only_those(synth):
    statements = _statements(synth, "ehr_import")
    read = statements["ReadEhrImportJobs"]
    assert read["Action"] == "s3:GetObject"
    resources = read["Resource"] if isinstance(read["Resource"], list) else [read["Resource"]]
    assert [_joined(r).split(">", 1)[1] for r in resources] == [f"/{JOB_ARCHIVE_PREFIX}*"]
    for name in synth.build.stack.policies:
        if name != "ehr_import":
            assert "ReadEhrImportJobs" not in _statements(synth, name), name
            assert not any("s3:GetObject" in str(s.get("Action")) for s in _statements(synth, name).values()), name


def test_the_webhook_may_queue_jobs_and_answers_their_status(synth):
    stack = synth.build.stack
    queue_arn = {"Fn::GetAtt": [synth.logical_id(stack.queues[tables.EHR_IMPORT_QUEUE]), "Arn"]}
    assert queue_arn in _statements(synth, "ehr_webhook")["SendToQueues"]["Resource"]
    env = synth.resources[synth.logical_id(stack.functions["ehr_webhook"])]["Properties"]["Environment"]["Variables"]
    assert "CARELOOP_QUEUE_EHR_IMPORT" in env
    resources = {r["Properties"].get("PathPart"): k for k, r in synth.of_type("AWS::ApiGateway::Resource").items()}
    assert "jobs" in resources and "{job_id}" in resources
    methods = [m["Properties"] for m in synth.of_type("AWS::ApiGateway::Method").values()
               if m["Properties"].get("ResourceId") == {"Ref": resources["{job_id}"]}]
    assert [m["HttpMethod"] for m in methods] == ["GET"]


def test_operators_hear_of_a_failed_job_and_of_the_workers_errors(synth):
    alarms = {r["Properties"].get("MetricName"): r["Properties"] for r in synth.of_type("AWS::CloudWatch::Alarm").values()
              if "MetricName" in r["Properties"]}
    assert "EhrImportFailed" in alarms
    dlq = synth.logical_id(synth.build.stack.dlqs[tables.EHR_IMPORT_QUEUE])
    watched = [p["Dimensions"][0]["Value"] for r in synth.of_type("AWS::CloudWatch::Alarm").values()
               if (p := r["Properties"]).get("MetricName") == "ApproximateNumberOfMessagesVisible"]
    assert {"Fn::GetAtt": [dlq, "QueueName"]} in watched
    function = synth.logical_id(synth.build.stack.functions["ehr_import"])
    errors = [p for r in synth.of_type("AWS::CloudWatch::Alarm").values()
              if (p := r["Properties"]).get("MetricName") == "Errors"
              and p["Dimensions"][0]["Value"] == {"Ref": function}]
    assert len(errors) == 1
