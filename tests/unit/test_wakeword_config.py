"""The `wakeword` section: engines per word, per-word options and profiles, resolved."""

from __future__ import annotations

from typing import Any

import pytest

from edge_voice.config.loading import ConfigError, validate_config


def wakeword(**section: Any) -> Any:
    return validate_config({"wakeword": section}).wakeword


def problem(**section: Any) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config({"wakeword": section})
    return str(info.value)


def test_plain_names_listen_with_openwakeword_at_the_global_settings() -> None:
    (entry,) = wakeword(models=["Hey Jarvis"], threshold=0.6, refractory_s=1.5).entries()
    assert (entry.name, entry.engine, entry.threshold, entry.refractory_s) == (
        "hey_jarvis",
        "openwakeword",
        0.6,
        1.5,
    )
    assert entry.profile is None


def test_a_word_may_choose_microwakeword_and_then_uses_the_manifest_cutoff() -> None:
    section = wakeword(
        models=["hey_jarvis", "okay_nabu"], words={"okay_nabu": {"engine": "microwakeword"}}
    )
    jarvis, nabu = section.entries()
    assert (jarvis.engine, jarvis.threshold) == ("openwakeword", 0.5)
    assert (nabu.engine, nabu.threshold) == ("microwakeword", None)


def test_a_json_manifest_is_a_microwakeword_model_named_by_its_stem() -> None:
    (entry,) = wakeword(models=["/models/hey_computer.json"]).entries()
    assert (entry.name, entry.engine) == ("hey_computer", "microwakeword")


def test_per_word_options_win_over_the_section() -> None:
    (entry,) = wakeword(
        models=["alexa"], words={"alexa": {"threshold": 0.7, "refractory_s": 0.5}}
    ).entries()
    assert (entry.threshold, entry.refractory_s) == (0.7, 0.5)


def test_options_for_a_word_that_does_not_listen_are_refused() -> None:
    message = problem(models=["hey_jarvis"], words={"alexa": {"threshold": 0.7}})
    assert "words.alexa: no such wake word in wakeword.models (hey_jarvis)" in message


def test_an_engine_without_that_built_in_is_refused_naming_its_models() -> None:
    message = problem(models=["hey_rhasspy"], words={"hey_rhasspy": {"engine": "microwakeword"}})
    assert "words.hey_rhasspy.engine: unknown wake word model 'hey_rhasspy'" in message
    assert "alexa, hey_jarvis, hey_mycroft, okay_nabu (microwakeword)" in message


def test_two_models_with_one_detection_name_are_refused() -> None:
    assert "two models detect as 'alexa'" in problem(models=["alexa", "/x/alexa.tflite"])


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ({"model": "gpt-4"}, "wakeword.words.alexa.profile.model: unknown model 'gpt-4'"),
        ({"voice": "nobody"}, "wakeword.words.alexa.profile.voice: unknown voice 'nobody'"),
        ({"tools": ["bad name"]}, "tools.0"),
    ],
)
def test_a_profile_names_only_known_models_voices_and_tool_names(
    profile: dict[str, Any], expected: str
) -> None:
    assert expected in problem(models=["alexa"], words={"alexa": {"profile": profile}})


def test_a_profile_is_kept_with_its_word() -> None:
    profile = {"model": "gpt-realtime-mini", "voice": "marin", "tools": ["set_light"]}
    section = wakeword(models=["alexa"], words={"alexa": {"profile": profile}})
    (entry,) = section.entries()
    assert entry.profile is not None
    assert (entry.profile.model, entry.profile.voice, entry.profile.tools) == (
        "gpt-realtime-mini",
        "marin",
        ["set_light"],
    )
    assert set(section.profiles()) == {"alexa"}
