"""Command parsers: good and bad input, clear messages, transactions echoed, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest

from edge_voice.models.catalog import default_catalog
from edge_voice.mqtt.commands import (
    ArbitrationClaim,
    Command,
    CommandError,
    ConfigRollback,
    ConfigSet,
    ConversationStart,
    ConversationStop,
    ErrorCode,
    FunctionCallResult,
    ModelSelectionSet,
    ModelSet,
    ToolDeclaration,
    ToolRemoval,
    VoiceSet,
)
from edge_voice.mqtt.parsing import (
    extract_transaction,
    parse_arbitration,
    parse_command,
    parse_ha_status,
    parse_tool,
)
from edge_voice.mqtt.topics import REQUEST_KINDS, CommandKind, Route

K = CommandKind
CATALOG = default_catalog()
ALL_ROUTES = [Route(k) for k in sorted(REQUEST_KINDS)] + [
    Route(K.TOOL, "set_light"),
    Route(K.SHARED_TOOL, "read_sensor"),
]


def parse(kind: CommandKind | Route, payload: bytes | str, **kw: Any) -> Command:
    data = payload.encode() if isinstance(payload, str) else payload
    return parse_command(kind, data, catalog=CATALOG, **kw)


def error(kind: CommandKind | Route, payload: bytes | str, **kw: Any) -> CommandError:
    with pytest.raises(CommandError) as info:
        parse(kind, payload, **kw)
    return info.value


# -- good input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        (K.MODEL_SET, "gpt-realtime", ModelSet(model="gpt-realtime")),
        (K.MODEL_SET, "  gpt-realtime\n", ModelSet(model="gpt-realtime")),
        (K.MODEL_SET, '"gpt-realtime"', ModelSet(model="gpt-realtime")),
        (
            K.MODEL_SET,
            '{"model": "gpt-4o-realtime-preview", "transaction": "t1"}',
            ModelSet(model="gpt-4o-realtime-preview", transaction="t1"),
        ),
        (K.MODEL_SELECTION_SET, "legacy", ModelSelectionSet(model_selection="legacy")),
        (K.MODEL_SELECTION_SET, "NEW", ModelSelectionSet(model_selection="new")),
        (
            K.MODEL_SELECTION_SET,
            '{"model_selection": "auto", "transaction": 3}',
            ModelSelectionSet(model_selection="auto", transaction=3),
        ),
        (K.VOICE_SET, "marin", VoiceSet(voice="marin")),
        (K.VOICE_SET, "auto", VoiceSet(voice="auto")),
        (
            K.VOICE_SET,
            '{"voice": "ash", "transaction": [1]}',
            VoiceSet(voice="ash", transaction=[1]),
        ),
        (
            K.CONFIG_SET,
            '{"voice": {"primary": "marin"}, "budget": {"daily_usd": null}, "transaction": "x"}',
            ConfigSet(
                changes={"voice": {"primary": "marin"}, "budget": {"daily_usd": None}},
                transaction="x",
            ),
        ),
        (K.CONFIG_ROLLBACK, "", ConfigRollback(target="last_good")),
        (K.CONFIG_ROLLBACK, "last_good", ConfigRollback(target="last_good")),
        (K.CONFIG_ROLLBACK, "legacy", ConfigRollback(target="legacy")),
        (K.CONFIG_ROLLBACK, "{}", ConfigRollback(target="last_good")),
        (
            K.CONFIG_ROLLBACK,
            '{"target": "legacy", "transaction": {"id": 9}}',
            ConfigRollback(target="legacy", transaction={"id": 9}),
        ),
        (
            K.FUNCTION_CALL_RESULT,
            '{"call_id": "c1", "output": "done"}',
            FunctionCallResult(call_id="c1", output="done"),
        ),
        (
            K.FUNCTION_CALL_RESULT,
            '{"call_id": "c1", "output": {"on": true, "room": "küche"}}',
            FunctionCallResult(call_id="c1", output='{"on":true,"room":"küche"}'),
        ),
        (
            K.FUNCTION_CALL_RESULT,
            '{"call_id": "c1", "output": null}',
            FunctionCallResult(call_id="c1", output="null"),
        ),
        (
            K.FUNCTION_CALL_RESULT,
            '{"call_id": "c1", "error": "no such light", "transaction": 1}',
            FunctionCallResult(call_id="c1", error="no such light", transaction=1),
        ),
        (K.CONVERSATION_START, "", ConversationStart()),
        (K.CONVERSATION_START, "start", ConversationStart()),
        (K.CONVERSATION_START, '{"transaction": "s"}', ConversationStart(transaction="s")),
        (K.CONVERSATION_STOP, "stop", ConversationStop()),
        (K.CONVERSATION_STOP, "", ConversationStop()),
    ],
)
def test_good_commands(kind: CommandKind, payload: str, expected: Command) -> None:
    assert parse(kind, payload) == expected


def test_tool_declaration_and_removal() -> None:
    payload = {
        "description": "Turn a light on or off.",
        "parameters": {
            "type": "object",
            "properties": {"room": {"type": "string", "default": None}},
        },
    }
    decl = parse(Route(K.TOOL, "set_light"), json.dumps(payload))
    assert decl == ToolDeclaration(name="set_light", scope="device", **payload)
    shared = parse(Route(K.SHARED_TOOL, "set_light"), json.dumps(payload))
    assert isinstance(shared, ToolDeclaration)
    assert shared.scope == "shared"
    assert parse(Route(K.TOOL, "x"), b"") == ToolRemoval(name="x", scope="device")
    assert parse_tool("x", b"{}") == ToolDeclaration(name="x", scope="device")


def test_catalog_is_optional() -> None:
    assert parse_command(K.MODEL_SET, b"my-proxy-model") == ModelSet(model="my-proxy-model")
    assert parse_command(K.VOICE_SET, b"newvoice") == VoiceSet(voice="newvoice")


# -- bad input: codes and messages ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "payload", "code", "message"),
    [
        (K.MODEL_SET, "", ErrorCode.MISSING_FIELD, "model/set: the payload is empty; send a model"),
        (
            K.MODEL_SET,
            "has space",
            ErrorCode.INVALID_VALUE,
            "model/set: model: not a valid name (letters, digits and . _ : - only)",
        ),
        (
            K.MODEL_SET,
            "[1]",
            ErrorCode.NOT_AN_OBJECT,
            "model/set: expected a plain value or a JSON object, got an array",
        ),
        (
            K.MODEL_SET,
            '{"model": 5}',
            ErrorCode.WRONG_TYPE,
            "model/set: model: input should be a valid string",
        ),
        (
            K.MODEL_SET,
            '{"mdl": "gpt-realtime"}',
            ErrorCode.UNKNOWN_FIELD,
            "model/set: unknown field 'mdl'; allowed: model, transaction",
        ),
        (
            K.MODEL_SET,
            "{bad",
            ErrorCode.MALFORMED_JSON,
            "model/set: malformed JSON at line 1, column 2: "
            "Expecting property name enclosed in double quotes",
        ),
        (
            K.MODEL_SET,
            '{"model": NaN}',
            ErrorCode.MALFORMED_JSON,
            "model/set: malformed JSON: NaN is not valid JSON",
        ),
        (
            K.MODEL_SELECTION_SET,
            "fast",
            ErrorCode.UNKNOWN_VALUE,
            "model_selection/set: model_selection: allowed values: 'auto', 'new' or 'legacy'",
        ),
        (
            K.CONFIG_ROLLBACK,
            "yesterday",
            ErrorCode.UNKNOWN_VALUE,
            "config/rollback: target: allowed values: 'last_good' or 'legacy'",
        ),
        (
            K.CONFIG_SET,
            '"voice"',
            ErrorCode.NOT_AN_OBJECT,
            "config/set: expected a JSON object, got a string",
        ),
        (
            K.CONFIG_SET,
            "voice: marin",
            ErrorCode.MALFORMED_JSON,
            "config/set: malformed JSON at line 1, column 1: Expecting value",
        ),
        (K.CONFIG_SET, "{}", ErrorCode.MISSING_FIELD, "config/set: the object changes nothing"),
        (
            K.CONFIG_SET,
            '{"openai": {"base_url": "wss://elsewhere"}}',
            ErrorCode.FORBIDDEN,
            "config/set: openai.base_url cannot be changed over MQTT; edit the config file",
        ),
        (
            K.CONFIG_SET,
            '{"mqtt": {"host": "x"}}',
            ErrorCode.FORBIDDEN,
            "config/set: mqtt cannot be changed over MQTT; edit the config file",
        ),
        (
            K.FUNCTION_CALL_RESULT,
            "done",
            ErrorCode.MALFORMED_JSON,
            "function_call/result: malformed JSON at line 1, column 1: Expecting value",
        ),
        (
            K.FUNCTION_CALL_RESULT,
            "[]",
            ErrorCode.NOT_AN_OBJECT,
            "function_call/result: expected a JSON object, got an array",
        ),
        (
            K.FUNCTION_CALL_RESULT,
            '{"call_id": "c", "output": 1, "error": "e"}',
            ErrorCode.INVALID_VALUE,
            "function_call/result: exactly one of output or error is required, got both",
        ),
        (
            K.FUNCTION_CALL_RESULT,
            '{"call_id": "c"}',
            ErrorCode.MISSING_FIELD,
            "function_call/result: exactly one of output or error is required, got neither",
        ),
        (
            K.FUNCTION_CALL_RESULT,
            '{"output": "x"}',
            ErrorCode.MISSING_FIELD,
            "function_call/result: call_id: field required",
        ),
        (
            K.FUNCTION_CALL_RESULT,
            '{"call_id": "c", "result": "x"}',
            ErrorCode.UNKNOWN_FIELD,
            "function_call/result: unknown field 'result'; allowed: call_id, error, image, output, "
            "transaction",
        ),
        (
            K.FUNCTION_CALL_RESULT,
            '{"call_id": 7, "output": "x"}',
            ErrorCode.WRONG_TYPE,
            "function_call/result: call_id: input should be a valid string",
        ),
        (
            K.CONVERSATION_START,
            "go",
            ErrorCode.UNKNOWN_VALUE,
            "conversation/start: expected an empty payload, 'start' or a JSON object "
            "with a transaction",
        ),
        (
            K.CONVERSATION_STOP,
            '{"now": true}',
            ErrorCode.UNKNOWN_FIELD,
            "conversation/stop: unknown field 'now'; allowed: transaction",
        ),
    ],
)
def test_bad_commands(kind: CommandKind, payload: str, code: ErrorCode, message: str) -> None:
    exc = error(kind, payload)
    assert (exc.code, exc.message) == (code, message)
    assert str(exc) == message


def test_unknown_model_and_voice_list_the_allowed_values() -> None:
    exc = error(K.MODEL_SET, '{"model": "gpt-5-realtime", "transaction": 7}')
    assert exc.code is ErrorCode.UNKNOWN_VALUE
    assert exc.message.startswith("model/set: unknown model 'gpt-5-realtime'; known: gpt-realtime")
    assert "gpt-4o-realtime-preview" in exc.message
    assert exc.transaction == 7
    exc = error(K.VOICE_SET, "robot")
    assert exc.message == (
        "voice/set: unknown voice 'robot'; known: auto, alloy, ash, ballad, coral, echo, sage, "
        "shimmer, verse, marin, cedar"
    )


def test_config_set_unknown_section_lists_the_sections() -> None:
    exc = error(K.CONFIG_SET, '{"voices": {}, "transaction": "t"}')
    assert exc.code is ErrorCode.UNKNOWN_FIELD
    assert exc.message == (
        "config/set: unknown field 'voices'; allowed: audio, budget, conversation, device_id, "
        "log_level, mcp_bridge, memory, models, mqtt, openai, state_dir, tools, voice, wakeword"
    )
    assert exc.transaction == "t"


@pytest.mark.parametrize(
    "payload",
    [
        '{"openai": {"api_key": "sk-x"}}',
        '{"openai": {"api_key_file": "/etc/shadow"}}',
        '{"state_dir": "/tmp"}',
        '{"device_id": "other"}',
        '{"audio": {"sink": "wav:/etc/passwd"}}',
    ],
)
def test_config_set_refuses_local_only_settings(payload: str) -> None:
    assert error(K.CONFIG_SET, payload).code is ErrorCode.FORBIDDEN


def test_config_set_allows_other_openai_keys() -> None:
    cmd = parse(K.CONFIG_SET, '{"openai": {"model_selection": "new"}}')
    assert cmd == ConfigSet(changes={"openai": {"model_selection": "new"}})


def test_size_encoding_and_depth_limits() -> None:
    exc = error(K.MODEL_SET, b"x" * 1025, max_bytes=1024)
    assert exc.code is ErrorCode.PAYLOAD_TOO_LARGE
    assert exc.message == (
        "model/set: the payload is 1025 bytes; the limit is 1024 (mqtt.max_payload_bytes)"
    )
    exc = error(K.VOICE_SET, b"caf\xe9")
    assert (exc.code, exc.message) == (
        ErrorCode.NOT_UTF8,
        "voice/set: the payload is not UTF-8 (bad byte at offset 3)",
    )
    deep = '{"transaction": "d", "model": ' + "[" * 40 + "]" * 40 + "}"
    exc = error(K.MODEL_SET, deep)
    assert exc.code is ErrorCode.INVALID_VALUE
    assert exc.message == "model/set: JSON nested deeper than 32 levels"
    assert exc.transaction == "d"
    exc = error(K.CONFIG_SET, "[" * 60000)
    assert exc.code is ErrorCode.MALFORMED_JSON
    exc = error(K.MODEL_SET, '{"model": ' + "9" * 5000 + "}")
    assert exc.code is ErrorCode.MALFORMED_JSON


@pytest.mark.parametrize(
    ("name", "payload", "code", "message"),
    [
        (
            "bad name",
            "",
            ErrorCode.INVALID_VALUE,
            "tools/bad name: a tool name is 1-64 characters of letters, digits, '_' or '-'",
        ),
        (
            "t",
            '{"parameters": {"type": "array"}}',
            ErrorCode.INVALID_VALUE,
            'tools/t: parameters: must be a JSON schema with "type": "object"',
        ),
        (
            "t",
            '{"parameters": []}',
            ErrorCode.WRONG_TYPE,
            "tools/t: parameters: input should be a valid dictionary",
        ),
        (
            "t",
            '{"description": 3}',
            ErrorCode.WRONG_TYPE,
            "tools/t: description: input should be a valid string",
        ),
        (
            "t",
            '{"name": "t", "description": "x"}',
            ErrorCode.UNKNOWN_FIELD,
            "tools/t: unknown field 'name'; allowed: description, parameters, transaction",
        ),
        ("t", "[]", ErrorCode.NOT_AN_OBJECT, "tools/t: expected a JSON object, got an array"),
    ],
)
def test_bad_tools(name: str, payload: str, code: ErrorCode, message: str) -> None:
    exc = error(Route(K.TOOL, name), payload)
    assert (exc.code, exc.message) == (code, message)


def test_arbitration_and_ha_status() -> None:
    claim = parse_arbitration(b'{"device_id": "hall", "score": 0.8, "ts": "2026-11-24T10:00:00Z"}')
    assert claim == ArbitrationClaim(device_id="hall", score=0.8, ts="2026-11-24T10:00:00Z")
    with pytest.raises(CommandError, match="arbitration: score: input should be a valid number"):
        parse_arbitration(b'{"device_id": "hall", "score": "hi", "ts": "2026-11-24T10:00:00Z"}')
    assert parse_ha_status(b"online") == "online"
    assert parse_ha_status(b"offline\n") == "offline"
    assert parse_ha_status(b"restarting") is None


def test_not_a_command_kind() -> None:
    with pytest.raises(ValueError, match="not a command"):
        parse_command(K.ARBITRATION, b"{}")


def test_extract_transaction() -> None:
    assert extract_transaction(b'{"model": 5, "transaction": "t"}') == "t"
    assert extract_transaction(b'{"transaction": {"a": [1]}}') == {"a": [1]}
    assert extract_transaction(b"gpt-realtime") is None
    assert extract_transaction(b'["transaction"]') is None
    assert extract_transaction(b"\xff{") is None
    assert extract_transaction(b'{"transaction": 1}', max_bytes=5) is None
    deep = b'{"transaction": "d", "x": ' + b"[" * 40 + b"]" * 40 + b"}"
    assert extract_transaction(deep) == "d"
