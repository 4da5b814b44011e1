"""Wake-word profiles in the config and the wake word tuning commands (pure logic)."""

from __future__ import annotations

import datetime as dt

import pytest

from edge_voice.config.lifecycle_report import model_facts
from edge_voice.config.loading import ConfigError, validate_config
from edge_voice.conversation.function_calls import ToolRegistry
from edge_voice.conversation.session_settings import migration_settings
from edge_voice.conversation.wake_profiles import WakeProfiles, profile_name
from edge_voice.mqtt.commands import CommandError, WakewordRefractorySet, WakewordThresholdSet
from edge_voice.mqtt.parsing import parse_command
from edge_voice.mqtt.topics import Topics
from tests.support.assistant_rig import LIGHT_TOOL

TOPICS = Topics("edge_voice", "kitchen")


def _cfg(profile: dict[str, object], **openai: object) -> object:
    return validate_config(
        {
            "device_id": "kitchen",
            "openai": openai,
            "tools": [LIGHT_TOOL],
            "wakeword": {
                "models": ["hey_jarvis", "alexa"],
                "words": {"alexa": {"profile": profile}},
            },
        }
    )


def test_a_profile_voice_its_model_lacks_is_refused_like_voice_set() -> None:
    with pytest.raises(ConfigError, match=r"profile\.voice: gpt-4o-realtime-preview has no voice"):
        _cfg({"model": "gpt-4o-realtime-preview", "voice": "cedar"})
    _cfg({"model": "gpt-realtime-mini", "voice": "marin"})  # a voice of that model


def test_the_profile_applies_only_to_its_own_wake_word() -> None:
    cfg = validate_config(
        {
            "device_id": "kitchen",
            "tools": [LIGHT_TOOL],
            "wakeword": {
                "models": ["hey_jarvis", "alexa"],
                "words": {"alexa": {"profile": {"model": "gpt-realtime-mini", "tools": []}}},
            },
        }
    )
    registry = ToolRegistry(cfg.tools)
    profiles = WakeProfiles()
    alexa = profiles.for_wakeword(cfg, registry, "alexa")
    assert (alexa.name, alexa.model, alexa.voice) == ("alexa", "gpt-realtime-mini", None)
    assert {t["name"] for t in alexa.settings.tools} == {"get_time", "end_conversation"}
    for other in ("hey_jarvis", None):
        plain = profiles.for_wakeword(cfg, registry, other)
        assert (plain.name, plain.model) == (None, None)
        assert "set_light" in {t["name"] for t in plain.settings.tools}
    assert (profile_name(cfg, "alexa"), profile_name(cfg, "hey_jarvis")) == ("alexa", None)


@pytest.mark.parametrize(
    ("setting", "payload", "value"),
    [
        ("threshold", b"0.62", 0.62),
        ("threshold", b" 0.5\n", 0.5),
        ("threshold", b'{"value": 0.7, "transaction": 1}', 0.7),
        ("refractory_s", b"0", 0.0),
        ("refractory_s", b"60", 60.0),
    ],
)
def test_wake_word_commands_take_what_a_number_entity_sends(
    setting: str, payload: bytes, value: float
) -> None:
    route = TOPICS.classify(TOPICS.wakeword("hey_jarvis", setting))
    assert route is not None
    command = parse_command(route, payload)
    assert isinstance(command, WakewordThresholdSet | WakewordRefractorySet)
    assert (command.wakeword, command.setting, command.value) == ("hey_jarvis", setting, value)


@pytest.mark.parametrize(
    ("setting", "payload", "code"),
    [
        ("threshold", b"high", "wrong_type"),
        ("threshold", b"true", "wrong_type"),
        ("threshold", b"", "missing_field"),
        ("threshold", b"1", "invalid_value"),
        ("threshold", b"0", "invalid_value"),
        ("threshold", b"1e999", "invalid_value"),
        ("refractory_s", b"-0.5", "invalid_value"),
        ("refractory_s", b"61", "invalid_value"),
        ("refractory_s", b'{"seconds": 2}', "unknown_field"),
    ],
)
def test_bad_wake_word_values_are_refused_with_a_code(
    setting: str, payload: bytes, code: str
) -> None:
    route = TOPICS.classify(TOPICS.wakeword("hey_jarvis", setting))
    assert route is not None
    with pytest.raises(CommandError) as refused:
        parse_command(route, payload)
    assert refused.value.code == code
    assert f"wakeword/hey_jarvis/{setting}/set" in refused.value.message


def test_other_topics_under_wakeword_are_no_commands_but_are_answered() -> None:
    for rest in ("wakeword/hey_jarvis/sensitivity/set", "wakeword/hey_jarvis/threshold"):
        topic = f"{TOPICS.base}/{rest}"
        assert TOPICS.classify(topic) is None
        assert TOPICS.expects_answer(topic)  # as unknown_command


def test_a_profile_model_near_its_shutdown_is_reported_under_its_own_key() -> None:
    cfg = validate_config(
        {
            "device_id": "kitchen",
            "wakeword": {
                "models": ["hey_jarvis", "alexa"],
                "words": {"alexa": {"profile": {"model": "gpt-realtime-mini"}}},
            },
        }
    )
    texts = [f.text for f in model_facts(cfg, dt.date(2027, 1, 10))]
    fact = next(t for t in texts if t.startswith("wakeword.words.alexa.profile.model"))
    assert "set wakeword.words.alexa.profile.model: gpt-realtime-2.1-mini" in fact
    roles = migration_settings(cfg).preferred_roles
    assert roles == (("gpt-realtime-mini", "wakeword.words.alexa.profile.model"),)
