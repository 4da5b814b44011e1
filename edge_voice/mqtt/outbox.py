"""What the bridge still has to publish: a bounded FIFO of events, the latest retained values."""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from edge_voice.mqtt.payloads import Publication

log = logging.getLogger(__name__)


class _Entry:
    """One queued publication; compared by identity so equal payloads stay distinct."""

    __slots__ = ("publication",)

    def __init__(self, publication: Publication) -> None:
        self.publication = publication


class Outbox:
    """FIFO of pending publications: bounded events, retained values coalesced per topic."""

    # Events (not retained) beyond `max_events` push out the oldest event, counted in
    # `dropped`. A retained value replaces a pending older value of its topic (only the latest
    # matters); the latest value of each remembered topic is kept to re-publish on reconnect.

    def __init__(self, max_events: int) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self.max_events = max_events
        self.dropped = 0
        self._queue: deque[_Entry] = deque()
        self._events = 0
        self._pending_retained: dict[str, _Entry] = {}
        self._latest: dict[str, Publication] = {}
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def pending_events(self) -> int:
        """Events (not retained) waiting to be published."""
        return self._events

    def put(self, publication: Publication, *, remember: bool = True) -> None:
        """Queue `publication`; `remember` keeps a retained one for re-publishing on reconnect."""
        entry = _Entry(publication)
        if publication.retain:
            older = self._pending_retained.pop(publication.topic, None)
            if older is not None:
                self._queue.remove(older)
            self._pending_retained[publication.topic] = entry
            if remember:
                self._latest[publication.topic] = publication
        else:
            if self._events >= self.max_events:
                self._drop_oldest_event()
            self._events += 1
        self._queue.append(entry)
        self._ready.set()

    def _drop_oldest_event(self) -> None:
        for entry in self._queue:
            if not entry.publication.retain:
                self._queue.remove(entry)
                self._events -= 1
                self.dropped += 1
                log.warning(
                    "MQTT outbox full (%d events): dropped the oldest, %s (%d dropped so far)",
                    self.max_events,
                    entry.publication.topic,
                    self.dropped,
                )
                return

    async def next(self) -> Publication:
        """The oldest pending publication, left queued until `done()` confirms it went out."""
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
        return self._queue[0].publication

    def done(self, publication: Publication) -> None:
        """`publication` (from `next()`) went out: remove it unless it was dropped meanwhile."""
        if not self._queue or self._queue[0].publication is not publication:
            return
        entry = self._queue.popleft()
        if publication.retain:
            if self._pending_retained.get(publication.topic) is entry:
                del self._pending_retained[publication.topic]
        else:
            self._events -= 1

    def latest(self, topic: str) -> Publication | None:
        """The last remembered retained value of `topic`."""
        return self._latest.get(topic)

    def take_retained(self) -> list[Publication]:
        """Every remembered retained value, for a (re)connect; their queued copies are dropped."""
        for topic in self._latest:
            entry = self._pending_retained.pop(topic, None)
            if entry is not None:
                self._queue.remove(entry)
        return list(self._latest.values())
