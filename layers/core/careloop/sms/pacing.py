"""Paces sends to the origination identity's rate (10DLC: 1 message part per second)."""

from __future__ import annotations

import time


class Pacer:
    def __init__(self, per_second: float, sleep=time.sleep, monotonic=time.monotonic) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.sleep, self.monotonic = sleep, monotonic
        self.next_at = 0.0

    def wait(self, parts: int = 1) -> float:
        """Block until the next send may go; returns the seconds waited."""
        now = self.monotonic()
        waited = max(0.0, self.next_at - now)
        if waited:
            self.sleep(waited)
        self.next_at = max(now, self.next_at) + self.interval * parts
        return waited
