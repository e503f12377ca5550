"""`careloop ehr replay`: quarantined EHR payloads re-processed through the same intake. What
now succeeds moves to archive/ (its quarantine key kept in metadata); what still fails stays, with
a fresh reason. Signatures are not checked again: a payload is quarantined only after its
signature was verified.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol

from careloop.ehr.payload import Kind, apply_batches, parse, quarantine
from careloop.errors import PayloadError
from careloop.notices import code_of
from careloop.ports import Services

REASON_SUFFIX = ".reason.json"
Status = Literal["replayed", "still-bad", "would-replay", "would-fail", "missing"]


class ReplayArchive(Protocol):
    def put(self, key: str, body: bytes, metadata: dict[str, str]) -> None: ...
    def list(self, prefix: str) -> list[str]: ...
    def get(self, key: str) -> tuple[bytes, dict[str, str]]: ...
    def delete(self, key: str) -> None: ...


@dataclass
class ReplayOutcome:
    key: str
    status: Status
    kind: str = ""
    archive_key: str | None = None
    issues: list[str] = field(default_factory=list)
    changed: dict[str, int] = field(default_factory=dict)  # patients / appointments / merged ...
    codes: list[str] = field(default_factory=list)  # careloop.notices code of each of `issues`

    def line(self) -> str:
        if self.status in ("replayed", "would-replay"):
            counts = ", ".join(f"{n} {k}" for k, n in self.changed.items() if n) or "nothing changed"
            arrow = f" -> {self.archive_key}" if self.status == "replayed" else ""
            return f"{self.status:<12} {self.key}{arrow} ({counts})"
        return f"{self.status:<12} {self.key}: {'; '.join(self.issues)[:300]}"


def quarantined_keys(archive: ReplayArchive) -> list[str]:
    """Every quarantined payload, oldest first (keys carry the date and time)."""
    return sorted(k for k in archive.list("quarantine/") if not k.endswith(REASON_SUFFIX))


def archive_key_for(quarantine_key: str) -> str:
    return "archive/" + quarantine_key.removeprefix("quarantine/")


def replay(
    services: Services,
    archive: ReplayArchive,
    *,
    keys: list[str] | None = None,
    dry_run: bool = False,
) -> list[ReplayOutcome]:
    """Replay `keys` (default: every quarantined payload). `dry_run` parses only: nothing is
    written, moved or annotated."""
    chosen = quarantined_keys(archive) if keys is None else list(keys)
    return [replay_one(services, archive, key, dry_run=dry_run) for key in chosen]


def replay_one(services: Services, archive: ReplayArchive, key: str, *, dry_run: bool = False) -> ReplayOutcome:
    if not key.startswith("quarantine/") or key.endswith(REASON_SUFFIX):
        return ReplayOutcome(key, "missing", issues=["not a quarantined payload key (quarantine/...)"])
    try:
        body, metadata = archive.get(key)
    except Exception as exc:  # S3 NoSuchKey, KeyError in fakes: the key is simply not there
        return ReplayOutcome(key, "missing", issues=[f"cannot read it ({type(exc).__name__})"])
    previous = _reason(archive, key)
    kind = metadata.get("kind") or previous.get("kind") or key.split("/")[1]
    if kind not in ("fhir", "hl7v2"):
        return ReplayOutcome(key, "missing", kind, issues=[f"unknown payload kind {kind!r}"])
    checked: Kind = "fhir" if kind == "fhir" else "hl7v2"
    now = services.clock.now()
    try:
        batches = parse(checked, body, services)
    except PayloadError as exc:
        if not dry_run:
            quarantine(archive, key, checked, body, exc.issues, now, details={
                "received_at": previous.get("received_at", now.isoformat()),
                "first_issues": previous.get("first_issues", previous.get("issues", [])),
                "replays": int(previous.get("replays", 0)) + 1,
                "last_replayed_at": now.isoformat(),
            })
        return ReplayOutcome(key, "would-fail" if dry_run else "still-bad", kind, issues=exc.issues,
                             codes=[code_of(i) for i in exc.issues])

    target = archive_key_for(key)
    if dry_run:
        counts = {"patients": sum(len(b.patients) for b in batches),
                  "appointments": sum(len(b.appointments) for b in batches),
                  "merges": sum(len(b.merges) for b in batches)}
        return ReplayOutcome(key, "would-replay", kind, target, changed=counts)
    # archive first, then apply, then remove from quarantine: a crash in between replays again,
    # which is harmless (the archive key is fixed and applying is idempotent)
    archive.put(target, body, {"kind": kind, "replayed-from": key, "replayed-at": now.isoformat(),
                               "received-at": str(previous.get("received_at", ""))})
    result = apply_batches(services, batches, now)
    _delete(archive, key + REASON_SUFFIX)
    _delete(archive, key)
    warnings = result.warnings()
    return ReplayOutcome(key, "replayed", kind, target, [str(w) for w in warnings], result.counts(),
                         [code_of(w) for w in warnings])


def replay_request(services: Services, archive: ReplayArchive, body: object) -> tuple[int, dict]:
    """What the local route `POST /dev/ehr/replay` answers: body {"keys": [...]} or
    {"all": true}, optional "dry_run"; -> (status, {"results": [...], "summary": {...}})."""
    if not isinstance(body, dict) or not (body.get("all") is True or isinstance(body.get("keys"), list)):
        return 400, {"message": 'expected JSON {"all": true} or {"keys": ["quarantine/..."]}, optional "dry_run"'}
    keys = None if body.get("all") is True else [str(k) for k in body["keys"]]
    outcomes = replay(services, archive, keys=keys, dry_run=bool(body.get("dry_run")))
    return 200, outcomes_json(outcomes)


def outcomes_json(outcomes: list[ReplayOutcome]) -> dict:
    summary: dict[str, int] = {}
    for o in outcomes:
        summary[o.status] = summary.get(o.status, 0) + 1
    return {"results": [asdict(o) for o in outcomes], "summary": summary}


def _reason(archive: ReplayArchive, key: str) -> dict:
    try:
        return json.loads(archive.get(key + REASON_SUFFIX)[0])
    except Exception:  # no reason document (older payloads) or an unreadable one
        return {}


def _delete(archive: ReplayArchive, key: str) -> None:
    archive.delete(key)
