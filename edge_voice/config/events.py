"""What the config store announces on the event bus: a new effective config, a new last good."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.state_file import ConfigChange
from edge_voice.events import Event


@dataclass(frozen=True, kw_only=True)
class ConfigChanged(Event):
    """The effective config changed (MQTT command, rollback, adoption): version `version`."""

    version: int
    source: str
    #: Dotted key → (old, new), secrets left out.
    diff: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    note: str | None = None
    #: The new effective config (secrets included: never publish it as is).
    config: EdgeVoiceConfig = field(repr=False)

    @classmethod
    def of(cls, change: ConfigChange, config: EdgeVoiceConfig) -> ConfigChanged:
        """The announcement of `change`, which made `config` the effective one."""
        return cls(
            version=change.version,
            source=change.source,
            diff=change.diff,
            note=change.note,
            config=config,
            ts=change.ts,
        )


@dataclass(frozen=True, kw_only=True)
class LastGoodChanged(Event):
    """A conversation completed under config `version`, which is now the last known good."""

    version: int
