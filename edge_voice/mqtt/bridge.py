"""The MQTT bridge: one aiomqtt connection, kept up forever, wiring the bus and the commands.

Per connection: publish `online`, subscribe, replay retained messages up to a sentinel of our
own (tools, retained commands, and at start-up the discovery scan and config adoption), then
publish HA discovery and the latest retained values, and run the receive and send loops.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aiomqtt

from edge_voice.config.events import ConfigChanged, LastGoodChanged
from edge_voice.events import Event, EventBus
from edge_voice.mqtt import snapshots
from edge_voice.mqtt.arbitration import Arbitration
from edge_voice.mqtt.command_router import CommandRouter
from edge_voice.mqtt.commands import ArbitrationClaim
from edge_voice.mqtt.connection import (
    MAX_IN_FLIGHT,
    ReconnectPolicy,
    client_identifier,
    resume_cancellation,
    stay_connected,
)
from edge_voice.mqtt.control import ConversationControl
from edge_voice.mqtt.event_payloads import publication_for
from edge_voice.mqtt.outbox import Outbox
from edge_voice.mqtt.payloads import QOS, Publication, encode
from edge_voice.mqtt.replay import payload_bytes, resubscribe, subscribe_and_replay
from edge_voice.mqtt.sender import Sender
from edge_voice.mqtt.topics import Topics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BridgeOptions:
    """Tuning of the bridge; the defaults suit a real deployment, tests shorten them."""

    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    #: How long a wake word claim waits for the other devices of the group.
    arbitration_window_s: float = 0.3
    #: Upper bound on waiting for our sentinel behind the retained messages.
    sync_timeout_s: float = 5.0
    #: After HA's `online`: wait this long plus up to as much again (many devices, one HA).
    ha_birth_delay_s: float = 1.0
    #: Bound on each publish and on the goodbye at shutdown.
    publish_timeout_s: float = 10.0
    #: QoS 1 publishes awaiting their PUBACK at once (1: one round trip per message).
    max_in_flight: int = MAX_IN_FLIGHT
    #: MQTT client id; None: `edge_voice-<device_id>-<random>` (fixed for this process).
    identifier: str | None = None


class MqttBridge:
    """Keeps the device on MQTT: availability, events, retained state, commands, HA discovery."""

    def __init__(
        self,
        *,
        store: snapshots.ConfigSource,
        bus: EventBus,
        control: ConversationControl,
        arbitration: Arbitration | None = None,
        options: BridgeOptions | None = None,
    ) -> None:
        cfg = store.effective
        self.options = options or BridgeOptions()
        self.store = store
        self.topics = Topics.for_config(cfg)
        self._mqtt = cfg.mqtt  # local-only settings: config/set cannot change them
        self.identifier = self.options.identifier or client_identifier(cfg.device_id)
        self.outbox = Outbox(cfg.mqtt.queue_size)
        self.sender = Sender(self.outbox, self.options.max_in_flight)
        self.retained = snapshots.RetainedConfig(store, self.topics)
        self.router = CommandRouter(store=store, control=control, retained=self.retained)
        self.arbitration = arbitration or Arbitration(
            cfg.device_id, self.options.arbitration_window_s
        )
        self.connections = 0
        self._events = bus.subscribe()  # now, so events raised before run() are kept
        self._bus = bus
        self._client: aiomqtt.Client | None = None
        self._online = asyncio.Event()
        self._stop = asyncio.Event()
        self._started_up = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._run_task: asyncio.Task[None] | None = None
        self._remember = {
            self.topics.state,
            self.topics.metrics,
            self.topics.config,
            self.topics.config_last_good,
        }
        self._queue(self.retained.config())
        last_good = self.retained.last_good()
        if last_good is not None:
            self._queue(last_good)

    # -- public API ----------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the bridge is connected and done with its connect sequence."""
        return self._online.is_set()

    @property
    def dropped(self) -> int:
        """Events dropped because the outbox was full while the broker was unreachable."""
        return self.outbox.dropped_events

    async def wait_connected(self) -> None:
        """Return once the bridge is connected and has published its retained values."""
        await self._online.wait()

    async def run(self) -> None:
        """Run until `stop()` (or cancellation): then say `offline` and disconnect cleanly."""
        pump = asyncio.create_task(self._pump(), name="edge_voice.mqtt.pump")
        try:
            await stay_connected(
                self._mqtt,
                self.topics,
                self.identifier,
                self.options.reconnect,
                serve=self._serve,
                stop=self._stop,
            )
        finally:
            background = [pump, *self._tasks]
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            self._bus.unsubscribe(self._events)

    def stop(self) -> None:
        """Ask `run()` to publish `offline`, disconnect and return."""
        self._stop.set()

    async def __aenter__(self) -> Self:
        self._run_task = asyncio.create_task(self.run(), name="edge_voice.mqtt.bridge")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._run_task is not None:
            await self._run_task

    async def claim(self, score: float, energy_dbfs: float | None = None) -> bool:
        """Wake word arbitration: publish our claim, wait the window, True if ours is nearest."""
        if self.topics.arbitration_group is None:
            return True
        return await self.arbitration.claim(score, energy_dbfs)

    # -- the connection ------------------------------------------------------------------------

    async def _serve(self, client: aiomqtt.Client) -> None:
        self._client = client
        self.connections += 1
        log.info("MQTT: connected (connection %d)", self.connections)
        self.outbox.set_connected(True)
        sender: asyncio.Task[None] | None = None
        try:
            try:
                await self._connect_sequence(client)
                sender = self._spawn(self.sender.run(self._publisher(client)), "send")
                await self._until_stopped(client, sender)
            except asyncio.CancelledError:
                await self._goodbye(client, sender)
                raise
            await self._goodbye(client, sender)
        finally:
            self._online.clear()
            self._client = None
            if sender is not None:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
            self.outbox.set_connected(False)

    async def _until_stopped(self, client: aiomqtt.Client, sender: asyncio.Task[None]) -> None:
        """Receive until `stop()`; raise what ended the receive loop or the sender."""
        # The sender is left running: the goodbye flush goes on with what it has in flight
        # (cancelling it would send those messages twice).
        loops = [
            self._spawn(self._receive(client), "receive"),
            self._spawn(self.arbitration.carry(self._send_claim), "arbitration"),
            self._spawn(self._stop.wait(), "stop"),
        ]
        try:
            await asyncio.wait([*loops, sender], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
        for task in (*loops, sender):
            error = task.exception() if task.done() and not task.cancelled() else None
            if error is not None:
                raise error

    async def _connect_sequence(self, client: aiomqtt.Client) -> None:
        topics = self.topics
        await self._publish(client, snapshots.availability(topics, online=True))
        first = not self._started_up
        scan = [topics.discovery_filter] if first and self._mqtt.discovery else []
        # A device without state looks for the config an earlier run left: adopted, or
        # replaced by the file's (`mqtt.adopt_retained_config`).
        adopt = first and self.store.can_adopt
        if adopt:
            scan.append(topics.config)
        self.router.tools.begin_resync()
        found = await subscribe_and_replay(
            client,
            topics.subscriptions(),
            scan=scan,
            sync_prefix=topics.sync_prefix,
            timeout_s=self.options.sync_timeout_s,
            handle=self._handle,
        )
        self.router.tools_resynced()
        if adopt:
            self._adopt(found.get(topics.config))
        pubs = self.retained.on_connect(found if first and self._mqtt.discovery else None)
        pubs.extend(self.outbox.take_retained())
        for publication in pubs:
            await self._publish(client, publication)
        resume_cancellation()
        self._started_up = True
        self._online.set()

    def _adopt(self, payload: bytes | None) -> None:
        if self.retained.adopt(payload) is not None:
            self._forward_pending()  # config and last_good go out with the connect sequence

    async def _goodbye(self, client: aiomqtt.Client, sender: asyncio.Task[None] | None) -> None:
        """Flush what is pending, then `offline` (retained); the caller disconnects cleanly."""
        self._online.clear()
        try:
            async with asyncio.timeout(self.options.publish_timeout_s):
                await self.sender.flush(self._publisher(client), sender)
                await self._publish(client, snapshots.availability(self.topics, online=False))
        except (aiomqtt.MqttError, TimeoutError) as exc:
            log.warning("MQTT: could not say goodbye cleanly: %s", exc)

    # -- loops -------------------------------------------------------------------------------

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            if self.topics.expects_answer(message.topic.value):
                # Backpressure: a burst of commands waits here rather than push out answers.
                await self.outbox.room()
            await self._handle(message)

    async def _pump(self) -> None:
        while True:
            self._forward_safely(await self._events.get())

    def _forward_safely(self, event: Event) -> None:
        try:
            self._forward(event)
        except Exception:  # one bad event must not stop every later one
            log.exception("MQTT: cannot forward %s", type(event).__name__)

    def _forward(self, event: Event) -> None:
        if isinstance(event, ConfigChanged):
            self._config_changed()
            return
        if isinstance(event, LastGoodChanged):
            last_good = self.retained.last_good(only_if_changed=True)
            if last_good is not None:
                self._queue(last_good)
            return
        try:
            publication = publication_for(event, self.topics)
        except TypeError:
            return  # an internal event without an MQTT topic
        except ValueError as exc:  # a producer's bug (a value the contract refuses): say so
            log.warning("MQTT: cannot publish %s: %s", type(event).__name__, exc)
            return
        self._queue(publication)

    def _forward_pending(self) -> None:
        """Forward, now, every event already on the bus (what a command caused comes first)."""
        while not self._events.empty():
            self._forward_safely(self._events.get_nowait())

    def _config_changed(self) -> None:
        """The store announced a new config: publish what moved, follow the topics."""
        # In the connect sequence (adoption) discovery follows there, in full.
        for publication in self.retained.after_change(discovery=self._online.is_set()):
            self._queue(publication)
        self._follow_topics()

    async def _handle(self, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        payload = payload_bytes(message)
        try:
            dispatch = await self.router.handle(topic, payload, retained=message.retain)
        except Exception:  # the router answers bad input itself; this is a bug: keep running
            log.exception("MQTT: failed to handle a message on %s", topic)
            return
        # The config, state or metrics the command caused go out before its answer.
        self._forward_pending()
        for publication in dispatch.publications:
            self._queue(publication)
        if dispatch.claim is not None:
            self.arbitration.observe(dispatch.claim)
        if dispatch.ha_online:
            self._spawn(self._ha_birth(), "ha_birth")

    def _follow_topics(self) -> None:
        """A config change may move the arbitration group: subscribe to the new one."""
        topics = Topics.for_config(self.store.effective)
        if topics == self.topics:
            return
        old, self.topics = self.topics, topics
        self.retained.topics = topics
        client = self._client
        if client is not None and self._online.is_set():
            moved = resubscribe(client, old.subscriptions(), topics.subscriptions())
            self._spawn(moved, "resubscribe")

    async def _ha_birth(self) -> None:
        """HA restarted: re-publish discovery, availability and the retained state."""
        delay = self.options.ha_birth_delay_s
        await asyncio.sleep(delay + secrets.SystemRandom().uniform(0, delay))
        log.info("MQTT: Home Assistant is online; re-publishing discovery and state")
        for publication in self.retained.discovery():
            self._queue(publication)
        self._queue(snapshots.availability(self.topics, online=True))
        for publication in self.outbox.take_retained():
            self._queue(publication)

    # -- helpers -----------------------------------------------------------------------------

    def _queue(self, publication: Publication) -> None:
        remember = publication.retain and publication.topic in self._remember
        self.outbox.put(publication, remember=remember)

    def _publisher(self, client: aiomqtt.Client) -> Callable[[Publication], Awaitable[None]]:
        return functools.partial(self._publish, client)

    async def _publish(self, client: aiomqtt.Client, publication: Publication) -> None:
        await client.publish(
            publication.topic,
            publication.payload,
            qos=publication.qos,
            retain=publication.retain,
            timeout=self.options.publish_timeout_s,
        )

    async def _send_claim(self, claim: ArbitrationClaim) -> bool:
        client = self._client
        if client is None or not self._online.is_set() or self.topics.arbitration_group is None:
            return False
        payload = encode(claim.model_dump(mode="json"))
        # A claim not acknowledged within the window cannot have reached the group in time.
        window = self.options.arbitration_window_s
        try:
            await client.publish(self.topics.arbitration(), payload, qos=QOS, timeout=window)
        except aiomqtt.MqttError as exc:
            log.warning("MQTT: arbitration claim not sent: %s", exc)
            return False
        return True

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"edge_voice.mqtt.{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
