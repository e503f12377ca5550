"""The Careloop stack for one practice, generated from the wiring table (careloop.wiring) and the
table specs (careloop.tables): every function, event source, queue, topic and grant comes from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_backup as backup
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_smsvoice as smsvoice
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from careloop import tables, wiring
from careloop.errors import ConfigError
from careloop.practice import PracticeProfile
from infra import bundling

LOG_RETENTION = logs.RetentionDays.ONE_YEAR
API_STAGE = "v1"
# Powertools switches that keep PHI out of logs and traces (responses and events carry names,
# phone numbers and message bodies).
POWERTOOLS_ENV = {
    "POWERTOOLS_SERVICE_NAME": "careloop",
    "POWERTOOLS_METRICS_NAMESPACE": "Careloop",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
}
# Least-privilege action sets, spelled out (no wildcards) so a reviewer can read them.
DDB_READ = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
)
DDB_WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)
DDB_STREAM = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
SQS_CONSUME = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
)
KMS_DECRYPT = ("kms:Decrypt", "kms:DescribeKey")
KMS_ENCRYPT = ("kms:Encrypt", "kms:GenerateDataKey")
SMS_SEND = ("sms-voice:SendTextMessage",)
SMS_OPT_OUT = (
    "sms-voice:PutOptedOutNumber",
    "sms-voice:DeleteOptedOutNumber",
    "sms-voice:DescribeOptedOutNumbers",
)
XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


def pascal(name: str) -> str:
    """`sms_sender` -> `SmsSender` (construct ids)."""
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def kebab(name: str) -> str:
    return name.replace("_", "-")


@dataclass(frozen=True)
class SmsIdentity:
    """The End User Messaging resources the senders use."""

    configuration_set: smsvoice.CfnConfigurationSet
    opt_out_list: smsvoice.CfnOptOutList
    origination_arn: str  # phone number or pool ARN (what SendTextMessage gets, and IAM scopes to)
    phone_number: smsvoice.CfnPhoneNumber | None  # None when the profile names an existing one


class CareloopStack(cdk.Stack):
    """Everything one practice runs on. Attributes are the handles tests and infra.nag use."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        profile: PracticeProfile,
        layer_sources: bundling.LayerSources,
        functions_dir: Path,
        web_dist: Path | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.profile = profile
        self.prefix = f"careloop-{profile.id}"
        cdk.Tags.of(self).add("careloop:practice", profile.id)

        self.key = self._data_key()
        self.log_bucket = self._access_log_bucket()
        self.tables = {spec.logical: self._table(spec) for spec in tables.ALL_TABLES}
        self.backup_plan = self._backups()
        self.topics = {name: self._topic(name) for name in wiring.topics()}
        self.queues: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        for name, source in wiring.queues().items():
            self._queue(name, source)
        self.ehr_bucket = self._ehr_bucket()
        self.sms = self._sms()
        self._staff_alert_subscriptions()
        self.user_pool, self.user_pool_client = self._staff_user_pool()
        self.web_bucket, self.distribution = self._web_front()
        self.web_origin = f"https://{self.distribution.distribution_domain_name}"
        self.webhook_secret, self.generated_webhook_secret = self._webhook_secret()
        self.layer = lambda_.LayerVersion(
            self,
            "CoreLayer",
            layer_version_name=f"{self.prefix}-core",
            description=f"careloop domain core + dependencies + practice profile ({profile.id})",
            code=bundling.core_layer_code(layer_sources),
            compatible_runtimes=[bundling.RUNTIME],
            compatible_architectures=[bundling.ARCHITECTURE],
        )

        self.functions: dict[str, lambda_.Function] = {}
        self.policies: dict[str, iam.ManagedPolicy] = {}
        self.log_group_names: dict[str, str] = {}
        self.function_dlqs: dict[str, sqs.Queue] = {}  # stream on-failure / async DLQs
        self.schedules: dict[str, events.Rule] = {}
        self._api: apigw.RestApi | None = None
        self.public_methods: list[apigw.Method] = []  # routes whose auth is HMAC in the handler
        for spec in wiring.FUNCTIONS:
            self._function(spec, functions_dir / spec.name)
        self.web_deployment = self._web_deployment(web_dist)  # needs the API URL for config.json
        self.ops_alarms = self._ops_alarms()

        self._outputs()

    # --- encryption, logs, data -----------------------------------------------------------------

    def _data_key(self) -> kms.Key:
        key = kms.Key(
            self,
            "DataKey",
            alias=f"alias/{self.prefix}",
            description=f"Careloop {self.profile.id}: PHI at rest (tables, queues, topics, EHR archive, logs)",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        region, account = cdk.Aws.REGION, cdk.Aws.ACCOUNT_ID
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsEncryptsOurLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:DescribeKey",
                ],
                resources=["*"],  # in a key policy "*" means this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{cdk.Aws.PARTITION}:logs:{region}:{account}:log-group:*"
                    }
                },
            )
        )
        # Services that write into our encrypted topics and queues. Scoped by source so no other
        # account's resources can use the key; names (not references) avoid dependency cycles.
        for sid, service, condition in (
            (
                "SmsVoicePublishesToEncryptedTopics",
                "sms-voice.amazonaws.com",
                {"StringEquals": {"aws:SourceAccount": account}},
            ),
            (
                "SnsDeliversToEncryptedQueues",
                "sns.amazonaws.com",
                {
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{cdk.Aws.PARTITION}:sns:{region}:{account}:{self.prefix}-*"
                    }
                },
            ),
            (
                "EventBridgeWritesScheduleDlq",
                "events.amazonaws.com",
                {
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{cdk.Aws.PARTITION}:events:{region}:{account}:rule/{self.prefix}-*"
                    }
                },
            ),
        ):
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(service)],
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=["*"],
                    conditions=condition,
                )
            )
        return key

    def _log_group(self, construct_id: str, name: str) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            construct_id,
            log_group_name=name,
            retention=LOG_RETENTION,
            encryption_key=self.key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _access_log_bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            "AccessLogsBucket",
            # S3 server access logging only delivers to SSE-S3 buckets (not SSE-KMS).
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            # CloudFront standard logs are delivered with an ACL grant, so ACLs must stay enabled.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=cdk.Duration.days(400),
                    noncurrent_version_expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _table(self, spec: tables.TableSpec) -> dynamodb.Table:
        def attr(name: str) -> dynamodb.Attribute:
            return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)

        table = dynamodb.Table(
            self,
            f"{pascal(spec.logical)}Table",
            table_name=f"{self.prefix}-{spec.logical}",
            partition_key=attr(spec.partition_key),
            sort_key=attr(spec.sort_key) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if spec.stream else None,
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=attr(index.partition_key),
                sort_key=attr(index.sort_key) if index.sort_key else None,
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def _backups(self) -> backup.BackupPlan:
        vault = backup.BackupVault(
            self,
            "BackupVault",
            backup_vault_name=f"{self.prefix}-backups",
            encryption_key=self.key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        plan = backup.BackupPlan.daily_monthly1_year_retention(self, "BackupPlan", vault)
        self.backup_selection = plan.add_selection(
            "Tables",
            resources=[backup.BackupResource.from_dynamo_db_table(t) for t in self.tables.values()],
        )
        return plan

    # --- operators -------------------------------------------------------------------------------

    # What an operator must hear about before a patient does (the rest of the monitoring, per DLQ
    # and function, is issue #11's construct): texts that could not be read, texts stuck in
    # 'sending', and a spend limit reached.
    OPS_METRICS = (
        ("UnreadablePayload", "An inbound text or delivery event could not be read: it is kept for its retries, then the DLQ"),
        ("SmsStuckInSending", "A text sat in 'sending' for 15 minutes with no answer from the carrier; staff were asked to check it"),
    )

    def _ops_alarms(self) -> list[cloudwatch.Alarm]:
        topic = self._topic("ops")
        for email in self.profile.staff_emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        # CloudWatch publishes alarm notifications to the KMS-encrypted topic
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsPublishToOpsTopic",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"]))
        alarms = []
        for metric_name, what in self.OPS_METRICS:
            alarm = cloudwatch.Alarm(
                self, f"{metric_name}Alarm", alarm_name=f"{self.prefix}-{kebab(metric_name)}", alarm_description=what,
                metric=cloudwatch.Metric(namespace="Careloop", metric_name=metric_name,
                                         dimensions_map={"service": POWERTOOLS_ENV["POWERTOOLS_SERVICE_NAME"]},
                                         statistic="Sum", period=cdk.Duration.minutes(5)),
                threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(cw_actions.SnsAction(topic))
            alarms.append(alarm)
        return alarms

    # --- messaging --------------------------------------------------------------------------------

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
        dlq = sqs.Queue(
            self,
            f"{pascal(name)}Dlq",
            queue_name=f"{self.prefix}-{kebab(name)}-dlq",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
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
            # policy already lets SNS use the key for this stack's topics (see _data_key).
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

    def _private_bucket(
        self, construct_id: str, key: kms.IKey, log_prefix: str, keep_versions_days: int,
        lifecycle_extra: dict | None = None,
    ) -> s3.Bucket:
        """KMS-encrypted, private, TLS-only, versioned and access-logged: every bucket here."""
        return s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix=log_prefix,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="tidy-versions",
                    noncurrent_version_expiration=cdk.Duration.days(keep_versions_days),
                    **(lifecycle_extra or {}),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _ehr_bucket(self) -> s3.Bucket:
        return self._private_bucket(
            "EhrBucket", self.key, "s3/ehr/", 90,
            {"abort_incomplete_multipart_upload_after": cdk.Duration.days(7)},
        )

    # --- End User Messaging SMS ---------------------------------------------------------------------

    def _sms(self) -> SmsIdentity:
        sms_profile = self.profile.sms
        if sms_profile.phone_number_id and sms_profile.pool_id:
            raise ConfigError(
                f"practice {self.profile.id}: sms.phone_number_id and sms.pool_id are both set; "
                "name one origination identity"
            )
        events_topic = self.topics[tables.SMS_EVENTS_TOPIC]
        inbound_topic = self.topics[tables.INBOUND_TOPIC]
        configuration_set = smsvoice.CfnConfigurationSet(
            self,
            "SmsConfigurationSet",
            configuration_set_name=self.prefix,
            event_destinations=[
                smsvoice.CfnConfigurationSet.EventDestinationProperty(
                    event_destination_name=f"{self.prefix}-sms-events",
                    enabled=True,
                    matching_event_types=["TEXT_ALL"],
                    sns_destination=smsvoice.CfnConfigurationSet.SnsDestinationProperty(
                        topic_arn=events_topic.topic_arn
                    ),
                )
            ],
        )
        configuration_set.node.add_dependency(events_topic)  # topic policy first
        opt_out_list = smsvoice.CfnOptOutList(
            self, "SmsOptOutList", opt_out_list_name=f"{self.prefix}-opt-outs"
        )
        # Opt-outs are a compliance record: they outlive the stack.
        opt_out_list.apply_removal_policy(cdk.RemovalPolicy.RETAIN)

        if sms_profile.pool_id:
            return SmsIdentity(
                configuration_set, opt_out_list, self._sms_arn("pool", sms_profile.pool_id), None
            )
        if sms_profile.phone_number_id:
            return SmsIdentity(
                configuration_set,
                opt_out_list,
                self._sms_arn("phone-number", sms_profile.phone_number_id),
                None,
            )

        name, phone = self.profile.name, self.profile.phone
        phone_number = smsvoice.CfnPhoneNumber(
            self,
            "SmsPhoneNumber",
            iso_country_code=sms_profile.country,
            number_capabilities=["SMS"],
            number_type=sms_profile.number_type,
            mandatory_keywords=smsvoice.CfnPhoneNumber.MandatoryKeywordsProperty(
                help=smsvoice.CfnPhoneNumber.MandatoryKeywordProperty(
                    message=f"{name}: appointment texts. Call {phone} for help. "
                    "Msg&data rates may apply. Reply STOP to opt out."
                ),
                stop=smsvoice.CfnPhoneNumber.MandatoryKeywordProperty(
                    message=f"{name}: you are unsubscribed and will get no more texts. "
                    "Reply START to resubscribe."
                ),
            ),
            opt_out_list_name=opt_out_list.ref,
            # Careloop answers STOP/HELP itself (English, Spanish, free text: one confirmation per
            # change, proof in its ledger) and keeps this opt-out list in step; AWS's automatic
            # replies would double them. The keyword messages above stay as AWS requires them.
            self_managed_opt_outs_enabled=True,
            two_way=smsvoice.CfnPhoneNumber.TwoWayProperty(
                enabled=True, channel_arn=inbound_topic.topic_arn
            ),
            deletion_protection_enabled=True,
        )
        phone_number.node.add_dependency(inbound_topic)  # topic policy first
        # Patients know the practice by this number; deleting the stack must not release it.
        phone_number.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        return SmsIdentity(configuration_set, opt_out_list, phone_number.attr_arn, phone_number)

    def _sms_arn(self, resource: str, identity: str) -> str:
        if identity.startswith("arn:"):
            return identity
        return self.format_arn(
            service="sms-voice",
            resource=resource,
            resource_name=identity,
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )

    # --- staff identity and web front ------------------------------------------------------------

    def _staff_user_pool(self) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        pool = cognito.UserPool(
            self,
            "StaffUserPool",
            user_pool_name=f"{self.prefix}-staff",
            self_sign_up_enabled=False,  # staff are invited by an administrator
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(3),
            ),
            # Staff see PHI: a second factor is required (TOTP app; no SMS, which needs an SNS
            # role and is weaker against SIM swaps).
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Plus tier: threat protection (compromised credentials, adaptive auth) enforced.
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            user_invitation=cognito.UserInvitationConfig(
                email_subject=f"{self.profile.name}: your Careloop staff account",
                email_body="Your Careloop username is {username} and temporary password {####}",
            ),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        client = pool.add_client(
            "WebClient",
            user_pool_client_name=f"{self.prefix}-web",
            generate_secret=False,  # a browser app cannot keep a secret
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            disable_o_auth=True,  # no hosted UI: the SPA signs in with the auth flows above
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=cdk.Duration.minutes(60),
            id_token_validity=cdk.Duration.minutes(60),
            refresh_token_validity=cdk.Duration.hours(12),
            # the first sign-in sets up an authenticator app (MFA is required): 3 minutes,
            # Cognito's default, is often too short for that
            auth_session_validity=cdk.Duration.minutes(15),
        )
        return pool, client

    def _web_front(self) -> tuple[s3.Bucket, cloudfront.Distribution]:
        # Its own key: CloudFront's OAC needs kms:Decrypt on it, and that must not reach PHI.
        web_key = kms.Key(
            self,
            "WebKey",
            alias=f"alias/{self.prefix}-web",
            description=f"Careloop {self.profile.id}: web app assets (no PHI)",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        bucket = self._private_bucket("WebBucket", web_key, "s3/web/", 30)
        region = cdk.Aws.REGION
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "WebSecurityHeaders",
            response_headers_policy_name=f"{self.prefix}-web-security",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(730),
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(
                    protection=True, mode_block=True, override=True
                ),
                # The SPA talks to API Gateway and Cognito only. A wildcard on execute-api (not
                # this API's id) because API -> distribution already exists (CORS origin).
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=(
                        "default-src 'self'; script-src 'self'; style-src 'self'; "
                        "img-src 'self' data:; font-src 'self'; object-src 'none'; "
                        f"connect-src 'self' https://*.execute-api.{region}.amazonaws.com "
                        f"https://cognito-idp.{region}.amazonaws.com; "
                        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
                    ),
                    override=True,
                ),
            ),
        )
        distribution = cloudfront.Distribution(
            self,
            "WebDistribution",
            comment=f"Careloop staff app ({self.profile.id})",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            # Client-side routes: unknown keys come back as 403 from S3 through OAC.
            error_responses=[
                cloudfront.ErrorResponse(
                    http_status=status,
                    response_http_status=200,
                    response_page_path="/index.html",
                    ttl=cdk.Duration.seconds(0),
                )
                for status in (403, 404)
            ],
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            # The staff app serves one practice: reachable from its country only.
            geo_restriction=cloudfront.GeoRestriction.allowlist(self.profile.sms.country),
        )
        return bucket, distribution

    def _web_deployment(self, web_dist: Path | None) -> s3deploy.BucketDeployment | None:
        # Only when the SPA has been built (`make` builds web/dist). A synth on a fresh clone or in
        # CI without npm must still work, and an empty bucket is a valid (if blank) state.
        if web_dist is None or not (web_dist / "index.html").is_file():
            return None
        # The SPA reads its settings from /config.json at start-up (web/src/config.ts), so one
        # build serves every practice; the values are only known at deploy time.
        config = s3deploy.Source.json_data(
            "config.json",
            {
                "practiceName": self.profile.name,
                "apiBase": f"{self.api.url}api",
                "cognito": {
                    "endpoint": f"https://cognito-idp.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}/",
                    "region": cdk.Aws.REGION,
                    "userPoolId": self.user_pool.user_pool_id,
                    "clientId": self.user_pool_client.user_pool_client_id,
                },
            },
        )
        return s3deploy.BucketDeployment(
            self,
            "WebDeployment",
            sources=[s3deploy.Source.asset(str(web_dist)), config],
            destination_bucket=self.web_bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
            log_group=self._log_group(
                "WebDeploymentLogs", f"/aws/lambda/{self.prefix}-web-deployment"
            ),
        )

    def _webhook_secret(self) -> tuple[secretsmanager.ISecret, secretsmanager.Secret | None]:
        ref = self.profile.webhook_secret_ref
        if ref:
            return secretsmanager.Secret.from_secret_name_v2(self, "WebhookSecret", ref), None
        created = secretsmanager.Secret(
            self,
            "WebhookSecret",
            secret_name=f"careloop/{self.profile.id}/webhook-secret",
            description="HMAC secret shared with the EHR for /ehr webhooks",
            encryption_key=self.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True
            ),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        return created, created

    # --- functions --------------------------------------------------------------------------------

    def _function(self, spec: wiring.FunctionSpec, code_dir: Path) -> None:
        cid = pascal(spec.name)
        function_name = f"{self.prefix}-{kebab(spec.name)}"
        log_group_name = f"/aws/lambda/{function_name}"
        log_group = self._log_group(f"{cid}Logs", log_group_name)
        source = spec.source

        async_dlq = None
        if isinstance(source, (wiring.StreamSource, wiring.ScheduleSource)):
            # Stream: records that still fail after retries and bisecting. Schedule: ticks that
            # failed (function DLQ) or could not be delivered (rule-target DLQ).
            async_dlq = sqs.Queue(
                self,
                f"{cid}Dlq",
                queue_name=f"{function_name}-dlq",
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=self.key,
                enforce_ssl=True,
                retention_period=cdk.Duration.days(14),
            )
            self.function_dlqs[spec.name] = async_dlq

        policy = iam.ManagedPolicy(
            self,
            f"{cid}Policy",
            managed_policy_name=f"{function_name}-{cdk.Aws.REGION}",
            description=f"Least privilege for {function_name}, generated from careloop.wiring",
            statements=self._statements(spec, log_group_name, async_dlq),
        )
        role = iam.Role(
            self,
            f"{cid}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {function_name}",
            managed_policies=[policy],
        )
        function = lambda_.Function(
            self,
            f"{cid}Function",
            function_name=function_name,
            description=spec.description[:256],
            runtime=bundling.RUNTIME,
            architecture=bundling.ARCHITECTURE,
            handler="handler.handler",
            code=bundling.function_code(code_dir),
            layers=[self.layer],
            # Every permission is in the managed policy above, written out from the wiring table;
            # CDK's automatic grants (event sources, tracing) would add a second, broader inline
            # policy, so the role is handed over read-only.
            role=role.without_policy_updates(),
            environment=self._environment(spec),
            timeout=cdk.Duration.seconds(spec.timeout_s),
            memory_size=spec.memory_mb,
            reserved_concurrent_executions=spec.reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            dead_letter_queue=async_dlq if isinstance(source, wiring.ScheduleSource) else None,
            # A failed tick is not retried: the next one, a minute later, redoes the work.
            retry_attempts=0 if isinstance(source, wiring.ScheduleSource) else None,
            max_event_age=cdk.Duration.minutes(2)
            if isinstance(source, wiring.ScheduleSource)
            else None,
        )
        function.node.add_dependency(policy)
        self.functions[spec.name] = function
        self.policies[spec.name] = policy
        self.log_group_names[spec.name] = log_group_name
        self._event_source(spec, function, async_dlq)

    def _statements(
        self, spec: wiring.FunctionSpec, log_group_name: str, async_dlq: sqs.Queue | None
    ) -> list[iam.PolicyStatement]:
        statements = [
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    self.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"{log_group_name}:log-stream:*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
        ]
        wildcard_actions = list(XRAY)  # these actions have no resource-level permissions
        source = spec.source
        decrypt, encrypt = False, False

        reads = [t for t in spec.reads]
        if isinstance(source, wiring.StreamSource) and source.table not in reads:
            reads.append(source.table)
        for logical in dict.fromkeys(reads):
            table, table_spec = self.tables[logical], _table_spec(logical)
            statements.append(
                iam.PolicyStatement(
                    sid=f"Read{pascal(logical)}",
                    actions=list(DDB_READ),
                    resources=[table.table_arn]
                    + [f"{table.table_arn}/index/{i.name}" for i in table_spec.indexes],
                )
            )
            decrypt = True
        for logical in spec.writes:
            statements.append(
                iam.PolicyStatement(
                    sid=f"Write{pascal(logical)}",
                    actions=list(DDB_WRITE),
                    resources=[self.tables[logical].table_arn],
                )
            )
            decrypt = encrypt = True
        if isinstance(source, wiring.StreamSource):
            statements.append(
                iam.PolicyStatement(
                    sid="ReadOwnStream",
                    actions=list(DDB_STREAM),
                    resources=[self.tables[source.table].table_stream_arn],
                )
            )
            wildcard_actions.append("dynamodb:ListStreams")
        if isinstance(source, wiring.QueueSource):
            statements.append(
                iam.PolicyStatement(
                    sid="ConsumeOwnQueue",
                    actions=list(SQS_CONSUME),
                    resources=[self.queues[source.queue].queue_arn],
                )
            )
            decrypt = True
        if async_dlq is not None:
            statements.append(
                iam.PolicyStatement(
                    sid="SendToOwnDlq",
                    actions=["sqs:SendMessage", "sqs:GetQueueAttributes"],
                    resources=[async_dlq.queue_arn],
                )
            )
            decrypt = encrypt = True
        if spec.sends_to:
            statements.append(
                iam.PolicyStatement(
                    sid="SendToQueues",
                    actions=["sqs:SendMessage"],
                    resources=[self.queues[q].queue_arn for q in spec.sends_to],
                )
            )
            decrypt = encrypt = True
        if spec.publishes_to:
            statements.append(
                iam.PolicyStatement(
                    sid="PublishToTopics",
                    actions=["sns:Publish"],
                    resources=[self.topics[t].topic_arn for t in spec.publishes_to],
                )
            )
            decrypt = encrypt = True
        for logical in spec.bucket_write:
            if logical != tables.EHR_BUCKET:
                raise ConfigError(f"wiring: {spec.name} writes to unknown bucket {logical!r}")
            statements.append(
                iam.PolicyStatement(
                    sid="WriteEhrArchive",
                    actions=["s3:PutObject"],
                    resources=[
                        self.ehr_bucket.arn_for_objects(f"{prefix}/*")
                        for prefix in ("archive", "quarantine")
                    ],
                )
            )
            decrypt = encrypt = True
        if isinstance(source, wiring.ApiSource) and source.auth == "hmac":
            statements.append(
                iam.PolicyStatement(
                    sid="ReadWebhookSecret",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[self._secret_arn_for_policy()],
                )
            )
        if spec.ehr_token and self.profile.ehr.token_secret_ref:
            statements.append(
                iam.PolicyStatement(
                    sid="ReadEhrToken",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[cdk.Arn.format(cdk.ArnComponents(
                        service="secretsmanager", resource="secret",
                        resource_name=f"{self.profile.ehr.token_secret_ref}-??????",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME), self)],
                )
            )
        if spec.llm and self.profile.agent.llm_enabled:
            statements += self._bedrock_statements()
        if spec.sms:
            statements.append(
                iam.PolicyStatement(
                    sid="SendSms",
                    actions=list(SMS_SEND),
                    resources=[
                        self.sms.configuration_set.attr_arn,
                        self.sms.origination_arn,
                        self.sms.opt_out_list.attr_arn,
                    ],
                )
            )
            statements.append(
                iam.PolicyStatement(
                    sid="ManageOptOuts",
                    actions=list(SMS_OPT_OUT),
                    resources=[self.sms.opt_out_list.attr_arn],
                )
            )
        if decrypt or encrypt:
            statements.append(
                iam.PolicyStatement(
                    sid="UseDataKey",
                    actions=list(KMS_DECRYPT) + (list(KMS_ENCRYPT) if encrypt else []),
                    resources=[self.key.key_arn],
                )
            )
        statements.append(
            iam.PolicyStatement(
                sid="NoResourceLevelActions", actions=wildcard_actions, resources=["*"]
            )
        )
        return statements

    def _llm_region(self) -> cdk.CfnCondition:
        """True in the regions of the profile's `agent.llm_regions` (where the model is offered)."""
        found = self.node.try_find_child("LlmRegion")
        if found is not None:
            return found  # type: ignore[return-value]
        regions = [cdk.Fn.condition_equals(cdk.Aws.REGION, r) for r in self.profile.agent.llm_regions]
        expression = regions[0] if len(regions) == 1 else cdk.Fn.condition_or(*regions)
        return cdk.CfnCondition(self, "LlmRegion", expression=expression)

    def _bedrock_statements(self) -> list[iam.PolicyStatement]:
        """bedrock:InvokeModel (what Converse needs) on the profile's model and nothing else: the
        foundation model in this region, or, for an inference-profile id (us./eu./global. ...),
        that profile here plus its foundation model in whichever region the profile routes to,
        and only through that profile (AWS's documented cross-region inference policy)."""
        model_id = self.profile.agent.llm_model_id
        prefix, foundation = self.profile.agent.bedrock_model()
        if prefix is None:
            return [iam.PolicyStatement(
                sid="InvokeLlmModel", actions=["bedrock:InvokeModel"],
                resources=[self.format_arn(service="bedrock", account="", resource="foundation-model",
                                           resource_name=foundation)],
            )]
        profile_arn = self.format_arn(service="bedrock", resource="inference-profile", resource_name=model_id)
        return [
            iam.PolicyStatement(sid="InvokeLlmProfile", actions=["bedrock:InvokeModel"], resources=[profile_arn]),
            iam.PolicyStatement(
                sid="InvokeLlmModelThroughProfile", actions=["bedrock:InvokeModel"],
                resources=[self.format_arn(service="bedrock", region="*", account="",
                                           resource="foundation-model", resource_name=foundation)],
                conditions={"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}},
            ),
        ]

    def _secret_arn_for_policy(self) -> str:
        if self.generated_webhook_secret is not None:
            return self.generated_webhook_secret.secret_arn
        # An imported-by-name secret's ARN ends in a random 6-character suffix.
        return f"{self.webhook_secret.secret_arn}-??????"

    def _environment(self, spec: wiring.FunctionSpec) -> dict[str, str]:
        env = dict(POWERTOOLS_ENV)
        env["CARELOOP_PRACTICE_FILE"] = bundling.PRACTICE_FILE_IN_LAYER
        tables_used = dict.fromkeys([*spec.reads, *spec.writes])
        if isinstance(spec.source, wiring.StreamSource):
            tables_used.setdefault(spec.source.table)
        for logical in tables_used:
            env[wiring.table_env(logical)] = self.tables[logical].table_name
        for logical in spec.sends_to:
            env[wiring.queue_env(logical)] = self.queues[logical].queue_url
        for logical in spec.publishes_to:
            env[wiring.topic_env(logical)] = self.topics[logical].topic_arn
        for logical in spec.bucket_write:
            env[wiring.bucket_env(logical)] = self.ehr_bucket.bucket_name
        if spec.sms:
            env["CARELOOP_SMS_CONFIGURATION_SET"] = self.sms.configuration_set.ref
            env["CARELOOP_SMS_ORIGINATION_IDENTITY"] = self.sms.origination_arn
            env["CARELOOP_SMS_OPT_OUT_LIST"] = self.sms.opt_out_list.ref
            env["CARELOOP_SMS_PARTS_PER_SECOND"] = str(self.profile.sms.parts_per_second)
        if spec.ehr_token and self.profile.ehr.token_secret_ref:
            env["CARELOOP_EHR_TOKEN_SECRET_ARN"] = self.profile.ehr.token_secret_ref
        if spec.llm and self.profile.agent.llm_enabled:
            # on where this region offers the model, decided at deploy time (the stack is region-agnostic)
            env["CARELOOP_LLM_AVAILABLE"] = cdk.Fn.condition_if(
                self._llm_region().logical_id, "true", "false").to_string()
        if isinstance(spec.source, wiring.ApiSource):
            if spec.source.auth == "hmac":
                env["CARELOOP_WEBHOOK_SECRET_ARN"] = (
                    self.generated_webhook_secret.secret_arn
                    if self.generated_webhook_secret is not None
                    else self.webhook_secret.secret_name
                )
            else:
                # Browser calls come from the CloudFront origin; the handler echoes it in CORS.
                env["CARELOOP_WEB_ORIGIN"] = self.web_origin
        return env

    def _event_source(
        self, spec: wiring.FunctionSpec, function: lambda_.Function, dlq: sqs.Queue | None
    ) -> None:
        source = spec.source
        if isinstance(source, wiring.StreamSource):
            function.add_event_source(
                sources.DynamoEventSource(
                    self.tables[source.table],
                    starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=source.batch_size,
                    retry_attempts=source.retry_attempts,
                    bisect_batch_on_error=True,
                    report_batch_item_failures=True,
                    on_failure=sources.SqsDlq(dlq),
                    max_record_age=cdk.Duration.days(1),
                    parallelization_factor=1,  # per-item order matters to the planner
                )
            )
        elif isinstance(source, wiring.QueueSource):
            function.add_event_source(
                sources.SqsEventSource(
                    self.queues[source.queue],
                    batch_size=source.batch_size,
                    report_batch_item_failures=True,
                    max_concurrency=source.max_concurrency,
                )
            )
        elif isinstance(source, wiring.ScheduleSource):
            rule = events.Rule(
                self,
                f"{pascal(spec.name)}Schedule",
                rule_name=f"{self.prefix}-{kebab(spec.name)}-schedule",
                description=f"Runs {spec.name} every {source.rate_minutes} minute(s)",
                schedule=events.Schedule.rate(cdk.Duration.minutes(source.rate_minutes)),
            )
            rule.add_target(
                targets.LambdaFunction(
                    function,
                    dead_letter_queue=dlq,
                    retry_attempts=2,
                    max_event_age=cdk.Duration.minutes(5),
                )
            )
            self.schedules[spec.name] = rule
        elif isinstance(source, wiring.ApiSource):
            self._routes(spec, source, function)
        else:  # pragma: no cover - the Source union is closed
            raise ConfigError(f"wiring: {spec.name} has an unknown source {source!r}")

    # --- API Gateway ------------------------------------------------------------------------------

    @property
    def api(self) -> apigw.RestApi:
        if self._api is None:
            self._api = self._rest_api()
        return self._api

    def _rest_api(self) -> apigw.RestApi:
        access_logs = self._log_group("ApiAccessLogs", f"/aws/apigateway/{self.prefix}-access")
        api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{self.prefix}-api",
            description="Careloop: EHR webhooks (/ehr, HMAC) and the staff API (/api, Cognito)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,  # execution logging needs the account-level role
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
            fail_on_warnings=True,
            deploy_options=apigw.StageOptions(
                stage_name=API_STAGE,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                tracing_enabled=True,
                metrics_enabled=True,
                # ERROR level and no data trace: request bodies (PHI) never reach the logs.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                throttling_rate_limit=25,
                throttling_burst_limit=50,
            ),
        )
        # API Gateway would create the execution log group itself, unencrypted and kept forever.
        execution_logs = self._log_group(
            "ApiExecutionLogs", f"API-Gateway-Execution-Logs_{api.rest_api_id}/{API_STAGE}"
        )
        api.deployment_stage.node.add_dependency(execution_logs)
        self.request_validator = api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "StaffAuthorizer",
            cognito_user_pools=[self.user_pool],
            authorizer_name=f"{self.prefix}-staff",
        )
        # Errors produced by API Gateway itself (401 from the authorizer, throttling) must carry
        # CORS headers too, or the browser hides them from the app.
        for response_type, cid in (
            (apigw.ResponseType.DEFAULT_4_XX, "Default4xx"),
            (apigw.ResponseType.DEFAULT_5_XX, "Default5xx"),
        ):
            api.add_gateway_response(
                cid,
                type=response_type,
                response_headers={"Access-Control-Allow-Origin": f"'{self.web_origin}'"},
            )
        return api

    def _routes(
        self, spec: wiring.FunctionSpec, source: wiring.ApiSource, function: lambda_.Function
    ) -> None:
        integration = apigw.LambdaIntegration(function, proxy=True, allow_test_invoke=False)
        for route in source.routes:
            resource = self.api.root.resource_for_path(route.path)
            if source.auth == "cognito":
                method = resource.add_method(
                    route.method,
                    integration,
                    authorizer=self.authorizer,
                    authorization_type=apigw.AuthorizationType.COGNITO,
                    request_validator=self.request_validator,
                )
                resource.add_cors_preflight(
                    allow_origins=[self.web_origin],
                    allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                    allow_headers=["Authorization", "Content-Type"],
                    max_age=cdk.Duration.hours(1),
                )
            else:
                method = resource.add_method(
                    route.method,
                    integration,
                    authorization_type=apigw.AuthorizationType.NONE,
                    request_validator=self.request_validator,
                )
                self.public_methods.append(method)

    # --- outputs ------------------------------------------------------------------------------------

    def _outputs(self) -> None:
        outputs = {
            "ApiUrl": (self.api.url, "Base URL of the REST API (/ehr/fhir, /ehr/hl7v2, /api/...)"),
            "WebUrl": (self.web_origin, "Staff web app (CloudFront)"),
            "UserPoolId": (self.user_pool.user_pool_id, "Staff Cognito user pool"),
            "UserPoolClientId": (self.user_pool_client.user_pool_client_id, "Web app client id"),
            "SmsOriginationIdentity": (
                self.sms.origination_arn,
                "Phone number / pool texts go out from",
            ),
            "SmsConfigurationSetName": (
                self.sms.configuration_set.ref,
                "End User Messaging configuration set",
            ),
            "SmsInboundTopicArn": (
                self.topics[tables.INBOUND_TOPIC].topic_arn,
                "Two-way SMS destination (set it on an existing number/pool named in the profile)",
            ),
        }
        for cid, (value, description) in outputs.items():
            cdk.CfnOutput(self, cid, value=value, description=description)


def _table_spec(logical: str) -> tables.TableSpec:
    for spec in tables.ALL_TABLES:
        if spec.logical == logical:
            return spec
    raise ConfigError(f"wiring: unknown table {logical!r}")
