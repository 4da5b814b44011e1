"""`<base>/config/reset`: parsing, answers, and the discovery button, without a broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_voice.config.loading import validate_config
from edge_voice.mqtt.commands import CommandError, ConfigReset, ErrorCode
from edge_voice.mqtt.discovery import discovery_configs
from edge_voice.mqtt.parsing import parse_command
from edge_voice.mqtt.topics import CommandKind, Topics
from tests.unit.test_mqtt_router import Rig, payload, topics_of

K = CommandKind.CONFIG_RESET


@pytest.mark.parametrize("body", ["", "  ", "all", "ALL", "{}"])
def test_every_way_of_saying_all(body: str) -> None:
    assert parse_command(K, body.encode()) == ConfigReset()


def test_keys_and_transaction_round_trip() -> None:
    command = parse_command(K, b'{"keys": ["voice.primary", "budget"], "transaction": "t-2"}')
    assert command == ConfigReset(keys=("voice.primary", "budget"), transaction="t-2")
    assert parse_command(K, command.to_payload()) == command


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ("voice", ErrorCode.UNKNOWN_VALUE, "config/reset: expected an empty payload, 'all'"),
        ('{"keys": []}', ErrorCode.INVALID_VALUE, "config/reset: keys: "),
        ('{"keys": "voice"}', ErrorCode.WRONG_TYPE, "config/reset: keys: "),
        ('{"keys": [""]}', ErrorCode.INVALID_VALUE, "config/reset: keys.0: "),
        ('{"key": ["voice"]}', ErrorCode.UNKNOWN_FIELD, "config/reset: unknown field 'key'"),
        ("{bad", ErrorCode.MALFORMED_JSON, "config/reset: malformed JSON"),
    ],
)
def test_malformed_payloads_are_refused(body: str, code: ErrorCode, message: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(K, body.encode())
    assert info.value.code is code, info.value.message
    assert info.value.message.startswith(message), info.value.message


async def test_reset_over_the_router_answers_with_the_transaction_and_announces(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    await rig.send("voice/set", "marin")
    await rig.send("model_selection/set", "new")
    dispatch = await rig.send("config/reset", '{"keys": ["voice.primary"], "transaction": 9}')
    assert topics_of(dispatch) == ["response"]
    assert payload(dispatch, "response") == {
        "topic": "edge_voice/kitchen/config/reset",
        "status": "ok",
        "transaction": 9,
        "ts": payload(dispatch, "response")["ts"],
    }
    assert rig.changes[-1].source == "mqtt:config/reset"
    assert rig.changes[-1].diff == {"voice.primary": ("marin", "cedar")}
    assert payload(rig.retained.after_change(), "config")["voice"]["primary"] == "cedar"
    await rig.send("config/reset", "")
    assert rig.store.runtime_overrides == {}
    assert rig.store.effective.openai.model_selection == "auto"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('{"keys": ["voice.primry"], "transaction": 4}', "unknown_field"),
        ("everything", "unknown_value"),
    ],
)
async def test_a_bad_reset_is_refused_and_changes_nothing(
    tmp_path: Path, body: str, code: str
) -> None:
    rig = Rig(tmp_path)
    await rig.send("voice/set", "marin")
    version = rig.store.version
    dispatch = await rig.send("config/reset", body)
    assert topics_of(dispatch) == ["response", "event/error"]
    assert payload(dispatch, "event/error")["code"] == code
    assert payload(dispatch, "response")["status"] == "error"
    if code == "unknown_field":
        assert payload(dispatch, "response")["transaction"] == 4
        assert "'voice.primry' is not a config key" in payload(dispatch, "response")["error"]
    assert rig.store.version == version and rig.store.effective.voice.primary == "marin"


async def test_a_retained_reset_is_ignored(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    await rig.send("voice/set", "marin")
    dispatch = await rig.send("config/reset", "", retained=True)
    assert payload(dispatch, "event/error")["code"] == "retained_command"
    assert rig.store.effective.voice.primary == "marin"


def test_the_ha_button_sends_all_to_config_reset() -> None:
    cfg = validate_config({"device_id": "kitchen"})
    topic = "homeassistant/button/edge_voice_kitchen/reset_overrides/config"
    button = discovery_configs(cfg)[topic]
    assert button["name"] == "Reset runtime overrides"
    assert button["command_topic"] == Topics.for_config(cfg).command(K)
    assert parse_command(K, button["payload_press"].encode()) == ConfigReset()
    assert button["retain"] is False and button["unique_id"] == "edge_voice_kitchen_reset_overrides"
