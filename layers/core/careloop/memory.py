"""In-memory wiring of the core (store, outbox, notifier, virtual clock) with the record
stream emulated by a listener: what `careloop simulate` and the unit tests run on."""

from __future__ import annotations

from datetime import datetime

from careloop.clock import FixedClock
from careloop.engine.planner import plan_appointment_change
from careloop.ports import ListNotifier, ListOutbox, Services
from careloop.practice import PracticeProfile, demo_profile
from careloop.store import MemoryStore
from careloop.workflows import Workflow, default_library


def memory_services(
    at: datetime,
    practice: PracticeProfile | None = None,
    workflows: tuple[Workflow, ...] | None = None,
) -> Services:
    store = MemoryStore()
    services = Services(
        store=store,
        practice=practice or demo_profile(),
        workflow_source=default_library() if workflows is None else workflows,
        clock=FixedClock(at),
        outbox=ListOutbox(),
        notifier=ListNotifier(),
    )

    def on_change(kind: str, old, new) -> None:  # what the DynamoDB stream does in AWS
        if kind == "appointment":
            plan_appointment_change(services, old, new, services.clock.now())

    store.listeners.append(on_change)
    return services
