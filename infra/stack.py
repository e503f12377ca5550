"""The Careloop stack for one practice: composes the constructs (data, messaging, sms, web, api,
voice, functions, waf, monitoring), each generated from careloop.wiring and careloop.tables."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import CfnElement
from constructs import Construct

from careloop import tables
from careloop.errors import ConfigError
from careloop.practice import PracticeProfile
from infra import bundling
from infra.api import API_STAGE, Api
from infra.common import POWERTOOLS_ENV, flat_components, flat_logical_id, kebab, pascal
from infra.data import Data
from infra.functions import Functions
from infra.messaging import Messaging
from infra.monitoring import Monitoring
from infra.sms import Sms
from infra.voice import Voice
from infra.waf import Waf
from infra.web import Web

__all__ = ["API_STAGE", "POWERTOOLS_ENV", "CareloopStack", "kebab", "pascal"]


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
        self.prefix = prefix = f"careloop-{profile.id}"
        cdk.Tags.of(self).add("careloop:practice", profile.id)

        self.data = Data(self, "Data", profile=profile, prefix=prefix)
        self.messaging = Messaging(self, "Messaging", profile=profile, prefix=prefix, key=self.data.key)
        self.sms = Sms(
            self, "Sms", profile=profile, prefix=prefix,
            events_topic=self.messaging.topics[tables.SMS_EVENTS_TOPIC],
            inbound_topic=self.messaging.topics[tables.INBOUND_TOPIC],
        )
        self.web = Web(self, "Web", profile=profile, prefix=prefix, key=self.data.key,
                       log_bucket=self.data.log_bucket)
        self.api_part = Api(self, "Api", profile=profile, prefix=prefix, key=self.data.key,
                            user_pool=self.web.user_pool, web_origin=self.web.web_origin)
        # the phone line, only when the profile turns voice on: Connect and Lex first (the functions'
        # grants name the instance), then its two functions are wired in
        self.voice = (Voice(self, "Voice", profile=profile, prefix=prefix, key=self.data.key)
                      if profile.voice is not None and profile.voice.enabled else None)
        self.compute = Functions(
            self, "Functions", profile=profile, prefix=prefix, data=self.data, messaging=self.messaging,
            sms=self.sms, api=self.api_part, layer_sources=layer_sources, functions_dir=functions_dir,
            voice=self.voice,
        )
        if self.voice is not None:
            self.voice.connect(self.compute.functions, self.compute.function_dlqs)
        self.web.add_booking(self.api)  # the patients' page and API on the staff app's distribution
        self.waf = Waf(self, "Waf", prefix=prefix, key=self.data.key, stage=self.api.deployment_stage,
                       web_origin=self.web.web_origin)
        self.web_deployment = self.web.deploy(web_dist, self.api.url)  # config.json names the API
        # every DLQ of the stack: the queues' own and the functions' (stream on-failure, schedule)
        self.all_dlqs = {**self.messaging.dlqs, **self.compute.function_dlqs}
        if len(self.all_dlqs) != len(self.messaging.dlqs) + len(self.compute.function_dlqs):
            raise ConfigError("wiring: a queue and a function share a name, so their DLQs would too")
        self.monitoring = Monitoring(self, "Monitoring", prefix=prefix, key=self.data.key,
                                     ops_topic=self.messaging.ops_topic, functions=self.compute.functions,
                                     dlqs=self.all_dlqs)
        self.ops_alarms = self.monitoring.alarms
        self.data.allow_log_groups(
            [*self.compute.log_group_names.values(), *self.api_part.log_group_names, *self.web.log_group_names,
             *self.waf.log_group_names, *(self.voice.log_group_names if self.voice is not None else [])]
        )

        # the handles tests and infra.nag use, flat as they were
        self.key, self.log_bucket, self.tables = self.data.key, self.data.log_bucket, self.data.tables
        self.backup_plan, self.backup_selection = self.data.backup_plan, self.data.backup_selection
        self.ehr_bucket = self.data.ehr_bucket
        self.topics, self.queues, self.dlqs = self.messaging.topics, self.messaging.queues, self.messaging.dlqs
        self.user_pool, self.user_pool_client = self.web.user_pool, self.web.user_pool_client
        self.web_bucket, self.distribution, self.web_origin = (
            self.web.web_bucket, self.web.distribution, self.web.web_origin)
        self.webhook_secret = self.api_part.webhook_secret
        self.generated_webhook_secret = self.api_part.generated_webhook_secret
        self.public_methods = self.api_part.public_methods
        self.booking_methods, self.book_model = self.api_part.booking_methods, self.api_part.book_model
        self.web_acl = self.waf.web_acl
        self.authorizer, self.request_validator = self.api_part.authorizer, self.api_part.request_validator
        self.layer, self.functions, self.policies = self.compute.layer, self.compute.functions, self.compute.policies
        self.roles, self.log_group_names = self.compute.roles, self.compute.log_group_names
        self.function_dlqs, self.schedules = self.compute.function_dlqs, self.compute.schedules

        self._outputs()

    @property
    def api(self):
        return self.api_part.api

    def _allocate_logical_id(self, cfn_element: CfnElement) -> str:
        """The id CDK would give without the construct level: unchanged from the flat stack."""
        scopes = cfn_element.node.scopes
        return flat_logical_id(flat_components(scopes[scopes.index(self) + 1:]))

    def _outputs(self) -> None:
        outputs = {
            "ApiUrl": (self.api.url, "Base URL of the REST API (/ehr/fhir, /ehr/hl7v2, /api/...)"),
            "BookingBaseUrl": (f"{self.web_origin}/b/", "Patients' personal booking links start here"),
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
        if self.voice is not None:
            outputs["ConnectInstanceArn"] = (self.voice.instance_arn, "Amazon Connect instance answering the calls")
            outputs["VoicePhoneNumberArn"] = (self.voice.phone_number_arn, "Number the voice agent answers")
            outputs["VoiceBotAliasArn"] = (self.voice.alias.attr_arn, "Lex V2 bot alias the contact flow talks to")
        for cid, (value, description) in outputs.items():
            cdk.CfnOutput(self, cid, value=value, description=description)
