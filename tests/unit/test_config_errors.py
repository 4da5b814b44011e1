"""Every bad-input case: one clear message with the file, the key path and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_voice.cli.main import main
from edge_voice.config.loading import ConfigError, load_config

SECRET = "sk-very-secret-0000"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("openai: [unclosed\n", "broken YAML at line 2"),
        (
            "openai:\n  model: gpt-5-voice\n",
            "openai.model: unknown model 'gpt-5-voice'; known models:",
        ),
        ("openai:\n  legacy_model: nope\n", "openai.legacy_model: unknown model 'nope'"),
        ("voice:\n  primary: nova\n", "voice.primary: unknown voice 'nova'; known voices: alloy"),
        ("voice:\n  fallback: onyx\n", "voice.fallback: unknown voice 'onyx'"),
        ("openai:\n  modle: gpt-realtime\n", "openai.modle: unknown key; allowed here: api_key,"),
        ("colour: blue\n", "colour: unknown key; allowed here: audio, budget, conversation"),
        ("mqtt:\n  port: many\n", "mqtt.port: Input should be a valid integer"),
        ("mqtt:\n  port: 70000\n", "mqtt.port: Input should be less than or equal to 65535"),
        (
            "openai:\n  model_selection: newest\n",
            "openai.model_selection: Input should be 'auto', 'new' or 'legacy'",
        ),
        ("openai:\n  base_url: https://x\n", "openai.base_url: must start with ws:// or wss://"),
        (
            "wakeword:\n  models: [hey_siri]\n",
            "unknown wake word model 'hey_siri'; built-in models",
        ),
        ("tools:\n  - name: 'bad name'\n", "tools.0.name: must be 1-64 characters"),
        (
            "tools:\n  - name: t\n    parameters: {type: string}\n",
            'must be a JSON schema with "type": "object"',
        ),
        (
            "models:\n  x:\n    prices: {audio_in: 1}\n",
            "a new model needs `like: <existing model>`",
        ),
        ("models:\n  gpt-realtime:\n    prices: {speech: 1}\n", "unknown token class 'speech'"),
        ("- just\n- a list\n", "the top level must be a mapping"),
        (
            "device_id: 'Kitchen Speaker'\n",
            "device_id: 'Kitchen Speaker' cannot name the MQTT topics: use 1 to 64 lowercase "
            "letters, digits, '_' or '-', no spaces (e.g. 'kitchen_speaker')",
        ),
        # What the topics of a running device refuse, refused by the schema already (4.5):
        ("device_id: tools\n", "device_id: 'tools' is reserved"),
        ("device_id: arbitration\n", "device_id: 'arbitration' is reserved"),
        (
            "mqtt:\n  base_topic: home\n  discovery_prefix: home\n",
            "mqtt.discovery_prefix: must differ from mqtt.base_topic",
        ),
        ("mqtt:\n  base_topic: home//ev\n", "mqtt.base_topic: 'home//ev' must not start with"),
        ("mqtt:\n  base_topic: $SYS\n", "mqtt.base_topic: '$SYS' must not start with '$'"),
        ('mqtt:\n  discovery_prefix: "ha\\0x"\n', "mqtt.discovery_prefix: 'ha\\x00x' must be"),
        ("mqtt:\n  ha_status_topic: ha/#\n", "mqtt.ha_status_topic: 'ha/#' must be a non-empty"),
        (
            "device_id: hall\nmqtt:\n  ha_status_topic: edge_voice/hall/x\n",
            "mqtt.ha_status_topic: must not be one of this device's topics (edge_voice/hall/...)",
        ),
        ("wakeword:\n  arbitration_group: a/b\n", "wakeword.arbitration_group: 'a/b' must be"),
        ("audio:\n  source: micro\n", "audio.source: unknown audio source 'micro'"),
        ("audio:\n  source: 'wav:'\n", "audio.source: source 'wav:': wav needs a path"),
        ("audio:\n  source: 'stdin:fast'\n", "audio.source: source 'stdin:fast': stdin takes"),
        ("audio:\n  sink: headphones\n", "audio.sink: unknown audio sink 'headphones'"),
    ],
)
def test_bad_config_gets_one_clear_message(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert message.startswith(str(path))
    assert expected in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.yaml", env={})


def test_broken_yaml_never_echoes_the_line_with_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"openai:\n  api_key: {SECRET}\n  model: [gpt\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert SECRET not in str(info.value)


def test_type_error_on_a_secret_does_not_echo_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"mqtt:\n  password: {{nested: {SECRET}}}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "mqtt.password" in str(info.value)
    assert SECRET not in str(info.value)


def test_bad_env_override_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"EDGE_VOICE__MQTT__PORT": "abc"})
    assert "mqtt.port (from EDGE_VOICE__MQTT__PORT)" in str(info.value)


def test_a_check_across_sections_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"EDGE_VOICE__MQTT__DISCOVERY_PREFIX": "edge_voice"})
    expected = "mqtt.discovery_prefix (from EDGE_VOICE__MQTT__DISCOVERY_PREFIX): must differ"
    assert expected in str(info.value)


def test_cli_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"openai:\n  api_key: {SECRET}\n  model: gpt-9\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["config", "check", str(path)]) == 2
    assert main(["config", "migrate", str(path)]) == 2
    out = capsys.readouterr()
    assert "openai.model: unknown model 'gpt-9'" in out.err
    assert SECRET not in out.out + out.err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert path.read_text().endswith("model: gpt-9\n")


@pytest.mark.parametrize(
    "text",
    [
        "device_id: tools\n",
        "mqtt:\n  base_topic: home\n  discovery_prefix: home\n",
        "audio:\n  sink: headphones\n",
    ],
)
def test_check_refuses_what_run_would_refuse(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    assert main(["config", "check", str(path)]) == 2
    out = capsys.readouterr()
    assert "valid" not in out.out
    assert out.err.startswith(f"error: {path}: 1 problem:")
