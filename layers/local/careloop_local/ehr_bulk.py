"""`careloop ehr import`: onboarding a whole panel from FHIR Bulk Data NDJSON or a FHIR Bundle of
any size, streamed, mapped and merged with the webhook's rules, written in batches.

A bad line is an error on that line and the import goes on; the summary lists every one.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from careloop.ehr.bulk import CHUNK, CONTEXT_TYPES, StoreWriter, chunk_bundle, map_chunk
from careloop.ehr.outcome import read_outcome
from careloop.ehr.signing import sign_timestamped
from careloop.errors import BundleSyntaxError
from careloop.notices import RECORD_CODES, Notice, code_of
from careloop.ports import Services

READ_CHARS = 1 << 20
TYPE_ORDER = ("Practitioner", "PractitionerRole", "Location", "Patient", "Appointment")
USED_TYPES = frozenset({*TYPE_ORDER, "Schedule", "Slot"})
MAX_ERRORS_KEPT = 1000
# a finished job is polled this often by WebhookSink when the webhook answers 202 (a large batch)
JOB_POLL_S = 0.5


@dataclass
class LineError:
    file: str
    where: str  # "line 17" (NDJSON) or "entry 17" (Bundle.entry, 1-based)
    issue: str


@dataclass
class ImportSummary:
    files: list[str] = field(default_factory=list)
    read: int = 0  # resources read
    skipped: int = 0  # resources Careloop does not use (Observation, Encounter...)
    patients: int = 0  # written: new or changed
    appointments: int = 0
    unchanged: int = 0
    stale: int = 0  # older than what Careloop holds
    merges: int = 0
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # appointments whose patient is not known
    errors: list[LineError] = field(default_factory=list)  # the first MAX_ERRORS_KEPT
    # what mapping noticed, counted by careloop.notices code (one sentence each would drown a panel)
    warnings: dict[str, int] = field(default_factory=dict)
    error_count: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def error(self, file: str, where: str, issue: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(LineError(file, where, issue))

    def as_dict(self) -> dict:
        return {"files": self.files, "read": self.read, "skipped": self.skipped, "patients": self.patients,
                "appointments": self.appointments, "unchanged": self.unchanged, "stale": self.stale,
                "merges": self.merges, "duplicates": [list(d) for d in self.duplicates],
                "orphans": self.orphans, "warnings": dict(sorted(self.warnings.items())),
                "error_count": self.error_count,
                "errors": [e.__dict__ for e in self.errors], "seconds": round(self.seconds, 3),
                "resources_per_second": round(self.rate, 1)}

    def lines(self) -> list[str]:
        out = [f"read {self.read} resource(s) from {len(self.files)} file(s) in {self.seconds:.1f} s "
               f"({self.rate:.0f}/s)",
               f"  written: {self.patients} patient(s), {self.appointments} appointment(s); "
               f"{self.unchanged} unchanged, {self.stale} older than stored, {self.skipped} not used, "
               f"{self.merges} merge(s)"]
        if self.duplicates:
            out.append(f"  {len(self.duplicates)} probable duplicate patient(s) (same identifier): see `careloop audit`")
        if self.orphans:
            out.append(f"  {len(self.orphans)} appointment(s) whose patient is not known")
        if self.warnings:
            out.append("  warnings: " + ", ".join(f"{n} {code}" for code, n in sorted(self.warnings.items())))
        if self.error_count:
            out.append(f"  {self.error_count} error(s):")
            out += [f"    {e.file} {e.where}: {e.issue}" for e in self.errors[:50]]
            if self.error_count > 50:
                out.append(f"    ... {self.error_count - 50} more (--errors FILE writes them all)")
        return out


# ---- reading: NDJSON lines or a streamed Bundle ------------------------------------------------


def _open(path: Path) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")


def is_ndjson(path: Path) -> bool:
    name = path.name.removesuffix(".gz")
    if name.endswith((".ndjson", ".jsonl")):
        return True
    with _open(path) as f:
        lines: list[str] = []
        seen = 0
        try:
            while len(lines) < 2 and seen < 64 * READ_CHARS and (line := f.readline(READ_CHARS)):
                seen += len(line)
                if line.strip():
                    lines.append(line)
        except UnicodeDecodeError:
            return False
    if not lines:
        return False
    try:
        first = json.loads(lines[0])
    except json.JSONDecodeError:
        return False
    return isinstance(first, dict) and (len(lines) > 1 or first.get("resourceType") != "Bundle")


def read_resources(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, resource dict) for each resource, or (where, Exception) for what is unreadable."""
    if is_ndjson(path):
        yield from _ndjson(path)
    else:
        yield from _bundle(path)


def _ndjson(path: Path) -> Iterator[tuple[str, Any]]:
    with _open(path) as f:
        n = 0
        while True:
            try:
                line = f.readline()
            except UnicodeDecodeError as exc:
                yield f"line {n + 1}", ValueError(f"not UTF-8 text ({exc.reason}); the rest of the file is unreadable")
                return
            if not line:
                return
            n += 1
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {n}", ValueError(f"not valid JSON (column {exc.colno}: {exc.msg})")
                continue
            yield f"line {n}", data


def _bundle(path: Path) -> Iterator[tuple[str, Any]]:
    reader = _StreamingBundle(_open(path))
    try:
        for index, entry in reader.entries():
            where = f"entry {index}"
            if not isinstance(entry, dict):
                yield where, ValueError("Bundle.entry item is not a JSON object")
                continue
            yield where, entry.get("resource")  # None (a DELETE, a GET): counted as not used
        rtype = reader.top.get("resourceType")
        if rtype == "Bundle":
            return
        if reader.saw_entry:
            yield "file", ValueError(f"has 'entry' but its resourceType is {rtype!r}, not 'Bundle'")
        elif reader.top:
            yield "file", reader.top  # a single resource, pretty-printed
        else:
            yield "file", ValueError("an empty JSON object")
    except BundleSyntaxError as exc:
        yield f"entry {reader.index + 1}", exc
    except UnicodeDecodeError as exc:
        yield f"entry {reader.index + 1}", ValueError(f"not UTF-8 text ({exc.reason}); the rest is unreadable")
    finally:
        reader.close()


class _StreamingBundle:
    """A JSON object read in slices: top-level members are decoded one by one, and the members
    of `entry` are yielded one at a time, so a Bundle of any size needs memory for one entry."""

    def __init__(self, f: io.TextIOBase) -> None:
        self.f = f
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.top: dict = {}
        self.index = 0
        self.saw_entry = False
        self.decoder = json.JSONDecoder()

    def close(self) -> None:
        self.f.close()

    def _fill(self, want: int = READ_CHARS) -> bool:
        if self.eof:
            return False
        data = self.f.read(max(want, READ_CHARS))
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[self.pos:] + data
        self.pos = 0
        return True

    def _peek(self) -> str:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def _expect(self, char: str) -> None:
        got = self._peek()
        if got != char:
            raise BundleSyntaxError(f"not valid JSON: expected {char!r}, found {got or 'end of file'!r}")
        self.pos += 1

    def _value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                truncated = exc.pos >= len(self.buf) - 1 or exc.msg.startswith("Unterminated string")
                if truncated and self._fill(2 * (len(self.buf) - self.pos)):
                    continue
                raise BundleSyntaxError(f"not valid JSON: {exc.msg}") from exc
            if end >= len(self.buf) and not self.eof and not isinstance(value, (dict, list, str)):
                self._fill()  # a number or literal cut at the slice edge: read on and decode again
                continue
            self.pos = end
            return value

    def entries(self) -> Iterator[tuple[int, Any]]:
        self._expect("{")
        first = True
        while self._peek() != "}":
            if not self._peek():
                raise BundleSyntaxError("not valid JSON: the file ends inside the object")
            if not first:
                self._expect(",")
            first = False
            key = self._value()
            if not isinstance(key, str):
                raise BundleSyntaxError("not valid JSON: an object key is not a string")
            self._expect(":")
            if key != "entry":
                self.top[key] = self._value()
                continue
            self.saw_entry = True
            self._expect("[")
            first_item = True
            while self._peek() != "]":
                if not self._peek():
                    raise BundleSyntaxError("not valid JSON: the file ends inside Bundle.entry")
                if not first_item:
                    self._expect(",")
                first_item = False
                self.index += 1
                yield self.index, self._value()
            self.pos += 1


# ---- writing: straight to the store, or through a webhook -----------------------------------


class Sink(Protocol):
    def write(self, bundle: dict, batch) -> dict[str, Any]: ...


class StoreSink(StoreWriter):
    """Writes through the bulk engine (careloop.ehr.bulk.StoreWriter: `apply_batches` in bulk
    mode) into the services' store: DynamoDB via careloop.adapters.aws.services(), or the
    in-memory fakes in tests."""


class WebhookSink:
    """Posts each batch as a signed FHIR `collection` Bundle to `POST /ehr/fhir` (a running
    `careloop local`, or a deployed stack): the very same intake, archive included."""

    def __init__(self, url: str, secret: str, *, timeout: float = 60.0, attempts: int = 4) -> None:
        self.url = url.rstrip("/") + ("" if url.rstrip("/").endswith("/ehr/fhir") else "/ehr/fhir")
        self.secret = secret
        self.timeout = timeout
        self.attempts = attempts

    def write(self, bundle: dict, batch) -> dict[str, Any]:
        body = json.dumps(bundle).encode()
        for attempt in range(self.attempts):
            req = urllib.request.Request(self.url, data=body, method="POST", headers={
                "Content-Type": "application/fhir+json", "X-Careloop-Signature": sign_timestamped(self.secret, body)})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (given URL)
                    outcome = json.loads(resp.read())
                break
            except urllib.error.HTTPError as exc:
                text = exc.read().decode("utf-8", "replace")
                if exc.code < 500 or attempt + 1 == self.attempts:
                    raise RuntimeError(f"webhook answered HTTP {exc.code}: {_diagnostics(text)}") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                if attempt + 1 == self.attempts:
                    raise RuntimeError(f"webhook unreachable ({type(exc).__name__})") from exc
            time.sleep(0.5 * 2 ** attempt)
        if "job_id" in outcome and "status_url" in outcome:  # the 202 of a batch put behind the webhook's queue
            return self._job_counts(outcome["status_url"])
        answer = read_outcome(outcome)  # the answer's fields (careloop.ehr.outcome), never its wording
        dups = [tuple(r.removeprefix("Patient/") for r in w.refs) for w in answer.warnings
                if isinstance(w, Notice) and w.code == "duplicate_identifier"]
        return answer.counts | {"duplicates": [d for d in dups if len(d) == 2], "orphans": [],
                                "warning_codes": [c for w in answer.warnings if (c := code_of(w)) not in RECORD_CODES]}


    def _job_counts(self, status_url: str, patience_s: float = 3600.0) -> dict[str, Any]:
        """Poll the job's status (signed over its path) until it is done -> its counts."""
        path = urllib.parse.urlparse(status_url).path
        deadline = time.monotonic() + patience_s
        while True:
            req = urllib.request.Request(status_url, headers={"X-Careloop-Signature": sign_timestamped(
                self.secret, path.encode())})
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (the webhook's own URL)
                job = json.loads(resp.read())
            if job["state"] == "failed":
                raise RuntimeError(f"the webhook's import job failed: {job.get('error') or 'no reason given'}")
            if job["state"] == "done":
                return {k: job[k] for k in ("patients", "appointments", "unchanged", "stale", "merges")} | {
                    "duplicates": [], "orphans": [], "warning_codes": []}
            if time.monotonic() > deadline:
                raise RuntimeError(f"the webhook's import job is still {job['state']} after {patience_s:.0f} s")
            time.sleep(JOB_POLL_S)


def _diagnostics(text: str) -> str:
    try:
        return "; ".join(i.get("diagnostics", "") for i in json.loads(text).get("issue", []))[:500]
    except (json.JSONDecodeError, AttributeError):
        return text[:200]


# ---- the import ------------------------------------------------------------------------------


def order_files(paths: list[Path]) -> list[Path]:
    """Practitioners and locations first (names for appointments), then patients, then
    appointments: Bulk Data exports name files after their resource type."""
    def rank(p: Path) -> int:
        for i, t in enumerate(TYPE_ORDER):
            if p.name.lower().startswith(t.lower() + "."):
                return i
        return len(TYPE_ORDER)
    return sorted(paths, key=lambda p: (rank(p), str(p)))


def import_files(
    paths: list[Path | str],
    services: Services,
    *,
    sink: Sink | None = None,
    chunk_size: int = CHUNK,
    progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import every file; never stops for a bad line. `services` gives the practice profile
    (zone, phone region) to map with, and the store when no other `sink` is given."""
    sink = sink or StoreSink(services)
    summary = ImportSummary(files=[str(p) for p in paths])
    started = time.perf_counter()
    context: dict[str, dict] = {}  # "Practitioner/x" -> resource: names for later appointments
    orphans: dict[str, str] = {}  # appointment id -> patient id, re-checked at the end
    for path in order_files([Path(p) for p in paths]):
        chunk: list[tuple[str, dict]] = []
        try:
            for where, item in read_resources(path):
                if isinstance(item, Exception):
                    summary.error(path.name, where, str(item))
                    continue
                summary.read += 1
                if item is None:
                    summary.skipped += 1
                    continue
                problem = _shape_problem(item)
                if problem:
                    summary.error(path.name, where, problem)
                    continue
                rtype = item["resourceType"]
                if rtype not in USED_TYPES:
                    summary.skipped += 1
                    continue
                if rtype in CONTEXT_TYPES and isinstance(item.get("id"), str):
                    context[f"{rtype}/{item['id']}"] = item
                chunk.append((where, item))
                if len(chunk) >= chunk_size:
                    _flush(path.name, chunk, context, services, sink, summary, orphans)
                    chunk = []
                    summary.seconds = time.perf_counter() - started
                    if progress:
                        progress(summary)
        except OSError as exc:
            summary.error(path.name, "file", f"cannot read it ({exc.strerror or type(exc).__name__})")
        if chunk:
            _flush(path.name, chunk, context, services, sink, summary, orphans)
        summary.seconds = time.perf_counter() - started
        if progress:
            progress(summary)
    if orphans and isinstance(sink, StoreSink):
        known = sink.known_patients(set(orphans.values()))
        orphans = {a: p for a, p in orphans.items() if p not in known}
    summary.orphans = sorted(orphans)
    summary.seconds = time.perf_counter() - started
    return summary


def _shape_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "not a JSON object (one FHIR resource per line)"
    rtype = item.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        return "resourceType: missing"
    if rtype == "Bundle":
        return "a Bundle inside an import stream (import Bundles as files of their own)"
    return None


def _flush(file: str, chunk: list[tuple[str, dict]], context: dict[str, dict], services: Services,
           sink: Sink, summary: ImportSummary, orphans: dict[str, str]) -> None:
    # the bulk engine finds the bad resources one by one; the rest go ahead
    batch, good, refused = map_chunk([(where, {"resource": r}) for where, r in chunk], context, services.practice)
    for where, issue in refused:
        summary.error(file, where, issue)
    if batch is None:
        return
    bundle = chunk_bundle([e for _, e in good], context)
    try:
        counts = sink.write(bundle, batch)
    except Exception as exc:  # one failed batch is reported on its lines; the import goes on
        for where, _ in good:
            summary.error(file, where, f"not written ({str(exc)[:200] or type(exc).__name__})")
        return
    summary.patients += counts["patients"]
    summary.appointments += counts["appointments"]
    summary.unchanged += counts["unchanged"]
    summary.stale += counts["stale"]
    summary.merges += counts["merges"]
    summary.duplicates += [d for d in counts["duplicates"] if d not in summary.duplicates]
    orphans.update(dict(counts["orphans"]))
    for code in counts.get("warning_codes", ()):
        summary.warnings[code] = summary.warnings.get(code, 0) + 1
