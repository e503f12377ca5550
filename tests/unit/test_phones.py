"""careloop.phones: the short way for a number already in North American E.164 gives what the
full parse gives (the same number, the same validity), for every kind of such number."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from careloop.errors import InvalidPhone
from careloop.phones import _NANP_E164, to_e164


def _by_full_parse(text: str, region: str = "US") -> str | None:
    number = phonenumbers.parse(text, region)
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _ours(text: str, region: str = "US") -> str | None:
    try:
        return to_e164(text, region)
    except InvalidPhone:
        return None


def _sample(n: int) -> list[str]:
    rng = random.Random(15)
    numbers = [f"+1{rng.randint(2, 9)}{rng.randrange(10**9):09d}" for _ in range(n)]
    # every area code and exchange class: valid and invalid ones, US, Canada and the Caribbean
    numbers += [f"+1{npa}{nxx:03d}{rng.randrange(10**4):04d}" for npa in range(200, 1000, 7) for nxx in (0, 100, 555, 911, 999)]
    return numbers


def test_the_short_way_agrees_with_the_full_parse_on_north_american_numbers() -> None:
    numbers = _sample(4000)
    assert all(_NANP_E164.fullmatch(n) for n in numbers)
    verdicts = {n: _by_full_parse(n) for n in numbers}
    assert any(v is None for v in verdicts.values()) and any(v is not None for v in verdicts.values())
    for n in numbers:
        assert _ours(n) == verdicts[n], n
        assert _ours(n, region="GB") == _by_full_parse(n, "GB"), n  # the "+" names the country, not the region


@pytest.mark.parametrize("text", [
    "+11234567890",  # a leading 1 after the country code: the full parse decides
    "+10234567890", "+1617555010", "+161755501011", "+1617555O101", "+1６17５550101",
    " +16175550101 ", "(617) 555-0101", "617-555-0101 x12", "+44 20 7946 0958", "+16175550101;ext=2",
])
def test_anything_else_takes_the_full_parse(text: str) -> None:
    expected: str | None
    try:
        expected = _by_full_parse(text.strip())
    except phonenumbers.NumberParseException:
        expected = None
    assert _ours(text) == expected


def test_a_valid_number_comes_back_as_it_was_written() -> None:
    assert to_e164("+16175550101") == "+16175550101"
    with pytest.raises(InvalidPhone, match="not a valid phone number"):
        to_e164("+19115550101")
