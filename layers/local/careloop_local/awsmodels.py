"""What the local stand-ins share: botocore's service models (loaded once per process) that they
check requests and answers against, and the REST-JSON error answer AWS gives."""

from __future__ import annotations

import functools
import json
import uuid

import botocore.session
from werkzeug.wrappers import Response


@functools.cache
def service_model(service: str):
    """botocore's model of `service` (e.g. "connect", "lexv2-runtime"); loading it takes a while."""
    return botocore.session.get_session().get_service_model(service)


class RestJsonError(Exception):
    """An error answered the REST-JSON way: status, `x-amzn-ErrorType`, and the message under
    each of `message_keys` (services differ: Lex says "message", Connect both spellings)."""

    message_keys: tuple[str, ...] = ("message",)

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def response(self) -> Response:
        return Response(json.dumps(dict.fromkeys(self.message_keys, self.message)), self.status,
                        content_type="application/json",
                        headers={"x-amzn-ErrorType": self.code, "x-amzn-RequestId": str(uuid.uuid4())})
