"""PLACEHOLDER for synth only (book-infra): the booking Lambda is book-flow's functions/booking/handler.py.
The integrator takes book-flow's file; this one only lets `python app.py` package the directory."""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Not the service: answer in the contract's error shape rather than pretend to book.
    return {
        "statusCode": 503,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": "booking is not available yet"}),
    }
