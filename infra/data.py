"""The data construct: the PHI key, the tables of careloop.tables, their backups, the EHR archive
bucket and the access-log bucket. Everything here outlives the stack (RETAIN)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from careloop import tables
from careloop.errors import ConfigError
from careloop.practice import PracticeProfile
from infra.common import pascal, private_bucket

# Prefixes of the EHR bucket (careloop.intake writes them, careloop_local.ehr_replay moves between them).
ARCHIVE_PREFIX = "archive/"
QUARANTINE_PREFIX = "quarantine/"


class Data(Construct):
    """Tables, key, backups and buckets; `log_group_patterns` are the CloudWatch Logs groups the
    key may encrypt (every log group the stack creates must match one)."""

    def __init__(self, scope: Construct, construct_id: str, *, profile: PracticeProfile, prefix: str) -> None:
        super().__init__(scope, construct_id)
        self.profile, self.prefix = profile, prefix
        self.key = self._data_key()
        self.log_bucket = self._access_log_bucket()
        self.tables = {spec.logical: self._table(spec) for spec in tables.ALL_TABLES}
        self.backup_plan, self.backup_selection = self._backups()
        self.ehr_bucket = self._ehr_bucket()

    # --- encryption -------------------------------------------------------------------------------

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
        # (CloudWatch Logs gets its grant in allow_log_groups, once the log groups exist.)
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

    def allow_log_groups(self, names: list[str]) -> None:
        """CloudWatch Logs may use the key for these log groups of the stack and no other: the
        encryption context names the log group, so another group in the account cannot borrow
        the PHI key (call once every log group exists)."""
        arn = f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:log-group:"
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsEncryptsOurLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{cdk.Aws.REGION}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:DescribeKey",
                ],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": [arn + n for n in names]}},
            )
        )

    # --- buckets ----------------------------------------------------------------------------------

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

    def _ehr_bucket(self) -> s3.Bucket:
        ehr = self.profile.ehr
        keep = cdk.Duration.days(ehr.archive_retention_days)
        return private_bucket(
            self,
            "EhrBucket",
            key=self.key,
            log_bucket=self.log_bucket,
            log_prefix="s3/ehr/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="archive-retention",
                    prefix=ARCHIVE_PREFIX,
                    expiration=keep,
                    noncurrent_version_expiration=cdk.Duration.days(90),
                ),
                # Replay moves a payload that now parses to archive/ and deletes it here, so its
                # quarantined copy becomes a noncurrent version: it expires N days after replay. One
                # never replayed is an EHR record too and is kept as long as the archive.
                s3.LifecycleRule(
                    id="quarantine-after-replay",
                    prefix=QUARANTINE_PREFIX,
                    expiration=keep,
                    noncurrent_version_expiration=cdk.Duration.days(ehr.quarantine_days_after_replay),
                ),
                s3.LifecycleRule(
                    id="tidy",
                    expired_object_delete_marker=True,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                ),
            ],
        )

    # --- tables -----------------------------------------------------------------------------------

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

    def stream_arn(self, logical: str) -> str:
        """The table's stream, which a stream consumer in the wiring table reads."""
        arn = self.tables[logical].table_stream_arn
        if arn is None:
            raise ConfigError(f"wiring: table {logical!r} has no stream (tables.TableSpec.stream)")
        return arn

    def table_spec(self, logical: str) -> tables.TableSpec:
        for spec in tables.ALL_TABLES:
            if spec.logical == logical:
                return spec
        raise ConfigError(f"wiring: unknown table {logical!r}")

    def _backups(self) -> tuple[backup.BackupPlan, backup.BackupSelection]:
        vault = backup.BackupVault(
            self,
            "BackupVault",
            backup_vault_name=f"{self.prefix}-backups",
            encryption_key=self.key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        plan = backup.BackupPlan.daily_monthly1_year_retention(self, "BackupPlan", vault)
        selection = plan.add_selection(
            "Tables",
            resources=[backup.BackupResource.from_dynamo_db_table(t) for t in self.tables.values()],
        )
        return plan, selection
