"""Phone numbers: anything a person would type becomes E.164, or a clear InvalidPhone."""

from __future__ import annotations

import phonenumbers

from careloop.errors import InvalidPhone


def to_e164(raw: str, region: str = "US") -> str:
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("empty phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"cannot read {len(text)}-character phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_e164(raw: str | None, region: str = "US") -> str | None:
    try:
        return to_e164(raw or "", region)
    except InvalidPhone:
        return None


def mask(e164: str | None) -> str:
    """For logs and staff lists where the full number is not needed: +1617***0101."""
    if not e164:
        return ""
    return e164[:5] + "***" + e164[-4:]
