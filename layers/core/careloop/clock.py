"""The clock port. Lambda uses the system clock; the local stack and the simulator move time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock(Clock):
    """System time plus an offset that only grows: `/dev/clock/advance` in local mode."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self.offset += delta

    def advance_to(self, target: datetime) -> None:
        """Jump to `target` if it is ahead (real time keeps flowing between calls)."""
        delta = target - self.now()
        if delta > timedelta(0):
            self.offset += delta

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class FixedClock(Clock):
    """A clock that moves only when told: the simulator and unit tests."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at.astimezone(UTC)

    def set(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self.at


class ProcessClock(Clock):
    """Whatever clock the process uses right now (handlers hold this, the local runtime swaps)."""

    def now(self) -> datetime:
        return _clock.now()


_clock: Clock = Clock()


def get_clock() -> Clock:
    return _clock


def use_clock(clock: Clock) -> Clock:
    """Swap the process clock (local runtime, tests). Returns the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def now() -> datetime:
    return _clock.now()


def iso(dt: datetime) -> str:
    """UTC ISO 8601 with seconds, sortable as a string (used in keys and index sort keys)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(dt: datetime) -> str:
    """UTC ISO 8601 to the millisecond, fixed width, sortable as a string: a message's `at`, so two
    texts of one patient in the same second keep their order in the thread and the inbox (a second
    would tie them, and an index gives ties in key order). A bound written this way compares with
    a second-resolution value of an older item to within that second."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return dt
