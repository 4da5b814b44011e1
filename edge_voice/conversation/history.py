"""What was said so far, kept so a new session can be given the conversation as items."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from edge_voice.realtime.model_spec import WireProtocol
from edge_voice.realtime.protocol import function_call_output_item, text_item


@dataclass(frozen=True)
class HistoryEntry:
    """One conversation item worth replaying."""

    kind: Literal["user", "assistant", "function_call", "function_call_output"]
    text: str = ""
    call_id: str | None = None
    name: str | None = None


class ConversationHistory:
    """A bounded record of user and assistant turns and function calls, in order."""

    def __init__(self, max_items: int = 60) -> None:
        self._entries: deque[HistoryEntry] = deque(maxlen=max_items)

    def __len__(self) -> int:
        return len(self._entries)

    def add_user(self, text: str) -> None:
        """The user said (or typed) `text`."""
        if text.strip():
            self._entries.append(HistoryEntry("user", text))

    def add_assistant(self, text: str) -> None:
        """The assistant answered `text`."""
        if text.strip():
            self._entries.append(HistoryEntry("assistant", text))

    def add_function_call(self, call_id: str, name: str, arguments: str) -> None:
        """The model called `name`."""
        self._entries.append(HistoryEntry("function_call", arguments, call_id, name))

    def add_function_output(self, call_id: str, output: str) -> None:
        """The answer to a function call."""
        self._entries.append(HistoryEntry("function_call_output", output, call_id))

    def function_call_item(self, call_id: str) -> dict[str, Any] | None:
        """The `function_call` item of `call_id` as a new session takes it (None: not kept)."""
        for entry in self._entries:
            if entry.kind == "function_call" and entry.call_id == call_id:
                return _call_item(entry)
        return None

    def clear(self) -> None:
        """Forget everything (a new conversation)."""
        self._entries.clear()

    def replay_items(self, protocol: WireProtocol) -> list[dict[str, Any]]:
        """`conversation.item.create` items that rebuild the conversation on a new session."""
        answered = {e.call_id for e in self._entries if e.kind == "function_call_output"}
        called = {e.call_id for e in self._entries if e.kind == "function_call"}
        items: list[dict[str, Any]] = []
        for entry in self._entries:
            if entry.kind in ("user", "assistant"):
                items.append(text_item(entry.text, entry.kind, protocol))
            elif entry.kind == "function_call" and entry.call_id in answered:
                # A call without its output would leave the new session waiting for one.
                items.append(_call_item(entry))
            elif entry.kind == "function_call_output" and entry.call_id in called:
                # An output whose call fell out of the bound is refused by the server
                # ("Tool call ID not found in conversation"): both go, or neither.
                items.append(function_call_output_item(str(entry.call_id), entry.text))
        return items


def _call_item(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "type": "function_call",
        "call_id": entry.call_id,
        "name": entry.name,
        "arguments": entry.text,
    }
