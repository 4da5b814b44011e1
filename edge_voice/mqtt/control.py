"""What the bridge needs from the conversation side: the `ConversationControl` protocol."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from edge_voice.mqtt.commands import FunctionCallImage, ToolDeclaration


class ConversationControl(Protocol):
    """The conversation commands of the MQTT contract; the assistant implements it."""

    async def start(self) -> None:
        """`conversation/start`: listen without the wake word."""

    async def stop(self) -> None:
        """`conversation/stop`: end the conversation now."""

    def say(self, text: str, voice: str | None, start_conversation: bool) -> None:
        """`say`: speak `text` once idle; CommandError(queue_full) when too many wait."""

    def clear_memory(self) -> None:
        """`memory/clear`: forget the summary kept across conversations."""

    def function_result(
        self,
        call_id: str,
        output: str | None,
        error: str | None,
        image: FunctionCallImage | None = None,
    ) -> None:
        """`function_call/result`; CommandError(unknown_call) if nobody waits for `call_id`."""

    def tools_changed(self, tools: Mapping[str, ToolDeclaration]) -> None:
        """The MQTT-declared tools now in force (device ones override shared ones by name)."""
