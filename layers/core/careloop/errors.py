"""Every exception Careloop raises on purpose, in one place; HTTP mapping lives at the boundary."""

from __future__ import annotations


class CareloopError(Exception):
    """Base of all deliberate errors."""


class ConfigError(CareloopError):
    """Configuration or a practice profile is invalid; the message names the field."""


class InvalidPhone(CareloopError):
    """A phone number that cannot be normalised to E.164."""


class SignatureError(CareloopError):
    """Webhook signature missing or wrong."""


class PayloadError(CareloopError):
    """A webhook payload that cannot be understood. `issues` name each problem."""

    def __init__(self, issues: list[str] | str, *, content_type: str | None = None):
        self.issues = [issues] if isinstance(issues, str) else list(issues)
        self.content_type = content_type
        self.archive_key: str | None = None  # where intake quarantined the payload, once it has
        super().__init__("; ".join(self.issues))


class RefusedBody(CareloopError):
    """A webhook body refused before parsing: over a hard limit (413), in an encoding the webhook
    does not take (415), or gzip that does not inflate (400). `issue` names the problem, `body`
    is what was read (quarantined)."""

    def __init__(self, issue: str, body: bytes, status: int = 413) -> None:
        super().__init__(issue)
        self.issue, self.body, self.status = issue, body, status


class NotFound(CareloopError):
    """A record the caller named does not exist."""


class Conflict(CareloopError):
    """A conditional write lost a race (already claimed, already sent, newer version stored)."""


class TemplateError(CareloopError):
    """A message template references a field that does not exist, or fails to render."""


class SendError(CareloopError):
    """Sending a text failed. `permanent` errors are recorded and never retried."""

    def __init__(self, message: str, *, permanent: bool, code: str | None = None, quota: bool = False):
        self.permanent = permanent
        self.code = code
        self.quota = quota  # a quota or spend limit: permanent for this text, and operators are paged
        super().__init__(message)


class ScenarioError(CareloopError):
    """A `careloop simulate` scenario breaks the schema; the message names the field."""


class WritebackError(CareloopError):
    """The EHR did not take a write-back; `permanent` ones (4xx) will not succeed on retry."""

    def __init__(self, message: str, *, permanent: bool, status: int | None = None,
                 retry_after: float | None = None):
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after  # seconds the EHR asked us to wait (Retry-After)
        super().__init__(message)


class BundleSyntaxError(CareloopError, ValueError):
    """An import file is not JSON past a point; nothing after it can be read."""


class BookingError(CareloopError):
    """A booking request the booking routes turn away; `status` is its HTTP answer."""

    status = 400


class BookingInputError(BookingError):
    """Bad input: `field` names what is wrong (400)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class UnknownLink(BookingError):
    """No such link (404); the message says nothing about any patient."""

    status = 404

    def __init__(self) -> None:
        super().__init__("unknown link")


class LinkGone(BookingError):
    """The link expired or already made its booking (410)."""

    status = 410


class TooManyRequests(BookingError):
    """One link asked more than its share this minute (429); the page may try again shortly."""

    status = 429
    retry_after = 60

    def __init__(self) -> None:
        super().__init__("too many requests for this link; try again in a minute")


class SlotTaken(BookingError):
    """Someone booked the slot first (409); `alternatives` are the next open slots."""

    status = 409

    def __init__(self, alternatives: list | None = None):
        self.alternatives = list(alternatives or [])
        super().__init__("that time was just taken")


class Forbidden(CareloopError):
    """The signed-in staff member's role may not do this; the message names the role(s) that may."""
