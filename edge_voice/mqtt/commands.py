"""Typed incoming MQTT commands, their error type and canonical payloads (parsing: parsing.py)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from edge_voice.config.rules import RollbackTarget
from edge_voice.models.fallback import ModelSelection
from edge_voice.mqtt.topics import CommandKind

ToolScope = Literal["device", "shared"]
ModelName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
VoiceName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
DottedKey = Annotated[str, Field(min_length=1, max_length=256)]
CallId = Annotated[str, Field(min_length=1, max_length=256)]


def _output_text(value: Any) -> Any:
    # The model takes function output as text; any other JSON is passed on as compact JSON.
    return value if value is None or isinstance(value, str) else dumps(value).decode()


#: A function call's output: any JSON value (documented so), held as the text the model gets.
FunctionOutput = Annotated[
    str | None,
    BeforeValidator(_output_text),
    WithJsonSchema(
        {
            "description": "any JSON value: a string goes to the model as is, anything else as "
            "compact JSON"
        }
    ),
]


class ErrorCode(StrEnum):
    """Machine-readable reasons in `response.error` codes and `event/error`."""

    PAYLOAD_TOO_LARGE = "payload_too_large"
    NOT_UTF8 = "not_utf8"
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    WRONG_TYPE = "wrong_type"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_VALUE = "unknown_value"
    INVALID_VALUE = "invalid_value"
    FORBIDDEN = "forbidden"
    UNKNOWN_COMMAND = "unknown_command"
    RETAINED_COMMAND = "retained_command"
    UNKNOWN_CALL = "unknown_call"
    QUEUE_FULL = "queue_full"


class CommandError(Exception):
    """A payload that cannot be accepted: a code, a human message and the echoed transaction."""

    def __init__(self, code: ErrorCode, message: str, transaction: JsonValue = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.transaction = transaction


class BaseCommand(BaseModel):
    """Base of every command: immutable, strict about unknown fields, may carry a transaction."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[CommandKind]

    transaction: JsonValue = None

    def to_payload(self) -> bytes:
        """The canonical JSON payload that parses back to this command."""
        return dumps(self._wire())

    def _wire(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        if "transaction" in data:  # last, as people write it
            data["transaction"] = data.pop("transaction")
        return data


class ModelSet(BaseCommand):
    """`<base>/model/set`: use this model."""

    kind: ClassVar[CommandKind] = CommandKind.MODEL_SET
    model: ModelName


class ModelSelectionSet(BaseCommand):
    """`<base>/model_selection/set`: auto, new or legacy."""

    kind: ClassVar[CommandKind] = CommandKind.MODEL_SELECTION_SET
    model_selection: ModelSelection

    @field_validator("model_selection", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class VoiceSet(BaseCommand):
    """`<base>/voice/set`: prefer this voice (or `auto`)."""

    kind: ClassVar[CommandKind] = CommandKind.VOICE_SET
    voice: VoiceName


class ConfigSet(BaseCommand):
    """`<base>/config/set`: a partial config, deep-merged and validated as a whole later."""

    kind: ClassVar[CommandKind] = CommandKind.CONFIG_SET
    changes: dict[str, JsonValue]

    def _wire(self) -> dict[str, Any]:
        tx = {} if self.transaction is None else {"transaction": self.transaction}
        return {**self.changes, **tx}


class ConfigRollback(BaseCommand):
    """`<base>/config/rollback`: back to the last known good config or the legacy profile."""

    kind: ClassVar[CommandKind] = CommandKind.CONFIG_ROLLBACK
    target: RollbackTarget = "last_good"

    @field_validator("target", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class ConfigReset(BaseCommand):
    """`<base>/config/reset`: drop runtime overrides (all, or those at or below `keys`)."""

    kind: ClassVar[CommandKind] = CommandKind.CONFIG_RESET
    keys: Annotated[tuple[DottedKey, ...], Field(min_length=1)] | None = None


class FunctionCallImage(BaseModel):
    """An image that comes with a function result (e.g. a camera snapshot), base64-encoded.

    Checked when the result is delivered (PNG/JPEG by magic bytes, `conversation.max_image_bytes`):
    a bad image is answered as an error on `response` and the model gets an error result.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    mime: str = Field(description="image/png or image/jpeg")
    data_base64: str = Field(min_length=1, description="the image file, base64 (RFC 4648)")


class FunctionCallResult(BaseCommand):
    """`<base>/function_call/result`: the answer to a function call, as text for the model."""

    kind: ClassVar[CommandKind] = CommandKind.FUNCTION_CALL_RESULT
    call_id: CallId
    output: FunctionOutput = None
    error: Annotated[str, Field(min_length=1)] | None = None
    #: Shown to models with image input, after the output; others are told it could not be shown.
    image: FunctionCallImage | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> FunctionCallResult:
        if (self.output is None) == (self.error is None):
            raise ValueError("exactly one of output or error is required")
        if self.image is not None and self.error is not None:
            raise ValueError("an image comes with an output, not with an error")
        return self


class WakewordSetting(BaseCommand):
    """`<base>/wakeword/<name>/<setting>/set`: one wake word's setting (a plain number, as HA's
    `number` sends, or `{"value": …, "transaction": …}`); persisted as a runtime override of
    `wakeword.words.<name>.<setting>`."""

    setting: ClassVar[str]
    #: The detection name, from the topic.
    wakeword: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    value: Annotated[float, Field(allow_inf_nan=False)]


class WakewordThresholdSet(WakewordSetting):
    """`<base>/wakeword/<name>/threshold/set`: the detection threshold (or microWakeWord's
    probability cutoff), above 0 and below 1."""

    kind: ClassVar[CommandKind] = CommandKind.WAKEWORD_THRESHOLD
    setting: ClassVar[str] = "threshold"
    value: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]


class WakewordRefractorySet(WakewordSetting):
    """`<base>/wakeword/<name>/refractory_s/set`: seconds to ignore the word after a detection,
    0 to 60."""

    kind: ClassVar[CommandKind] = CommandKind.WAKEWORD_REFRACTORY
    setting: ClassVar[str] = "refractory_s"
    value: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)]


class ConversationStart(BaseCommand):
    """`<base>/conversation/start`: start listening without the wake word."""

    kind: ClassVar[CommandKind] = CommandKind.CONVERSATION_START


class ConversationStop(BaseCommand):
    """`<base>/conversation/stop`: end the conversation now."""

    kind: ClassVar[CommandKind] = CommandKind.CONVERSATION_STOP


class Say(BaseCommand):
    """`<base>/say`: speak `text` (an announcement, out of the conversation) once idle, in
    `voice` (default: the session's); with `start_conversation`, listen for an answer after."""

    kind: ClassVar[CommandKind] = CommandKind.SAY
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    voice: VoiceName | None = None
    start_conversation: StrictBool = False


class MemoryClear(BaseCommand):
    """`<base>/memory/clear`: forget the summary kept across conversations."""

    kind: ClassVar[CommandKind] = CommandKind.MEMORY_CLEAR


def _empty_schema() -> dict[str, JsonValue]:
    return {"type": "object", "properties": {}}


class ToolPayload(BaseCommand):
    """The wire shape of a tool declaration: `{description, parameters}` (a JSON schema)."""

    kind: ClassVar[CommandKind] = CommandKind.TOOL
    description: str = ""
    parameters: dict[str, JsonValue] = Field(default_factory=_empty_schema)


class ToolDeclaration(ToolPayload):
    """A retained tool declaration from `<base>/tools/<name>` or `<base_topic>/tools/<name>`."""

    name: str
    scope: ToolScope

    def _wire(self) -> dict[str, Any]:
        return {k: v for k, v in super()._wire().items() if k not in ("name", "scope")}


class ToolRemoval(BaseCommand):
    """An empty retained payload on a tool topic: the tool is gone."""

    kind: ClassVar[CommandKind] = CommandKind.TOOL
    name: str
    scope: ToolScope

    def to_payload(self) -> bytes:
        """The empty payload."""
        return b""


class ArbitrationClaim(BaseModel):
    """`<mqtt.base_topic>/arbitration/<group>`: a device heard its wake word this well.

    `score` is the wake word's peak score, `energy_dbfs` its mean energy (dB full scale; null
    from a device that does not measure it). The nearest device wins (see `beats`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    device_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    score: Annotated[float, Field(allow_inf_nan=False)]
    energy_dbfs: Annotated[float | None, Field(allow_inf_nan=False, ge=-200, le=10)] = None
    ts: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T", description="ISO-8601 time")


Command = (
    ModelSet
    | ModelSelectionSet
    | VoiceSet
    | ConfigSet
    | ConfigRollback
    | ConfigReset
    | FunctionCallResult
    | ConversationStart
    | ConversationStop
    | Say
    | MemoryClear
    | WakewordThresholdSet
    | WakewordRefractorySet
    | ToolDeclaration
    | ToolRemoval
)


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON (no NaN: a payload must be valid JSON for every consumer)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (a client's `"\ud800"` echoed back) has no UTF-8 form: keep JSON's
        # escape for it, so the answer is still sent and says what the client sent.
        return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
