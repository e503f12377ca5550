"""The booking page's HTML: the built page (web/dist/booking.html, bundled beside the handler as
booking.html) when present, else a minimal valid page that names what is missing."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

# where the built page is looked for: bundled next to the booking handler, then the repo's web build
CANDIDATES = ("booking.html", "web/dist/booking.html")
FALLBACK = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Book a visit</title></head>
<body><main><h1>Book a visit</h1>
<p>The booking page is not built yet (make web builds web/dist/booking.html). Please call the practice.</p>
</main></body></html>
"""


@lru_cache(maxsize=1)
def html() -> str:
    here = Path(__file__).resolve()
    roots = [Path.cwd(), *here.parents]
    for root in roots:
        for name in CANDIDATES:
            path = root / name
            if path.is_file():
                return path.read_text(encoding="utf-8")
    return FALLBACK
