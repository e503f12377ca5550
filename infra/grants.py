"""Least-privilege policies of the functions, written out from careloop.wiring: each statement
names its tables, indexes, queues, topics, key and SMS resources; no service wildcards."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

from careloop import tables, wiring
from careloop.ehr.jobs import JOB_ARCHIVE_PREFIX
from careloop.errors import ConfigError
from careloop.practice import PracticeProfile
from infra.api import Api
from infra.common import pascal
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


# what the staff API's staff page does to the user pool, and nothing else (no delete, no password)
STAFF_ADMIN = (
    "cognito-idp:AdminCreateUser", "cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminRemoveUserFromGroup",
    "cognito-idp:AdminListGroupsForUser", "cognito-idp:ListUsers", "cognito-idp:ListUsersInGroup",
)


class Grants:
    """Writes one function's policy statements; the parts it names are the stack's."""

    def __init__(
        self, stack: cdk.Stack, *, profile: PracticeProfile, data: Data, messaging: Messaging, sms: Sms, api: Api,
        connect_instance_arn: str | None = None,
    ) -> None:
        self.stack, self.profile = stack, profile
        self.data, self.messaging, self.sms, self.api = data, messaging, sms, api
        self.connect_instance_arn = connect_instance_arn  # the practice's Connect instance, when voice is on

    def statements(
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
                    resources=[self.data.stream_arn(source.table)],
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
        if spec.bucket_read_jobs:
            # the import worker reads the payloads the webhook archived for it, and nothing else
            statements.append(
                iam.PolicyStatement(
                    sid="ReadEhrImportJobs",
                    actions=["s3:GetObject"],
                    resources=[self.data.ehr_bucket.arn_for_objects(f"{JOB_ARCHIVE_PREFIX}*")],
                )
            )
            decrypt = True
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
        if spec.describe_contact:
            statements.append(self.describe_contact())
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
        if isinstance(source, wiring.ApiSource) and source.auth == "cognito":
            # staff management (admins only, careloop/roles.py): invite and set roles in this pool
            statements.append(
                iam.PolicyStatement(
                    sid="ManageStaffAccounts",
                    actions=list(STAFF_ADMIN),
                    resources=[self.api.user_pool.user_pool_arn],
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

    def describe_contact(self) -> iam.PolicyStatement:
        """connect:DescribeContact on the contacts of this practice's instance and no other."""
        if self.connect_instance_arn is None:
            raise ConfigError("wiring: a function that describes contacts needs the voice construct's instance")
        return iam.PolicyStatement(
            sid="DescribeOwnContacts", actions=["connect:DescribeContact"],
            resources=[f"{self.connect_instance_arn}/contact/*"],
        )

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
