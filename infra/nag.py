"""cdk-nag for Careloop: the AwsSolutions and HIPAA Security packs run on every synth, and this
module is the ONE place where a finding is acknowledged, each with its written reason.

cdk-nag 3.x packs are CDK policy-validation plugins: an unacknowledged error fails `app.synth()`
(and `cdk synth`). Acknowledgements use CDK's `Validations.of(scope).acknowledge(...)` with the
plugin-qualified id (`AwsSolutions::AwsSolutions-IAM5[Resource::*]`), so the validation report
lists every suppressed finding next to its reason. `unacknowledged()` also fails on warnings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import custom_resources as cr
from aws_cdk import cx_api
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks
from constructs import IConstruct

from careloop import wiring
from careloop.ehr.jobs import JOB_ARCHIVE_PREFIX

if TYPE_CHECKING:
    from infra.stack import CareloopStack
    from infra.voice import Voice

PACKS = ("AwsSolutions", "HIPAA.Security")
# The CDK CLI folds CDK's own warnings into the report under this name; app.py reads them from
# the assembly itself (cdk_warnings) when run directly.
GATED_PLUGINS = (*PACKS, "Construct Annotations")
REPORT_FILE = "validation-report.json"


@dataclass(frozen=True)
class Acknowledged:
    """One acknowledgement as applied: where, which finding, why."""

    path: str
    rule: str  # plugin-qualified id, as the validation report shows it
    reason: str


def apply_packs(app: cdk.App) -> None:
    """Run both packs as validation plugins on every synth of `app`."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app))


def qualified(rule: str) -> str:
    """`AwsSolutions-IAM5[...]` -> `AwsSolutions::AwsSolutions-IAM5[...]` (plugin::rule).
    Ids that already name their source (`Annotation::...`) pass through."""
    if rule.startswith("Annotation::"):
        return rule
    for pack in PACKS:
        if rule.startswith(f"{pack}-"):
            return f"{pack}::{rule}"
    raise ValueError(f"{rule!r} belongs to no applied pack ({', '.join(PACKS)})")


class _Acks:
    def __init__(self) -> None:
        self.applied: list[Acknowledged] = []

    def __call__(self, scope: IConstruct, reason: str, *rules: str) -> None:
        reason = " ".join(reason.split())
        if len(reason) < 40:
            raise ValueError(f"acknowledgement of {rules} at {scope.node.path} needs a real reason")
        for rule in rules:
            cdk.Validations.of(scope).acknowledge(
                cdk.Acknowledgment(id=qualified(rule), reason=reason)
            )
            self.applied.append(Acknowledged(scope.node.path, qualified(rule), reason))


# --- reasons ----------------------------------------------------------------------------------------

NO_VPC = """Careloop functions reach only AWS public service endpoints (DynamoDB, SQS, SNS, S3, KMS,
Secrets Manager, End User Messaging, X-Ray) over TLS with IAM-signed requests; there is no private
resource to reach. A VPC would need a NAT gateway or about ten interface endpoints per AZ (a large
fixed cost for one practice) without narrowing who can call what: IAM and resource policies do."""

NO_RESERVED_CONCURRENCY = """Reserved concurrency is set where the wiring table asks for it (the
dispatcher, 1). This function's throughput is bounded at its event source instead (SQS
max_concurrency, one concurrent batch per stream shard, API stage throttling); reserving more
would carve capacity out of the account pool (new accounts can start with a quota of 10, and AWS
keeps 100 unreserved) and turn bursts into throttles instead of queued work."""

SYNC_NO_DLQ = {
    "stream": """Invoked synchronously by a DynamoDB-stream event source mapping, which never uses a
function DLQ: records that still fail after the retry limit and bisecting go to the mapping's
on-failure SQS destination (<function>-dlq).""",
    "queue": """Invoked synchronously by an SQS event source mapping, which never uses a function DLQ:
messages that keep failing move to the source queue's DLQ through its redrive policy
(maxReceiveCount from the wiring table).""",
    "api": """Invoked synchronously by API Gateway, which never uses a function DLQ: the caller gets
the error and retries (EHRs resend webhooks, the staff app shows it); unparseable EHR payloads are
kept in the EHR bucket's quarantine/ prefix for replay.""",
    "lex": """Invoked synchronously by Amazon Lex V2 as the bot alias's code hook, which never uses a
function DLQ: a failed turn is answered by the bot's own failure prompt to the caller on the line,
and the contact flow sends an unfinished call to the front desk or a callback.""",
}

LEX_POLLY = """The Lex V2 bot speaks through Amazon Polly; SynthesizeSpeech has no resource to name for
its built-in voices. The role may call nothing else, and only lexv2.amazonaws.com can assume it."""

CONNECT_CONTACTS = """Contact ids are created per call at run time, so DescribeContact is granted on
the contact/* path of this practice's own Connect instance: no other instance, no other action."""

NUMBER_FLOW_RESOURCE = """CloudFormation cannot point a Connect phone number at a contact flow, so a CDK
AwsCustomResource calls AssociatePhoneNumberContactFlow once per deployment. Its provider is CDK's
singleton Lambda (runtime, role and policy chosen by aws-cdk-lib, inline policy generated from our
one statement on this number and this flow); it touches no PHI, logs to a KMS-encrypted group, and
DLQ, VPC and concurrency do not apply to a one-shot deploy step."""

STREAM_DLQ_IS_A_DLQ = """This queue is a dead-letter queue: the on-failure destination of the
DynamoDB-stream event source mapping. The rule only recognises redrive policies and function DLQs."""

LOG_STREAMS = """Lambda names its log streams at run time, so CreateLogStream/PutLogEvents need the
log-stream wildcard; it is scoped to this function's own log group."""

NO_RESOURCE_LEVEL = """The only actions on Resource "*" are X-Ray PutTraceSegments/PutTelemetryRecords
(and, for a stream consumer, dynamodb:ListStreams): AWS offers no resource-level permissions for
them. Every other statement in this policy names its tables, indexes, queues, topics and key."""

LLM_PROFILE_REGIONS = """The SMS agent's LLM tier (on in this practice's profile) calls Bedrock
through a cross-region inference profile, which routes each request to any region of its geography;
AWS requires InvokeModel on the foundation model in every such region. The grant names the one
model, and its condition admits it only through this practice's inference profile."""

EHR_OBJECT_KEYS = """Object keys are per message (archive/<date>/<id>, quarantine/<id>): s3:PutObject on those
two prefixes of the EHR bucket only; the import worker's s3:GetObject is on archive/jobs/<job id> only."""

NO_REPLICATION = {
    "EhrBucket": """The EHR archive is a copy: the practice's EHR is the system of record and the
bucket is versioned, KMS-encrypted and access-logged. Cross-region replication needs a second region
and key per practice; enable it where a practice's BAA or DR plan asks for it.""",
    "WebBucket": """The web bucket holds the built SPA (no PHI), reproducible from git by any
deployment; versioning covers accidental overwrites.""",
    "AccessLogsBucket": """Access logs for the other buckets and CloudFront; versioned and retained
400 days. A replica of logs about replicas adds cost without a recovery need.""",
}

LOG_BUCKET_SSE_S3 = """S3 server access logging only delivers to buckets with SSE-S3 default
encryption (SSE-KMS targets are not supported); the bucket holds request metadata, not PHI, and is
private, versioned and TLS-only."""

CF_DEFAULT_CERT = """The distribution uses the default *.cloudfront.net certificate, for which
CloudFront fixes the security policy; browsers negotiate TLS 1.2/1.3 and HTTP is redirected to
HTTPS. A practice with its own domain adds an ACM certificate and TLSv1.2_2021."""

CF_NO_WAF = """A CloudFront web ACL must be created in us-east-1 (a second, cross-region stack per
practice). The distribution serves static, PHI-free SPA files from S3, is geo-restricted to the
practice's country, and every data request it forwards (/b/*, /booking/api/*) reaches the API stage,
whose regional web ACL (infra.waf) rate-limits them per client IP and caps their body size."""

API_NO_CACHE = """Caching is deliberately off: /api responses are per-user PHI, /ehr are webhook
POSTs and /b, /booking/api answer one patient's link (and must see a spent link at once); none may be
served from a cache. With no cache there is nothing to encrypt."""

API_NO_CLIENT_CERT = """Client certificates let API Gateway authenticate itself to HTTP backends.
Every integration here is a Lambda proxy (invoked through the signed Lambda API), so a certificate
would protect nothing."""

EHR_HMAC = """EHR systems cannot sign in to Cognito. ehr_webhook authenticates every request itself
with an HMAC-SHA256 signature over the raw body, keyed by the practice's secret in Secrets Manager,
and answers 401 before parsing anything; the stage throttles the route."""

BOOKING_PUBLIC = """Patients book from a texted link without an account (booking.md: public, no
sign-in), so these routes cannot ask for Cognito. The booking function authenticates every request
by its personal link token (short-lived, one patient, one purpose, unguessable; 404 says nothing
about anyone), and the routes are throttled per route at the stage, per client IP by the web ACL
(infra.waf), per token in the service, and POST bodies are checked against the BookRequest model."""

APIGW_LOG_ROLE = """The account-level role API Gateway assumes to write execution logs; the
AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy is the documented, minimal one."""

BACKUP_ROLE = """AWS Backup's service role for the DynamoDB backup selection; the AWS-managed
AWSBackupServiceRolePolicyForBackup policy is what AWS Backup documents and maintains."""

BUCKET_DEPLOYMENT = """CDK's BucketDeployment custom resource (its own Lambda, runtime and policy
chosen by aws-cdk-lib) copies the built SPA into the web bucket and invalidates CloudFront during
deployments only. It touches no PHI; its permissions are CDK's grants on the asset and web buckets
and the web key. Its DLQ, VPC and concurrency do not apply to a one-shot deploy step."""

OAC_KEY_WILDCARD = """CDK warns that the web key's policy lets CloudFront decrypt for any distribution of
this account: naming our distribution would make key -> distribution -> bucket -> key a cycle. The
key encrypts only the public SPA files (PHI has its own key), and the bucket policy still admits
only this distribution's origin access control."""

WEBHOOK_SECRET_ROTATION = """The webhook secret is shared with the EHR vendor, who must be changed in
step; it is rotated by hand with the vendor (new secret, overlap, retire), not by a Lambda."""


# --- applying them ----------------------------------------------------------------------------------


def acknowledge(stack: CareloopStack) -> list[Acknowledged]:
    """Acknowledge, on the narrowest construct, each finding that is accepted by design."""
    ack = _Acks()
    _functions(stack, ack)
    _storage(stack, ack)
    _api(stack, ack)
    _web(stack, ack)
    _voice(stack, ack)
    if stack.generated_webhook_secret is not None:
        ack(
            stack.generated_webhook_secret,
            WEBHOOK_SECRET_ROTATION,
            "AwsSolutions-SMG4",
            "HIPAA.Security-SecretsManagerRotationEnabled",
        )
    return ack.applied


def _functions(stack: CareloopStack, ack: _Acks) -> None:
    for spec in wiring.deployed(stack.voice is not None):
        function, policy = stack.functions[spec.name], stack.policies[spec.name]
        ack(function, NO_VPC, "HIPAA.Security-LambdaInsideVPC")
        if spec.reserved_concurrency is None:
            ack(function, NO_RESERVED_CONCURRENCY, "HIPAA.Security-LambdaConcurrency")
        if spec.source.kind in SYNC_NO_DLQ:
            ack(function, SYNC_NO_DLQ[spec.source.kind], "HIPAA.Security-LambdaDLQ")
        if spec.source.kind == "stream":
            ack(stack.function_dlqs[spec.name], STREAM_DLQ_IS_A_DLQ, "AwsSolutions-SQS3")
        log_streams = (
            "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
            f"{stack.log_group_names[spec.name]}:log-stream:*"
        )
        ack(policy, LOG_STREAMS, f"AwsSolutions-IAM5[Resource::{log_streams}]")
        ack(policy, NO_RESOURCE_LEVEL, "AwsSolutions-IAM5[Resource::*]")
        if spec.llm and stack.profile.agent.llm_enabled:
            prefix, foundation = stack.profile.agent.bedrock_model()
            if prefix is not None:  # see infra.grants.Grants._bedrock_statements
                ack(policy, LLM_PROFILE_REGIONS,
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/{foundation}]")
        if spec.describe_contact and stack.voice is not None:
            ack(policy, CONNECT_CONTACTS, f"AwsSolutions-IAM5[Resource::{_instance(stack.voice)}/contact/*]")
        if spec.bucket_write:
            bucket = _logical_id(stack, stack.ehr_bucket)
            ack(
                policy,
                EHR_OBJECT_KEYS,
                *(
                    f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{prefix}*]"
                    for prefix in ("archive/", "quarantine/", *([JOB_ARCHIVE_PREFIX] if spec.bucket_read_jobs else []))
                ),
            )


def _storage(stack: CareloopStack, ack: _Acks) -> None:
    for bucket in (stack.ehr_bucket, stack.web_bucket, stack.log_bucket):
        ack(bucket, NO_REPLICATION[bucket.node.id], "HIPAA.Security-S3BucketReplicationEnabled")
    ack(stack.log_bucket, LOG_BUCKET_SSE_S3, "HIPAA.Security-S3DefaultEncryptionKMS")
    backup_role = stack.backup_selection.node.find_child("Role")
    ack(
        backup_role,
        BACKUP_ROLE,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
        "service-role/AWSBackupServiceRolePolicyForBackup]",
    )


def _api(stack: CareloopStack, ack: _Acks) -> None:
    api = stack.api
    ack(api.deployment_stage, API_NO_CACHE, "HIPAA.Security-APIGWCacheEnabledAndEncrypted")
    ack(api.deployment_stage, API_NO_CLIENT_CERT, "HIPAA.Security-APIGWSSLEnabled")
    ack(
        api.node.find_child("CloudWatchRole"),
        APIGW_LOG_ROLE,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
        "service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    )
    for method in stack.public_methods:
        ack(method, EHR_HMAC, "AwsSolutions-APIG4", "AwsSolutions-COG4")
    for method in stack.booking_methods:
        ack(method, BOOKING_PUBLIC, "AwsSolutions-APIG4", "AwsSolutions-COG4")


def _web(stack: CareloopStack, ack: _Acks) -> None:
    ack(stack.distribution, CF_DEFAULT_CERT, "AwsSolutions-CFR4")
    ack(stack.distribution, CF_NO_WAF, "AwsSolutions-CFR2")
    ack(
        stack,
        OAC_KEY_WILDCARD,
        "Annotation::@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac",
    )
    if stack.web_deployment is None:
        return
    handler = next(
        c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")
    )
    web_bucket = _logical_id(stack, stack.web_bucket)
    qualifier = (
        stack.synthesizer.bootstrap_qualifier or cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER
    )
    assets = f"arn:<AWS::Partition>:s3:::cdk-{qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*"
    ack(
        handler,
        BUCKET_DEPLOYMENT,
        "AwsSolutions-L1",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
        *(
            f"AwsSolutions-IAM5[Action::{action}]"
            for action in (
                "s3:GetObject*",
                "s3:GetBucket*",
                "s3:List*",
                "s3:DeleteObject*",
                "s3:Abort*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
            )
        ),
        f"AwsSolutions-IAM5[Resource::{assets}]",
        f"AwsSolutions-IAM5[Resource::<{web_bucket}.Arn>/*]",
        "AwsSolutions-IAM5[Resource::*]",
        "HIPAA.Security-IAMNoInlinePolicy",
        "HIPAA.Security-LambdaConcurrency",
        "HIPAA.Security-LambdaDLQ",
        "HIPAA.Security-LambdaInsideVPC",
    )


def _instance(voice: Voice) -> str:
    """The instance ARN as cdk-nag prints it: `<Id.Arn>` for the one the stack creates."""
    stack = cdk.Stack.of(voice)
    return voice.instance_arn if voice.instance is None else f"<{stack.resolve(stack.get_logical_id(voice.instance))}.Arn>"


def _voice(stack: CareloopStack, ack: _Acks) -> None:
    if (voice := stack.voice) is None:
        return
    ack(voice.bot_policy, LEX_POLLY, "AwsSolutions-IAM5[Resource::*]")
    ack(voice.number_association, NUMBER_FLOW_RESOURCE, "HIPAA.Security-IAMNoInlinePolicy")
    # CDK's SingletonFunction names the provider AWS<uuid without dashes>, at the stack's root
    provider = stack.node.find_child(f"AWS{cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace('-', '')}")
    ack(provider, NUMBER_FLOW_RESOURCE,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "HIPAA.Security-LambdaConcurrency", "HIPAA.Security-LambdaDLQ", "HIPAA.Security-LambdaInsideVPC")


def _logical_id(stack: cdk.Stack, construct: IConstruct) -> str:
    child = construct.node.default_child
    if not isinstance(child, cdk.CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to acknowledge on")
    return stack.resolve(stack.get_logical_id(child))


# --- reading the result -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    path: str

    def __str__(self) -> str:
        return f"{self.severity.upper()} {self.rule} at {self.path}"


def read_report(outdir: str | Path) -> dict:
    """The cloud assembly's validation report ({} when no plugin reported anything)."""
    path = Path(outdir) / REPORT_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def unacknowledged(report: dict) -> list[Finding]:
    """Every finding of our packs (and CDK warning), error or warning, no acknowledgement covers."""
    return [
        Finding(violation["ruleName"], violation["severity"], construct["constructPath"])
        for plugin in report.get("pluginReports", [])
        if plugin["pluginName"] in GATED_PLUGINS
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    ]


def cdk_warnings(assembly: cx_api.CloudAssembly) -> list[str]:
    """CDK's own warnings and errors (annotations) left after acknowledgements: an acknowledged
    annotation is dropped at the source, so whatever remains was never explained."""
    return [
        f"{message.level.name} {message.id}: {message.entry.data}"
        for stack in assembly.stacks
        for message in stack.messages
        if message.level.name in ("WARNING", "ERROR")
    ]


def used_acknowledgements(report: dict) -> set[tuple[str, str]]:
    """(construct path, plugin-qualified id) of our acknowledgements that suppressed a finding."""
    return {
        (suppressed["acknowledgedAt"], suppressed["acknowledgedId"])
        for plugin in report.get("pluginReports", [])
        if plugin["pluginName"] in GATED_PLUGINS
        for suppressed in plugin.get("suppressedViolations", [])
    }
