"""The small statistics the analytics page shows: rates, medians and the Wilson score interval,
with the plain sentence that compares two workflow versions' confirmation rates."""

from __future__ import annotations

import math

Z_95 = 1.959964  # the standard normal quantile of a two-sided 95% interval


def rate(part: int, whole: int) -> float:
    """part / whole to four places; 0.0 when there is nothing to divide by (shown as "–")."""
    return round(part / whole, 4) if whole else 0.0


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default): unlike the normal approximation
    it stays inside [0, 1] and is honest for small n and for rates near 0% or 100%."""
    if n <= 0:
        return (0.0, 1.0)  # no evidence: any rate is possible
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n ({successes} of {n})")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


def median(values: list[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None for none."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _pct(x: float) -> str:
    return f"{round(x * 100):.0f}%"


def describe(label: str, confirmed: int, n: int) -> str:
    """ "v3 confirmed 71% (n=240, 65-76%)" """
    lo, hi = wilson(confirmed, n)
    return f"{label} confirmed {_pct(rate(confirmed, n))} (n={n}, {round(lo * 100):.0f}-{_pct(hi)})"


def intervals_apart(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two (successes, n) rates differ clearly: their 95% Wilson intervals do not overlap
    (a deliberately cautious test: a manager acts on it, so "not clear yet" is the safe default)."""
    if a[1] == 0 or b[1] == 0:
        return False
    (alo, ahi), (blo, bhi) = wilson(*a), wilson(*b)
    return ahi < blo or bhi < alo


def compare_sentence(newer: tuple[str, int, int], older: tuple[str, int, int]) -> str:
    """The plain sentence for two versions, each (label, confirmed, n), newest first."""
    (new_label, new_k, new_n), (old_label, old_k, old_n) = newer, older
    clear = intervals_apart((new_k, new_n), (old_k, old_n))
    verdict = "the difference is clear" if clear else "the difference is not clear yet"
    if clear:
        verdict += f" ({new_label} is {'higher' if rate(new_k, new_n) > rate(old_k, old_n) else 'lower'})"
    return f"{describe(new_label, new_k, new_n)} vs {describe(old_label, old_k, old_n)}: {verdict}."
