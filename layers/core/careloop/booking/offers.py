"""Rescheduling by text: the three open times the agent offers (a record in the booking table),
how they read in a text, and which of them a patient's reply ("2", "the second one", "la primera") picks."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from careloop.booking.slots import Slot
from careloop.models import aware as _aware
from careloop.templates import format_date, format_time, named_zone

if TYPE_CHECKING:
    from careloop.agent.when import When
    from careloop.ports import Services

OFFER_HOURS = 24  # an offer's times are held open for a reply this long; then "2" means nothing
OFFERED = 3  # times one offer lists


class OfferedSlot(BaseModel):
    """One numbered time of an offer, as the slot engine gave it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    start: datetime
    end: datetime
    provider: str
    location: str
    type: str

    _times = field_validator("start", "end")(lambda cls, v: _aware(v))

    @classmethod
    def of(cls, slot: Slot) -> OfferedSlot:
        return cls(start=slot.start, end=slot.end, provider=slot.provider, location=slot.location, type=slot.type)

    def slot(self) -> Slot:
        return Slot(start=self.start, provider=self.provider, end=self.end, location=self.location, type=self.type)


class SlotOffer(BaseModel):
    """Times offered to one patient by text. `offer_id` comes from the inbound text that asked
    (a redelivery finds the same offer); `message_id` is the reply that listed the times. A reply
    that picks one closes it (`closed_by` that inbound message, `choice` 1-based), so a redelivered
    reply finishes that booking and a second reply books nothing."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    offer_id: str
    patient_id: str
    moves: str | None = None  # the appointment a booking from this offer moves
    type: str  # the appointment type id (the booking section's)
    slots: tuple[OfferedSlot, ...]
    message_id: str = ""
    created_at: datetime
    expires_at: datetime
    status: Literal["open", "closed"] = "open"
    closed_at: datetime | None = None
    closed_by: str | None = None
    choice: int | None = None
    after_taken: bool = False  # offered because a picked time was taken meanwhile

    _times = field_validator("created_at", "expires_at", "closed_at")(lambda cls, v: _aware(v))

    def is_open(self, now: datetime) -> bool:
        return self.status == "open" and now < self.expires_at


def new_offer(offer_id: str, patient_id: str, type_id: str, slots: list[Slot], *, moves: str | None,
              message_id: str, now: datetime, after_taken: bool = False) -> SlotOffer:
    return SlotOffer(offer_id=offer_id, patient_id=patient_id, moves=moves, type=type_id,
                     slots=tuple(OfferedSlot.of(s) for s in slots), message_id=message_id, created_at=now,
                     expires_at=now + timedelta(hours=OFFER_HOURS), after_taken=after_taken)


# ---- how the times read ---------------------------------------------------------------------


def options_text(services: Services, slots: list[Slot] | tuple[OfferedSlot, ...], language: str) -> tuple[str, str]:
    """("1) Tue Dec 8 10:00 AM 2) ...", "EST"): the numbered times in their location's zone, in the
    patient's language. When the times straddle a clock change each one names its own zone
    ("1) Sat Mar 7 9:00 AM EST 2) Mon Mar 9 9:00 AM EDT") and the shared zone is ""."""
    from careloop.booking.service import zone_for

    lang = "es" if language == "es" else "en"
    local = [s.start.astimezone(zone_for(services, s.location)) for s in slots]
    zones = {named_zone(t) for t in local}
    shared = zones.pop() if len(zones) == 1 else ""
    items = [f"{i}) {format_date(t, lang)} {format_time(t, lang)}" + ("" if shared else f" {named_zone(t)}")
             for i, t in enumerate(local, start=1)]
    return " ".join(items), shared


def choices_text(count: int, language: str) -> str:
    """"1, 2 or 3" / "1, 2 o 3" for however many times were offered."""
    numbers = [str(i) for i in range(1, count + 1)]
    if len(numbers) == 1:
        return numbers[0]
    joiner = " o " if language == "es" else " or "
    return ", ".join(numbers[:-1]) + joiner + numbers[-1]


# ---- which time a reply picks -----------------------------------------------------------------

_ORDINALS = {
    "1": 1, "2": 2, "3": 3, "1st": 1, "2nd": 2, "3rd": 3, "first": 1, "second": 2, "third": 3,
    "two": 2, "three": 3, "primero": 1, "primera": 1, "primer": 1, "segundo": 2, "segunda": 2,
    "tercero": 3, "tercera": 3, "tercer": 3, "uno": 1, "dos": 2, "tres": 3, "1o": 1, "2o": 2, "3o": 3,
    "1a": 1, "2a": 2, "3a": 3,
}
# words around a choice that do not change it ("option 2 please", "el 2", "I'll take the second one")
_FILLER = frozenset((
    "option", "opcion", "number", "numero", "num", "the", "one", "a", "el", "la", "lo", "please", "pls", "plz",
    "por", "favor", "i", "ill", "take", "want", "choose", "pick", "go", "with", "for", "me", "id", "like", "would",
    "quiero", "prefiero", "escojo", "elijo", "tomo", "yes", "yeah", "yep", "ok", "okay", "si", "vale", "sure",
    "thanks", "thank", "you", "gracias", "de",
))


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = plain.replace("º", "o").replace("ª", "a").replace("'", "")
    return re.findall(r"[a-z0-9]+", plain)


def choice_in(text: str, count: int) -> int | None:
    """The 1-based time a reply picks, or None when it is not plainly one of 1..count: exactly one
    number or ordinal, and nothing else but filler ("2", "#2", "option 2", "the second one",
    "2 please", "el 2", "la primera"). "2pm?" or "not 2" pick nothing: a person reads those."""
    picked = [w for w in _words(text) if w not in _FILLER]
    if len(picked) != 1 or picked[0] not in _ORDINALS:
        return None
    choice = _ORDINALS[picked[0]]
    return choice if 1 <= choice <= count else None


# ---- the window of a re-offer ---------------------------------------------------------------


def offered_days(services: Services, offer: SlotOffer) -> When:
    """The days an earlier offer spanned, as an asked time: a re-offer after a taken time stays near them."""
    from careloop.agent.when import When
    from careloop.booking.service import zone_for

    days = [s.start.astimezone(zone_for(services, s.location)).date() for s in offer.slots]
    return When(first_day=min(days), last_day=max(days))
