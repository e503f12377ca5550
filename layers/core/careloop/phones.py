"""Phone numbers: anything a person would type becomes E.164, or a clear InvalidPhone."""

from __future__ import annotations

import re

import phonenumbers

from careloop.errors import InvalidPhone

# A North American number already in E.164 ("+1", then ten ASCII digits, the area code not
# starting with 0 or 1): what our records and most EHRs send. phonenumbers.parse reads it as
# country code 1 and those ten digits, whatever the region (the "+" says the country) and
# without a national prefix to strip (that would be a leading 1), so the parse, half of a
# validation, is skipped; the validity check is the same. tests/unit/test_phones.py holds the
# two ways to the same answer.
_NANP_E164 = re.compile(r"\+1[2-9][0-9]{9}")


def to_e164(raw: str, region: str = "US") -> str:
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("empty phone number")
    if _NANP_E164.fullmatch(text):
        number = phonenumbers.PhoneNumber(country_code=1, national_number=int(text[2:]))
    else:
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
