"""The internal event vocabulary: one set of small typed events for both wire flavours.

The GA and beta protocols name the same things differently (`response.audio.delta` vs
`response.output_audio.delta`, ...). `protocol.normalize` maps both onto these classes, so the
assistant, metrics and MQTT layers never look at wire names. `kind` is a stable short name for
logs and metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class SessionCreated:
    """The server opened the session (its default config, before our session.update)."""

    kind: ClassVar[str] = "session.created"
    session: Mapping[str, Any]
    session_id: str | None = None
    model: str | None = None
    expires_at: int | None = None


@dataclass(frozen=True, slots=True)
class SessionUpdated:
    """The server applied a session.update; `session` is the full effective config."""

    kind: ClassVar[str] = "session.updated"
    session: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Server VAD heard the user start speaking (barge-in point)."""

    kind: ClassVar[str] = "input.speech_started"
    audio_start_ms: int
    item_id: str


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """Server VAD heard the user stop speaking."""

    kind: ClassVar[str] = "input.speech_stopped"
    audio_end_ms: int
    item_id: str


@dataclass(frozen=True, slots=True)
class InputCommitted:
    """The input audio buffer became a user item."""

    kind: ClassVar[str] = "input.committed"
    item_id: str
    previous_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class InputCleared:
    """The input audio buffer was cleared."""

    kind: ClassVar[str] = "input.cleared"


@dataclass(frozen=True, slots=True)
class InputTimeout:
    """Server VAD idle timeout fired (GA `input_audio_buffer.timeout_triggered`)."""

    kind: ClassVar[str] = "input.timeout"
    item_id: str
    audio_start_ms: int
    audio_end_ms: int


@dataclass(frozen=True, slots=True)
class ItemAdded:
    """An item entered the conversation (beta `item.created`, GA `item.added`); may be partial."""

    kind: ClassVar[str] = "item.added"
    item_id: str
    item: Mapping[str, Any]
    previous_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class ItemDone:
    """A conversation item is final (GA `conversation.item.done`; beta has no equivalent)."""

    kind: ClassVar[str] = "item.done"
    item_id: str
    item: Mapping[str, Any]
    previous_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class ItemTruncated:
    """An assistant audio item was cut back to what was played."""

    kind: ClassVar[str] = "item.truncated"
    item_id: str
    content_index: int
    audio_end_ms: int


@dataclass(frozen=True, slots=True)
class ItemDeleted:
    """A conversation item was deleted."""

    kind: ClassVar[str] = "item.deleted"
    item_id: str


@dataclass(frozen=True, slots=True)
class UserTranscriptDelta:
    """Part of the input transcription of a user audio item."""

    kind: ClassVar[str] = "user_transcript.delta"
    item_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class UserTranscript:
    """The finished input transcription of a user audio item."""

    kind: ClassVar[str] = "user_transcript.done"
    item_id: str
    text: str
    usage: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class UserTranscriptFailed:
    """Input transcription failed for a user item (the session continues)."""

    kind: ClassVar[str] = "user_transcript.failed"
    item_id: str
    code: str | None
    message: str


@dataclass(frozen=True, slots=True)
class ResponseCreated:
    """The model started a response."""

    kind: ClassVar[str] = "response.created"
    response_id: str
    response: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AudioDelta:
    """A chunk of assistant audio: 24 kHz mono PCM16 little-endian, base64 already decoded."""

    kind: ClassVar[str] = "audio.delta"
    response_id: str
    item_id: str
    pcm: bytes
    content_index: int = 0


@dataclass(frozen=True, slots=True)
class AudioDone:
    """The model finished the audio of one item."""

    kind: ClassVar[str] = "audio.done"
    response_id: str
    item_id: str


@dataclass(frozen=True, slots=True)
class TranscriptDelta:
    """Part of the transcript of the assistant's spoken audio."""

    kind: ClassVar[str] = "transcript.delta"
    response_id: str
    item_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class TranscriptDone:
    """The full transcript of the assistant's spoken audio for one item."""

    kind: ClassVar[str] = "transcript.done"
    response_id: str
    item_id: str
    text: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    """Part of a text-modality answer."""

    kind: ClassVar[str] = "text.delta"
    response_id: str
    item_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class TextDone:
    """A finished text-modality answer for one item."""

    kind: ClassVar[str] = "text.done"
    response_id: str
    item_id: str
    text: str


@dataclass(frozen=True, slots=True)
class FunctionCallArgumentsDelta:
    """Streaming arguments of a function call (rarely needed; the request comes once done)."""

    kind: ClassVar[str] = "function_call.arguments_delta"
    response_id: str
    item_id: str
    call_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class FunctionCallRequest:
    """The model wants a function called; emitted once per call_id.

    `arguments` is the model's JSON string as sent: it can be invalid JSON when the response
    was cut off, so parse it where the call is executed.
    """

    kind: ClassVar[str] = "function_call.request"
    call_id: str
    name: str
    arguments: str
    item_id: str
    response_id: str


@dataclass(frozen=True, slots=True)
class McpListToolsProgress:
    """The server is fetching, or has fetched or failed to fetch, an MCP server's tools."""

    kind: ClassVar[str] = "mcp.list_tools"
    item_id: str
    status: str  # in_progress | completed | failed
    #: From the `mcp_list_tools` item announced before; "" when none was seen.
    server_label: str = ""


@dataclass(frozen=True, slots=True)
class McpToolsListed:
    """The tools an MCP server offers the model (the final `mcp_list_tools` item)."""

    kind: ClassVar[str] = "mcp.tools_listed"
    item_id: str
    server_label: str
    tools: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class McpCallProgress:
    """The server started, finished or failed an MCP call (`response.mcp_call.*`)."""

    kind: ClassVar[str] = "mcp.call_progress"
    item_id: str
    status: str  # in_progress | completed | failed


@dataclass(frozen=True, slots=True)
class McpCallDone:
    """A finished MCP call the model made (the final `mcp_call` item); once per item."""

    kind: ClassVar[str] = "mcp.call_done"
    item_id: str
    server_label: str
    name: str
    arguments: str
    output: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class McpApprovalRequest:
    """The model wants to call an MCP tool that needs approval; once per request id."""

    kind: ClassVar[str] = "mcp.approval_request"
    approval_request_id: str
    server_label: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class OutputItemDone:
    """An output item of a response is final (non-function items; function calls are requests)."""

    kind: ClassVar[str] = "response.output_item.done"
    response_id: str
    item: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ResponseDone:
    """A response ended: completed, cancelled, failed or incomplete, with its token usage."""

    kind: ClassVar[str] = "response.done"
    response_id: str
    status: str
    status_details: Mapping[str, Any] | None
    usage: Mapping[str, Any] | None
    output: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ServerError:
    """An `error` event. Most are recoverable: the session stays open after them."""

    kind: ClassVar[str] = "error"
    type: str
    code: str | None
    message: str
    param: str | None = None
    event_id: str | None = None  # the client event that caused it, when we sent one


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One entry of `rate_limits.updated`."""

    name: str | None
    limit: int | None
    remaining: int | None
    reset_seconds: float | None


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The server's current rate-limit budget."""

    kind: ClassVar[str] = "rate_limits"
    limits: tuple[RateLimit, ...]


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """A known wire event with no internal meaning yet (content parts, MCP progress, ...)."""

    kind: ClassVar[str] = "other"
    type: str
    data: Mapping[str, Any]


RealtimeEvent = (
    SessionCreated
    | SessionUpdated
    | SpeechStarted
    | SpeechStopped
    | InputCommitted
    | InputCleared
    | InputTimeout
    | ItemAdded
    | ItemDone
    | ItemTruncated
    | ItemDeleted
    | UserTranscriptDelta
    | UserTranscript
    | UserTranscriptFailed
    | ResponseCreated
    | AudioDelta
    | AudioDone
    | TranscriptDelta
    | TranscriptDone
    | TextDelta
    | TextDone
    | FunctionCallArgumentsDelta
    | FunctionCallRequest
    | McpListToolsProgress
    | McpToolsListed
    | McpCallProgress
    | McpCallDone
    | McpApprovalRequest
    | OutputItemDone
    | ResponseDone
    | ServerError
    | RateLimits
    | OtherEvent
)
