"""Times of day and weekdays as practice profiles write them ("08:00", "mon"), shared by the
profile's quiet hours and opening hours and by the booking section's working hours and breaks."""

from __future__ import annotations

import re
from datetime import time

from pydantic import BaseModel, ConfigDict, field_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
HHMM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")


class Strict(BaseModel):
    """A profile section: unknown fields are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_hhmm(value: str) -> str:
    if not HHMM.match(value):
        raise ValueError(f"{value!r} is not HH:MM (24 h)")
    return value


class ClockSpan(Strict):
    """From `start` to `end`, local wall-clock times of one day."""

    start: str
    end: str

    _times = field_validator("start", "end")(lambda cls, v: check_hhmm(v))

    @property
    def opens(self) -> time:
        return time.fromisoformat(self.start)

    @property
    def closes(self) -> time:
        return time.fromisoformat(self.end)
