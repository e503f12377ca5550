"""The Amazon Connect adapter of the ContactDirectory port: `DescribeContact` through botocore,
the same call against AWS and against the local Connect stand-in."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from careloop.adapters.clients import client as aws_client
from careloop.voice.contact import CallContact, contact_from_describe


class ConnectContacts:
    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def connect(self) -> Any:
        if self._client is None:  # created on first use: most cold starts of other functions never need it
            self._client = aws_client("connect")
        return self._client

    def describe(self, instance_id: str, contact_id: str) -> CallContact | None:
        try:
            answer = self.connect.describe_contact(InstanceId=instance_id, ContactId=contact_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        return contact_from_describe(answer["Contact"])
