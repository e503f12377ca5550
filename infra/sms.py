"""The sms construct: End User Messaging SMS for one practice (configuration set with delivery
events, the opt-out list, and a two-way number unless the profile names an existing number/pool)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_smsvoice as smsvoice
from aws_cdk import aws_sns as sns
from constructs import Construct

from careloop.errors import ConfigError
from careloop.practice import PracticeProfile


class Sms(Construct):
    """What the senders use: `configuration_set`, `opt_out_list`, `origination_arn` (phone number
    or pool ARN: what SendTextMessage gets, and IAM scopes to) and `phone_number` (None when the
    profile names an existing one)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        profile: PracticeProfile,
        prefix: str,
        events_topic: sns.ITopic,
        inbound_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        sms_profile = profile.sms
        if sms_profile.phone_number_id and sms_profile.pool_id:
            raise ConfigError(
                f"practice {profile.id}: sms.phone_number_id and sms.pool_id are both set; "
                "name one origination identity"
            )
        self.configuration_set = smsvoice.CfnConfigurationSet(
            self,
            "SmsConfigurationSet",
            configuration_set_name=prefix,
            event_destinations=[
                smsvoice.CfnConfigurationSet.EventDestinationProperty(
                    event_destination_name=f"{prefix}-sms-events",
                    enabled=True,
                    matching_event_types=["TEXT_ALL"],
                    sns_destination=smsvoice.CfnConfigurationSet.SnsDestinationProperty(
                        topic_arn=events_topic.topic_arn
                    ),
                )
            ],
        )
        self.configuration_set.node.add_dependency(events_topic)  # topic policy first
        self.opt_out_list = smsvoice.CfnOptOutList(
            self, "SmsOptOutList", opt_out_list_name=f"{prefix}-opt-outs"
        )
        # Opt-outs are a compliance record: they outlive the stack.
        self.opt_out_list.apply_removal_policy(cdk.RemovalPolicy.RETAIN)

        self.phone_number: smsvoice.CfnPhoneNumber | None = None
        if sms_profile.pool_id:
            self.origination_arn = self._sms_arn("pool", sms_profile.pool_id)
        elif sms_profile.phone_number_id:
            self.origination_arn = self._sms_arn("phone-number", sms_profile.phone_number_id)
        else:
            self.phone_number = self._new_number(profile, inbound_topic)
            self.origination_arn = self.phone_number.attr_arn

    def _new_number(self, profile: PracticeProfile, inbound_topic: sns.ITopic) -> smsvoice.CfnPhoneNumber:
        name, phone = profile.name, profile.phone
        phone_number = smsvoice.CfnPhoneNumber(
            self,
            "SmsPhoneNumber",
            iso_country_code=profile.sms.country,
            number_capabilities=["SMS"],
            number_type=profile.sms.number_type,
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
            opt_out_list_name=self.opt_out_list.ref,
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
        return phone_number

    def _sms_arn(self, resource: str, identity: str) -> str:
        if identity.startswith("arn:"):
            return identity
        return cdk.Stack.of(self).format_arn(
            service="sms-voice",
            resource=resource,
            resource_name=identity,
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
