"""An observing MQTT client for the device tests: records what a subscriber (HA, a flow) sees."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiomqtt

from edge_voice.mqtt.topics import Topics
from tests.support.broker import BrokerAddress

#: Bound on every wait for a message.
TIMEOUT = 5.0
_tx = itertools.count(1)


class HasTopics(Protocol):
    """Anything with a device's topics (a running device)."""

    @property
    def topics(self) -> Topics:
        """The device's topics."""


def unique_base() -> str:
    """A base topic of this test alone, so tests share the session broker without cross-talk."""
    return f"t_{uuid.uuid4().hex[:12]}"


@dataclass
class Received:
    """One message the observer saw."""

    topic: str
    payload: bytes
    retain: bool
    qos: int

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload)


class Observer:
    """A plain MQTT client recording every message on its filters, for assertions."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: list[Received] = []
        self._taken: set[int] = set()
        self._counts: dict[str, int] = {}
        self._arrived = asyncio.Condition()

    async def _collect(self) -> None:
        async for message in self.client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else b""
            received = Received(message.topic.value, payload, message.retain, message.qos)
            async with self._arrived:
                self.messages.append(received)
                self._counts[received.topic] = self._counts.get(received.topic, 0) + 1
                self._arrived.notify_all()

    async def subscribe(self, *filters: str) -> None:
        """Subscribe at QoS 1 (SUBACK awaited)."""
        await self.client.subscribe([(f, 1) for f in filters])

    async def expect(
        self,
        topic: str,
        where: Callable[[Received], bool] = lambda _: True,
        within: float = TIMEOUT,
        *,
        since: int = 0,
    ) -> Received:
        """The oldest message not yet taken on `topic` that satisfies `where` (waits for it).

        `since`: only messages from that index of `messages` on.
        """
        async with asyncio.timeout(within), self._arrived:
            while True:
                for i, m in enumerate(self.messages[since:], since):
                    if i not in self._taken and m.topic == topic and where(m):
                        self._taken.add(i)
                        return m
                await self._arrived.wait()

    async def expect_count(self, topic: str, count: int, within: float = TIMEOUT) -> list[Received]:
        """Wait until `count` messages have been seen on `topic`; all of them, in order."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: self._counts.get(topic, 0) >= count)
        return self.on(topic)

    async def wait_until(
        self, done: Callable[[list[Received]], bool], within: float = TIMEOUT
    ) -> None:
        """Until `done(messages)` holds (checked as each message arrives)."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: done(self.messages))

    def on(self, topic: str) -> list[Received]:
        """Every message seen on `topic` so far."""
        return [m for m in self.messages if m.topic == topic]

    async def publish(self, topic: str, payload: bytes | str, *, retain: bool = False) -> None:
        """Publish at QoS 1."""
        data = payload.encode() if isinstance(payload, str) else payload
        await self.client.publish(topic, data, qos=1, retain=retain)

    async def answer(self, device: HasTopics, topic: str) -> Any:
        """The next `response` payload of `device` about a command on `topic`."""
        reply = await self.expect(device.topics.response, lambda m: m.json()["topic"] == topic)
        return reply.json()

    async def request(self, device: HasTopics, suffix: str, payload: dict[str, Any]) -> Any:
        """Send a JSON command with a fresh transaction; the matching `response` payload."""
        tx = f"tx-{next(_tx)}"
        await self.publish(
            f"{device.topics.base}/{suffix}", json.dumps({**payload, "transaction": tx})
        )
        answer = await self.expect(
            device.topics.response, lambda m: m.json().get("transaction") == tx
        )
        return answer.json()

    async def barrier(self, device: HasTopics) -> None:
        """Once this returns, whatever `device` published before has arrived (a round trip)."""
        # The device answers commands in order after what it queued before: an unknown command's
        # answer comes after every earlier publication (it also raises an `event/error`).
        topic = f"{device.topics.base}/barrier_{next(_tx)}/set"
        await self.publish(topic, b"")
        await self.answer(device, topic)

    async def status(
        self,
        device: HasTopics,
        status: str,
        within: float = TIMEOUT,
        *,
        after: Received | None = None,
    ) -> Any:
        """The first `state` with this `status` after every state taken so far, or `after` that
        message (waits for it).

        The bridge keeps only the latest of retained values it could not send yet, so a short
        state may never reach the broker: wait for one that lasts.
        """
        topic = device.topics.state
        if after is not None:
            last = next(i for i, m in enumerate(self.messages) if m is after)
        else:
            last = max((i for i in self._taken if self.messages[i].topic == topic), default=-1)
        state = await self.expect(
            topic, lambda m: m.json()["status"] == status, within=within, since=last + 1
        )
        return state.json()


@contextlib.asynccontextmanager
async def observer(
    broker: BrokerAddress,
    *filters: str,
    username: str | None = None,
    password: str | None = None,
) -> AsyncIterator[Observer]:
    """An observing client (with a login if given) subscribed to `filters` before the block."""
    async with aiomqtt.Client(
        broker.host,
        broker.port,
        username=username,
        password=password,
        identifier=f"obs-{uuid.uuid4().hex[:8]}",
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    ) as c:
        obs = Observer(c)
        task = asyncio.create_task(obs._collect())
        try:
            if filters:
                await obs.subscribe(*filters)
            yield obs
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task
