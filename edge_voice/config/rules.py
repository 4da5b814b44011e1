"""Rules for runtime config changes: the keys that stay local, error codes, the next session's
model and voice, checks."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any, Final, Literal

from edge_voice.config.loading import ConfigError, validate_config
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.models.voices import AUTO, VoiceChoice, select_voice

#: Settings a running device never takes from MQTT: credentials, endpoints, file paths, its
#: identity and the MQTT link itself (a wrong broker setting would cut the device off, and a
#: remote `base_url` would receive the API key). The one list: the MQTT parser refuses them
#: in `config/set`, and a retained config, a rollback or a reset never brings them back.
RUNTIME_LOCKED: tuple[tuple[str, ...], ...] = (
    ("device_id",),
    ("state_dir",),
    ("openai", "api_key"),
    ("openai", "api_key_file"),
    ("openai", "base_url"),
    # A remote server would receive the credential its entry names (any environment variable
    # or file of the device, OPENAI_API_KEY included) from OpenAI's cloud.
    ("openai", "mcp_servers"),
    ("mqtt",),
    ("audio",),
    ("mcp_bridge",),  # a remote url would receive the server's token
)


def locked_paths_in(data: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The runtime-locked key paths present in `data`."""
    found = []
    for path in RUNTIME_LOCKED:
        node: Any = data
        for key in path:
            if not isinstance(node, Mapping) or key not in node:
                break
            node = node[key]
        else:
            found.append(path)
    return found


def without_locked(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `data` without any runtime-locked key (emptied parents removed)."""
    out = copy.deepcopy(dict(data))
    for path in locked_paths_in(out):
        parents = [out]
        for key in path[:-1]:
            parents.append(parents[-1][key])
        del parents[-1][path[-1]]
        for depth in range(len(path) - 2, -1, -1):
            if parents[depth + 1]:
                break
            del parents[depth][path[depth]]
    return out


#: `<base>/config/rollback` targets: the last known good config, or the quick legacy profile.
RollbackTarget = Literal["last_good", "legacy"]
#: The quick-rollback profile: the legacy model only, and nothing the legacy model might lack.
LEGACY_PROFILE: Final[Mapping[str, Any]] = {
    "openai": {"model_selection": "legacy", "disable_new_features": True}
}


class ChangeCode(StrEnum):
    """Why a config change was refused."""

    INVALID_CONFIG = "invalid_config"
    UNKNOWN_KEY = "unknown_key"
    UNKNOWN_MODEL = "unknown_model"
    UNKNOWN_VOICE = "unknown_voice"
    VOICE_NOT_ON_MODEL = "voice_not_on_model"
    FORBIDDEN = "forbidden"
    NOTHING_TO_ROLL_BACK = "nothing_to_roll_back"
    UNKNOWN_TARGET = "unknown_target"


class ConfigChangeError(Exception):
    """A refused change: nothing changed; `code` for machines, `message` for people."""

    def __init__(self, code: ChangeCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def model_for_next_session(cfg: EdgeVoiceConfig) -> str:
    """The model the next session asks for: the legacy model under `legacy`, else the primary."""
    return cfg.openai.legacy_model if cfg.openai.model_selection == "legacy" else cfg.openai.model


def voices_for_next_session(cfg: EdgeVoiceConfig) -> list[str]:
    """The voices of the model the next session asks for."""
    return list(cfg.catalog().get(model_for_next_session(cfg)).voices)


def voice_choice_for_next_session(cfg: EdgeVoiceConfig) -> VoiceChoice:
    """The voice the next session will speak with, and why."""
    return select_voice(
        cfg.voice.primary,
        model_for_next_session(cfg),
        fallback=cfg.voice.fallback,
        auto_select=cfg.voice.auto_select,
        catalog=cfg.catalog(),
    )


def voice_for_next_session(cfg: EdgeVoiceConfig) -> str:
    """The voice the next session will speak with (the preferred one, or its replacement)."""
    return voice_choice_for_next_session(cfg).voice


def validate_change(raw: Mapping[str, Any], source: str) -> EdgeVoiceConfig:
    """`raw` validated as a whole, or ConfigChangeError (unknown_key or invalid_config)."""
    try:
        return validate_config(raw, source)
    except ConfigError as exc:
        code = ChangeCode.UNKNOWN_KEY if exc.unknown_keys else ChangeCode.INVALID_CONFIG
        # The answer names the command itself: the problems without the source prefix.
        raise ConfigChangeError(code, "; ".join(exc.problems)) from None


def refuse_non_finite(data: Mapping[str, Any]) -> None:
    """Refuse NaN and Infinity: JSON cannot carry them."""
    bad = list(non_finite_paths(data))
    if bad:
        raise ConfigChangeError(
            ChangeCode.INVALID_CONFIG, f"{bad[0]}: must be a finite number (no NaN/Infinity)"
        )


def check_voice(cfg: EdgeVoiceConfig, voice: str) -> None:
    """Refuse a voice no model has, or one the next session's model lacks."""
    if voice == AUTO:
        return
    catalog = cfg.catalog()
    known = catalog.all_voices()
    if voice not in known:
        raise ConfigChangeError(
            ChangeCode.UNKNOWN_VOICE,
            f"unknown voice {voice!r}; known voices: {', '.join(known)}, or auto",
        )
    model = model_for_next_session(cfg)
    allowed = voices_for_next_session(cfg)
    if voice not in allowed:
        raise ConfigChangeError(
            ChangeCode.VOICE_NOT_ON_MODEL,
            f"{model} (the model of the next session) has no voice {voice!r}; "
            f"allowed: {', '.join(allowed)}, or auto",
        )


def voice_note(cfg: EdgeVoiceConfig) -> str | None:
    """Which voice the next session will use, when it is not the preferred one."""
    # Voices map per connection (design §3), so a model without the preferred voice is
    # accepted; the note tells the user which voice the next session will actually use.
    choice = voice_choice_for_next_session(cfg)
    return choice.explain() if choice.changed else None


def non_finite_paths(value: Any, path: str = "") -> Iterator[str]:
    """Dotted paths of NaN/infinite floats: JSON, the state file and MQTT have no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path or "(value)"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from non_finite_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from non_finite_paths(item, f"{path}[{index}]")
