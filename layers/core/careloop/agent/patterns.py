"""Regular expressions compiled on first use, so importing the classifier stays cheap (the
large alternations of the safety and cue layers cost tens of milliseconds to compile), and
alternations that skip the patterns whose required words are absent (fast on long texts)."""

from __future__ import annotations

import re

# the private sre modules are the only parser of a pattern's structure; the shortcut they give is
# optional (an unparsable pattern only loses it)
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]


class LazyPattern:
    __slots__ = ("_source", "_flags", "_compiled")

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._source, self._flags)
        return self._compiled

    @property
    def pattern(self) -> str:
        return self._source

    def search(self, string: str, *args):
        return self.compiled.search(string, *args)

    def match(self, string: str, *args):
        return self.compiled.match(string, *args)

    def fullmatch(self, string: str, *args):
        return self.compiled.fullmatch(string, *args)

    def finditer(self, string: str, *args):
        return self.compiled.finditer(string, *args)

    def findall(self, string: str, *args):
        return self.compiled.findall(string, *args)

    def sub(self, repl, string: str, count: int = 0):
        return self.compiled.sub(repl, string, count)


def lazy(source: str, flags: int = 0) -> LazyPattern:
    return LazyPattern(source, flags)


class Alternation:
    """Like one compiled `a|b|c`, but each alternative runs only when a literal it requires
    occurs in the text (a plain substring test), so a 1,600-character text costs a few tests
    per pattern instead of a full regex scan per pattern."""

    __slots__ = ("_sources", "_parts", "_literals")

    def __init__(self, sources: tuple[str, ...]) -> None:
        self._sources = sources
        # (indexes into _literals one of which must occur, or None; the pattern): a literal shared
        # by many alternatives is looked for once per text, not once per alternative
        self._parts: list[tuple[int | tuple[int, ...] | None, re.Pattern[str]]] | None = None
        self._literals: tuple[str, ...] = ()

    @property
    def pattern(self) -> str:
        return "|".join(f"(?:{p})" for p in self._sources)

    def _ready(self) -> list[tuple[int | tuple[int, ...] | None, re.Pattern[str]]]:
        if self._parts is None:
            parts = [(required_literals(src), re.compile(src)) for src in self._sources]
            literals = sorted({lit for req, _ in parts if req for lit in req})
            index = {lit: i for i, lit in enumerate(literals)}
            self._literals = tuple(literals)
            self._parts = [
                (None if not req else index[next(iter(req))] if len(req) == 1 else tuple(index[x] for x in req), rx)
                for req, rx in parts
            ]
        return self._parts

    def _candidates(self, string: str):
        parts = self._ready()
        hit = [lit in string for lit in self._literals]
        for req, rx in parts:
            if req is None or (hit[req] if isinstance(req, int) else any(hit[i] for i in req)):
                yield rx

    def search(self, string: str):
        best = None
        for rx in self._candidates(string):
            m = rx.search(string)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best

    def finditer(self, string: str):
        """Non-overlapping matches, leftmost (then longest) first, as one alternation gives."""
        found = sorted((m for rx in self._candidates(string) for m in rx.finditer(string)),
                       key=lambda m: (m.start(), -m.end()))
        end = -1
        for m in found:
            if m.start() >= end:
                end = max(m.end(), m.start() + 1)
                yield m

    def findall(self, string: str) -> list[str]:
        return [m.group(0) for m in self.finditer(string)]


def required_literals(source: str) -> frozenset[str] | None:
    """A set of strings one of which any match of `source` contains, or None if unknown."""
    try:
        return _required(_parser.parse(source))
    except Exception:  # noqa: BLE001 - an unparsable shape only loses the shortcut
        return None


def _required(seq) -> frozenset[str] | None:
    options: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in seq:
        if op is _c.LITERAL:
            run.append(chr(av))
            continue
        if run:
            options.append(frozenset(["".join(run)]))
            run = []
        req = None
        if op is _c.SUBPATTERN:
            req = _required(av[-1])
        elif op is _c.BRANCH:
            branches = [_required(b) for b in av[1]]
            known = [b for b in branches if b]
            if branches and len(known) == len(branches):
                req = frozenset().union(*known)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] >= 1:
            req = _required(av[2])
        if req:
            options.append(req)
    if run:
        options.append(frozenset(["".join(run)]))
    if not options:
        return None
    return max(options, key=lambda o: min(len(x) for x in o))


# What the safety and cue tables hold: either kind answers search / finditer / findall / pattern.
Matcher = LazyPattern | Alternation


def any_of(*parts: str) -> Alternation:
    """One lazily compiled alternation of the given patterns."""
    return Alternation(parts)
