"""The running service: config store, realtime layer, assistant and MQTT bridge, wired once."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from edge_voice.audio.sinks import AudioSink
from edge_voice.audio.wakeword import WakeWordDetector, WakeWordModelError
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.store import ConfigChange, ConfigStore
from edge_voice.config.warnings import config_warnings
from edge_voice.conversation.assistant import Assistant
from edge_voice.conversation.function_calls import FunctionCallBroker, ToolRegistry
from edge_voice.conversation.session_settings import migration_settings
from edge_voice.events import EventBus, FallbackOccurred, MetricsUpdated
from edge_voice.metrics.cost_ledger import CostLedger
from edge_voice.metrics.migration_listener import metrics_listener
from edge_voice.metrics.performance import PerformanceMetrics
from edge_voice.models.migration import (
    FallbackEvent,
    MigrationEvent,
    ModelMigration,
    ModelRecovered,
    realtime_opener,
)
from edge_voice.mqtt.bridge import BridgeOptions, MqttBridge
from edge_voice.realtime.session import RealtimeSession

log = logging.getLogger(__name__)


@dataclass
class Service:
    """Every long-lived part of one device, built from one config."""

    store: ConfigStore
    bus: EventBus
    metrics: PerformanceMetrics
    migration: ModelMigration[RealtimeSession]
    assistant: Assistant
    bridge: MqttBridge

    async def run(self, source: AsyncIterator[bytes], *, exit_on_eof: bool = False) -> None:
        """Serve until the source ends (with exit_on_eof: and its conversation completed)."""
        bridge_task = asyncio.create_task(self.bridge.run(), name="edge_voice.bridge")
        self.bus.publish(MetricsUpdated(metrics=self.metrics.snapshot()))
        try:
            await self.assistant.run(source, exit_on_eof=exit_on_eof)
        finally:
            await self.assistant.close()
            self.bridge.stop()
            await asyncio.gather(bridge_task, return_exceptions=True)


def build_service(
    cfg: EdgeVoiceConfig,
    *,
    api_key: SecretStr | None,
    sink: AudioSink,
    bridge_options: BridgeOptions | None = None,
    today: dt.date | None = None,
) -> Service:
    """Wire the parts for `cfg` (the file config; runtime changes live in the store)."""
    for warning in config_warnings(cfg, today or dt.date.today()):
        log.warning("%s", warning)
    store = ConfigStore(cfg)
    effective = store.effective
    bus = EventBus(queue_size=effective.mqtt.queue_size)
    ledger_path = Path(effective.resolved_state_dir()) / "cost_ledger.jsonl"
    metrics = PerformanceMetrics(catalog=effective.catalog(), ledger=CostLedger(ledger_path))

    def forward(event: MigrationEvent) -> None:
        if isinstance(event, FallbackEvent):
            bus.publish(FallbackOccurred(fallback=event))
        elif isinstance(event, ModelRecovered):
            log.info("back on %s after a fallback to %s", event.model, event.after_fallback_to)

    migration = ModelMigration(
        migration_settings(effective),
        realtime_opener(
            api_key, effective.openai.base_url, connect_timeout_s=effective.openai.connect_timeout_s
        ),
        catalog=effective.catalog(),
        on_event=metrics_listener(metrics, then=forward),
    )
    calls = FunctionCallBroker(
        ToolRegistry(effective.tools), bus, deadline_ms=effective.conversation.function_deadline_ms
    )
    holder: list[MqttBridge] = []

    async def arbitrate(score: float) -> bool:
        return await holder[0].claim(score) if holder else True

    def completed() -> None:
        if store.mark_good() and holder:
            holder[0].publish_config()

    assistant = Assistant(
        config=lambda: store.effective,
        migration=migration,
        bus=bus,
        metrics=metrics,
        calls=calls,
        wake=WakeWordDetector.from_config(effective.wakeword),
        sink=sink,
        on_conversation_completed=completed,
        arbitrate=arbitrate,
    )

    def config_changed(change: ConfigChange) -> None:
        log.info("config version %d (%s)", change.version, change.source)
        if any(key.startswith("wakeword.") for key in change.diff):
            try:
                assistant.replace_wake_word(WakeWordDetector.from_config(store.effective.wakeword))
            except (WakeWordModelError, ValueError) as exc:  # keep listening with the old one
                assistant.report_error("wakeword_unavailable", str(exc))
        assistant.config_changed()

    bridge = MqttBridge(
        store=store,
        bus=bus,
        control=assistant,
        on_config_change=config_changed,
        options=bridge_options,
    )
    holder.append(bridge)
    return Service(store, bus, metrics, migration, assistant, bridge)
