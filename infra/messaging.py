"""The messaging construct: the topics and queues of careloop.wiring, each queue with its DLQ,
the staff-alert and ops topics and their subscriptions from the practice profile."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from careloop import tables, wiring
from careloop.errors import ConfigError
from careloop.practice import PracticeProfile
from infra.common import dead_letter_queue, kebab, pascal

OPS_TOPIC = "ops"


class Messaging(Construct):
    """`topics`, `queues` and `dlqs` by logical name (wiring), plus `ops_topic` for alarms."""

    def __init__(
        self, scope: Construct, construct_id: str, *, profile: PracticeProfile, prefix: str, key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        self.profile, self.prefix, self.key = profile, prefix, key
        self.topics = {name: self._topic(name) for name in wiring.topics()}
        self.queues: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        for name, source in wiring.queues().items():
            self._queue(name, source)
        self._staff_alert_subscriptions()
        self.ops_topic = self._topic(OPS_TOPIC)
        # the profile's ops_emails; a practice that names none hears through its staff addresses
        for email in profile.ops_emails or profile.staff_emails:
            self.ops_topic.add_subscription(subscriptions.EmailSubscription(email))

    def _topic(self, name: str) -> sns.Topic:
        topic = sns.Topic(
            self,
            f"{pascal(name)}Topic",
            topic_name=f"{self.prefix}-{kebab(name)}",
            master_key=self.key,
            enforce_ssl=True,
        )
        if name in (tables.INBOUND_TOPIC, tables.SMS_EVENTS_TOPIC):
            # End User Messaging publishes inbound texts and delivery events here.
            topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="SmsVoicePublishes",
                    principals=[iam.ServicePrincipal("sms-voice.amazonaws.com")],
                    actions=["sns:Publish"],
                    resources=[topic.topic_arn],
                    conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
                )
            )
        return topic

    def _queue(self, name: str, source: wiring.QueueSource) -> None:
        consumer = next(f for f in wiring.FUNCTIONS if f.source == source)
        if source.visibility_timeout_s < consumer.timeout_s:
            raise ConfigError(
                f"wiring: queue {name!r} visibility timeout {source.visibility_timeout_s}s is shorter "
                f"than its consumer {consumer.name!r} timeout {consumer.timeout_s}s"
            )
        dlq = dead_letter_queue(self, f"{pascal(name)}Dlq", f"{self.prefix}-{kebab(name)}-dlq", self.key)
        queue = sqs.Queue(
            self,
            f"{pascal(name)}Queue",
            queue_name=f"{self.prefix}-{kebab(name)}",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(source.visibility_timeout_s),
            retention_period=cdk.Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dlq, max_receive_count=source.max_receive_count
            ),
        )
        if source.fed_by_topic:
            topic = self.topics[source.fed_by_topic]
            # A plain Subscription (not SqsSubscription): the latter would add a key-policy
            # statement naming the topic, and topic -> key -> topic is a dependency cycle. The key
            # policy already lets SNS use the key for this stack's topics (see infra.data).
            queue.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="TopicDelivers",
                    principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": topic.topic_arn}},
                )
            )
            subscription = sns.Subscription(
                self,
                f"{pascal(name)}Subscription",
                topic=topic,
                endpoint=queue.queue_arn,
                protocol=sns.SubscriptionProtocol.SQS,
                raw_message_delivery=False,  # handlers parse the SNS envelope (same shape locally)
                dead_letter_queue=dlq,
            )
            subscription.node.add_dependency(queue)  # the queue policy must exist first
        self.queues[name] = queue
        self.dlqs[name] = dlq

    def _staff_alert_subscriptions(self) -> None:
        topic = self.topics[tables.STAFF_ALERTS_TOPIC]
        for email in self.profile.staff_emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        if self.profile.on_call_phone:
            # urgent texts page the on-call person at any hour; the page carries no PHI
            topic.add_subscription(subscriptions.SmsSubscription(
                self.profile.on_call_phone,
                filter_policy={"priority": sns.SubscriptionFilter.string_filter(allowlist=["urgent"])},
            ))
