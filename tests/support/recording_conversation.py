"""A ConversationControl without audio, for the bridge's unit tests of routing alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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
