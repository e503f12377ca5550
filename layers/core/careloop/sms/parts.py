"""SMS segment counting, the one counter the sender, template checks and the local SMS stand-in
share: GSM-7 (160 / 153 per part) or UCS-2 (70 / 67 per part), split the way carriers split."""

from __future__ import annotations

from typing import Literal

Encoding = Literal["GSM", "UCS2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")  # sent as ESC + char: two septets each
GSM7_SINGLE, GSM7_MULTI = 160, 153  # septets in a lone message, and per part once split (UDH)
UCS2_SINGLE, UCS2_MULTI = 70, 67  # UTF-16 code units, likewise


def encoding(body: str) -> Encoding:
    return "GSM" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body) else "UCS2"


def parts_and_encoding(body: str) -> tuple[int, Encoding]:
    """(message parts, encoding). An escape pair (GSM-7 extension character) or a surrogate pair
    (an emoji in UCS-2) is never split across two parts, so a part may hold one unit less."""
    enc = encoding(body)
    if enc == "GSM":
        costs = [2 if c in GSM7_EXTENSION else 1 for c in body]
        single, multi = GSM7_SINGLE, GSM7_MULTI
    else:  # UTF-16 code units: an emoji is a surrogate pair
        costs = [len(c.encode("utf-16-le")) // 2 for c in body]
        single, multi = UCS2_SINGLE, UCS2_MULTI
    if sum(costs) <= single:
        return 1, enc
    parts, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            parts, used = parts + 1, 0
        used += cost
    return parts, enc


def count_parts(body: str) -> int:
    return parts_and_encoding(body)[0]
