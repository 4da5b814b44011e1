"""`openai.truncation` as a retention ratio, and its GA wire shape."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from edge_voice.config.section import Section


class RetentionRatio(Section):
    """`openai.truncation` as a retention ratio: on overflow, cut the context to this share."""

    retention_ratio: float = Field(ge=0, le=1)
    #: Replaces the model's own input limit (`token_limits.post_instructions` on the wire).
    post_instructions_tokens: int | None = Field(default=None, ge=1)

    def wire(self) -> dict[str, Any]:
        """The GA session's `truncation` object."""
        value: dict[str, Any] = {"type": "retention_ratio", "retention_ratio": self.retention_ratio}
        if self.post_instructions_tokens is not None:
            value["token_limits"] = {"post_instructions": self.post_instructions_tokens}
        return value
