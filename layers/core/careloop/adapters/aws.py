"""AWS adapters of the ports: SQS send queue, SNS staff notifications, End User Messaging SMS,
S3 archive/quarantine, and `services()` that wires them once per cold start (with the Bedrock
LLM tier of careloop.agent.llm only when the practice turned it on)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from careloop.adapters.clients import client as aws_client
from careloop.adapters.clients import made
from careloop.clock import ProcessClock
from careloop.errors import Conflict, SendError
from careloop.models import Message
from careloop.ports import ImportJobStore, Services
from careloop.settings import Settings, get_settings

if TYPE_CHECKING:  # write-back is loaded only where the practice turned it on
    from careloop.ehr.writeback import WritebackEvent

BotoClient = Any  # a boto3 client: no type stubs for them are installed
TRANSIENT = {"ThrottlingException", "InternalServerException", "ServiceUnavailable", "RequestTimeout"}
# One request per attempt: the send queue retries with backoff (a read timeout must not become
# three requests that may each have sent the text).
SMS_CLIENT = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=5)


def classify_send_error(exc: Exception) -> SendError:
    """From the service model's errors: throttling, 5xx, 429 and network timeouts are transient
    (retried through the queue); a quota or spend limit is permanent and pages operators;
    validation, opted-out, access and not-found are permanent."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        reason = exc.response.get("Reason") or exc.response.get("Error", {}).get("Reason") or ""
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code == "ServiceQuotaExceededException":
            return SendError(f"{code} {reason}".strip(), permanent=True, code=reason or code, quota=True)
        transient = code in TRANSIENT or status >= 500 or status == 429
        return SendError(f"{code} {reason}".strip(), permanent=not transient, code=reason or code or str(status))
    return SendError(type(exc).__name__, permanent=False, code="network")


class SqsOutbox:
    def __init__(self, queue_url: str, client: BotoClient | None = None) -> None:
        self.url = queue_url
        self.sqs = client or aws_client("sqs")

    def enqueue(self, message: Message) -> None:
        # the body carries only the id: the text itself stays in the encrypted table
        self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps({"message_id": message.message_id}))


class SqsWritebackQueue:
    """Write-back events to the EHR, ids only (the worker reads the rest)."""

    def __init__(self, queue_url: str, client: BotoClient | None = None) -> None:
        self.url = queue_url
        self.sqs = client or aws_client("sqs")

    def enqueue(self, event: WritebackEvent) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=event.model_dump_json())


class SqsImportQueue:
    """Jobs of large EHR payloads for the import worker, by id only (the payload is archived)."""

    def __init__(self, queue_url: str, client: BotoClient | None = None) -> None:
        self.url = queue_url
        self.sqs = client or aws_client("sqs")

    def enqueue(self, job_id: str) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps({"job_id": job_id}))


class SnsNotifier:
    def __init__(self, topic_arn: str, client: BotoClient | None = None) -> None:
        self.arn = topic_arn
        self.sns = client or aws_client("sns")

    def notify(self, message: Message) -> None:
        if not self.arn:
            return
        # no PHI in a notification: staff open the inbox to read it
        urgent = message.priority == "urgent"
        what = {"task": "a new task", "staff_alert": "a patient text that needs a person"}.get(message.kind, "an update")
        text = (f"Careloop URGENT: {what} ({message.team or 'clinical'}). Open the inbox now."
                if urgent else f"Careloop: {what} for {message.team or 'the front desk'}. Open the inbox.")
        details = {"message_id": message.message_id, "kind": message.kind, "priority": message.priority,
                   "team": message.team, "workflow": message.workflow, "step": message.step}
        self.sns.publish(
            TopicArn=self.arn,
            Subject="Urgent: patient needs attention" if urgent else "Careloop: staff inbox",
            MessageStructure="json",
            Message=json.dumps({"default": json.dumps(details), "sms": text, "email": f"{text}\n\n{json.dumps(details)}"}),
            MessageAttributes={
                "priority": {"DataType": "String", "StringValue": message.priority or "normal"},
                "team": {"DataType": "String", "StringValue": message.team or "front_desk"},
            },
        )


class EndUserMessagingSms:
    """`pinpoint-sms-voice-v2`: the same calls locally (stand-in) and in AWS."""

    def __init__(self, settings: Settings, client: BotoClient | None = None) -> None:
        self.s = settings
        if client is None:
            import botocore.session

            config = SMS_CLIENT.merge(Config(read_timeout=settings.sms_read_timeout_s))
            client = made(botocore.session.get_session().create_client("pinpoint-sms-voice-v2", config=config))
        self.client = client

    def send(self, to: str, body: str, context: dict[str, str]) -> str:
        args = {
            "DestinationPhoneNumber": to,
            "OriginationIdentity": self.s.sms_origination_identity,
            "MessageBody": body,
            "MessageType": "TRANSACTIONAL",
            "Context": context,
        }
        if self.s.sms_configuration_set:
            args["ConfigurationSetName"] = self.s.sms_configuration_set
        try:
            return self.client.send_text_message(**args)["MessageId"]
        except (ClientError, BotoCoreError) as exc:
            raise classify_send_error(exc) from exc

    def opt_out(self, phone: str) -> None:
        if self.s.sms_opt_out_list:
            self.client.put_opted_out_number(OptOutListName=self.s.sms_opt_out_list, OptedOutNumber=phone)

    def opt_in(self, phone: str) -> None:
        if self.s.sms_opt_out_list:
            try:
                self.client.delete_opted_out_number(OptOutListName=self.s.sms_opt_out_list, OptedOutNumber=phone)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                    return  # not on the list: nothing to undo
                if "PHONE_NUMBER_CANNOT_BE_OPTED_IN" in (exc.response.get("Reason"), exc.response["Error"].get("Reason")) or \
                        "30 days" in exc.response["Error"].get("Message", ""):
                    # End User Messaging takes a number off the list once every 30 days
                    raise Conflict("the carrier opts a number back in only once every 30 days: "
                                   "the patient can text START to resume texts") from exc
                raise


class S3Archive:
    """Every accepted EHR payload archived, every rejected one quarantined (KMS-encrypted)."""

    def __init__(self, bucket: str, client: BotoClient | None = None) -> None:
        self.bucket = bucket
        self.s3 = client or aws_client("s3")

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def put(self, key: str, body: bytes, metadata: dict[str, str]) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, Metadata=metadata, ServerSideEncryption="aws:kms")

    def list(self, prefix: str) -> list[str]:
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys

    def get(self, key: str) -> tuple[bytes, dict[str, str]]:
        obj = self.s3.get_object(Bucket=self.bucket, Key=key)
        return obj["Body"].read(), obj.get("Metadata", {})


@lru_cache(maxsize=1)
def services() -> Services:
    from careloop.adapters import dynamo
    from careloop.adapters.cognito import CognitoStaffDirectory
    from careloop.adapters.connect import ConnectContacts
    from careloop.workflows.registry import CachedWorkflows

    s = get_settings()
    tables = dynamo.DynamoTables(s)  # one client and table set behind every persistence port
    configs = dynamo.DynamoConfigs(tables)
    practice = s.practice()
    llm = None
    if practice.agent.llm_enabled and s.llm_available:  # the LLM tier: where the stack's region offers it
        from careloop.agent.llm import BedrockIntentTier

        llm = BedrockIntentTier(practice.agent)  # its own client, created on first use
    return Services(
        records=dynamo.DynamoRecords(tables),
        actions=dynamo.DynamoActions(tables),
        messages=dynamo.DynamoMessages(tables),
        consent=dynamo.DynamoConsent(tables),
        configs=configs,
        inbox=dynamo.DynamoInbox(tables),
        analytics=dynamo.DynamoAnalytics(tables),
        practice=practice,
        workflow_source=CachedWorkflows(configs),
        clock=ProcessClock(),
        outbox=SqsOutbox(s.queue_send),
        notifier=SnsNotifier(s.topic_staff_alerts),
        sms=EndUserMessagingSms(s),
        writeback=SqsWritebackQueue(s.queue_ehr_writeback) if s.queue_ehr_writeback else None,
        llm=llm,
        booking=dynamo.DynamoBooking(tables),
        booking_base_url=s.booking_base_url,
        contacts=ConnectContacts(),  # its client is made on the first DescribeContact only
        access_log=dynamo.DynamoAccessLog(tables),
        staff=CognitoStaffDirectory(s.staff_user_pool_id),
    )


@lru_cache(maxsize=1)
def sms_channel() -> EndUserMessagingSms:
    return EndUserMessagingSms(get_settings())


@lru_cache(maxsize=1)
def archive() -> S3Archive:
    return S3Archive(get_settings().bucket_ehr)


@lru_cache(maxsize=1)
def import_jobs() -> ImportJobStore:
    from careloop.adapters import dynamo

    return dynamo.DynamoImportJobs(dynamo.DynamoTables(get_settings()))


@lru_cache(maxsize=1)
def import_queue() -> SqsImportQueue:
    return SqsImportQueue(get_settings().queue_ehr_import)


def reset() -> None:
    from careloop.adapters.clients import reset_clients

    reset_clients()
    services.cache_clear()
    sms_channel.cache_clear()
    archive.cache_clear()
    import_jobs.cache_clear()
    import_queue.cache_clear()
