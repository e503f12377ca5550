"""Real Lambda event shapes built from what the local emulation produced: DynamoDB stream
records, SQS batches, EventBridge scheduled events and API Gateway REST proxy requests."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

REGION = "us-east-1"
ACCOUNT = "123456789012"


class LambdaContext:
    """The attributes Powertools and handlers read from the Lambda context."""

    def __init__(self, name: str, memory_mb: int = 512, timeout_s: int = 30) -> None:
        self.function_name = f"careloop-{name}"
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = datetime.now(UTC).timestamp() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - datetime.now(UTC).timestamp()) * 1000))


def stream_event(records: list[dict], stream_arn: str) -> dict:
    """GetRecords output -> the event Lambda's DynamoDB event source mapping delivers."""
    return {
        "Records": [
            {
                "eventID": r["eventID"],
                "eventName": r["eventName"],
                "eventVersion": r.get("eventVersion", "1.1"),
                "eventSource": "aws:dynamodb",
                "awsRegion": r.get("awsRegion", REGION),
                "dynamodb": {
                    k: (v.timestamp() if isinstance(v, datetime) else v)
                    for k, v in r["dynamodb"].items()
                },
                "eventSourceARN": stream_arn,
            }
            for r in records
        ]
    }


def sqs_event(messages: list[dict], queue_arn: str) -> dict:
    """ReceiveMessage output -> the event Lambda's SQS event source mapping delivers."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def scheduled_event(rule_arn: str, at: datetime) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


def api_event(
    method: str,
    path: str,
    resource: str,
    headers: dict[str, str],
    query: dict[str, list[str]],
    body: bytes,
    path_parameters: dict[str, str] | None = None,
    claims: dict | None = None,
    source_ip: str = "127.0.0.1",
) -> dict:
    """An API Gateway REST (v1) Lambda proxy request."""
    try:
        text, b64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, b64 = base64.b64encode(body).decode(), True
    now = datetime.now(UTC)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "accountId": ACCOUNT,
            "apiId": "local",
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "authorizer": {"claims": claims} if claims is not None else None,
            "protocol": "HTTP/1.1",
        },
        "body": text if body else None,
        "isBase64Encoded": b64,
    }
