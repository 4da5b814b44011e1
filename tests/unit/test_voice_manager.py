"""Voice selection for every voice on every model of the catalog."""

from __future__ import annotations

import pytest

from edge_voice.models.catalog import default_catalog
from edge_voice.models.voices import (
    VOICE_MAPPING,
    VoiceReason,
    best_voice,
    select_voice,
)

CATALOG = default_catalog()
ALL_VOICES = CATALOG.all_voices()
CASES = [(voice, model.name) for model in CATALOG.models() for voice in ALL_VOICES]


@pytest.mark.parametrize(("voice", "model"), CASES)
def test_every_voice_on_every_model_gives_a_voice_the_model_has(voice: str, model: str) -> None:
    info = CATALOG.get(model)
    choice = select_voice(voice, model, fallback="alloy")
    assert info.has_voice(choice.voice)
    if info.has_voice(voice):
        assert (choice.voice, choice.reason) == (voice, VoiceReason.PREFERRED)
    else:
        assert choice.reason is VoiceReason.FALLBACK
        assert choice.voice == "alloy"
        assert voice in choice.explain() and "alloy" in choice.explain()


@pytest.mark.parametrize("model", [m.name for m in CATALOG.models() if not m.has_voice("cedar")])
@pytest.mark.parametrize("voice", ["cedar", "marin"])
def test_new_voices_map_on_legacy_models_without_a_usable_fallback(voice: str, model: str) -> None:
    choice = select_voice(voice, model, fallback=None)
    expected = VOICE_MAPPING[voice]
    if CATALOG.get(model).has_voice(expected):
        assert (choice.voice, choice.reason) == (expected, VoiceReason.MAPPED)
    else:  # the 2024-10-01 launch model had only alloy, echo, shimmer
        assert choice.reason is VoiceReason.BEST_AVAILABLE
        assert choice.voice == "alloy"


def test_mapping_is_documented_for_exactly_the_new_voices() -> None:
    ga_only = set(CATALOG.get("gpt-realtime").voices) - set(
        CATALOG.get("gpt-4o-realtime-preview").voices
    )
    assert set(VOICE_MAPPING) == ga_only == {"cedar", "marin"}
    for target in VOICE_MAPPING.values():
        assert CATALOG.get("gpt-4o-realtime-preview").has_voice(target)


def test_fallback_the_model_lacks_goes_to_the_mapping() -> None:
    choice = select_voice("cedar", "gpt-4o-realtime-preview", fallback="marin")
    assert (choice.voice, choice.reason) == ("ash", VoiceReason.MAPPED)


def test_auto_picks_the_best_voice_of_the_model() -> None:
    assert select_voice("auto", "gpt-realtime").voice == "marin"
    assert select_voice("auto", "gpt-4o-realtime-preview").voice == "alloy"
    assert best_voice(CATALOG.get("gpt-4o-realtime-preview-2024-10-01")) == "alloy"


def test_without_auto_select_the_model_default_is_used() -> None:
    choice = select_voice(
        "marin", "gpt-4o-realtime-preview-2024-10-01", fallback=None, auto_select=False
    )
    assert choice.reason is VoiceReason.MODEL_DEFAULT
    assert choice.voice == CATALOG.get("gpt-4o-realtime-preview-2024-10-01").voices[0]
