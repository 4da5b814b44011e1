"""Parse incoming MQTT payloads into typed commands, or reject them with a CommandError."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, Literal, TypeVar, cast

from pydantic import BaseModel, JsonValue, ValidationError

from edge_voice.config.rules import locked_paths_in
from edge_voice.config.schema import EdgeVoiceConfig, ToolConfig
from edge_voice.models.catalog import ModelCatalog
from edge_voice.mqtt.catalog_checks import check_catalog
from edge_voice.mqtt.commands import (
    ArbitrationClaim,
    BaseCommand,
    Command,
    CommandError,
    ConfigReset,
    ConfigRollback,
    ConfigSet,
    ConversationStart,
    ConversationStop,
    ErrorCode,
    FunctionCallResult,
    MemoryClear,
    ModelSelectionSet,
    ModelSet,
    Say,
    ToolDeclaration,
    ToolRemoval,
    ToolScope,
    VoiceSet,
    WakewordRefractorySet,
    WakewordThresholdSet,
    dumps,
)
from edge_voice.mqtt.topics import CommandKind, Route

#: The default of `mqtt.max_payload_bytes`; the bridge passes the configured value.
DEFAULT_MAX_PAYLOAD: Final = 65536
#: Deeper JSON is refused: nothing in the contract nests that far, and it bounds recursion.
MAX_JSON_DEPTH: Final = 32

_PLAIN_FIELD: Final[dict[CommandKind, str]] = {
    CommandKind.MODEL_SET: "model",
    CommandKind.MODEL_SELECTION_SET: "model_selection",
    CommandKind.VOICE_SET: "voice",
    CommandKind.CONFIG_ROLLBACK: "target",
}
_MODELS: Final[dict[CommandKind, type[BaseCommand]]] = {
    CommandKind.MODEL_SET: ModelSet,
    CommandKind.MODEL_SELECTION_SET: ModelSelectionSet,
    CommandKind.VOICE_SET: VoiceSet,
    CommandKind.CONFIG_ROLLBACK: ConfigRollback,
    CommandKind.CONFIG_RESET: ConfigReset,
    CommandKind.FUNCTION_CALL_RESULT: FunctionCallResult,
    CommandKind.CONVERSATION_START: ConversationStart,
    CommandKind.CONVERSATION_STOP: ConversationStop,
    CommandKind.SAY: Say,
    CommandKind.MEMORY_CLEAR: MemoryClear,
    CommandKind.WAKEWORD_THRESHOLD: WakewordThresholdSet,
    CommandKind.WAKEWORD_REFRACTORY: WakewordRefractorySet,
}
#: The setting each wake word command sets (the level of its topic).
_WAKEWORD_SETTING: Final = {
    CommandKind.WAKEWORD_THRESHOLD: "threshold",
    CommandKind.WAKEWORD_REFRACTORY: "refractory_s",
}
#: Plain words accepted on the conversation topics (what the HA button sends).
_CONVERSATION_WORDS: Final = {
    CommandKind.CONVERSATION_START: "start",
    CommandKind.CONVERSATION_STOP: "stop",
    CommandKind.MEMORY_CLEAR: "clear",
}


def parse_command(
    route: Route | CommandKind,
    payload: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_PAYLOAD,
    catalog: ModelCatalog | None = None,
) -> Command:
    """Parse the payload of any command topic; CommandError (with transaction) if invalid."""
    route = route if isinstance(route, Route) else Route(route)
    kind = route.kind
    if kind in (CommandKind.TOOL, CommandKind.SHARED_TOOL):
        shared = kind is CommandKind.SHARED_TOOL
        return parse_tool(route.name or "", payload, shared=shared, max_bytes=max_bytes)
    what = kind.value
    if kind in _WAKEWORD_SETTING:
        what = f"wakeword/{route.name}/{_WAKEWORD_SETTING[kind]}/set"
    text = _decode(payload, max_bytes, what)
    if kind is CommandKind.CONFIG_SET:
        return _config_set(text, what)
    data = _fields(kind, route.name, text, what)
    command = cast(Command, _validate(_MODELS[kind], data, what))
    if catalog is not None:
        check_catalog(command, catalog, what)
    return command


def _fields(kind: CommandKind, name: str | None, text: str, what: str) -> dict[str, JsonValue]:
    """The fields of a request's payload, by the forms its topic accepts."""
    if kind in _WAKEWORD_SETTING:
        return {**_number(text, what), "wakeword": name or ""}
    if kind in _CONVERSATION_WORDS:
        return _conversation(text, _CONVERSATION_WORDS[kind], what)
    if kind is CommandKind.FUNCTION_CALL_RESULT:
        return _function_result(_object(text, what), what)
    if kind is CommandKind.SAY:  # plain text (what HA's notify sends), or a JSON object
        plain: dict[str, JsonValue] = {"text": text} if text.strip() else {}  # empty: missing
        return _object(text, what) if text.lstrip().startswith("{") else plain
    if kind is CommandKind.CONFIG_RESET:
        return _config_reset(text, what)
    if kind in _PLAIN_FIELD:
        return _plain_or_object(text, _PLAIN_FIELD[kind], what)
    raise ValueError(f"{kind.name} is not a command; use its own parser")


def parse_tool(
    name: str, payload: bytes, *, shared: bool = False, max_bytes: int = DEFAULT_MAX_PAYLOAD
) -> ToolDeclaration | ToolRemoval:
    """A tool declaration (or removal, for an empty payload) published on a tools topic."""
    scope: ToolScope = "shared" if shared else "device"
    what = f"tools/{name}"
    text = _decode(payload, max_bytes, what)
    data = _object(text, what) if text.strip() else {}
    tx = data.get("transaction")
    try:
        ToolConfig.model_validate({"name": name})
    except ValidationError:
        raise CommandError(
            ErrorCode.INVALID_VALUE,
            f"{what}: a tool name is 1-64 characters of letters, digits, '_' or '-'",
            tx,
        ) from None
    if not text.strip():
        return ToolRemoval(name=name, scope=scope)
    known = {"description", "parameters", "transaction"}
    _reject_unknown(data, known, what, tx)
    try:
        ToolConfig.model_validate(
            {k: v for k, v in data.items() if k != "transaction"} | {"name": name}
        )
    except ValidationError as exc:
        raise _error_from(exc, what, tx, known) from None
    return _validate(ToolDeclaration, {**data, "name": name, "scope": scope}, what)


def parse_arbitration(payload: bytes, *, max_bytes: int = DEFAULT_MAX_PAYLOAD) -> ArbitrationClaim:
    """Another device's (or our echoed) wake word claim."""
    what = "arbitration"
    data = _object(_decode(payload, max_bytes, what), what)
    try:
        return ArbitrationClaim.model_validate(data)
    except ValidationError as exc:
        raise _error_from(exc, what, None, set(ArbitrationClaim.model_fields)) from None


def parse_ha_status(payload: bytes) -> Literal["online", "offline"] | None:
    """Home Assistant's birth (`online`) or will (`offline`); None for anything else."""
    word = payload.strip().lower()
    if word == b"online":
        return "online"
    return "offline" if word == b"offline" else None


def extract_transaction(payload: bytes, max_bytes: int = DEFAULT_MAX_PAYLOAD) -> JsonValue:
    """The `transaction` of a JSON-object payload, even if the rest is invalid; never raises."""
    if len(payload) > max_bytes:
        return None
    try:
        data = _loads(payload.decode("utf-8"), "")
    except UnicodeDecodeError:
        return None
    except CommandError as exc:  # too deep: _loads still found the transaction
        return exc.transaction
    return data.get("transaction") if isinstance(data, dict) else None


def _decode(payload: bytes, max_bytes: int, what: str) -> str:
    if len(payload) > max_bytes:
        raise CommandError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"{what}: the payload is {len(payload)} bytes; the limit is {max_bytes} "
            "(mqtt.max_payload_bytes)",
        )
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(
            ErrorCode.NOT_UTF8, f"{what}: the payload is not UTF-8 (bad byte at offset {exc.start})"
        ) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _loads(text: str, what: str) -> JsonValue:
    try:
        value: JsonValue = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise CommandError(
            ErrorCode.MALFORMED_JSON,
            f"{what}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
        ) from None
    except (ValueError, RecursionError) as exc:  # NaN/Infinity, 4300+ digit ints, deep nesting
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        if "digits" in reason:  # CPython's int limit message talks about sys.* knobs
            reason = "a number has too many digits"
        raise CommandError(ErrorCode.MALFORMED_JSON, f"{what}: malformed JSON: {reason}") from None
    if _too_deep(value):
        tx = value.get("transaction") if isinstance(value, dict) else None
        raise CommandError(
            ErrorCode.INVALID_VALUE, f"{what}: JSON nested deeper than {MAX_JSON_DEPTH} levels", tx
        )
    return value


def _too_deep(value: JsonValue) -> bool:
    stack: list[tuple[JsonValue, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_JSON_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def _object(text: str, what: str) -> dict[str, JsonValue]:
    value = _loads(text, what)
    if not isinstance(value, dict):
        raise CommandError(
            ErrorCode.NOT_AN_OBJECT, f"{what}: expected a JSON object, got {_json_type(value)}"
        )
    return value


def _json_type(value: JsonValue) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _plain_or_object(text: str, field: str, what: str) -> dict[str, JsonValue]:
    """A plain value (`gpt-realtime`), a JSON string, or a JSON object with `field`."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return _object(stripped, what)
    if stripped.startswith(("[", '"')):
        value = _loads(stripped, what)
        if not isinstance(value, str):
            raise CommandError(
                ErrorCode.NOT_AN_OBJECT,
                f"{what}: expected a plain value or a JSON object, got {_json_type(value)}",
            )
        stripped = value.strip()
    if not stripped:
        if field == "target":  # an empty rollback means "last known good"
            return {}
        raise CommandError(ErrorCode.MISSING_FIELD, f"{what}: the payload is empty; send a {field}")
    return {field: stripped}


def _number(text: str, what: str) -> dict[str, JsonValue]:
    """A plain number (what HA's `number` entity sends), or `{"value": n, "transaction": …}`."""
    stripped = text.strip()
    if stripped.startswith("{"):
        data = _object(stripped, what)
        _reject_unknown(data, {"value", "transaction"}, what, data.get("transaction"))
        return data
    if not stripped:
        raise CommandError(ErrorCode.MISSING_FIELD, f"{what}: the payload is empty; send a number")
    value = _loads(stripped, what) if stripped[0] in "-0123456789" else stripped
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(
            ErrorCode.WRONG_TYPE, f"{what}: expected a number, got {stripped[:40]!r}"
        )
    return {"value": value}


def _conversation(text: str, word: str, what: str) -> dict[str, JsonValue]:
    stripped = text.strip()
    if not stripped or stripped.lower() == word:
        return {}
    if stripped.startswith("{"):
        return _object(stripped, what)
    raise CommandError(
        ErrorCode.UNKNOWN_VALUE,
        f"{what}: expected an empty payload, '{word}' or a JSON object with a transaction",
    )


def _config_reset(text: str, what: str) -> dict[str, JsonValue]:
    """Empty, `all` or `{}`: every override; `{"keys": [...]}`: those keys."""
    stripped = text.strip()
    if not stripped or stripped.lower() == "all":
        return {}
    if stripped.startswith("{"):
        return _object(stripped, what)
    raise CommandError(
        ErrorCode.UNKNOWN_VALUE,
        f"{what}: expected an empty payload, 'all' or a JSON object such as {{\"keys\": "
        '["voice.primary"]}',
    )


def _function_result(data: dict[str, JsonValue], what: str) -> dict[str, JsonValue]:
    tx = data.get("transaction")
    _reject_unknown(data, {"call_id", "output", "error", "image", "transaction"}, what, tx)
    if ("output" in data) == ("error" in data):
        has = "both" if "output" in data else "neither"
        raise CommandError(
            ErrorCode.INVALID_VALUE if has == "both" else ErrorCode.MISSING_FIELD,
            f"{what}: exactly one of output or error is required, got {has}",
            tx,
        )
    if "output" in data and not isinstance(data["output"], str):
        # The model takes function output as text; any JSON is passed on as compact JSON.
        data = {**data, "output": dumps(data["output"]).decode()}
    return data


def _config_set(text: str, what: str) -> ConfigSet:
    data = _object(text, what)
    tx = data.pop("transaction", None)
    allowed = set(EdgeVoiceConfig.model_fields)
    _reject_unknown(data, allowed, what, tx)
    if not data:
        raise CommandError(ErrorCode.MISSING_FIELD, f"{what}: the object changes nothing", tx)
    # The settings that stay local (config.rules.RUNTIME_LOCKED): credentials, endpoints and
    # paths (a remote `base_url` plus `api_key_file` could send any local file to any server),
    # identity and the MQTT link itself.
    locked = locked_paths_in(data)
    if locked:
        raise CommandError(
            ErrorCode.FORBIDDEN,
            f"{what}: {'.'.join(locked[0])} cannot be changed over MQTT; edit the config file",
            tx,
        )
    return ConfigSet(changes=data, transaction=tx)


def _reject_unknown(data: Mapping[str, Any], known: set[str], what: str, tx: JsonValue) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise CommandError(
            ErrorCode.UNKNOWN_FIELD,
            f"{what}: unknown field {unknown[0]!r}; allowed: {', '.join(sorted(known))}",
            tx,
        )


_M = TypeVar("_M", bound=BaseModel)


def _validate(model: type[_M], data: dict[str, JsonValue], what: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _error_from(exc, what, data.get("transaction"), set(model.model_fields)) from None


def _error_from(exc: ValidationError, what: str, tx: JsonValue, known: set[str]) -> CommandError:
    errors = exc.errors(include_url=False, include_input=False)
    # A misspelt key also makes the real one "missing": name the misspelling first.
    errors.sort(key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    etype = str(first["type"])
    loc = ".".join(str(p) for p in first["loc"])
    msg = str(first["msg"]).removeprefix("Value error, ")
    msg = msg[:1].lower() + msg[1:]
    code = ErrorCode.INVALID_VALUE
    if etype == "missing":
        code = ErrorCode.MISSING_FIELD
    elif etype == "extra_forbidden":
        code = ErrorCode.UNKNOWN_FIELD
        allowed = ", ".join(sorted(known - {"name", "scope"}))
        return CommandError(code, f"{what}: unknown field {loc!r}; allowed: {allowed}", tx)
    elif etype == "literal_error":
        code = ErrorCode.UNKNOWN_VALUE
        msg = msg.replace("input should be", "allowed values:")
    elif etype.endswith(("_type", "_parsing")):
        code = ErrorCode.WRONG_TYPE
    elif etype == "string_pattern_mismatch":
        msg = "not a valid name (letters, digits and . _ : - only)"
    rest = len(errors) - 1
    more = f" (+{rest} more problem{'s' if rest > 1 else ''})" if rest else ""
    where = f"{loc}: " if loc else ""
    return CommandError(code, f"{what}: {where}{msg}{more}", tx)
