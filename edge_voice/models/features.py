"""Fit session settings to a model: drop what it lacks, pick its voice, report each drop once."""

from __future__ import annotations

from dataclasses import dataclass, replace

from edge_voice.models.catalog import KNOWN_FEATURES, ModelInfo
from edge_voice.models.voices import VoiceChoice, is_custom_voice, select_voice
from edge_voice.realtime.session_builders import SessionSettings

#: Features that `openai.disable_new_features` turns off on every model: every feature the
#: catalog tracks, as each came after the first realtime models (the catalog owns the names).
NEW_FEATURES: frozenset[str] = KNOWN_FEATURES


@dataclass(frozen=True)
class VoicePreference:
    """The configured voice choice (voice.primary, voice.fallback, voice.auto_select)."""

    primary: str = "cedar"
    fallback: str | None = "alloy"
    auto_select: bool = True


@dataclass(frozen=True)
class Degradation:
    """One feature not used on a model, and what was done instead."""

    model: str
    feature: str
    action: str


@dataclass(frozen=True)
class FittedSettings:
    """Settings safe to send to a model, the voice chosen and the features dropped."""

    settings: SessionSettings
    voice: VoiceChoice
    degraded: tuple[Degradation, ...]
    features: frozenset[str]


def effective_features(model: ModelInfo, disable_new_features: bool) -> frozenset[str]:
    """The features this service will use on `model`."""
    return model.features - NEW_FEATURES if disable_new_features else model.features


def fit_settings(
    settings: SessionSettings,
    model: ModelInfo,
    voice: VoicePreference,
    *,
    disable_new_features: bool = False,
) -> FittedSettings:
    """`settings` for `model`, minus every field the model would reject."""
    features = effective_features(model, disable_new_features)
    degraded: list[Degradation] = []

    def drop(feature: str, action: str) -> None:
        degraded.append(Degradation(model.name, feature, action))

    changes: dict[str, object] = {"model": model.name}
    if settings.mcp_servers and ("mcp" not in features or model.protocol != "ga"):
        changes["mcp_servers"] = ()
        drop("mcp", f"{len(settings.mcp_servers)} MCP server(s) not offered to the model")
    if settings.turn_detection == "semantic_vad" and "semantic_vad" not in features:
        changes["turn_detection"] = "server_vad"
        drop("semantic_vad", "server_vad used instead")
    if settings.reasoning_effort is not None and "reasoning" not in features:
        changes["reasoning_effort"] = None
        drop("reasoning", "reasoning effort not sent")
    if settings.tools and "async_functions" not in features:
        drop("async_functions", "function calls pause the answer until their result arrives")
    if "image_input" not in features:
        drop("image_input", "images are not sent to the model")
    if settings.temperature is not None and model.protocol == "ga":
        changes["temperature"] = None
        drop("temperature", "the GA interface has no temperature; not sent")
    if settings.truncation != "auto" and model.protocol != "ga":
        changes["truncation"] = "auto"
        drop("truncation", "the beta interface has no truncation; the service's own applies")
    # Custom voices came after GA (reference §8), so disable_new_features turns them off too.
    custom_voices = not disable_new_features
    choice = select_voice(
        voice.primary,
        model,
        fallback=voice.fallback,
        auto_select=voice.auto_select,
        custom_voices=custom_voices,
    )
    if is_custom_voice(voice.primary) and choice.changed:
        drop("custom_voice", f"voice {choice.voice} used instead")
    changes["voice"] = choice.voice
    fitted = replace(settings, **changes)  # type: ignore[arg-type]
    return FittedSettings(fitted, choice, tuple(degraded), features)


class DegradationReporter:
    """Remembers what was reported so each (model, feature) is reported once per process."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()

    def new(self, degraded: tuple[Degradation, ...]) -> list[Degradation]:
        """The degradations not reported before; marks them reported."""
        fresh = [d for d in degraded if (d.model, d.feature) not in self._seen]
        self._seen.update((d.model, d.feature) for d in fresh)
        return fresh
