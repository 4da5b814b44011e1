"""What the bridge still has to publish: events and answers in order, retained states latest-only.

While connected nothing is dropped: the command intake waits for `room()` instead (the events
of a conversation are never held back). Only while the broker is away is the queue bounded, and
then retained states go first: the remembered ones are re-published from `latest()` on the next
connect anyway, the others (HA discovery, availability) are rebuilt by the connect sequence.
A publication with an expiry (a function call past its deadline) is dropped when taken late.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from edge_voice.mqtt.payloads import Publication

log = logging.getLogger(__name__)


class _Entry:
    """One queued publication; compared by identity so equal payloads stay distinct."""

    __slots__ = ("publication",)

    def __init__(self, publication: Publication) -> None:
        self.publication = publication


class Outbox:
    """Pending publications: taken oldest first, several in flight, retained ones coalesced."""

    def __init__(self, max_pending: int, *, clock: Callable[[], float] = time.time) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.max_pending = max_pending
        self.dropped_events = 0
        self.dropped_states = 0
        #: Publications dropped because their expiry passed before they could go out.
        self.expired = 0
        self._clock = clock
        self._connected = False
        self._queue: deque[_Entry] = deque()  # not yet taken, oldest first
        self._in_flight: list[_Entry] = []  # taken, not yet `done()`, in the order taken
        self._pending_retained: dict[str, _Entry] = {}  # queue order: oldest first
        self._latest: dict[str, Publication] = {}
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._empty = asyncio.Event()
        self._changed()

    def __len__(self) -> int:
        return len(self._queue) + len(self._in_flight)

    @property
    def connected(self) -> bool:
        """Whether the bridge has a broker link (then nothing is dropped)."""
        return self._connected

    def set_connected(self, connected: bool) -> None:
        """The broker link went up or down; going down requeues and trims to the bound."""
        self._connected = connected
        if not connected:
            self.requeue()
            while len(self) > self.max_pending:
                self._drop_one()
        self._changed()

    def put(self, publication: Publication, *, remember: bool = True) -> None:
        """Queue `publication`; `remember` keeps a retained one for re-publishing on connect."""
        entry = _Entry(publication)
        if publication.retain:
            if remember:
                self._latest[publication.topic] = publication
            older = self._pending_retained.pop(publication.topic, None)
            if older is not None:
                self._queue.remove(older)
            elif self._full():
                if not self._pending_retained:
                    self._count_state(publication)  # full of events: they matter more
                    return
                self._drop_one()
            self._pending_retained[publication.topic] = entry
        elif self._full():
            self._drop_one()
        self._queue.append(entry)
        self._changed()

    async def take(self) -> Publication:
        """The oldest pending publication, in flight until `done()` (or `requeue()`); those
        whose expiry passed are dropped on the way."""
        while True:
            while not self._queue:
                await self._ready.wait()
            entry = self._queue.popleft()
            if not self._expired(entry):
                break
        if (
            entry.publication.retain
            and self._pending_retained.get(entry.publication.topic) is entry
        ):
            del self._pending_retained[entry.publication.topic]
        self._in_flight.append(entry)
        self._changed()
        return entry.publication

    def done(self, publication: Publication) -> None:
        """`publication` (from `take()`) went out, or can never go out."""
        for i, entry in enumerate(self._in_flight):
            if entry.publication is publication:
                del self._in_flight[i]
                self._changed()
                return

    def requeue(self) -> None:
        """The connection is gone: what is in flight goes again first, in its order."""
        if not self._in_flight:
            return
        for entry in reversed(self._in_flight):
            topic = entry.publication.topic
            if entry.publication.retain and topic in self._pending_retained:
                continue  # a newer value of the topic is already queued
            if entry.publication.retain:
                self._pending_retained = {topic: entry, **self._pending_retained}
            self._queue.appendleft(entry)
        self._in_flight.clear()
        self._changed()

    async def room(self) -> None:
        """Return once fewer than `max_pending` publications wait: backpressure for intake."""
        await self._room.wait()

    async def flushed(self) -> None:
        """Return once everything queued has been published."""
        await self._empty.wait()

    def take_retained(self) -> list[Publication]:
        """Every remembered retained value, for a (re)connect; their queued copies are dropped."""
        for topic in self._latest:
            entry = self._pending_retained.pop(topic, None)
            if entry is not None:
                self._queue.remove(entry)
        self._changed()
        return list(self._latest.values())

    # -- helpers -------------------------------------------------------------------------------

    def _full(self) -> bool:
        return not self._connected and len(self) >= self.max_pending

    def _drop_one(self) -> None:
        """Make room while offline: an expired call, the oldest retained state, else the oldest
        event."""
        void = next((e for e in self._queue if self._past(e)), None)
        if void is not None:
            self._queue.remove(void)
            self._expired(void)
            return
        if self._pending_retained:
            topic = next(iter(self._pending_retained))
            entry = self._pending_retained.pop(topic)
            self._queue.remove(entry)
            self._count_state(entry.publication)
            return
        if not self._queue:
            return
        entry = self._queue.popleft()
        self.dropped_events += 1
        log.warning(
            "MQTT outbox full while the broker is away (%d queued): dropped the oldest event, "
            "%s (%d dropped so far)",
            self.max_pending,
            entry.publication.topic,
            self.dropped_events,
        )

    def _past(self, entry: _Entry) -> bool:
        expiry = entry.publication.expiry
        return expiry is not None and self._clock() >= expiry.at

    def _expired(self, entry: _Entry) -> bool:
        """Drop `entry` (off the queue already) if its expiry passed; whether it did."""
        expiry = entry.publication.expiry
        if expiry is None or not self._past(entry):
            return False
        topic = entry.publication.topic
        if entry.publication.retain and self._pending_retained.get(topic) is entry:
            del self._pending_retained[topic]
        self.expired += 1
        log.warning(
            "MQTT: not publishing %s on %s: expired %.1f s ago, before it could go out "
            "(%d expired so far)",
            expiry.what,
            topic,
            self._clock() - expiry.at,
            self.expired,
        )
        self._changed()
        return True

    def _count_state(self, publication: Publication) -> None:
        self.dropped_states += 1
        log.debug(
            "MQTT outbox full while the broker is away: not keeping %s (retained; %s)",
            publication.topic,
            "re-published on connect"
            if self._latest.get(publication.topic) is not None
            else "rebuilt on connect",
        )

    def _changed(self) -> None:
        for event, on in (
            (self._ready, bool(self._queue)),
            (self._room, len(self) < self.max_pending),
            (self._empty, not len(self)),
        ):
            if on:
                event.set()
            else:
                event.clear()
