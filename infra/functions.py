"""The functions construct: one Lambda per row of careloop.wiring.FUNCTIONS with its log group,
its own role and least-privilege policy, environment, DLQ and event source, on the core layer."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from careloop import tables, wiring
from careloop.errors import ConfigError
from careloop.practice import PracticeProfile
from infra import bundling
from infra.api import Api
from infra.common import POWERTOOLS_ENV, dead_letter_queue, flat_unique_id, kebab, log_group, pascal
from infra.data import Data
from infra.messaging import Messaging
from infra.sms import Sms

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


def sends_texts(spec: wiring.FunctionSpec) -> bool:
    """Only the send queue's consumer calls SendTextMessage: every other function that texts a
    patient (the SMS agent's replies, staff replies from the inbox) enqueues on the send queue, so
    the pacing, quiet hours and the opt-out re-check happen in one place."""
    source = spec.source
    return spec.sms and isinstance(source, wiring.QueueSource) and source.queue == tables.SEND_QUEUE


class Functions(Construct):
    """`functions`, `policies`, `roles`, `log_group_names` and `function_dlqs` (stream on-failure
    and schedule DLQs) by function name; `schedules` by function name; `layer`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        profile: PracticeProfile,
        prefix: str,
        data: Data,
        messaging: Messaging,
        sms: Sms,
        api: Api,
        layer_sources: bundling.LayerSources,
        functions_dir: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stack = cdk.Stack.of(self)
        self.profile, self.prefix = profile, prefix
        self.data, self.messaging, self.sms, self.api = data, messaging, sms, api
        self.layer = lambda_.LayerVersion(
            self,
            "CoreLayer",
            layer_version_name=f"{prefix}-core",
            description=f"careloop domain core + dependencies + practice profile ({profile.id})",
            code=bundling.core_layer_code(layer_sources),
            compatible_runtimes=[bundling.RUNTIME],
            compatible_architectures=[bundling.ARCHITECTURE],
        )
        self.functions: dict[str, lambda_.Function] = {}
        self.policies: dict[str, iam.ManagedPolicy] = {}
        self.roles: dict[str, iam.Role] = {}
        self.log_group_names: dict[str, str] = {}
        self.function_dlqs: dict[str, sqs.Queue] = {}
        self.schedules: dict[str, events.Rule] = {}
        for spec in wiring.FUNCTIONS:
            self._function(spec, functions_dir / spec.name)

    def _function(self, spec: wiring.FunctionSpec, code_dir: Path) -> None:
        cid = pascal(spec.name)
        function_name = f"{self.prefix}-{kebab(spec.name)}"
        log_group_name = f"/aws/lambda/{function_name}"
        logs = log_group(self, f"{cid}Logs", log_group_name, self.data.key)
        source = spec.source

        async_dlq = None
        if isinstance(source, (wiring.StreamSource, wiring.ScheduleSource)):
            # Stream: records that still fail after retries and bisecting. Schedule: ticks that
            # failed (function DLQ) or could not be delivered (rule-target DLQ).
            async_dlq = dead_letter_queue(self, f"{cid}Dlq", f"{function_name}-dlq", self.data.key)
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
        self.roles[spec.name] = role
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
            log_group=logs,
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
                    self.stack.format_arn(
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
            table, table_spec = self.data.tables[logical], self.data.table_spec(logical)
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
                    resources=[self.data.tables[logical].table_arn],
                )
            )
            decrypt = encrypt = True
        if isinstance(source, wiring.StreamSource):
            statements.append(
                iam.PolicyStatement(
                    sid="ReadOwnStream",
                    actions=list(DDB_STREAM),
                    resources=[self.data.tables[source.table].table_stream_arn],
                )
            )
            wildcard_actions.append("dynamodb:ListStreams")
        if isinstance(source, wiring.QueueSource):
            statements.append(
                iam.PolicyStatement(
                    sid="ConsumeOwnQueue",
                    actions=list(SQS_CONSUME),
                    resources=[self.messaging.queues[source.queue].queue_arn],
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
                    resources=[self.messaging.queues[q].queue_arn for q in spec.sends_to],
                )
            )
            decrypt = encrypt = True
        if spec.publishes_to:
            statements.append(
                iam.PolicyStatement(
                    sid="PublishToTopics",
                    actions=["sns:Publish"],
                    resources=[self.messaging.topics[t].topic_arn for t in spec.publishes_to],
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
                        self.data.ehr_bucket.arn_for_objects(f"{prefix}/*")
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
                    resources=[self.api.secret_arn_for_policy()],
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
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME), self.stack)],
                )
            )
        if spec.llm and self.profile.agent.llm_enabled:
            statements += self._bedrock_statements()
        if sends_texts(spec):
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
        if spec.sms:  # the carrier opt-out list follows consent wherever consent changes
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
                    resources=[self.data.key.key_arn],
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
                resources=[self.stack.format_arn(service="bedrock", account="", resource="foundation-model",
                                           resource_name=foundation)],
            )]
        profile_arn = self.stack.format_arn(service="bedrock", resource="inference-profile", resource_name=model_id)
        return [
            iam.PolicyStatement(sid="InvokeLlmProfile", actions=["bedrock:InvokeModel"], resources=[profile_arn]),
            iam.PolicyStatement(
                sid="InvokeLlmModelThroughProfile", actions=["bedrock:InvokeModel"],
                resources=[self.stack.format_arn(service="bedrock", region="*", account="",
                                           resource="foundation-model", resource_name=foundation)],
                conditions={"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}},
            ),
        ]

    def _environment(self, spec: wiring.FunctionSpec) -> dict[str, str]:
        env = dict(POWERTOOLS_ENV)
        env["CARELOOP_PRACTICE_FILE"] = bundling.PRACTICE_FILE_IN_LAYER
        tables_used = dict.fromkeys([*spec.reads, *spec.writes])
        if isinstance(spec.source, wiring.StreamSource):
            tables_used.setdefault(spec.source.table)
        for logical in tables_used:
            env[wiring.table_env(logical)] = self.data.tables[logical].table_name
        for logical in spec.sends_to:
            env[wiring.queue_env(logical)] = self.messaging.queues[logical].queue_url
        for logical in spec.publishes_to:
            env[wiring.topic_env(logical)] = self.messaging.topics[logical].topic_arn
        for logical in spec.bucket_write:
            env[wiring.bucket_env(logical)] = self.data.ehr_bucket.bucket_name
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
                    self.api.generated_webhook_secret.secret_arn
                    if self.api.generated_webhook_secret is not None
                    else self.api.webhook_secret.secret_name
                )
            else:
                # Browser calls come from the CloudFront origin; the handler echoes it in CORS.
                env["CARELOOP_WEB_ORIGIN"] = self.api.web_origin
        return env

    def _event_source(
        self, spec: wiring.FunctionSpec, function: lambda_.Function, dlq: sqs.Queue | None
    ) -> None:
        source = spec.source
        # Mappings named as CDK's DynamoEventSource / SqsEventSource name them (see flat_unique_id).
        if isinstance(source, wiring.StreamSource):
            table = self.data.tables[source.table]
            function.add_event_source_mapping(
                f"DynamoDBEventSource:{flat_unique_id(table)}",
                event_source_arn=table.table_stream_arn,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=source.batch_size,
                retry_attempts=source.retry_attempts,
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(dlq),
                max_record_age=cdk.Duration.days(1),
                parallelization_factor=1,  # per-item order matters to the planner
            )
        elif isinstance(source, wiring.QueueSource):
            queue = self.messaging.queues[source.queue]
            function.add_event_source_mapping(
                f"SqsEventSource:{flat_unique_id(queue)}",
                event_source_arn=queue.queue_arn,
                batch_size=source.batch_size,
                report_batch_item_failures=True,
                max_concurrency=source.max_concurrency,
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
            self.api.add_routes(spec, source, function)
        else:  # pragma: no cover - the Source union is closed
            raise ConfigError(f"wiring: {spec.name} has an unknown source {source!r}")
