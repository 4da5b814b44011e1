"""Config loading: defaults, old configs kept as they were, env overrides, secrets, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from edge_voice.config.loading import (
    ConfigError,
    config_to_dict,
    load_config,
    resolve_api_key,
    save_config,
)
from edge_voice.config.schema import EdgeVoiceConfig, hostname_slug

OLD_CONFIG = """\
openai:
  model: gpt-4o-realtime-preview
  voice: alloy
  api_key: sk-old-secret-123456
mqtt:
  host: broker.lan
  password: hunter2-secret
"""


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_follow_the_migration_spec() -> None:
    cfg = load_config(None, env={})
    assert cfg.openai.model == "gpt-realtime"
    assert cfg.openai.legacy_model == "gpt-4o-realtime-preview"
    assert cfg.openai.model_selection == "auto"
    assert cfg.openai.disable_new_features is False
    assert cfg.openai.base_url == "wss://api.openai.com/v1/realtime"
    assert (cfg.voice.primary, cfg.voice.fallback, cfg.voice.auto_select) == (
        "cedar",
        "alloy",
        True,
    )
    assert cfg.wakeword.models == ["hey_jarvis"]
    assert cfg.mqtt.base_topic == "edge_voice"
    assert cfg.mqtt.discovery_prefix == "homeassistant"
    assert cfg.device_id == hostname_slug()


def test_old_config_keeps_its_model_and_voice(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, OLD_CONFIG), env={})
    assert cfg.openai.model == "gpt-4o-realtime-preview"
    assert cfg.voice.primary == "alloy"
    assert cfg.mqtt.host == "broker.lan"
    assert isinstance(cfg.openai.api_key, SecretStr)


def test_config_without_model_gets_gpt_realtime(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "openai:\n  voice: verse\n"), env={})
    assert cfg.openai.model == "gpt-realtime"
    assert cfg.voice.primary == "verse"


def test_new_voice_section_wins_over_old_key(tmp_path: Path) -> None:
    text = "openai:\n  voice: alloy\nvoice:\n  primary: marin\n"
    assert load_config(write(tmp_path, text), env={}).voice.primary == "marin"


def test_env_overrides_any_key(tmp_path: Path) -> None:
    env = {
        "EDGE_VOICE__OPENAI__MODEL_SELECTION": "legacy",
        "EDGE_VOICE__MQTT__PORT": "1884",
        "EDGE_VOICE__DEVICE_ID": "kitchen",
        "EDGE_VOICE__WAKEWORD__MODELS": "[alexa, hey_jarvis]",
        "EDGE_VOICE__MQTT__PASSWORD": "12345",
    }
    cfg = load_config(write(tmp_path, OLD_CONFIG), env=env)
    assert cfg.openai.model_selection == "legacy"
    assert cfg.mqtt.port == 1884
    assert cfg.device_id == "kitchen"
    assert cfg.wakeword.models == ["alexa", "hey_jarvis"]
    assert cfg.mqtt.password is not None
    assert cfg.mqtt.password.get_secret_value() == "12345"  # a secret is never parsed as a number


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ("audio:\n  sink: null\n", {}),  # as the docs write it: YAML reads it as nothing
        ("audio:\n  sink: ~\n", {}),
        ("audio:\n  sink: 'null'\n", {}),
        ("", {"EDGE_VOICE__AUDIO__SINK": "null"}),
    ],
)
def test_a_null_sink_is_the_null_sink(tmp_path: Path, text: str, env: dict[str, str]) -> None:
    cfg = load_config(write(tmp_path, text), env=env)
    assert cfg.audio.sink == "null"
    assert config_to_dict(cfg, secrets="redact")["audio"]["sink"] == "null"  # and stays so


def test_api_key_sources_in_order(tmp_path: Path) -> None:
    key_file = write(tmp_path, "sk-from-file\n", "key.txt")
    cfg = load_config(write(tmp_path, OLD_CONFIG), env={})
    assert resolve_api_key(cfg, env={"OPENAI_API_KEY": "sk-env"}) == SecretStr("sk-env")
    assert resolve_api_key(cfg, env={}) == SecretStr("sk-old-secret-123456")
    with_file = cfg.model_copy(
        update={"openai": cfg.openai.model_copy(update={"api_key_file": key_file})}
    )
    assert resolve_api_key(with_file, env={}) == SecretStr("sk-from-file")
    assert resolve_api_key(load_config(None, env={}), env={}) is None


def test_missing_key_file_is_a_config_error(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, f"openai:\n  api_key_file: {tmp_path}/nope\n"), env={})
    with pytest.raises(ConfigError, match=r"openai\.api_key_file: cannot read"):
        resolve_api_key(cfg, env={})


def test_secrets_never_in_dumps_or_reprs(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, OLD_CONFIG), env={})
    for text in (
        repr(cfg),
        str(cfg),
        str(config_to_dict(cfg)),
        str(config_to_dict(cfg, secrets="drop")),
    ):
        assert "sk-old-secret-123456" not in text
        assert "hunter2-secret" not in text
    assert config_to_dict(cfg)["openai"]["api_key"] == "<redacted>"
    assert "password" not in config_to_dict(cfg, secrets="drop")["mqtt"]


def test_save_and_load_round_trip_keeps_secrets_in_the_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, OLD_CONFIG), env={})
    out = tmp_path / "saved.yaml"
    save_config(cfg, out)
    assert load_config(out, env={}) == cfg
    assert "sk-old-secret-123456" in out.read_text()
    assert out.stat().st_mode & 0o077 == 0  # the file holds secrets: owner only


def test_models_section_adds_a_model_and_overrides_prices(tmp_path: Path) -> None:
    text = """\
openai:
  model: my-proxy-model
models:
  my-proxy-model:
    like: gpt-realtime
    prices: {audio_out: 50}
  gpt-realtime:
    prices: {audio_in: 30}
"""
    cfg = load_config(write(tmp_path, text), env={})
    catalog = cfg.catalog()
    assert catalog.get("my-proxy-model").prices.audio_out == 50
    assert catalog.get("my-proxy-model").prices.audio_in == 32
    assert catalog.get("my-proxy-model").protocol == "ga"
    assert catalog.get("gpt-realtime").prices.audio_in == 30


def test_tools_are_json_schema_objects(tmp_path: Path) -> None:
    text = """\
tools:
  - name: set_light
    description: Turn a light on or off
    parameters:
      type: object
      properties:
        room: {type: string}
        state: {type: string, enum: ["on", "off"]}
      required: [room, state]
"""
    cfg = load_config(write(tmp_path, text), env={})
    assert cfg.tools[0].name == "set_light"
    assert cfg.tools[0].parameters["required"] == ["room", "state"]


def test_schema_is_strict_for_every_section() -> None:
    for section in EdgeVoiceConfig.model_fields:
        annotation = EdgeVoiceConfig.model_fields[section].annotation
        config = getattr(annotation, "model_config", None)
        if config is not None:
            assert config.get("extra") == "forbid", section
