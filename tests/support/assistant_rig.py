"""An assistant wired to real parts for tests: real wake word, real client, the sim, a WAV sink."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from edge_voice.audio.sinks import parse_sink
from edge_voice.audio.wakeword import WakeWordDetector
from edge_voice.config.loading import validate_config
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.store import ConfigStore
from edge_voice.conversation.assistant import Assistant
from edge_voice.conversation.function_calls import FunctionCallBroker, ToolRegistry
from edge_voice.conversation.session_settings import migration_settings
from edge_voice.events import Event, EventBus
from edge_voice.metrics.migration_listener import metrics_listener
from edge_voice.metrics.performance import PerformanceMetrics
from edge_voice.models.migration import (
    MigrationEvent,
    ModelMigration,
    realtime_opener,
)

LIGHT_TOOL = {
    "name": "set_light",
    "description": "Turn a light on or off",
    "parameters": {
        "type": "object",
        "properties": {"room": {"type": "string"}, "state": {"type": "string"}},
        "required": ["room", "state"],
    },
}


def demo_wav(name: str) -> Path:
    """A bundled demo WAV."""
    return Path(str(resources.files("edge_voice.assets").joinpath(f"audio/{name}")))


def make_config(sim_url: str, tmp: Path, **overrides: Any) -> EdgeVoiceConfig:
    """A config for the sim with the light tool and short timers."""
    raw: dict[str, Any] = {
        "device_id": "test",
        "state_dir": str(tmp / "state"),
        "openai": {"base_url": sim_url, "connect_timeout_s": 5},
        "conversation": {"follow_up_s": 2, "idle_timeout_s": 30, "function_deadline_ms": 3000},
        "tools": [LIGHT_TOOL],
    }
    for section, values in overrides.items():
        raw[section] = {**raw.get(section, {}), **values} if isinstance(values, dict) else values
    return validate_config(raw)


@dataclass
class Rig:
    """The assistant and what it published."""

    assistant: Assistant
    bus: EventBus
    store: ConfigStore
    events: list[Event] = field(default_factory=list)
    reply_wav: Path | None = None
    #: What ModelMigration announced (attempts, fallbacks), in order.
    migration_events: list[MigrationEvent] = field(default_factory=list)

    def of(self, kind: type[Any]) -> list[Any]:
        """Published events of one type."""
        return [e for e in self.events if isinstance(e, kind)]


def build_rig(cfg: EdgeVoiceConfig, reply_wav: Path, *, sink_realtime: bool = False) -> Rig:
    """An assistant on real components and a real config store; every event is recorded."""
    bus = EventBus()
    store = ConfigStore(cfg, bus=bus)
    metrics = PerformanceMetrics()
    migration_events: list[MigrationEvent] = []
    migration = ModelMigration(
        migration_settings(cfg),
        realtime_opener(
            "sk-test-assistant-0001",
            cfg.openai.base_url,
            connect_timeout_s=cfg.openai.connect_timeout_s,
        ),
        catalog=cfg.catalog(),
        on_event=metrics_listener(metrics, then=migration_events.append),
    )
    calls = FunctionCallBroker(
        ToolRegistry(cfg.tools),
        bus,
        deadline_ms=cfg.conversation.function_deadline_ms,
        max_image_bytes=cfg.conversation.max_image_bytes,
    )
    assistant = Assistant(
        store=store,
        migration=migration,
        bus=bus,
        metrics=metrics,
        calls=calls,
        wake=WakeWordDetector.from_config(cfg.wakeword),
        sink=parse_sink(f"wav:{reply_wav}", realtime=sink_realtime),
    )
    rig = Rig(assistant, bus, store, reply_wav=reply_wav, migration_events=migration_events)
    queue = bus.subscribe()

    async def record() -> None:
        while True:
            rig.events.append(await queue.get())

    assistant.spawn(record())
    return rig


async def frames_of(*paths: Path, silence_s: float = 1.0) -> AsyncIterator[bytes]:
    """80 ms frames of WAV files (fast), then silence."""
    from edge_voice.audio.sources import parse_source

    for path in paths:
        async with parse_source(f"wav:{path}", fast=True) as source:
            async for frame in source:
                yield frame
    for _ in range(int(silence_s / 0.08)):
        yield bytes(2560)


def wav_seconds(path: Path) -> float:
    """Duration of a WAV file."""
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        return wav.getnframes() / 24000


async def answer_calls(rig: Rig, output: str = '{"ok": true}') -> list[Any]:
    """Answer every function call published (as a Node-RED flow would); returns them."""
    from edge_voice.events import FunctionCallRequested

    answered: list[Any] = []
    queue = rig.bus.subscribe()
    while True:
        event = await queue.get()
        if isinstance(event, FunctionCallRequested):
            answered.append(event)
            rig.assistant.function_result(event.call_id, output, None)
