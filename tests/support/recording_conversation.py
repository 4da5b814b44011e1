"""Stand-ins for the assistant in the bridge's tests: its controls, and its `state`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from edge_voice.config.events import ConfigChanged
from edge_voice.config.rules import voice_for_next_session
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.events import EventBus, ServiceState, utc_now
from edge_voice.mqtt.commands import CommandError, ErrorCode, ToolDeclaration


@dataclass
class RecordingConversation:
    """A ConversationControl without audio: records what it is told, knows its pending calls."""

    pending_calls: set[str] = field(default_factory=set)
    starts: int = 0
    stops: int = 0
    running: bool = False
    results: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    tools: dict[str, ToolDeclaration] = field(default_factory=dict)
    tool_updates: int = 0

    def expect_calls(self, call_ids: Iterable[str]) -> None:
        """Pretend the model made these function calls and waits for their results."""
        self.pending_calls.update(call_ids)

    async def start(self) -> None:
        """Record a start."""
        self.starts += 1
        self.running = True

    async def stop(self) -> None:
        """Record a stop; pending calls expire with the conversation."""
        self.stops += 1
        self.running = False
        self.pending_calls.clear()

    def function_result(self, call_id: str, output: str | None, error: str | None) -> None:
        """Accept a result once per pending call."""
        if call_id not in self.pending_calls:
            raise CommandError(
                ErrorCode.UNKNOWN_CALL,
                f"no pending function call {call_id!r} (unknown, already answered or expired)",
            )
        self.pending_calls.discard(call_id)
        self.results.append((call_id, output, error))

    def tools_changed(self, tools: Mapping[str, ToolDeclaration]) -> None:
        """Keep the latest tool set."""
        self.tools = dict(tools)
        self.tool_updates += 1


def idle_state(cfg: EdgeVoiceConfig) -> ServiceState:
    """The state of an idle, unconnected device on `cfg`."""
    return ServiceState(
        status="idle",
        model=cfg.openai.model,
        active_model=None,
        model_selection=cfg.openai.model_selection,
        voice=voice_for_next_session(cfg),
        connected=False,
        fallback_active=False,
    )


class StateEcho:
    """The assistant's `state` reaction to a config change, for bridge tests without audio."""

    # Like the assistant: the settings follow the new config at once; a conversation in
    # progress keeps its status, session and voice (the change applies from the next one).

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self.last: ServiceState | None = None
        bus.on(ServiceState, self._seen)
        bus.on(ConfigChanged, self._changed)

    def _seen(self, state: ServiceState) -> None:
        self.last = state

    def _changed(self, event: ConfigChanged) -> None:
        cfg, last = event.config, self.last
        if last is None:
            self._bus.publish(idle_state(cfg))
            return
        busy = last.status != "idle"
        self._bus.publish(
            dataclasses.replace(
                last,
                model=cfg.openai.model,
                model_selection=cfg.openai.model_selection,
                voice=last.voice if busy else voice_for_next_session(cfg),
                connected=last.connected and busy,
                ts=utc_now(),
            )
        )
