"""Helpers for the bridge tests: a device on a real broker, and an observing client."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from edge_voice.config.events import ConfigChanged
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.store import ConfigStore
from edge_voice.events import EventBus, ServiceState
from edge_voice.mqtt import connection
from edge_voice.mqtt.bridge import BridgeOptions, MqttBridge
from edge_voice.mqtt.connection import ReconnectPolicy
from edge_voice.mqtt.topics import Topics
from tests.support.broker import BrokerAddress
from tests.support.recording_conversation import RecordingConversation, StateEcho

pytestmark = pytest.mark.broker

TIMEOUT = 5.0
FAST = BridgeOptions(
    reconnect=ReconnectPolicy(initial_s=0.05, max_s=0.4),
    ha_birth_delay_s=0.0,
    sync_timeout_s=3.0,
    publish_timeout_s=3.0,
)
_tx = itertools.count(1)


def connected_state(status: str) -> ServiceState:
    """The state a connected device on gpt-realtime publishes while `status`."""
    return ServiceState(
        status=status,
        model="gpt-realtime",
        active_model="gpt-realtime",
        model_selection="auto",
        voice="cedar",
        connected=True,
        fallback_active=False,
    )


def unique_base() -> str:
    """A base topic of this test alone, so tests share the session broker without cross-talk."""
    return f"t_{uuid.uuid4().hex[:12]}"


def make_config(
    broker: BrokerAddress, state_dir: Path, *, base: str, device_id: str = "kitchen", **extra: Any
) -> EdgeVoiceConfig:
    """A device config pointing at `broker`; `extra` sections are merged in."""
    mqtt = {"host": broker.host, "port": broker.port, "base_topic": base, **extra.pop("mqtt", {})}
    # A discovery prefix per test too: the stale-entity scan must not see other tests' entities.
    mqtt.setdefault("discovery_prefix", f"{base}_ha")
    mqtt.setdefault("ha_status_topic", f"{base}_ha/status")
    data = {"device_id": device_id, "state_dir": str(state_dir), "mqtt": mqtt, **extra}
    return EdgeVoiceConfig.model_validate(data)


@dataclass
class Device:
    """A running bridge with its real store, bus and recording conversation control."""

    bridge: MqttBridge
    store: ConfigStore
    bus: EventBus
    control: RecordingConversation
    #: What the store announced.
    changes: list[ConfigChanged] = field(default_factory=list)

    @property
    def topics(self) -> Topics:
        """The device's topics."""
        return self.bridge.topics


def build_device(
    cfg: EdgeVoiceConfig, *, options: BridgeOptions = FAST, state_path: Path | None = None
) -> Device:
    """A device that is not running yet (its `state` after a config change: `StateEcho`)."""
    bus = EventBus()
    store = ConfigStore(cfg, state_path, bus=bus)
    control = RecordingConversation()
    changes: list[ConfigChanged] = []
    bus.on(ConfigChanged, changes.append)
    StateEcho(bus)
    bridge = MqttBridge(store=store, bus=bus, control=control, options=options)
    return Device(bridge, store, bus, control, changes)


@contextlib.asynccontextmanager
async def running(device: Device) -> AsyncIterator[Device]:
    """Run the device's bridge until the block ends (graceful stop)."""
    async with device.bridge:
        async with asyncio.timeout(TIMEOUT):
            await device.bridge.wait_connected()
        yield device


class ConnectGate:
    """Holds the bridge's (re)connects until the test opens it: a seam, not a mock."""

    # After a broker restart an observer must subscribe before the device reconnects, or it
    # misses the non-retained events the device flushes first.

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = asyncio.Event()
        self.open.set()
        #: Set when a connect attempt reaches the gate: the bridge has seen its link go.
        self.knocked = asyncio.Event()
        gate, knocked = self.open, self.knocked

        class GatedClient(aiomqtt.Client):
            async def __aenter__(self) -> GatedClient:
                knocked.set()
                await gate.wait()
                return await super().__aenter__()

        original = connection.make_client

        def make_client(cfg: Any, topics: Topics, identifier: str) -> aiomqtt.Client:
            client = original(cfg, topics, identifier)
            client.__class__ = GatedClient
            return client

        monkeypatch.setattr(connection, "make_client", make_client)


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
    ) -> Received:
        """The oldest message not yet taken on `topic` that satisfies `where` (waits for it)."""
        async with asyncio.timeout(within), self._arrived:
            while True:
                for i, m in enumerate(self.messages):
                    if i not in self._taken and m.topic == topic and where(m):
                        self._taken.add(i)
                        return m
                await self._arrived.wait()

    async def expect_count(self, topic: str, count: int, within: float = TIMEOUT) -> list[Received]:
        """Wait until `count` messages have been seen on `topic`; all of them, in order."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: self._counts.get(topic, 0) >= count)
        return self.on(topic)

    def on(self, topic: str) -> list[Received]:
        """Every message seen on `topic` so far."""
        return [m for m in self.messages if m.topic == topic]

    async def publish(self, topic: str, payload: bytes | str, *, retain: bool = False) -> None:
        """Publish at QoS 1."""
        data = payload.encode() if isinstance(payload, str) else payload
        await self.client.publish(topic, data, qos=1, retain=retain)

    async def answer(self, device: Device, topic: str) -> Any:
        """The next `response` payload of `device` about a command on `topic`."""
        reply = await self.expect(device.topics.response, lambda m: m.json()["topic"] == topic)
        return reply.json()

    async def request(self, device: Device, suffix: str, payload: dict[str, Any]) -> Any:
        """Send a JSON command with a fresh transaction; the matching `response` payload."""
        tx = f"tx-{next(_tx)}"
        await self.publish(
            f"{device.topics.base}/{suffix}", json.dumps({**payload, "transaction": tx})
        )
        answer = await self.expect(
            device.topics.response, lambda m: m.json().get("transaction") == tx
        )
        return answer.json()


@contextlib.asynccontextmanager
async def observer(broker: BrokerAddress, *filters: str) -> AsyncIterator[Observer]:
    """An observing client subscribed to `filters` before the block starts."""
    async with aiomqtt.Client(
        broker.host,
        broker.port,
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


async def test_observer_sees_its_own_publication(mqtt_broker: BrokerAddress) -> None:
    base = unique_base()
    async with observer(mqtt_broker, f"{base}/#") as obs:
        await obs.publish(f"{base}/x", "hello")
        assert (await obs.expect(f"{base}/x")).payload == b"hello"
