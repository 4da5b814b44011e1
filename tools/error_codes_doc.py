"""The `event/error` code vocabulary for docs/MQTT_API.md, enumerated from the code."""

from __future__ import annotations

from typing import Final

import edge_voice.service  # noqa: F401  (every module, so every error class is defined)
from edge_voice.conversation.error_codes import DESCRIPTIONS as CONVERSATION_DESCRIPTIONS
from edge_voice.conversation.error_codes import ConversationErrorCode
from edge_voice.mqtt.command_router import INTERNAL_ERROR
from edge_voice.mqtt.commands import ErrorCode
from edge_voice.realtime.error_codes import realtime_error_codes

ERROR_DESCRIPTIONS: Final[dict[ErrorCode, str]] = {
    ErrorCode.PAYLOAD_TOO_LARGE: "larger than `mqtt.max_payload_bytes`",
    ErrorCode.NOT_UTF8: "the bytes are not UTF-8",
    ErrorCode.MALFORMED_JSON: "looks like JSON but does not parse (NaN/Infinity are refused)",
    ErrorCode.NOT_AN_OBJECT: "a JSON object was required, something else came",
    ErrorCode.WRONG_TYPE: "a field has the wrong JSON type",
    ErrorCode.MISSING_FIELD: "a required field or value is absent",
    ErrorCode.UNKNOWN_FIELD: "a key the command does not have (the message lists allowed keys)",
    ErrorCode.UNKNOWN_VALUE: "not one of the allowed values (the message lists them)",
    ErrorCode.INVALID_VALUE: "right type, unacceptable value (pattern, length, nesting > 32)",
    ErrorCode.FORBIDDEN: "a local-only setting in `config/set` (credentials, paths, endpoints)",
    ErrorCode.UNKNOWN_COMMAND: "a topic under `<base>/` that is not a command",
    ErrorCode.RETAINED_COMMAND: "a retained command: ignored, answered once so the sender knows",
    ErrorCode.UNKNOWN_CALL: "a function-call result for a call that is not pending "
    "(unknown, already answered or past its deadline)",
    ErrorCode.QUEUE_FULL: "`say` while 10 announcements are already waiting to be spoken",
}
INTERNAL_DESCRIPTION: Final = "a command failed inside the device (a bug): see the device log"


def published_codes() -> dict[str, tuple[str, str]]:
    """Every code the device itself publishes in `event/error`: code → (source, meaning)."""
    codes: dict[str, tuple[str, str]] = {
        code.value: ("command", ERROR_DESCRIPTIONS[code]) for code in ErrorCode
    }
    codes[INTERNAL_ERROR] = ("command", INTERNAL_DESCRIPTION)
    for conv in ConversationErrorCode:
        codes[conv.value] = ("conversation", CONVERSATION_DESCRIPTIONS[conv])
    for code, meaning in realtime_error_codes().items():
        codes.setdefault(code, ("realtime", meaning.rstrip(".")))
    return codes


def error_codes_table() -> str:
    """The `code` values of `event/error`: rejected commands, conversations, the realtime link."""
    rows = ["| code | from | meaning |", "|---|---|---|"]
    rows += [
        f"| `{code}` | {source} | {meaning} |"
        for code, (source, meaning) in published_codes().items()
    ]
    return "\n".join(rows)
