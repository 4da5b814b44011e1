"""Typed wire models of the server events, GA and beta, discriminated by `type`.

Where the two flavours send the same shape under different names, one model accepts both
names (its `type` is a Literal of both). Models ignore extra fields: the service adds fields
over time (`obfuscation`, `logprobs`...) and that must not break parsing. Fields the client
does not need are left out on purpose.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict


class WireEvent(BaseModel):
    """Base of the server wire models."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str
    event_id: str | None = None


class WireErrorDetail(BaseModel):
    """The `error` object of an error event (or of a failed transcription)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str = ""
    code: str | None = None
    message: str = ""
    param: str | None = None
    event_id: str | None = None


class SessionCreatedEvent(WireEvent):
    type: Literal["session.created"]
    session: dict[str, Any]


class SessionUpdatedEvent(WireEvent):
    type: Literal["session.updated"]
    session: dict[str, Any]


class ErrorEvent(WireEvent):
    type: Literal["error"]
    error: WireErrorDetail


class SpeechStartedEvent(WireEvent):
    type: Literal["input_audio_buffer.speech_started"]
    audio_start_ms: int
    item_id: str


class SpeechStoppedEvent(WireEvent):
    type: Literal["input_audio_buffer.speech_stopped"]
    audio_end_ms: int
    item_id: str


class InputCommittedEvent(WireEvent):
    type: Literal["input_audio_buffer.committed"]
    item_id: str
    previous_item_id: str | None = None


class InputClearedEvent(WireEvent):
    type: Literal["input_audio_buffer.cleared"]


class InputTimeoutEvent(WireEvent):
    type: Literal["input_audio_buffer.timeout_triggered"]
    item_id: str
    audio_start_ms: int = 0
    audio_end_ms: int = 0


class ItemAddedEvent(WireEvent):
    type: Literal["conversation.item.created", "conversation.item.added"]
    item: dict[str, Any]
    previous_item_id: str | None = None


class ItemDoneEvent(WireEvent):
    type: Literal["conversation.item.done"]
    item: dict[str, Any]
    previous_item_id: str | None = None


class ItemTruncatedEvent(WireEvent):
    type: Literal["conversation.item.truncated"]
    item_id: str
    content_index: int = 0
    audio_end_ms: int


class ItemDeletedEvent(WireEvent):
    type: Literal["conversation.item.deleted"]
    item_id: str


class InputTranscriptionDeltaEvent(WireEvent):
    type: Literal["conversation.item.input_audio_transcription.delta"]
    item_id: str
    delta: str = ""


class InputTranscriptionCompletedEvent(WireEvent):
    type: Literal["conversation.item.input_audio_transcription.completed"]
    item_id: str
    transcript: str
    usage: dict[str, Any] | None = None


class InputTranscriptionFailedEvent(WireEvent):
    type: Literal["conversation.item.input_audio_transcription.failed"]
    item_id: str
    error: WireErrorDetail


class ResponseCreatedEvent(WireEvent):
    type: Literal["response.created"]
    response: dict[str, Any]


class OutputItemAddedEvent(WireEvent):
    type: Literal["response.output_item.added"]
    response_id: str = ""
    item: dict[str, Any]


class OutputItemDoneEvent(WireEvent):
    type: Literal["response.output_item.done"]
    response_id: str = ""
    item: dict[str, Any]


class AudioDeltaEvent(WireEvent):
    """Documented for completeness; `protocol.normalize` decodes it on a faster path."""

    type: Literal["response.audio.delta", "response.output_audio.delta"]
    response_id: str = ""
    item_id: str = ""
    content_index: int = 0
    delta: str


class AudioDoneEvent(WireEvent):
    type: Literal["response.audio.done", "response.output_audio.done"]
    response_id: str = ""
    item_id: str = ""


class AudioTranscriptDeltaEvent(WireEvent):
    type: Literal["response.audio_transcript.delta", "response.output_audio_transcript.delta"]
    response_id: str = ""
    item_id: str = ""
    delta: str


class AudioTranscriptDoneEvent(WireEvent):
    type: Literal["response.audio_transcript.done", "response.output_audio_transcript.done"]
    response_id: str = ""
    item_id: str = ""
    transcript: str = ""


class TextDeltaEvent(WireEvent):
    type: Literal["response.text.delta", "response.output_text.delta"]
    response_id: str = ""
    item_id: str = ""
    delta: str


class TextDoneEvent(WireEvent):
    type: Literal["response.text.done", "response.output_text.done"]
    response_id: str = ""
    item_id: str = ""
    text: str = ""


class FunctionCallArgumentsDeltaEvent(WireEvent):
    type: Literal["response.function_call_arguments.delta"]
    response_id: str = ""
    item_id: str = ""
    call_id: str
    delta: str = ""


class FunctionCallArgumentsDoneEvent(WireEvent):
    type: Literal["response.function_call_arguments.done"]
    response_id: str = ""
    item_id: str = ""
    call_id: str
    name: str | None = None  # GA sends it; the beta type does not document it
    arguments: str = ""


class McpListToolsProgressEvent(WireEvent):
    """The server fetching an MCP server's tool list (the list itself is an item)."""

    type: Literal["mcp_list_tools.in_progress", "mcp_list_tools.completed", "mcp_list_tools.failed"]
    item_id: str


class McpCallProgressEvent(WireEvent):
    """The server running an MCP call (output or error arrive on the `mcp_call` item)."""

    type: Literal[
        "response.mcp_call.in_progress", "response.mcp_call.completed", "response.mcp_call.failed"
    ]
    item_id: str
    output_index: int = 0


class WireResponse(BaseModel):
    """The `response` object of response.done."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = ""
    status: str = "completed"
    status_details: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None
    output: list[dict[str, Any]] = []


class ResponseDoneEvent(WireEvent):
    type: Literal["response.done"]
    response: WireResponse


class WireRateLimit(BaseModel):
    """One entry of rate_limits.updated."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str | None = None
    limit: int | None = None
    remaining: int | None = None
    reset_seconds: float | None = None


class RateLimitsUpdatedEvent(WireEvent):
    type: Literal["rate_limits.updated"]
    rate_limits: list[WireRateLimit] = []


ServerWireEvent = (
    SessionCreatedEvent
    | SessionUpdatedEvent
    | ErrorEvent
    | SpeechStartedEvent
    | SpeechStoppedEvent
    | InputCommittedEvent
    | InputClearedEvent
    | InputTimeoutEvent
    | ItemAddedEvent
    | ItemDoneEvent
    | ItemTruncatedEvent
    | ItemDeletedEvent
    | InputTranscriptionDeltaEvent
    | InputTranscriptionCompletedEvent
    | InputTranscriptionFailedEvent
    | ResponseCreatedEvent
    | OutputItemAddedEvent
    | OutputItemDoneEvent
    | AudioDeltaEvent
    | AudioDoneEvent
    | AudioTranscriptDeltaEvent
    | AudioTranscriptDoneEvent
    | TextDeltaEvent
    | TextDoneEvent
    | FunctionCallArgumentsDeltaEvent
    | FunctionCallArgumentsDoneEvent
    | McpListToolsProgressEvent
    | McpCallProgressEvent
    | ResponseDoneEvent
    | RateLimitsUpdatedEvent
)


def _registry() -> dict[str, type[WireEvent]]:
    table: dict[str, type[WireEvent]] = {}
    for cls in get_args(ServerWireEvent):
        for name in get_args(cls.model_fields["type"].annotation):
            table[name] = cls
    return table


#: Wire type name → model; both flavours' names are keys.
SERVER_EVENT_MODELS: dict[str, type[WireEvent]] = _registry()

#: Known server events with no internal meaning yet; passed on as OtherEvent, not warned about.
PASSTHROUGH_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "conversation.created",
        "conversation.item.retrieved",
        "conversation.item.input_audio_transcription.segment",
        "transcription_session.updated",
        "response.content_part.added",
        "response.content_part.done",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
        "input_audio_buffer.dtmf_event_received",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
    }
)

#: Beta server event names → their GA names (events that kept their names are not listed).
BETA_TO_GA_EVENT_NAMES: dict[str, str] = {
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
    "response.text.delta": "response.output_text.delta",
    "response.text.done": "response.output_text.done",
    "conversation.item.created": "conversation.item.added",
}
