"""The `memory` section: a short summary of the last conversation, given to the next one."""

from __future__ import annotations

from pydantic import Field

from edge_voice.config.section import Section


class MemoryConfig(Section):
    """Off by default: nothing said is kept unless the user turns it on."""

    enabled: bool = False
    max_chars: int = Field(default=500, ge=50, le=4000)
    max_age_h: float = Field(default=24.0, gt=0, le=24 * 366)
