"""Typed internal events and a small async fan-out bus (assistant → bus → MQTT bridge, logs)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from edge_voice.metrics.records import MetricsSnapshot, ResponseLatency
from edge_voice.models.lifecycle import Replacement
from edge_voice.models.migration import FallbackEvent

log = logging.getLogger(__name__)


#: Who answers a function call: a flow over MQTT, or edge_voice itself through an MCP server.
AnsweredBy = Literal["mqtt", "mcp"]
#: How the conversation treats a pending call: it goes on ("async") or waits ("wait").
CallMode = Literal["async", "wait"]


def utc_now() -> dt.datetime:
    """The current time in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class WakeWordTuning:
    """One wake word's detection settings as the state reports them."""

    engine: str
    threshold: float | None
    refractory_s: float
    profile: bool


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every internal event: when it happened."""

    ts: dt.datetime = field(default_factory=utc_now)


@dataclass(frozen=True, kw_only=True)
class WakeDetected(Event):
    """A wake word model fired (`detected`), its conversation heard no speech (`false_wake`),
    or another device of the arbitration group answers it (`yielded`)."""

    wakeword: str
    score: float
    #: The wake word's name when it has a profile (its conversation uses it), else None.
    profile: str | None = None
    event_type: Literal["detected", "false_wake", "yielded"] = "detected"


@dataclass(frozen=True, kw_only=True)
class Transcript(Event):
    """What the user said or what the assistant answered."""

    role: Literal["user", "assistant"]
    text: str
    item_id: str | None = None
    response_id: str | None = None
    model: str | None = None


@dataclass(frozen=True, kw_only=True)
class FunctionCallRequested(Event):
    """The model called a tool; someone on MQTT (or a built-in) must answer by the deadline."""

    call_id: str
    name: str
    arguments: str
    model: str
    deadline_ms: int
    #: Who answers: "mqtt" (Node-RED/HA by function_call/result) or "mcp" (run here).
    answered_by: AnsweredBy = "mqtt"
    #: "async": the conversation goes on meanwhile and a late result is spoken when it comes.
    mode: CallMode = "wait"


@dataclass(frozen=True, kw_only=True)
class McpCallReported(Event):
    """A native MCP call the model made on OpenAI's side: approved, denied, completed, failed."""

    server_label: str
    name: str
    arguments: str
    status: Literal["approved", "denied", "completed", "failed"]
    model: str
    item_id: str
    output: str | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResponseCompleted(Event):
    """A response finished, with its usage, cost and latencies."""

    response_id: str
    model: str
    voice: str | None
    usage: Mapping[str, int]
    cost_usd: float
    latency_ms: Mapping[ResponseLatency, float | None]
    status: str = "completed"
    kind: str = "answer"  # or "announcement": an out-of-band response (`say`)


@dataclass(frozen=True, kw_only=True)
class MemoryChanged(Event):
    """The summary kept across conversations changed (or was cleared); retained."""

    enabled: bool
    summary: str | None
    updated: dt.datetime | None


@dataclass(frozen=True, kw_only=True)
class FallbackOccurred(Event):
    """The service moved from one model to another because the first failed."""

    fallback: FallbackEvent  # ModelMigration's record, as it made it


@dataclass(frozen=True, kw_only=True)
class ModelReplaced(Event):
    """`auto` uses a live successor instead of a configured model past its shutdown."""

    replaced: Replacement  # ModelMigration's record, announced once per process


@dataclass(frozen=True, kw_only=True)
class ErrorOccurred(Event):
    """Something failed that a user or a flow should know about."""

    code: str
    message: str
    source_topic: str | None = None
    transaction: Any = None
    #: For a function call that failed (e.g. `function_call_timeout`): which call, tool, model.
    call_id: str | None = None
    name: str | None = None
    model: str | None = None


@dataclass(frozen=True, kw_only=True)
class ServiceState(Event):
    """The retained state: what the device is doing and with which model and voice."""

    status: str
    model: str
    active_model: str | None
    model_selection: str
    voice: str
    connected: bool
    fallback_active: bool
    #: The API key was refused at the last connection attempt (None: not tried yet).
    api_key_problem: bool | None = None
    #: The models the current selection tries, in order, dead ones replaced (`auto`).
    model_chain: tuple[str, ...] = ()
    pending: Mapping[str, str] = field(default_factory=dict)
    #: The profile (wake word name) of the conversation now; None: the global settings.
    profile: str | None = None
    #: Per wake word: its threshold (None: the engine's default) and refractory time.
    wakewords: Mapping[str, WakeWordTuning] = field(default_factory=dict)
    #: What a user may choose now: the models offered, the voices the requested model speaks.
    models: tuple[str, ...] = ()
    voices: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MetricsUpdated(Event):
    """Rolling metrics changed (after a response, a fallback, a connection)."""

    metrics: MetricsSnapshot


E = TypeVar("E", bound=Event)


class EventBus:
    """Fan-out to any number of subscribers; a slow subscriber loses its oldest events.

    Queue subscribers (`subscribe`, `stream`) consume at their own pace. Handlers (`on`) run
    inside `publish`, for reactions that must be in place before the publisher goes on (the
    assistant takes a new config at once, so its `state` follows the `ConfigChanged`).
    """

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: list[asyncio.Queue[Event]] = []
        self._handlers: list[tuple[type[Event], Callable[[Any], None]]] = []
        self.dropped = 0

    def publish(self, event: Event) -> None:
        """Deliver `event` to every queue subscriber without waiting, then to its handlers."""
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
                log.warning("event bus: a subscriber is behind; dropped its oldest event")
            queue.put_nowait(event)
        # Queues first: what a handler publishes in reaction comes after its cause.
        for kind, handler in list(self._handlers):
            if isinstance(event, kind):
                try:
                    handler(event)
                except Exception:  # the publisher's work is done; one bad reaction must not undo it
                    log.exception("event bus: a handler of %s failed", type(event).__name__)

    def on(self, kind: type[E], handler: Callable[[E], None]) -> None:
        """Call `handler` with every event of type `kind` (or a subclass), inside `publish`."""
        self._handlers.append((kind, handler))

    def subscribe(self) -> asyncio.Queue[Event]:
        """A queue that receives every event published from now on."""
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        """Stop delivering to `queue`."""
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    async def stream(self) -> AsyncIterator[Event]:
        """Iterate over events from now on (unsubscribes when the iteration ends)."""
        queue = self.subscribe()
        try:
            while True:
                yield await queue.get()
        finally:
            self.unsubscribe(queue)
