"""A profile per wake word: what a conversation started by that word asks for.

A conversation started by a wake word with a profile (`wakeword.words.<name>.profile`) uses the
profile's model as its primary, its voice, its instructions and only its tools; anything the
profile leaves out comes from the global settings. Any other conversation (a wake word without
a profile, `conversation/start`, the HA button) uses the global settings.

How the profile's model meets the model settings (docs/MQTT_API.md, "Wake-word profiles"):
- `model_selection: auto`: the profile's model first, then `legacy_model` and
  `fallback_models` as configured; `new`: the profile's model only; `legacy`: the legacy model
  (the rollback switch wins over every profile).
- `model/set` changes the global model: conversations of a profile keep the profile's model.
- A daily budget's `cheaper_model` wins over the profile's model once the budget is reached.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.wakeword_schema import WakeProfile
from edge_voice.conversation.function_calls import BUILTIN_TOOLS, ToolRegistry
from edge_voice.conversation.session_settings import session_settings
from edge_voice.events import WakeWordTuning
from edge_voice.models.features import VoicePreference
from edge_voice.realtime.session_builders import SessionSettings

log = logging.getLogger(__name__)

#: Always offered: they belong to the service (what time it is, ending the conversation).
_BUILTIN_NAMES = frozenset(t.name for t in BUILTIN_TOOLS)


@dataclass(frozen=True)
class ConversationProfile:
    """What one conversation asks for: a wake word's profile applied to the global settings."""

    #: The wake word whose profile this is; None: the global settings.
    name: str | None
    settings: SessionSettings
    #: The primary model instead of `openai.model` (None: the configured one).
    model: str | None
    #: The voice preference instead of the configured one (None: the configured one).
    voice: VoicePreference | None


class WakeProfiles:
    """Builds each conversation's settings; warns once about a profile tool nothing offers."""

    def __init__(self) -> None:
        self._warned: set[tuple[str, str]] = set()

    def for_wakeword(
        self, cfg: EdgeVoiceConfig, registry: ToolRegistry, wakeword: str | None
    ) -> ConversationProfile:
        """The settings of a conversation started by `wakeword` (None: without one)."""
        base = session_settings(cfg, registry)
        profile = cfg.wakeword.profile_of(wakeword)
        if wakeword is None or profile is None:
            return ConversationProfile(None, base, None, None)
        changes: dict[str, Any] = {}
        if profile.instructions is not None:
            changes["instructions"] = profile.instructions
        if profile.tools is not None:
            changes["tools"] = self._tools(wakeword, profile, base.tools)
        voice = None
        if profile.voice is not None:
            changes["voice"] = profile.voice
            voice = VoicePreference(profile.voice, cfg.voice.fallback, cfg.voice.auto_select)
        settings = replace(base, **changes)
        return ConversationProfile(wakeword, settings, profile.model, voice)

    def _tools(
        self, wakeword: str, profile: WakeProfile, offered: tuple[Mapping[str, Any], ...]
    ) -> tuple[Mapping[str, Any], ...]:
        """The tools of `offered` the profile names (and the built-in ones)."""
        wanted = set(profile.tools or ())
        names = {str(t.get("name")) for t in offered}
        for missing in sorted(wanted - names):
            if (wakeword, missing) not in self._warned:
                self._warned.add((wakeword, missing))
                log.warning(
                    "wakeword.words.%s.profile.tools: no tool %r (config, MQTT or MCP); "
                    "its conversations go without it",
                    wakeword,
                    missing,
                )
        keep = wanted | _BUILTIN_NAMES
        return tuple(t for t in offered if t.get("name") in keep)


def profile_name(cfg: EdgeVoiceConfig, wakeword: str | None) -> str | None:
    """`wakeword` if it has a profile, else None (what `profile` in events and state says)."""
    return wakeword if cfg.wakeword.profile_of(wakeword) is not None else None


def wakeword_tuning(cfg: EdgeVoiceConfig) -> dict[str, WakeWordTuning]:
    """Each wake word's detection settings, for the state (HA's number entities show them)."""
    return {
        e.name: WakeWordTuning(e.engine, e.threshold, e.refractory_s, e.profile is not None)
        for e in cfg.wakeword.entries()
    }
