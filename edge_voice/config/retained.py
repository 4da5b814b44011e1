"""A retained `<base>/config` met by a device without state: adopted, or replaced by the file's.

After `state_dir` is wiped (or on new hardware) the broker may still hold the config an earlier
run published: that run's file values with its runtime changes. Adopting it brings the runtime
changes back, but it also undoes every edit of the config file made since, so it is a choice
the file makes: `mqtt.adopt_retained_config` (default false: the file wins, and the retained
config is replaced by the file's with a higher version). Either way the log says what differed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from edge_voice.config.rules import (
    ChangeCode,
    ConfigChangeError,
    refuse_non_finite,
    validate_change,
    without_locked,
)
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.state_file import deep_merge

log = logging.getLogger(__name__)

RETAINED_SOURCE: Final = "mqtt:config (retained)"
#: The source of the change that republishes the file's config over a retained one.
FILE_SOURCE: Final = "config file (over the retained config)"
_KEY: Final = "mqtt.adopt_retained_config"


@dataclass(frozen=True)
class FoundConfig:
    """A retained config: the file's with the retained values (locked keys stay the file's)."""

    config: EdgeVoiceConfig
    version: int


def read_retained(
    payload: Mapping[str, Any], file_raw: Mapping[str, Any], source: str
) -> FoundConfig:
    """The config a retained payload describes over the file; ConfigChangeError if invalid."""
    if not isinstance(payload, Mapping):
        raise ConfigChangeError(ChangeCode.INVALID_CONFIG, "a retained config must be an object")
    data = {k: v for k, v in payload.items() if k not in ("version", "ts")}
    version = payload.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        version = 0
    refuse_non_finite(data)
    # Locked keys keep the file's values: the payload holds them too, and they may be stale.
    cfg = validate_change(deep_merge(dict(file_raw), without_locked(data)), source)
    return FoundConfig(cfg, version)


def report(diff: Mapping[str, tuple[Any, Any]], version: int, *, adopt: bool) -> None:
    """Log what adopting (or not) the retained config of `version` did to the file's values."""
    keys = ", ".join(diff) or "no key (only its version)"
    if adopt:
        log.warning(
            "adopted the retained config (version %d, left by an earlier run) over the config "
            "file: %s; set %s: false to keep the file's values",
            version,
            keys,
            _KEY,
        )
    else:
        log.info(
            "not adopting the retained config (version %d, left by an earlier run; it differs "
            "from the config file in %s): the file wins and replaces it (%s: true adopts it)",
            version,
            keys,
            _KEY,
        )
