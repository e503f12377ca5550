"""The practice's workflows as stored data: on/off and edits, each change versioned with who,
when and why, and every previous definition kept so a practice can trace what changed.

One config document in the records table, written with optimistic concurrency (revision).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from careloop.errors import ConfigError, Conflict, NotFound
from careloop.workflows.model import Change, Workflow, default_library, load_workflows

if TYPE_CHECKING:
    from careloop.ports import ConfigStore

DOC = "workflows"


def _doc(configs) -> tuple[dict[str, Any], int]:
    doc, revision = configs.load_config(DOC)
    if doc is None:
        doc = {"workflows": [w.model_dump(mode="json") for w in default_library()], "previous": {}}
    return doc, revision


def current(configs: ConfigStore) -> tuple[Workflow, ...]:
    doc, _ = configs.load_config(DOC)
    return default_library() if doc is None else load_workflows(doc["workflows"], "stored workflows")


def history(configs: ConfigStore, workflow_id: str) -> list[dict]:
    doc, _ = _doc(configs)
    now = [w for w in doc["workflows"] if w["id"] == workflow_id]
    if not now:
        raise NotFound(f"workflow {workflow_id} not found")
    return [now[0], *reversed(doc["previous"].get(workflow_id, []))]


def _change(configs, workflow_id: str | None, new_definition, by: str, why: str, at: datetime, attempts: int = 5) -> Workflow:
    """Apply `new_definition(old_json | None) -> json` with a version bump and history entry."""
    for _ in range(attempts):
        doc, revision = _doc(configs)
        items = doc["workflows"]
        index = next((i for i, w in enumerate(items) if w["id"] == workflow_id), None)
        old = items[index] if index is not None else None
        proposed = new_definition(old)
        version = (old["version"] + 1) if old else 1
        history_entries = list(old.get("history", [])) if old else []
        history_entries.append(Change(version=version, at=at.isoformat(), by=by, why=why).model_dump())
        proposed = proposed | {"version": version, "history": history_entries}
        candidate = [w for w in items if w["id"] != proposed["id"]] + [proposed] if index is None else \
            [proposed if i == index else w for i, w in enumerate(items)]
        validated = load_workflows(candidate, "workflows")  # ConfigError names the field
        if old is not None:
            doc["previous"].setdefault(old["id"], []).append(old)
        new_doc = {"workflows": candidate, "previous": doc["previous"]}
        if configs.save_config(DOC, new_doc, revision):
            return next(w for w in validated if w.id == proposed["id"])
    raise Conflict("workflows changed concurrently; try again")


def set_enabled(configs: ConfigStore, workflow_id: str, enabled: bool, by: str, why: str, at: datetime) -> Workflow:
    def toggle(old):
        if old is None:
            raise NotFound(f"workflow {workflow_id} not found")
        return old | {"enabled": enabled}

    return _change(configs, workflow_id, toggle, by, why or ("switched on" if enabled else "switched off"), at)


def save(configs: ConfigStore, definition: dict, by: str, why: str, at: datetime) -> Workflow:
    if not isinstance(definition, dict) or not isinstance(definition.get("id"), str):
        raise ConfigError("workflow: a definition object with an `id` is required")
    return _change(configs, definition["id"], lambda old: dict(definition), by, why or "edited", at)


class CachedWorkflows:
    """What a Lambda container uses: the stored workflows, re-read at most every `ttl` seconds
    (the dispatcher re-checks `enabled` at fire time, so a switch-off holds within that)."""

    def __init__(self, configs: ConfigStore, ttl: float = 30.0, monotonic=time.monotonic) -> None:
        self.configs, self.ttl, self.monotonic = configs, ttl, monotonic
        self._value: tuple[Workflow, ...] | None = None
        self._at = 0.0

    def __call__(self) -> tuple[Workflow, ...]:
        if self._value is None or self.monotonic() - self._at > self.ttl:
            self._value, self._at = current(self.configs), self.monotonic()
        return self._value

    def invalidate(self) -> None:
        self._value = None
