"""Voice selection per model: preferred, configured fallback, documented mapping, best available."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from edge_voice.models.catalog import ModelCatalog, ModelInfo, default_catalog

#: Voices that exist only on gpt-realtime-class models, mapped to the closest legacy voice:
#: cedar is a low, warm voice (ash is its nearest on the preview models); marin is a clear,
#: bright one (coral). Documented in docs/OPENAI_MIGRATION.md.
VOICE_MAPPING: dict[str, str] = {"cedar": "ash", "marin": "coral"}

#: "Best" first: OpenAI recommends marin and cedar for gpt-realtime; alloy is the long-time
#: default every realtime model has had since launch.
VOICE_RANKING: tuple[str, ...] = (
    "marin",
    "cedar",
    "alloy",
    "coral",
    "sage",
    "ash",
    "verse",
    "ballad",
    "shimmer",
    "echo",
)

AUTO = "auto"

#: Custom voices (`voice_...` ids, GA models only, reference §8) are made per account, so no
#: catalog lists them; the prefix is what tells them from the built-in voices.
CUSTOM_VOICE_PREFIX = "voice_"


def is_custom_voice(voice: str) -> bool:
    """Whether `voice` is a custom voice id (`voice_...`) rather than a built-in voice."""
    return voice.startswith(CUSTOM_VOICE_PREFIX) and len(voice) > len(CUSTOM_VOICE_PREFIX)


class VoiceReason(StrEnum):
    """Why a voice was chosen."""

    PREFERRED = "preferred"
    FALLBACK = "fallback"
    MAPPED = "mapped"
    BEST_AVAILABLE = "best_available"
    MODEL_DEFAULT = "model_default"


@dataclass(frozen=True)
class VoiceChoice:
    """The voice to use on a model, and why."""

    voice: str
    reason: VoiceReason
    requested: str
    model: str

    @property
    def changed(self) -> bool:
        """Whether the voice differs from the one asked for."""
        return self.voice != self.requested

    def explain(self) -> str:
        """A one-line human explanation."""
        if self.reason is VoiceReason.PREFERRED:
            return f"voice {self.voice} on {self.model}"
        if self.requested == AUTO:
            return f"voice {self.voice}: the best voice {self.model} offers"
        why = {
            VoiceReason.FALLBACK: "the configured fallback voice",
            VoiceReason.MAPPED: "the closest voice (documented mapping)",
            VoiceReason.BEST_AVAILABLE: "the best voice it offers",
            VoiceReason.MODEL_DEFAULT: "the model's first voice",
        }[self.reason]
        return f"{self.model} has no voice {self.requested}; using {self.voice}, {why}"


def best_voice(model: ModelInfo) -> str:
    """The highest-ranked voice the model offers."""
    for voice in VOICE_RANKING:
        if model.has_voice(voice):
            return voice
    return model.voices[0]


def select_voice(
    preferred: str,
    model: str | ModelInfo,
    *,
    fallback: str | None = "alloy",
    auto_select: bool = True,
    catalog: ModelCatalog | None = None,
    custom_voices: bool = True,
) -> VoiceChoice:
    """Choose a voice for `model`: preferred, else fallback, else mapping, else best/first.

    A custom voice id is taken as preferred on GA models while `custom_voices` is on.
    """
    info = model if isinstance(model, ModelInfo) else (catalog or default_catalog()).get(model)
    if preferred == AUTO:
        return VoiceChoice(best_voice(info), VoiceReason.BEST_AVAILABLE, preferred, info.name)
    custom = is_custom_voice(preferred) and custom_voices and info.protocol == "ga"
    if custom or info.has_voice(preferred):
        return VoiceChoice(preferred, VoiceReason.PREFERRED, preferred, info.name)
    if fallback and info.has_voice(fallback):
        return VoiceChoice(fallback, VoiceReason.FALLBACK, preferred, info.name)
    mapped = VOICE_MAPPING.get(preferred)
    if mapped and info.has_voice(mapped):
        return VoiceChoice(mapped, VoiceReason.MAPPED, preferred, info.name)
    if auto_select:
        return VoiceChoice(best_voice(info), VoiceReason.BEST_AVAILABLE, preferred, info.name)
    return VoiceChoice(info.voices[0], VoiceReason.MODEL_DEFAULT, preferred, info.name)
