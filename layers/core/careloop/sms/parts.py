"""SMS segment counting: GSM-7 (160 / 153 per part, extension characters count twice) or
UCS-2 (70 / 67 per part, counted in UTF-16 code units)."""

from __future__ import annotations

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


def encoding(body: str) -> str:
    return "GSM" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body) else "UCS2"


def count_parts(body: str) -> int:
    if encoding(body) == "GSM":
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in body)
        single, multi = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return -(-units // multi)
