"""Ports the core talks through (besides the store): the send queue, staff notifications, the
SMS channel and the optional LLM tier. AWS adapters live in careloop.adapters; the simulator and
tests use fakes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from careloop.clock import Clock
from careloop.models import Message
from careloop.practice import PracticeProfile
from careloop.store import Store
from careloop.workflows import Workflow

if TYPE_CHECKING:  # the classifier is not loaded by every function that builds Services
    from careloop.agent.classifier import Prediction


class Outbox(Protocol):
    """Hands an outbound message (already stored, status queued) to the sender."""

    def enqueue(self, message: Message) -> None: ...


class Notifier(Protocol):
    """Tells staff about a task or alert (SNS topic -> email / SMS to on-call)."""

    def notify(self, message: Message) -> None: ...


class SmsChannel(Protocol):
    """The carrier side: End User Messaging SMS."""

    def send(self, to: str, body: str, context: dict[str, str]) -> str: ...  # provider id
    def opt_out(self, phone: str) -> None: ...
    def opt_in(self, phone: str) -> None: ...


# The LLM tier's verdict when it sees possible urgency the rules did not: the local prediction is
# kept and a person is alerted urgently (urgent is the rules' to decide, never the LLM's).
LLM_URGENT_REASON = "llm flagged possible urgency"


class IntentLlm(Protocol):
    """Second opinion (careloop.agent.llm): `label` for a text the local classifier is unsure about
    (a Prediction with a label and extracted details), `screen` for urgency on every other text not
    already urgent; either returns `local` unchanged when it cannot help.
    It never produces text for a patient. `names` / `ids` are removed from what it sends."""

    def label(self, text: str, local: Prediction, *, names: Sequence[str] = (), ids: Sequence[str] = (),
              ref: str = "") -> Prediction: ...

    def screen(self, text: str, local: Prediction, *, names: Sequence[str] = (), ids: Sequence[str] = (),
               ref: str = "") -> Prediction: ...  # urgency only, for every text not already urgent


@dataclass
class ListOutbox:
    sent: list[Message] = field(default_factory=list)

    def enqueue(self, message: Message) -> None:
        self.sent.append(message)


@dataclass
class ListNotifier:
    notified: list[Message] = field(default_factory=list)

    def notify(self, message: Message) -> None:
        self.notified.append(message)


@dataclass
class Services:
    """Everything a core operation needs, built once per cold start (or per simulation)."""

    store: Store
    practice: PracticeProfile
    workflow_source: tuple[Workflow, ...] | Callable[[], tuple[Workflow, ...]]
    clock: Clock
    outbox: Outbox
    notifier: Notifier
    sms: SmsChannel | None = None  # for keeping the carrier opt-out list in step
    writeback: object | None = None  # careloop.ehr.writeback.WritebackQueue, when enabled
    llm: IntentLlm | None = None  # the optional LLM tier, only when practice.agent.llm_enabled

    @property
    def workflows(self) -> tuple[Workflow, ...]:
        """Fixed (simulation) or the stored, switchable set (deployed)."""
        source = self.workflow_source
        return source() if callable(source) else source

    def workflow(self, workflow_id: str) -> Workflow | None:
        for w in self.workflows:
            if w.id == workflow_id:
                return w
        return None
