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
from infra.grants import Grants
from infra.messaging import Messaging
from infra.sms import Sms
from infra.voice import Voice

# Files a function serves besides its code: the booking function answers GET /b/<token> with the
# built booking page (careloop.booking.page looks for booking.html beside the handler).
FUNCTION_EXTRAS: dict[str, dict[str, Path]] = {
    "booking": {"booking.html": bundling.ROOT / "web" / "dist" / "booking.html"},
}


def booking_base_url(profile: PracticeProfile, web_origin: str) -> str:
    """Where deployed personal links point: the profile's `booking.link_base_url` (a short custom
    domain) when it names one, else the CloudFront origin that serves the booking page."""
    custom = profile.booking.link_base_url if profile.booking is not None else None
    return custom or web_origin


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
        voice: Voice | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stack = cdk.Stack.of(self)
        self.profile, self.prefix = profile, prefix
        self.data, self.messaging, self.sms, self.api, self.voice = data, messaging, sms, api, voice
        self.grants = Grants(self.stack, profile=profile, data=data, messaging=messaging, sms=sms, api=api,
                             connect_instance_arn=voice.instance_arn if voice is not None else None)
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
        for spec in wiring.deployed(voice is not None):  # the voice agent's only with the voice construct
            self._function(spec, functions_dir / spec.name)

    def _function(self, spec: wiring.FunctionSpec, code_dir: Path) -> None:
        cid = pascal(spec.name)
        function_name = f"{self.prefix}-{kebab(spec.name)}"
        log_group_name = f"/aws/lambda/{function_name}"
        logs = log_group(self, f"{cid}Logs", log_group_name, self.data.key)
        source = spec.source

        async_dlq = None
        if isinstance(source, (wiring.StreamSource, wiring.ScheduleSource, wiring.ContactEventSource)):
            # Stream: records that still fail after retries and bisecting. Schedule and contact
            # events: invocations that failed (function DLQ) or could not be delivered (rule-target DLQ).
            async_dlq = dead_letter_queue(self, f"{cid}Dlq", f"{function_name}-dlq", self.data.key)
            self.function_dlqs[spec.name] = async_dlq

        policy = iam.ManagedPolicy(
            self,
            f"{cid}Policy",
            managed_policy_name=f"{function_name}-{cdk.Aws.REGION}",
            description=f"Least privilege for {function_name}, generated from careloop.wiring",
            statements=self.grants.statements(spec, log_group_name, async_dlq),
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
            code=bundling.function_code(code_dir, FUNCTION_EXTRAS.get(spec.name)),
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
            dead_letter_queue=async_dlq if isinstance(source, (wiring.ScheduleSource, wiring.ContactEventSource))
            else None,
            # A failed tick is not retried: the next one, a minute later, redoes the work. A contact
            # event is: it is the only word that a call was missed.
            retry_attempts=0 if isinstance(source, wiring.ScheduleSource)
            else 2 if isinstance(source, wiring.ContactEventSource) else None,
            max_event_age=cdk.Duration.minutes(2)
            if isinstance(source, wiring.ScheduleSource)
            else cdk.Duration.minutes(source.max_event_age_minutes)
            if isinstance(source, wiring.ContactEventSource)
            else None,
        )
        function.node.add_dependency(policy)
        self.functions[spec.name] = function
        self.policies[spec.name] = policy
        self.log_group_names[spec.name] = log_group_name
        self._event_source(spec, function, async_dlq)

    def _llm_region(self) -> cdk.CfnCondition:
        """True in the regions of the profile's `agent.llm_regions` (where the model is offered)."""
        found = self.node.try_find_child("LlmRegion")
        if found is not None:
            return found  # type: ignore[return-value]
        regions = [cdk.Fn.condition_equals(cdk.Aws.REGION, r) for r in self.profile.agent.llm_regions]
        expression = regions[0] if len(regions) == 1 else cdk.Fn.condition_or(*regions)
        return cdk.CfnCondition(self, "LlmRegion", expression=expression)

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
        if self.profile.booking is not None and {tables.MESSAGES.logical, tables.BOOKING.logical} <= set(spec.writes):
            # texts offering booking carry the patient's own link (minted in the booking table),
            # on the profile's custom domain, else the CloudFront origin the page is served from
            env["CARELOOP_BOOKING_BASE_URL"] = booking_base_url(self.profile, self.api.web_origin)
        if spec.ehr_token and self.profile.ehr.token_secret_ref:
            env["CARELOOP_EHR_TOKEN_SECRET_ARN"] = self.profile.ehr.token_secret_ref
        if spec.voice and self.voice is not None:
            env["CARELOOP_CONNECT_INSTANCE_ARN"] = self.voice.instance_arn
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
                env["CARELOOP_STAFF_USER_POOL_ID"] = self.api.user_pool.user_pool_id
        return env

    def _event_source(
        self, spec: wiring.FunctionSpec, function: lambda_.Function, dlq: sqs.Queue | None
    ) -> None:
        source = spec.source
        # Mappings named as CDK's DynamoEventSource / SqsEventSource name them (see flat_unique_id).
        if isinstance(source, wiring.StreamSource):
            table = self.data.tables[source.table]
            if dlq is None:
                raise ConfigError(f"{spec.name}: a stream consumer is built with its on-failure DLQ")
            function.add_event_source_mapping(
                f"DynamoDBEventSource:{flat_unique_id(table)}",
                event_source_arn=self.data.stream_arn(source.table),
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
        elif isinstance(source, (wiring.LexCodeHookSource, wiring.ContactEventSource)):
            pass  # the bot alias and the contact-event rule belong to infra.voice (Voice.connect)
        else:  # pragma: no cover - the Source union is closed
            raise ConfigError(f"wiring: {spec.name} has an unknown source {source!r}")
