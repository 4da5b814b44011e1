"""What the wire layer needs to know of a model: its name, wire flavour, voices and features.

The catalog (`edge_voice.models.catalog.ModelInfo`) satisfies this structurally, so the wire
layer sits below the catalog and never imports it.
"""

from __future__ import annotations

from typing import Literal, Protocol

#: The two wire flavours of the Realtime API: GA (`gpt-realtime`) and beta (the preview models).
WireProtocol = Literal["ga", "beta"]


class WireModel(Protocol):
    """A model as the session builders and the client see it."""

    @property
    def name(self) -> str:
        """The model id sent in the URL."""

    @property
    def protocol(self) -> WireProtocol:
        """Which wire flavour the model speaks."""

    @property
    def voices(self) -> tuple[str, ...]:
        """The voices the model offers."""

    def has_voice(self, voice: str) -> bool:
        """Whether the model offers `voice`."""

    def has_feature(self, feature: str) -> bool:
        """Whether the model has `feature` (e.g. `mcp`, `semantic_vad`)."""
