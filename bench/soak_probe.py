"""The soak's probe: what the service published (the outbox's intake) and said on its bus."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.soak_rig import Key, message_key
from edge_voice.events import (
    ErrorOccurred,
    FallbackOccurred,
    ResponseCompleted,
    ServiceState,
    Transcript,
)
from edge_voice.mqtt.payloads import Publication
from edge_voice.service import Service


@dataclass
class Probe:
    """What the service published (the outbox's intake) and said on its bus."""

    published: Counter[Key] = field(default_factory=Counter)
    published_at: dict[Key, float] = field(default_factory=dict)
    states: list[tuple[float, str]] = field(default_factory=list)
    responses: int = 0
    cost_nusd: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    fallbacks: int = 0
    broker_connects: int = 0
    #: What the assistant said, by text (the MCP tool's answer shows that the server is back).
    answers: Counter[str] = field(default_factory=Counter)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def attach(self, service: Service) -> None:
        """Hook the bus and the outbox's `put` and `set_connected` (reads only)."""
        bus, outbox = service.bus, service.bridge.outbox
        bus.on(ServiceState, self._state)
        bus.on(ResponseCompleted, self._response)
        bus.on(ErrorOccurred, lambda e: self.errors.update([e.code]))
        bus.on(FallbackOccurred, lambda _: self._fallback())
        bus.on(Transcript, self._transcript)
        put, set_connected = outbox.put, outbox.set_connected

        def counted_put(publication: Publication, *, remember: bool = True) -> None:
            if not publication.retain:
                key = message_key(publication.topic, publication.payload)
                self.published[key] += 1
                self.published_at.setdefault(key, time.monotonic())
            put(publication, remember=remember)

        def counted_connect(connected: bool) -> None:
            self.broker_connects += connected and not outbox.connected
            set_connected(connected)

        outbox.put = counted_put  # type: ignore[method-assign]
        outbox.set_connected = counted_connect  # type: ignore[method-assign]

    def _transcript(self, event: Transcript) -> None:
        if event.role == "assistant":
            self.answers[event.text] += 1

    def _fallback(self) -> None:
        self.fallbacks += 1

    def _state(self, event: ServiceState) -> None:
        if not self.states or self.states[-1][1] != event.status:
            self.states.append((time.monotonic(), event.status))
            self.changed.set()

    def _response(self, event: ResponseCompleted) -> None:
        self.responses += 1
        self.changed.set()

    async def status(self, wanted: set[str], after: float, within: float) -> tuple[float, str]:
        """The first state in `wanted` entered after `after` (TimeoutError past `within`)."""
        async with asyncio.timeout(within):
            while True:
                for stamp, seen in self.states:
                    if stamp >= after and seen in wanted:
                        return stamp, seen
                self.changed.clear()
                await self.changed.wait()
