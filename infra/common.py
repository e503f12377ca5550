"""What every Careloop construct shares: names, Powertools switches, the spelled-out IAM action
sets, and the builders for log groups, private buckets and dead-letter queues."""

from __future__ import annotations

import hashlib
import re

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

LOG_RETENTION = logs.RetentionDays.ONE_YEAR
DLQ_RETENTION = cdk.Duration.days(14)  # the longest SQS keeps a message: time to look and redrive
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
METRICS_NAMESPACE = POWERTOOLS_ENV["POWERTOOLS_METRICS_NAMESPACE"]
SERVICE = POWERTOOLS_ENV["POWERTOOLS_SERVICE_NAME"]


def pascal(name: str) -> str:
    """`sms_sender` -> `SmsSender` (construct ids)."""
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def kebab(name: str) -> str:
    return name.replace("_", "-")


def log_group(scope: Construct, construct_id: str, name: str, key: kms.IKey) -> logs.LogGroup:
    """Encrypted with the PHI key, kept a year, and outliving the stack (audit trail)."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=LOG_RETENTION,
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


def dead_letter_queue(scope: Construct, construct_id: str, name: str, key: kms.IKey) -> sqs.Queue:
    """The one DLQ shape: KMS-encrypted, TLS-only, kept 14 days. Every DLQ built here is alarmed
    (infra.monitoring), so callers register the queue they get back in their `dlqs` map."""
    return sqs.Queue(
        scope,
        construct_id,
        queue_name=name,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=DLQ_RETENTION,
    )


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    key: kms.IKey,
    log_bucket: s3.IBucket,
    log_prefix: str,
    lifecycle_rules: list[s3.LifecycleRule],
) -> s3.Bucket:
    """KMS-encrypted, private, TLS-only, versioned and access-logged: every bucket but the log one."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=True,
        server_access_logs_bucket=log_bucket,
        server_access_logs_prefix=log_prefix,
        lifecycle_rules=lifecycle_rules,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


# --- logical ids ---------------------------------------------------------------------------------
# The stack was one flat class before it became constructs; its resources keep the logical ids
# they had then (CDK's own algorithm, minus the construct level), so a deployed stack updates in
# place instead of replacing its tables, key and queues.

# The constructs CareloopStack composes; their ids stay out of logical ids and unique names.
PARTS = ("Data", "Messaging", "Sms", "Web", "Api", "Functions", "Waf", "Monitoring")
_HIDDEN = "Default"
_HIDDEN_FROM_HUMAN = "Resource"


def flat_logical_id(components: list[str]) -> str:
    """CDK's makeUniqueId (aws-cdk-lib/core/lib/private/uniqueid.ts) for path components."""
    components = [c for c in components if c != _HIDDEN]
    if len(components) == 1:
        candidate = re.sub(r"[^A-Za-z0-9]", "", components[0])
        if len(candidate) <= 255:
            return candidate
    digest = hashlib.md5("/".join(components).encode()).hexdigest()[:8].upper()
    human: list[str] = []
    for component in components:
        if not human or not human[-1].endswith(component):
            human.append(component)
    readable = "".join(re.sub(r"[^A-Za-z0-9]", "", c) for c in human if c != _HIDDEN_FROM_HUMAN)
    return readable[:240] + digest


def flat_components(scopes: list) -> list[str]:
    """Construct ids below the stack, without the part construct's own id."""
    components = [s.node.id for s in scopes]
    if len(components) > 1 and components[0] in PARTS:
        components = components[1:]
    return components


def flat_unique_id(construct: Construct) -> str:
    """`Names.node_unique_id` as the flat stack had it (event source mappings are named by it:
    a renamed stream mapping would be replaced and re-read its stream from the start)."""
    stack = cdk.Stack.of(construct)
    scopes = construct.node.scopes
    return flat_logical_id([stack.node.id, *flat_components(scopes[scopes.index(stack) + 1:])])
