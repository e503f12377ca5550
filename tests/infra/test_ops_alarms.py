"""The operator hears about unreadable payloads and texts stuck in 'sending' (issue #10, items 7
and 10): one alarm per metric, acting on a KMS-encrypted ops topic CloudWatch may publish to."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.infra


def test_an_alarm_per_ops_metric_on_the_ops_topic(synth):
    alarms = synth.of_type("AWS::CloudWatch::Alarm")
    by_metric = {a["Properties"].get("MetricName"): a["Properties"] for a in alarms.values()}  # math alarms: None
    assert {"UnreadablePayload", "SmsStuckInSending"} <= set(by_metric)
    topics = synth.of_type("AWS::SNS::Topic")
    (ops_id,) = [k for k, t in topics.items() if t["Properties"]["TopicName"].endswith("-ops")]
    assert topics[ops_id]["Properties"].get("KmsMasterKeyId")
    for name in ("UnreadablePayload", "SmsStuckInSending"):
        props = by_metric[name]
        assert props["Namespace"] == "Careloop" and props["Threshold"] == 1
        assert props["AlarmActions"] == [{"Ref": ops_id}]
    keys = synth.of_type("AWS::KMS::Key")
    statements = [st for k in keys.values() for st in k["Properties"]["KeyPolicy"]["Statement"]]
    assert any(st.get("Sid") == "CloudWatchAlarmsPublishToOpsTopic" for st in statements)
