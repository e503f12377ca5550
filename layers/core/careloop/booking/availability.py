"""What a practice lets patients book, as the `booking` section of the practice profile:
appointment types, provider hours per location and weekday, closures, lead time, horizon, mode."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from careloop.clocktime import WEEKDAYS, ClockSpan
from careloop.clocktime import Strict as _Strict

__all__ = ["WEEKDAYS", "AppointmentType", "BookingSettings", "Closure", "Span", "WorkingHours"]


class Span(ClockSpan):
    """A stretch of one day, in the location's local time: [start, end)."""

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self


class AppointmentType(_Strict):
    """One kind of visit patients may be offered: names in English and Spanish, its length, and
    which providers do it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    name: dict[Literal["en", "es"], str]
    minutes: int = Field(ge=5, le=480)
    providers: tuple[str, ...] = Field(min_length=1)
    online: bool = True  # patients may book it through a link
    new_patients: bool = False  # a patient with no past visit may book it
    visit_type: str | None = None  # the Careloop visit type the booked appointment gets (default: id)

    @field_validator("name")
    @classmethod
    def _both_languages(cls, v: dict[str, str]) -> dict[str, str]:
        missing = [lang for lang in ("en", "es") if not (v.get(lang) or "").strip()]
        if missing:
            raise ValueError(f"needs a name in {' and '.join(missing)}")
        return v


class WorkingHours(_Strict):
    """When one provider sees patients at one location on one weekday, with breaks."""

    provider: str
    location: str
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    hours: Span
    breaks: tuple[Span, ...] = ()


class Closure(_Strict):
    """A day nobody (or one provider, or one location) is bookable: holidays, leave."""

    date: date
    provider: str | None = None  # None: every provider
    location: str | None = None  # None: every location
    reason: str | None = None  # for staff; never shown to patients


class BookingSettings(_Strict):
    """The profile's `booking` section (spec/booking.md, Availability)."""

    types: tuple[AppointmentType, ...] = Field(min_length=1)
    hours: tuple[WorkingHours, ...] = Field(min_length=1)
    closures: tuple[Closure, ...] = ()
    lead_minutes: int = Field(120, ge=0, le=7 * 24 * 60)  # no slot sooner than this
    horizon_days: int = Field(60, ge=1, le=366)  # no slot later than this
    step_minutes: int = Field(15, ge=5, le=120)  # slot starts fall on this grid from opening
    mode: Literal["instant", "request"] = "instant"
    link_days: int = Field(14, ge=1, le=90)  # a personal link expires after this
    # where deployed links point (<link_base_url>/b/<token>) instead of the CloudFront origin: a
    # short custom domain keeps every text offering booking within its part budget
    link_base_url: str | None = None

    @field_validator("link_base_url")
    @classmethod
    def _short_https_base(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from urllib.parse import urlsplit

        from careloop.booking.links import MAX_BASE_LENGTH

        base = v.strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme != "https" or not parts.hostname or "." not in parts.hostname:
            raise ValueError("must be an https:// address with a domain name, e.g. https://book.maple.dental")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must be a plain https:// address (no query, fragment or credentials)")
        if len(base) > MAX_BASE_LENGTH:
            raise ValueError(f"is {len(base)} characters; at most {MAX_BASE_LENGTH}, so that every text "
                             "offering booking stays within its message parts")
        return base

    def type(self, type_id: str) -> AppointmentType | None:
        return next((t for t in self.types if t.id == type_id), None)
