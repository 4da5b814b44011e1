"""The running service: config store, realtime layer, assistant and MQTT bridge, wired once."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from pydantic import SecretStr

from edge_voice.audio.echo_cancel import FarEnd, cancel_echo, make_canceller
from edge_voice.audio.room_echo import RoomEcho, add_room_echo, load_impulse_response
from edge_voice.audio.sinks import AudioSink
from edge_voice.audio.wakeword import WakeWordDetector
from edge_voice.config.audio_schema import AudioConfig
from edge_voice.config.overrides import log_startup
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.store import ConfigStore
from edge_voice.config.warnings import config_facts, log_facts
from edge_voice.conversation.assistant import Assistant
from edge_voice.conversation.function_calls import FunctionCallBroker, ToolRegistry
from edge_voice.conversation.session_settings import migration_settings
from edge_voice.events import EventBus, FallbackOccurred, MetricsUpdated, ModelReplaced
from edge_voice.mcp.bridge import McpBridge, McpTool
from edge_voice.metrics.cost_ledger import CostLedger
from edge_voice.metrics.migration_listener import metrics_listener
from edge_voice.metrics.performance import PerformanceMetrics
from edge_voice.models.lifecycle import Replacement, calendar_today
from edge_voice.models.migration import (
    FallbackEvent,
    MigrationEvent,
    ModelMigration,
    ModelRecovered,
    SessionOpener,
    realtime_opener,
)
from edge_voice.mqtt.arbitration import Arbitration
from edge_voice.mqtt.bridge import BridgeOptions, MqttBridge
from edge_voice.mqtt.topics import CommandKind, Topics
from edge_voice.realtime.session import RealtimeSession

log = logging.getLogger(__name__)

#: What the microphone's frames pass through before the wake word and the uplink.
AudioPath = Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]]


def _unchanged(source: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    return source


@dataclass
class Service:
    """Every long-lived part of one device, built from one config."""

    store: ConfigStore
    bus: EventBus
    metrics: PerformanceMetrics
    migration: ModelMigration[RealtimeSession]
    assistant: Assistant
    bridge: MqttBridge
    mcp: McpBridge
    audio_path: AudioPath = _unchanged

    async def run(
        self, source: AsyncIterator[bytes], *, exit_on_eof: bool = False, keep_running: bool = False
    ) -> None:
        """Serve until the source ends (with exit_on_eof: and its conversation completed;
        with keep_running: the conversation completes, then serve MQTT until cancelled).

        Source, uplink, downlink and bridge are tasks of one group, joined by bounded queues.
        Cancelled (SIGTERM), it still stops in order: the assistant closes, then the bridge
        publishes its goodbye; cancelling the whole group would cut both off at once.
        """
        self.bus.publish(MetricsUpdated(metrics=self.metrics.snapshot()))
        if self.assistant.memory.enabled:  # retained: what the device remembers, if anything
            self.assistant.memory.publish()
        # Announced (MQTT) at start-up, not only at the first conversation; build_service's
        # lifecycle block already logged each replacement, in the same words.
        self.migration.announce_replacements(quiet=True)
        assistant = self.assistant
        cancelled = False
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.bridge.run(), name="edge_voice.bridge")
            mcp_task = tasks.create_task(self.mcp.run(), name="edge_voice.mcp")
            tasks.create_task(assistant.uplink.run(), name="edge_voice.uplink")
            tasks.create_task(assistant.downlink.run(), name="edge_voice.downlink")
            source_task = tasks.create_task(
                self._listen(source, exit_on_eof=exit_on_eof, keep_running=keep_running),
                name="edge_voice.source",
            )
            try:
                await asyncio.wait([source_task])
            except asyncio.CancelledError:
                cancelled = True
                source_task.cancel()  # its `finally` closes the assistant and stops the bridge
            mcp_task.cancel()  # the MCP links reconnect forever; nothing calls them any more
        if cancelled:
            raise asyncio.CancelledError

    async def _listen(
        self, source: AsyncIterator[bytes], *, exit_on_eof: bool, keep_running: bool
    ) -> None:
        try:  # listen closes the assistant at the end
            await self.assistant.mic.listen(
                self.audio_path(source), exit_on_eof=exit_on_eof, keep_running=keep_running
            )
        finally:
            self.bridge.stop()  # after the assistant's last state, so the broker gets it


def build_service(
    cfg: EdgeVoiceConfig,
    *,
    api_key: SecretStr | None,
    sink: AudioSink,
    bridge_options: BridgeOptions | None = None,
    today: dt.date | None = None,
    opener: SessionOpener[RealtimeSession] | None = None,
) -> Service:
    """Wire the parts for `cfg` (the file config; runtime changes live in the store).

    `opener` replaces the realtime connection every deployment uses (tests: a faulty one).
    """
    bus = EventBus(queue_size=cfg.mqtt.queue_size)  # mqtt.* is file-only: the store keeps it
    store = ConfigStore(cfg, bus=bus)
    reset_topic = Topics.for_config(cfg).command(CommandKind.CONFIG_RESET)
    log_startup(store.overrides(), store.state_path, reset_topic)
    effective = store.effective
    # The config the service runs (runtime overrides included), as ModelMigration sees it.
    log_facts(config_facts(effective, today or calendar_today(), migrate_file="FILE"), log)
    metrics = PerformanceMetrics(catalog=effective.catalog(), ledger=CostLedger(store.ledger_path))
    opener = opener or _opener(effective, api_key)
    migration = _migration(effective, opener, bus, metrics, today)
    mcp = McpBridge(effective.mcp_bridge)
    calls = FunctionCallBroker(
        ToolRegistry(effective.tools),
        bus,
        deadline_ms=effective.conversation.function_deadline_ms,
        max_image_bytes=effective.conversation.max_image_bytes,
        local=mcp,
        secrets=_secrets(effective, api_key),
    )
    options = bridge_options or BridgeOptions()
    # Shared by the assistant (asks) and the bridge (carries the claims while connected).
    arbitration = Arbitration(effective.device_id, options.arbitration_window_s)
    assistant = Assistant(
        store=store,
        migration=migration,
        bus=bus,
        metrics=metrics,
        calls=calls,
        wake=WakeWordDetector.from_config(effective.wakeword),
        sink=sink,
        arbitrate=arbitration.claim,
    )
    mcp.on_change = lambda tools: _mcp_tools_changed(assistant, tools)
    bridge = MqttBridge(
        store=store, bus=bus, control=assistant, arbitration=arbitration, options=options
    )
    audio_path = echo_path(effective.audio, sink)
    return Service(store, bus, metrics, migration, assistant, bridge, mcp, audio_path)


def echo_path(cfg: AudioConfig, sink: AudioSink) -> AudioPath:
    """The simulated room (audio.room_echo), then the echo canceller (audio.echo_cancel).

    Built here, at start, so a missing extra or a bad impulse response stops the start-up.
    """
    canceller = make_canceller(cfg.echo_cancel)
    room = None if cfg.room_echo is None else RoomEcho(load_impulse_response(cfg.room_echo))
    # Each tap is made now, before anything plays, so both see the same played audio.
    room_far = None if room is None else FarEnd(sink.tap())
    cancel_far = None if canceller is None else FarEnd(sink.tap())
    if canceller is not None:
        log.info("echo cancellation: %s (the mic stays open while answering)", cfg.echo_cancel)

    def path(source: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        if room is not None and room_far is not None:
            source = add_room_echo(source, room, room_far)
        if canceller is not None and cancel_far is not None:
            source = cancel_echo(source, canceller, cancel_far)
        return source

    return path


def _secrets(cfg: EdgeVoiceConfig, api_key: SecretStr | None) -> tuple[str, ...]:
    """The secrets a log line must never show (the function-call log masks them)."""
    found: tuple[object, ...] = (api_key, cfg.openai.api_key, cfg.mqtt.password)
    # A caller may hand over the key as plain text (the demo does): mask it all the same.
    texts = (s.get_secret_value() if isinstance(s, SecretStr) else s for s in found)
    return tuple(t for t in texts if isinstance(t, str) and t)


def _mcp_tools_changed(assistant: Assistant, tools: dict[str, McpTool]) -> None:
    """A server's tool list changed (connected, list_changed, gone): offer the new one."""
    local = {n: (t.description, t.parameters) for n, t in tools.items()}
    if assistant.calls.registry.set_local(local):
        assistant.retire_warm_session()  # the next session gets the new tools


def _opener(cfg: EdgeVoiceConfig, api_key: SecretStr | None) -> SessionOpener[RealtimeSession]:
    """The realtime connection every deployment uses: OpenAI or the simulator, by URL."""
    return realtime_opener(
        api_key, cfg.openai.base_url, connect_timeout_s=cfg.openai.connect_timeout_s
    )


def _migration(
    cfg: EdgeVoiceConfig,
    opener: SessionOpener[RealtimeSession],
    bus: EventBus,
    metrics: PerformanceMetrics,
    today: dt.date | None,
) -> ModelMigration[RealtimeSession]:
    """The model migration for `cfg`; its events go into `metrics` and onto the bus."""

    def forward(event: MigrationEvent) -> None:
        if isinstance(event, FallbackEvent):
            bus.publish(FallbackOccurred(fallback=event))
        elif isinstance(event, Replacement):
            bus.publish(ModelReplaced(replaced=event))
        elif isinstance(event, ModelRecovered):
            log.info("back on %s after a fallback to %s", event.model, event.after_fallback_to)

    return ModelMigration(
        migration_settings(cfg),
        opener,
        catalog=cfg.catalog(),
        on_event=metrics_listener(metrics, then=forward),
        today=None if today is None else (lambda: today),
    )
