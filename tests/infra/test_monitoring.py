"""Monitoring in the template (issue 11): an alarm on every DLQ, on every function's errors and
throttles, on the dispatcher's lag and the SMS failure rate; every alarm acts on the ops topic,
which mails the profile's ops_emails; one dashboard shows the same signals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from careloop import wiring
from infra.application import PRACTICES_DIR, build_app

from .conftest import functions_dir_for_tests

pytestmark = pytest.mark.infra


def _alarms(synth) -> dict[str, dict]:
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()}


def _ops_topic_id(synth) -> str:
    topics = synth.of_type("AWS::SNS::Topic")
    (ops,) = [k for k, t in topics.items() if t["Properties"]["TopicName"] == "careloop-demo-ops"]
    return ops


def _dlq_ids(synth) -> set[str]:
    """Every queue that is a DLQ: a redrive target or a stream/schedule failure destination."""
    queues = synth.of_type("AWS::SQS::Queue")
    targets = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
               for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    return targets | {synth.logical_id(q) for q in synth.build.stack.function_dlqs.values()}


def test_every_alarm_acts_on_the_ops_topic_only(synth):
    ops = _ops_topic_id(synth)
    alarms = _alarms(synth)
    assert alarms
    for name, props in alarms.items():
        assert props["AlarmActions"] == [{"Ref": ops}], name
        assert props.get("ActionsEnabled", True) is True, name


def test_one_depth_alarm_per_dlq(synth):
    dlqs = _dlq_ids(synth)
    # the queues' DLQs, the planner's, the dispatcher's and (voice on in the demo) voice_events'
    assert len(dlqs) == len(wiring.queues()) + 3
    watched = [
        p["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for p in _alarms(synth).values()
        if p.get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert sorted(watched) == sorted(dlqs)  # each DLQ once, and no other queue
    for props in _alarms(synth).values():
        if props.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            assert props["Threshold"] == 1 and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_one_alarm_per_function_for_errors_and_throttles(synth, metric):
    stack = synth.build.stack
    watched = [
        p["Dimensions"][0]["Value"]["Ref"]
        for p in _alarms(synth).values()
        if p.get("MetricName") == metric and p.get("Namespace") == "AWS/Lambda"
    ]
    assert sorted(watched) == sorted(synth.logical_id(stack.functions[s.name]) for s in wiring.FUNCTIONS)
    for props in _alarms(synth).values():
        if props.get("MetricName") == metric:
            assert props["Threshold"] == 1 and props["Statistic"] == "Sum"


def test_dispatcher_lag_alarm_reads_the_metric_the_dispatcher_publishes(synth):
    lag = _alarms(synth)["careloop-demo-dispatcher-lag"]
    assert (lag["Namespace"], lag["MetricName"], lag["Statistic"]) == ("Careloop", "DueActionLag", "Maximum")
    assert lag["Dimensions"] == [{"Name": "service", "Value": "careloop"}]
    assert lag["Threshold"] == 300
    assert lag["TreatMissingData"] == "breaching"  # the dispatcher publishes every tick; silence is an outage


def test_sms_failure_rate_is_metric_math_over_the_delivery_metrics(synth):
    alarm = _alarms(synth)["careloop-demo-sms-failure-rate"]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    expression = next(q for q in queries.values() if "Expression" in q)
    assert expression.get("ReturnData", True) is True and "100 * FILL(f, 0)" in expression["Expression"]
    names = {q["MetricStat"]["Metric"]["MetricName"] for q in queries.values() if "MetricStat" in q}
    assert names == {"Delivery_delivered", "Delivery_failed"}  # what functions/sms_events publishes
    assert alarm["Threshold"] == 10


def test_the_existing_ops_alarms_remain(synth):
    alarms = _alarms(synth)
    assert {"careloop-demo-UnreadablePayload", "careloop-demo-SmsStuckInSending"} <= set(alarms)  # names kept


def test_a_dashboard_shows_the_alarms(synth):
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "careloop-demo-ops"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "DueActionLag" in body and "Delivery_failed" in body and "alarms" in body


def test_ops_mail_goes_to_the_staff_unless_the_profile_names_ops_emails(synth, tmp_path):
    # Given the demo profile (no ops_emails): the staff addresses hear the alarms
    ops = _ops_topic_id(synth)
    subscribed = {s["Properties"]["Endpoint"] for s in synth.of_type("AWS::SNS::Subscription").values()
                  if s["Properties"]["TopicArn"] == {"Ref": ops}}
    assert subscribed == set(synth.build.profile.staff_emails)
    # Given a profile with ops_emails: those, and only those
    data = json.loads((PRACTICES_DIR / "demo.json").read_text())
    data.update(id="opsclinic", ops_emails=["oncall-ops@example.test"])
    folder = tmp_path / "practices"
    folder.mkdir()
    (folder / "opsclinic.json").write_text(json.dumps(data))
    build = build_app("opsclinic", bundle=False, outdir=str(tmp_path / "cdk.out"), practices_dir=folder,
                      functions_dir=functions_dir_for_tests(tmp_path / "functions"), web_dist=None)
    resources = build.app.synth().get_stack_by_name(build.stack.stack_name).template["Resources"]
    ops_id = build.stack.resolve(build.stack.get_logical_id(build.stack.messaging.ops_topic.node.default_child))
    subscribed = {r["Properties"]["Endpoint"] for r in resources.values()
                  if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["TopicArn"] == {"Ref": ops_id}}
    assert subscribed == {"oncall-ops@example.test"}


def test_action_errors_alarm_reads_the_metric_the_dispatcher_publishes(synth):
    # the dispatcher contains an action's error and gives it back (issue 15 item 3): one throttle
    # is retried next minute, but errors in three windows running mean something keeps failing
    alarm = _alarms(synth)["careloop-demo-action-errors"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("Careloop", "ActionErrors", "Sum")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "careloop"}]
    assert alarm["Threshold"] == 1 and alarm["EvaluationPeriods"] == 3
    assert alarm["TreatMissingData"] == "notBreaching"
    handler = (Path(__file__).resolve().parents[2] / "functions" / "dispatcher" / "handler.py").read_text()
    assert 'add_metric("ActionErrors"' in handler
