"""The monitoring construct: what an operator must hear about before a patient does, as CloudWatch
alarms acting on the ops topic, and one dashboard of the same signals."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.common import METRICS_NAMESPACE, SERVICE, kebab, pascal

# Metrics the handlers publish (Powertools, namespace Careloop, dimension service).
OPS_METRICS = (
    ("UnreadablePayload", "An inbound text or delivery event could not be read: it is kept for its retries, then the DLQ"),
    ("SmsStuckInSending", "A text sat in 'sending' for 15 minutes with no answer from the carrier; staff were asked to check it"),
    ("EhrImportFailed", "A large EHR payload's job failed: a batch kept failing and its message is in the ehr_import DLQ "
                        "(the job's status says which batch)"),
)
DISPATCHER_LAG_METRIC = "DueActionLag"  # functions/dispatcher: age of the oldest due action, seconds
# The dispatcher runs every minute, so a due action older than 5 minutes in two windows running
# means reminders are going out late (or the dispatcher stopped: then the metric goes missing).
DISPATCHER_LAG_LIMIT_S = 300
ACTION_ERRORS_METRIC = "ActionErrors"  # functions/dispatcher: actions a tick gave back after an error
# A failed action is given back and the next minute's tick tries it again, so one throttle is no
# news; errors in three 5-minute windows running mean an action keeps failing (or a store does).
ACTION_ERRORS_WINDOWS = 3
DELIVERED, FAILED = "Delivery_delivered", "Delivery_failed"  # functions/sms_events, per carrier event
SMS_FAILURE_RATE_LIMIT = 10  # percent of the carrier's final verdicts in an hour
SMS_FAILURE_MIN_VOLUME = 10  # below this many verdicts an hour, one bad number is not a trend
FIVE_MINUTES = cdk.Duration.minutes(5)


def careloop_metric(name: str, statistic: str, period: cdk.Duration = FIVE_MINUTES) -> cloudwatch.Metric:
    return cloudwatch.Metric(namespace=METRICS_NAMESPACE, metric_name=name,
                             dimensions_map={"service": SERVICE}, statistic=statistic, period=period)


class Monitoring(Construct):
    """`alarms`: every alarm of the stack, each acting on the ops topic alone; `dlq_alarms` and
    `function_alarms` (errors, throttles) by name; `dashboard`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        key: kms.Key,
        ops_topic: sns.ITopic,
        functions: Mapping[str, lambda_.IFunction],
        dlqs: Mapping[str, sqs.IQueue],
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
            self._alarm(f"{metric_name}Alarm", kebab(metric_name), what, careloop_metric(metric_name, "Sum"))

        # A message in a DLQ is work that did not happen: a text not sent, a reply not read.
        self.dlq_alarms = {
            name: self._alarm(
                f"{pascal(name)}DlqDepthAlarm", f"{kebab(name)}-dlq-depth",
                f"The {name} DLQ holds messages that failed every retry: "
                "look at the function's logs, fix, then redrive",
                queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
            )
            for name, queue in dlqs.items()
        }
        self.function_alarms: dict[str, tuple[cloudwatch.Alarm, cloudwatch.Alarm]] = {
            name: (
                self._alarm(f"{pascal(name)}ErrorsAlarm", f"{kebab(name)}-errors",
                            f"{name} failed (an invocation raised or timed out); its event is retried",
                            function.metric_errors(period=FIVE_MINUTES, statistic="Sum")),
                self._alarm(f"{pascal(name)}ThrottlesAlarm", f"{kebab(name)}-throttles",
                            f"{name} was throttled: the account's concurrency or its reserved share ran out",
                            function.metric_throttles(period=FIVE_MINUTES, statistic="Sum")),
            )
            for name, function in functions.items()
        }
        lag = careloop_metric(DISPATCHER_LAG_METRIC, "Maximum")
        self.dispatcher_lag_alarm = self._alarm(
            "DispatcherLagAlarm", "dispatcher-lag",
            f"The oldest due action waited over {DISPATCHER_LAG_LIMIT_S // 60} minutes: reminders go out late, "
            "or the dispatcher stopped running (no data)",
            lag, threshold=DISPATCHER_LAG_LIMIT_S, evaluation_periods=2,
            missing=cloudwatch.TreatMissingData.BREACHING,
        )
        self.action_errors_alarm = self._alarm(
            "ActionErrorsAlarm", "action-errors",
            f"The dispatcher gave actions back after an error in {ACTION_ERRORS_WINDOWS} five-minute windows running: "
            "a reminder keeps failing (its action id and error are in the dispatcher's log, 'action failed')",
            careloop_metric(ACTION_ERRORS_METRIC, "Sum"), evaluation_periods=ACTION_ERRORS_WINDOWS,
        )
        failure_rate = cloudwatch.MathExpression(
            expression=(f"IF(FILL(d, 0) + FILL(f, 0) >= {SMS_FAILURE_MIN_VOLUME}, "
                        "100 * FILL(f, 0) / (FILL(d, 0) + FILL(f, 0)), 0)"),
            using_metrics={"d": careloop_metric(DELIVERED, "Sum", cdk.Duration.hours(1)),
                           "f": careloop_metric(FAILED, "Sum", cdk.Duration.hours(1))},
            label="SMS failure rate (%)",
            period=cdk.Duration.hours(1),
        )
        self.sms_failure_alarm = self._alarm(
            "SmsFailureRateAlarm", "sms-failure-rate",
            f"Over {SMS_FAILURE_RATE_LIMIT}% of texts the carrier judged in the last hour failed: check the "
            "number's registration, spend limit and the carrier's status",
            failure_rate, threshold=SMS_FAILURE_RATE_LIMIT,
        )
        self.dashboard = self._dashboard(functions, dlqs, lag, failure_rate)

    def _alarm(
        self,
        construct_id: str,
        name: str,
        description: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float = 1,
        evaluation_periods: int = 1,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self, construct_id, alarm_name=f"{self.prefix}-{name}", alarm_description=description,
            metric=metric, threshold=threshold, evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.ops_topic))
        self.alarms.append(alarm)
        return alarm

    def _dashboard(
        self,
        functions: Mapping[str, lambda_.IFunction],
        dlqs: Mapping[str, sqs.IQueue],
        lag: cloudwatch.IMetric,
        failure_rate: cloudwatch.IMetric,
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "OpsDashboard", dashboard_name=f"{self.prefix}-ops")
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=6),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Dispatcher lag (s, oldest due action)", left=[lag], width=8),
            cloudwatch.GraphWidget(
                title="SMS delivery", width=8,
                left=[careloop_metric(DELIVERED, "Sum"), careloop_metric(FAILED, "Sum")], right=[failure_rate],
            ),
            cloudwatch.GraphWidget(
                title="DLQ depth", width=8,
                left=[q.metric_approximate_number_of_messages_visible(label=n, period=FIVE_MINUTES,
                                                                      statistic="Maximum")
                      for n, q in dlqs.items()],
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Function errors", width=12,
                                   left=[f.metric_errors(label=n, period=FIVE_MINUTES) for n, f in functions.items()]),
            cloudwatch.GraphWidget(title="Function throttles", width=12,
                                   left=[f.metric_throttles(label=n, period=FIVE_MINUTES) for n, f in functions.items()]),
        )
        return dashboard
