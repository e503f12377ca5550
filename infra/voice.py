"""The voice construct: Amazon Connect (instance, hours, front-desk queue, number, flow) and the Lex V2
bot of careloop.voice.bot, wired to the voice and voice_events functions (spec/voice.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_connect as connect
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lex as lex
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr
from constructs import Construct

from careloop import wiring
from careloop.clocktime import WEEKDAYS
from careloop.errors import ConfigError
from careloop.practice import PracticeProfile, VoiceSettings
from careloop.voice.bot import BotDefinition, BotLocale, Intent, Slot, bot_definition
from infra.common import log_group
from infra.voice_flow import contact_flow

CONNECT_DAYS = dict(zip(WEEKDAYS, ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"),
                        strict=True))
ALIAS_NAME = "live"
CODE_HOOK_VERSION = "1.0"  # the Lex V2 code-hook event/response format the voice function speaks
SLOT_RETRIES = 2


def _hhmm(value: str) -> dict[str, int]:
    return {"hours": int(value[:2]), "minutes": int(value[3:])}


def hours_config(profile: PracticeProfile) -> list[dict]:
    """Connect's weekly hours from the profile's `hours` ("mon": "08:00-17:00" | "closed")."""
    config = []
    for day in WEEKDAYS:
        span = profile.hours.get(day, "closed")
        if span == "closed":
            continue
        start, end = span.split("-")
        config.append({"day": CONNECT_DAYS[day], "startTime": _hhmm(start), "endTime": _hhmm(end)})
    return config


def closed_day_overrides(profile: PracticeProfile) -> list[dict]:
    """One CLOSED override per day the whole office is closed (holidays, practice-wide closures)."""
    return [
        {"overrideName": f"closed-{day.isoformat()}", "overrideType": "CLOSED",
         "effectiveFrom": day.isoformat(), "effectiveTill": day.isoformat(),
         "overrideConfig": [{"day": CONNECT_DAYS[WEEKDAYS[day.weekday()]],
                             "startTime": {"hours": 0, "minutes": 0}, "endTime": {"hours": 0, "minutes": 0}}]}
        for day in profile.office_closed_days()
    ]


def _message(text: str) -> dict:
    return {"message": {"plainTextMessage": {"value": text}}}


def _slot(slot: Slot) -> dict:
    return {
        "name": slot.name,
        "description": slot.description or slot.name,
        "slotTypeName": slot.slot_type,
        "valueElicitationSetting": {
            "slotConstraint": slot.constraint,
            "promptSpecification": {"messageGroupsList": [_message(slot.prompt)], "maxRetries": SLOT_RETRIES,
                                    "allowInterrupt": True},
        },
    }


def _intent(intent: Intent) -> dict:
    out: dict = {"name": intent.name, "description": intent.description,
                 # every turn goes through the code hook: it decides what to ask, offer and do
                 "fulfillmentCodeHook": {"enabled": True}}
    if intent.parent_signature is not None:
        out["parentIntentSignature"] = intent.parent_signature
        return out
    out["dialogCodeHook"] = {"enabled": True}
    out["sampleUtterances"] = [{"utterance": u} for u in intent.utterances]
    if intent.slots:
        out["slots"] = [_slot(s) for s in intent.slots]
        out["slotPriorities"] = [{"priority": i + 1, "slotName": s.name} for i, s in enumerate(intent.slots)]
    return out


def bot_locale(locale: BotLocale) -> dict:
    """One CfnBot locale, in CloudFormation's property names, from the bot definition."""
    out: dict = {
        "localeId": locale.locale_id,
        "description": f"{locale.language}: the practice's phone assistant",
        "nluConfidenceThreshold": locale.confidence_threshold,
        "voiceSettings": {"voiceId": locale.voice_id, "engine": "neural"},
        "intents": [_intent(i) for i in locale.intents],
    }
    if locale.slot_types:
        out["slotTypes"] = [
            {"name": t.name, "description": t.description,
             # restricted: the code hook reads an appointment type id, never free text
             "valueSelectionSetting": {"resolutionStrategy": "TOP_RESOLUTION"},
             "slotTypeValues": [{"sampleValue": {"value": v.value}, "synonyms": [{"value": s} for s in v.synonyms]}
                                for v in t.values]}
            for t in locale.slot_types
        ]
    return out


class Voice(Construct):
    """The practice's phone line. Built in two steps: the Connect and Lex parts first (`instance_arn`
    is what the functions' grants need), then `connect(functions, dlqs)` wires the two functions."""

    def __init__(self, scope: Construct, construct_id: str, *, profile: PracticeProfile, prefix: str,
                 key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        if profile.voice is None or not profile.voice.enabled:
            raise ConfigError("voice: the voice construct is built only when the profile's voice.enabled is true")
        self.profile, self.prefix = profile, prefix
        self.settings: VoiceSettings = profile.voice
        self.definition: BotDefinition = bot_definition(profile)
        self.instance: connect.CfnInstance | None = None
        if self.settings.connect_instance_arn is None:
            self.instance = connect.CfnInstance(
                self, "ConnectInstance",
                identity_management_type="CONNECT_MANAGED",
                instance_alias=self.settings.instance_alias or prefix,
                attributes=connect.CfnInstance.AttributesProperty(
                    inbound_calls=True,
                    outbound_calls=False,  # callbacks are staff tasks, dialled by a person
                    # flow logs would copy callers' numbers and words into an unencrypted log group
                    contactflow_logs=False,
                    contact_lens=False,
                    auto_resolve_best_voices=True,
                    early_media=True,
                ),
            )
            self.instance_arn: str = self.instance.attr_arn
        else:
            self.instance_arn = self.settings.connect_instance_arn
        self.hours = connect.CfnHoursOfOperation(
            self, "OfficeHours", instance_arn=self.instance_arn, name=f"{prefix} office hours",
            description="The practice's opening hours and closed days, from its profile",
            time_zone=profile.timezone, config=hours_config(profile),
            hours_of_operation_overrides=closed_day_overrides(profile) or None,
        )
        self.queue = connect.CfnQueue(
            self, "FrontDeskQueue", instance_arn=self.instance_arn, name=self.settings.queue_name,
            description="Calls the voice agent hands to a person (SpeakToStaff, unresolved) in office hours",
            hours_of_operation_arn=self.hours.attr_hours_of_operation_arn,
        )
        self.phone_number: connect.CfnPhoneNumber | None = None
        if self.settings.phone_number_arn is None:
            self.phone_number = connect.CfnPhoneNumber(
                self, "PhoneNumber", target_arn=self.instance_arn, country_code=self.settings.country,
                type=self.settings.number_type, prefix=self.settings.number_prefix,
                description=f"{profile.name}: calls answered by the voice agent",
            )
            self.phone_number_arn: str = self.phone_number.attr_phone_number_arn
        else:
            self.phone_number_arn = self.settings.phone_number_arn
        self.bot_role, self.bot_policy = self._bot_role()
        self.bot = lex.CfnBot(
            self, "Bot", name=self.definition.name, description=self.definition.description[:200],
            role_arn=self.bot_role.role_arn,
            data_privacy={"ChildDirected": self.definition.child_directed},
            idle_session_ttl_in_seconds=self.definition.idle_session_ttl_seconds,
            auto_build_bot_locales=True,
            bot_locales=[bot_locale(loc) for loc in self.definition.locales],
        )
        self.bot.node.add_dependency(self.bot_policy)
        # A version is immutable: a changed definition needs a new one (its logical id carries the
        # definition's hash), which the alias then points at; CloudFormation retires the old one.
        digest = hashlib.sha256(json.dumps(self.bot.bot_locales, sort_keys=True, default=str).encode()).hexdigest()
        self.bot_version = lex.CfnBotVersion(
            self, f"BotVersion{digest[:8].upper()}", bot_id=self.bot.attr_id,
            description=f"careloop bot definition {digest[:12]}",
            bot_version_locale_specification=[
                {"localeId": loc.locale_id, "botVersionLocaleDetails": {"sourceBotVersion": "DRAFT"}}
                for loc in self.definition.locales
            ],
        )
        self.log_group_names: list[str] = []  # for the key policy (infra.data.allow_log_groups)

    def _bot_role(self) -> tuple[iam.Role, iam.ManagedPolicy]:
        policy = iam.ManagedPolicy(
            self, "BotPolicy", description="What the Lex V2 bot itself calls: Amazon Polly, for its voice",
            statements=[iam.PolicyStatement(sid="SpeakWithPolly", actions=["polly:SynthesizeSpeech"],
                                            resources=["*"])],
        )
        role = iam.Role(
            self, "BotRole", assumed_by=iam.ServicePrincipal("lexv2.amazonaws.com"),
            description=f"Runtime role of the {self.definition.name} Lex V2 bot", managed_policies=[policy],
        )
        return role, policy

    def connect(self, functions: Mapping[str, lambda_.IFunction], function_dlqs: Mapping[str, sqs.IQueue]) -> None:
        """The alias with the code hook, Connect's access to it, the flow on the number, and the
        contact-event rule into voice_events (its DLQ is the function's, from infra.functions)."""
        hook, events_function = functions["voice"], functions["voice_events"]
        self.alias = lex.CfnBotAlias(
            self, "BotAlias", bot_id=self.bot.attr_id, bot_alias_name=ALIAS_NAME,
            bot_version=self.bot_version.attr_bot_version,
            description="The bot Connect talks to, with the voice function as its code hook",
            bot_alias_locale_settings=[
                {"localeId": loc.locale_id,
                 "botAliasLocaleSetting": {"enabled": True, "codeHookSpecification": {"lambdaCodeHook": {
                     "lambdaArn": hook.function_arn, "codeHookInterfaceVersion": CODE_HOOK_VERSION}}}}
                for loc in self.definition.locales
            ],
            # conversation logs would hold callers' transcripts; the inbox keeps the turns, encrypted
            sentiment_analysis_settings={"DetectSentiment": False},
        )
        self.hook_permission = lambda_.CfnPermission(
            self, "LexInvokesCodeHook", action="lambda:InvokeFunction", function_name=hook.function_arn,
            principal="lexv2.amazonaws.com", source_arn=self.alias.attr_arn, source_account=cdk.Aws.ACCOUNT_ID,
        )
        self.lex_association = connect.CfnIntegrationAssociation(
            self, "LexIntegration", instance_id=self.instance_arn, integration_type="LEX_BOT",
            integration_arn=self.alias.attr_arn,
        )
        self.flow_content = contact_flow(self.profile, bot_alias_arn=self.alias.attr_arn,
                                         queue_arn=self.queue.attr_queue_arn,
                                         hours_arn=self.hours.attr_hours_of_operation_arn)
        self.flow = connect.CfnContactFlow(
            self, "InboundFlow", instance_arn=self.instance_arn, name=f"{self.prefix} inbound",
            type="CONTACT_FLOW", description="Greeting, language, the Lex bot, transfer or callback (generated)",
            content=cdk.Stack.of(self).to_json_string(self.flow_content),
        )
        self.flow.node.add_dependency(self.lex_association)  # the flow may only name an associated bot
        self._number_on_flow()
        self._contact_events(events_function, function_dlqs["voice_events"])

    def _number_on_flow(self) -> None:
        instance_id = cdk.Fn.select(1, cdk.Fn.split("/", self.instance_arn))
        number_id = cdk.Fn.select(1, cdk.Fn.split("/", self.phone_number_arn))
        flow_id = cdk.Fn.select(3, cdk.Fn.split("/", self.flow.attr_contact_flow_arn))
        associate = cr.AwsSdkCall(
            service="Connect", action="associatePhoneNumberContactFlow",
            parameters={"PhoneNumberId": number_id, "InstanceId": instance_id, "ContactFlowId": flow_id},
            physical_resource_id=cr.PhysicalResourceId.of(f"{self.prefix}-number-flow"),
        )
        function_name = f"{self.prefix}-voice-number-flow"
        logs = log_group(self, "NumberOnFlowLogs", f"/aws/lambda/{function_name}", self.key)
        self.log_group_names.append(f"/aws/lambda/{function_name}")
        self.number_association = cr.AwsCustomResource(
            self, "NumberOnFlow",
            resource_type="Custom::ConnectPhoneNumberContactFlow",
            function_name=function_name, log_group=logs,
            on_create=associate, on_update=associate,
            on_delete=cr.AwsSdkCall(
                service="Connect", action="disassociatePhoneNumberContactFlow",
                parameters={"PhoneNumberId": number_id, "InstanceId": instance_id},
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements([
                iam.PolicyStatement(
                    sid="PointTheNumberAtTheFlow",
                    actions=["connect:AssociatePhoneNumberContactFlow", "connect:DisassociatePhoneNumberContactFlow"],
                    resources=[self.phone_number_arn, self.flow.attr_contact_flow_arn],
                ),
            ]),
            install_latest_aws_sdk=False,
        )

    def _contact_events(self, function: lambda_.IFunction, dlq: sqs.IQueue) -> None:
        source = wiring.by_name("voice_events").source
        if not isinstance(source, wiring.ContactEventSource):
            raise ConfigError("wiring: voice_events is built on a ContactEventSource")
        pattern = source.pattern(self.instance_arn)
        self.contact_event_rule = events.Rule(
            self, "ContactEventsRule", rule_name=f"{self.prefix}-voice-events",
            description="Ended calls of the practice's Connect instance -> voice_events (text-back, inbox)",
            event_pattern=events.EventPattern(source=pattern["source"], detail_type=pattern["detail-type"],
                                              detail=pattern["detail"]),
        )
        self.contact_event_rule.add_target(targets.LambdaFunction(
            function, dead_letter_queue=dlq, retry_attempts=source.retry_attempts,
            max_event_age=cdk.Duration.minutes(source.max_event_age_minutes),
        ))
