"""Personal booking links: a short unguessable token tied to one patient and one purpose,
expiring, spent by the booking it makes; and the slot claims that decide a race for one slot."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from careloop.models import aware as _aware

if TYPE_CHECKING:
    from careloop.models import Patient
    from careloop.ports import Services

Purpose = Literal["book", "rebook", "reschedule"]
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN_LENGTH = 12  # 12 base62 characters = 71 bits: unguessable, and short enough for an SMS
LINK_PATH = "/b/"
# what template validation counts for `{{ booking_url }}`: a public base of up to 35 characters
# (a short custom domain, "https://book.riverside-dental.com"; API Gateway's own stage URL is
# ~57 and would push the default library's Spanish no-show text past its 3 parts) plus the path
MAX_BASE_LENGTH = 35
WORST_CASE_BASE = "https://" + "x" * (MAX_BASE_LENGTH - len("https://"))
WORST_CASE_URL = WORST_CASE_BASE + LINK_PATH + "x" * TOKEN_LENGTH


def new_token() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_LENGTH))


def looks_like_token(value: str) -> bool:
    return len(value) == TOKEN_LENGTH and all(c in ALPHABET for c in value)


class BookingLink(BaseModel):
    """One personal link. `ref` is what minted it (a message id): minting again for the same
    ref returns this link, so a redelivered action sends the same URL."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    token: str
    patient_id: str
    purpose: Purpose = "book"
    appointment_id: str | None = None  # reschedule: the appointment it moves; rebook: the missed one
    ref: str
    created_at: datetime
    expires_at: datetime
    spent_at: datetime | None = None
    booked_appointment_id: str | None = None

    _times = field_validator("created_at", "expires_at", "spent_at")(lambda cls, v: _aware(v))

    def usable(self, now: datetime) -> bool:
        return self.spent_at is None and now < self.expires_at


class SlotClaim(BaseModel):
    """A provider's start taken by a booking (`booked`) or held for staff to enter (`hold`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    provider: str
    start: datetime
    end: datetime
    appointment_id: str
    kind: Literal["booked", "hold"] = "booked"
    expires_at: datetime  # when the store may forget it (after the visit, or a hold's end)

    _times = field_validator("start", "end", "expires_at")(lambda cls, v: _aware(v))


def base_url(services: Services) -> str:
    """The public base links point at; "" when there is none (then booking_url is the profile's)."""
    return (services.booking_base_url or "").rstrip("/")


def url_for(services: Services, token: str) -> str:
    return f"{base_url(services)}{LINK_PATH}{token}"


def mint(services: Services, patient: Patient, purpose: Purpose, *, ref: str,
         appointment_id: str | None = None) -> BookingLink:
    """The patient's link for this purpose, minted once per `ref`."""
    store = services.booking
    if store is None:
        raise ValueError("booking links need services.booking")
    existing = store.link_for_ref(ref)
    if existing is not None:
        return existing
    now = services.clock.now()
    days = services.practice.booking.link_days if services.practice.booking else 14
    link = BookingLink(token=new_token(), patient_id=patient.id, purpose=purpose, appointment_id=appointment_id,
                       ref=ref, created_at=now, expires_at=now + timedelta(days=days))
    if store.put_link(link):
        return link
    raced = store.link_for_ref(ref)  # another worker minted it between our read and write
    if raced is None:
        raise RuntimeError("booking link for ref vanished")
    return raced


def booking_url_for(services: Services, patient: Patient, purpose: Purpose, *, ref: str,
                    appointment_id: str | None = None) -> str:
    """What `{{ booking_url }}` renders: the patient's own link when self-scheduling is on,
    else the profile's fixed booking_url (or "")."""
    if services.booking is None or services.practice.booking is None or not base_url(services):
        return services.practice.booking_url or ""
    return url_for(services, mint(services, patient, purpose, ref=ref, appointment_id=appointment_id).token)
