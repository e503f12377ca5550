"""Every CSV the product writes goes through here: no spreadsheet formula from data (OWASP's CSV
injection rule: a cell starting with = + - @, tab or carriage return is prefixed with ')."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """The value as a spreadsheet reads it safely; numbers stay numbers (-3 is not a formula)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer with every cell made safe."""

    def __init__(self, f, **kwargs) -> None:
        self._w = csv.writer(f, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._w.writerow([cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(f, **kwargs) -> SafeWriter:
    return SafeWriter(f, **kwargs)


def to_csv(header: Iterable[Any], rows: Iterable[Iterable[Any]], **kwargs) -> str:
    buf = io.StringIO()
    w = writer(buf, **kwargs)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()
