"""The conversation a session holds: items, their content, and their token weight."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from edge_voice.sim.errors import ClientError

PartKind = Literal["input_text", "input_audio", "input_image", "text", "audio"]
ItemType = Literal[
    "message",
    "function_call",
    "function_call_output",
    "mcp_list_tools",
    "mcp_call",
    "mcp_approval_request",
    "mcp_approval_response",
]
#: Item types that carry their wire fields in `Item.mcp` (the SDK's realtime_mcp_* shapes).
MCP_ITEM_TYPES = frozenset(
    {"mcp_list_tools", "mcp_call", "mcp_approval_request", "mcp_approval_response"}
)

#: Audio token rates (reference §6): user audio ~1 token / 100 ms, assistant ~1 / 50 ms.
INPUT_AUDIO_TOKENS_PER_S = 10
OUTPUT_AUDIO_TOKENS_PER_S = 20
#: A flat cost per image; the real count depends on size and detail.
IMAGE_TOKENS = 255


def text_tokens(text: str | None) -> int:
    """Rough token count of text: one token per four characters."""
    return math.ceil(len(text) / 4) if text else 0


def audio_tokens(ms: int, per_second: int) -> int:
    """Tokens for `ms` of audio at `per_second` tokens per second."""
    return math.ceil(ms * per_second / 1000) if ms > 0 else 0


@dataclass
class TokenCounts:
    """Tokens by modality."""

    text: int = 0
    audio: int = 0
    image: int = 0

    def __add__(self, other: TokenCounts) -> TokenCounts:
        return TokenCounts(
            self.text + other.text, self.audio + other.audio, self.image + other.image
        )

    def cap(self, other: TokenCounts) -> TokenCounts:
        """Class-wise minimum (the part of `self` also present in `other`)."""
        return TokenCounts(
            min(self.text, other.text), min(self.audio, other.audio), min(self.image, other.image)
        )

    @property
    def total(self) -> int:
        """All tokens."""
        return self.text + self.audio + self.image


@dataclass
class Part:
    """One content part; `text` holds the text or the audio transcript."""

    kind: PartKind
    text: str | None = None
    audio_ms: int = 0
    detail: str | None = None


@dataclass
class Item:
    """A conversation item in the sim's own form; wire.py renders it per protocol."""

    id: str
    type: ItemType
    role: str | None = None
    status: str = "completed"
    parts: list[Part] = field(default_factory=list)
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | None = None
    #: An MCP item's wire fields but `id` and `type` (server_label, name, tools, error...).
    mcp: dict[str, Any] = field(default_factory=dict)

    def tokens(self) -> TokenCounts:
        """What this item weighs when a later response re-reads the conversation."""
        counts = TokenCounts()
        for part in self.parts:
            if part.kind == "input_audio":
                counts.audio += audio_tokens(part.audio_ms, INPUT_AUDIO_TOKENS_PER_S)
            elif part.kind == "audio":
                counts.audio += audio_tokens(part.audio_ms, OUTPUT_AUDIO_TOKENS_PER_S)
            elif part.kind == "input_image":
                counts.image += IMAGE_TOKENS
            else:
                counts.text += text_tokens(part.text)
        counts.text += text_tokens(self.arguments) + text_tokens(self.output)
        if self.type == "function_call":
            counts.text += text_tokens(self.name)
        if self.mcp:
            counts.text += text_tokens(json.dumps(self.mcp))
        return counts

    def audio_ms(self) -> int:
        """Length of the item's audio, if any."""
        return sum(p.audio_ms for p in self.parts if p.kind in ("audio", "input_audio"))


def recap(conversation: Conversation) -> str:
    """What an out-of-band response over the conversation says in the simulator: its texts
    (what the user typed, what the assistant said), the last four, in order."""
    texts = [p.text for i in conversation.items for p in i.parts if p.text]
    return "Recap: " + " ".join(texts[-4:]) if texts else "Nothing was said yet."


class Conversation:
    """Ordered items with lookup by id."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        #: Items truncation took out of the model's context (they stay in the conversation).
        self.cut_ids: set[str] = set()

    @property
    def last_id(self) -> str | None:
        """Id of the last item, the `previous_item_id` of the next one."""
        return self.items[-1].id if self.items else None

    def add(self, item: Item, previous_item_id: str | None = None) -> str | None:
        """Insert after `previous_item_id` ("root": first; None: last); return the actual one."""
        if previous_item_id is None:
            previous = self.last_id
            self.items.append(item)
            return previous
        if previous_item_id == "root":
            self.items.insert(0, item)
            return None
        index = self._index(previous_item_id, "previous_item_id")
        self.items.insert(index + 1, item)
        return previous_item_id

    def get(self, item_id: str, param: str = "item_id") -> Item:
        """The item `item_id`, or a client error naming `param`."""
        return self.items[self._index(item_id, param)]

    def delete(self, item_id: str) -> None:
        """Remove an item."""
        del self.items[self._index(item_id, "item_id")]

    def find_call(self, call_id: str) -> Item | None:
        """The function_call item with `call_id`."""
        for item in self.items:
            if item.type == "function_call" and item.call_id == call_id:
                return item
        return None

    def tokens(self) -> TokenCounts:
        """Weight of the conversation in the model's context (without what truncation cut)."""
        total = TokenCounts()
        for item in self.items:
            if item.id not in self.cut_ids:
                total = total + item.tokens()
        return total

    def cut_oldest(self, target: int) -> int:
        """Take the oldest items out of the context until it weighs at most `target`."""
        weight, cut = self.tokens().total, 0
        for item in self.items:
            if weight <= target:
                break
            if item.id not in self.cut_ids:
                self.cut_ids.add(item.id)
                weight -= item.tokens().total
                cut += 1
        return cut

    def _index(self, item_id: str, param: str) -> int:
        for index, item in enumerate(self.items):
            if item.id == item_id:
                return index
        raise ClientError(
            "item_not_found", f"Conversation item with id '{item_id}' not found.", param=param
        )
