"""The monitoring construct: what an operator must hear about before a patient does, as CloudWatch
alarms acting on the ops topic, and a dashboard of the same signals."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.common import METRICS_NAMESPACE, SERVICE, kebab

# Metrics the handlers publish (Powertools, namespace Careloop, dimension service).
OPS_METRICS = (
    ("UnreadablePayload", "An inbound text or delivery event could not be read: it is kept for its retries, then the DLQ"),
    ("SmsStuckInSending", "A text sat in 'sending' for 15 minutes with no answer from the carrier; staff were asked to check it"),
)


class Monitoring(Construct):
    """`alarms`: every alarm of the stack, each with one action, the ops topic."""

    def __init__(
        self, scope: Construct, construct_id: str, *, prefix: str, key: kms.Key, ops_topic: sns.ITopic
    ) -> None:
        super().__init__(scope, construct_id)
        self.prefix, self.ops_topic = prefix, ops_topic
        # CloudWatch publishes alarm notifications to the KMS-encrypted topic
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsPublishToOpsTopic",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"]))
        self.alarms: list[cloudwatch.Alarm] = []
        for metric_name, what in OPS_METRICS:
            self._alarm(
                f"{metric_name}Alarm", f"{prefix}-{kebab(metric_name)}", what,
                cloudwatch.Metric(namespace=METRICS_NAMESPACE, metric_name=metric_name,
                                  dimensions_map={"service": SERVICE},
                                  statistic="Sum", period=cdk.Duration.minutes(5)),
            )

    def _alarm(
        self, construct_id: str, name: str, description: str, metric: cloudwatch.IMetric, threshold: float = 1
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self, construct_id, alarm_name=name, alarm_description=description, metric=metric,
            threshold=threshold, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.ops_topic))
        self.alarms.append(alarm)
        return alarm
