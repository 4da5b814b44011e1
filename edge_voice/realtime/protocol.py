"""Realtime wire protocol: client events, URL and headers, and server event normalization.

Session config builders live in `session_builders`. Server events of both flavours (GA
`gpt-realtime`, beta `gpt-4o-realtime-preview`) are parsed into the typed models of
`server_events` and normalized into the one internal vocabulary of `normalized`. Unknown
server events are logged once per type and skipped; malformed ones are logged and skipped:
neither ends a session.
"""

from __future__ import annotations

import binascii
import dataclasses
import json
import logging
from collections import OrderedDict
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from edge_voice.realtime import normalized as ev
from edge_voice.realtime import server_events as w
from edge_voice.realtime.mcp_items import McpItems
from edge_voice.realtime.model_spec import WireProtocol

log = logging.getLogger(__name__)

BETA_HEADER = ("OpenAI-Beta", "realtime=v1")
DEFAULT_BASE_URL = "wss://api.openai.com/v1/realtime"
_AUDIO_DELTA_TYPES = frozenset({"response.audio.delta", "response.output_audio.delta"})
_SCHEMES = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}


# --- client events ----------------------------------------------------------------------------


class ClientEvent(BaseModel):
    """A client event; `to_json` gives the compact wire form without unset optional fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    event_id: str | None = None

    def to_json(self) -> str:
        """The event as compact JSON (None-valued top-level fields left out)."""
        return self.model_dump_json(exclude_none=True)


class SessionUpdate(ClientEvent):
    """Set session config; `session` comes from `build_session_update`."""

    type: Literal["session.update"] = "session.update"
    session: dict[str, Any]


class InputAudioBufferAppend(ClientEvent):
    """Append base64 PCM16 to the input buffer (see `append_audio_json`)."""

    type: Literal["input_audio_buffer.append"] = "input_audio_buffer.append"
    audio: str


class ConversationItemCreate(ClientEvent):
    """Add an item (message, function_call_output, ...) to the conversation."""

    type: Literal["conversation.item.create"] = "conversation.item.create"
    previous_item_id: str | None = None
    item: dict[str, Any]


class ConversationItemTruncate(ClientEvent):
    """Cut an assistant audio item back to `audio_end_ms`."""

    type: Literal["conversation.item.truncate"] = "conversation.item.truncate"
    item_id: str
    content_index: int = 0
    audio_end_ms: int


class ResponseCreate(ClientEvent):
    """Start a response with the session's settings (`response`: this response's overrides)."""

    type: Literal["response.create"] = "response.create"
    response: dict[str, Any] | None = None


class ResponseCancel(ClientEvent):
    """Cancel the active (or the given) response."""

    type: Literal["response.cancel"] = "response.cancel"
    response_id: str | None = None


def append_audio_json(pcm: bytes) -> str:
    """The input_audio_buffer.append event for raw PCM16 bytes, built without a model."""
    # Hot path (50 calls/s): base64 needs no JSON escaping, so plain concatenation is exact
    # and skips validating a large string.
    audio = binascii.b2a_base64(pcm, newline=False).decode("ascii")
    return '{"type":"input_audio_buffer.append","audio":"' + audio + '"}'


def text_item(
    text: str, role: Literal["user", "assistant", "system"], protocol: WireProtocol
) -> dict[str, Any]:
    """A message item carrying text, with the content type each flavour expects for `role`."""
    if role == "assistant":
        content_type = "output_text" if protocol == "ga" else "text"
    else:
        content_type = "input_text"
    return {"type": "message", "role": role, "content": [{"type": content_type, "text": text}]}


def function_call_output_item(call_id: str, output: str) -> dict[str, Any]:
    """The item that answers a function call (the next turn still needs response.create)."""
    return {"type": "function_call_output", "call_id": call_id, "output": output}


# --- connection -------------------------------------------------------------------------------


def build_url(base_url: str, model: str) -> str:
    """`base_url` with `model=<model>` in the query (replacing any), scheme made ws/wss."""
    parts = urlsplit(base_url)
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"not a websocket URL: {base_url!r} (use ws://, wss://, http(s)://)")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "model"]
    query.append(("model", model))
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), ""))


def build_headers(api_key: str | None, protocol: WireProtocol) -> dict[str, str]:
    """Upgrade request headers: bearer auth if a key is given, the beta header for beta."""
    headers: dict[str, str] = {}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if protocol == "beta":
        headers[BETA_HEADER[0]] = BETA_HEADER[1]
    return headers


# --- server events ----------------------------------------------------------------------------


def decode_message(message: str | bytes) -> dict[str, Any] | None:
    """A server frame as a JSON object with a string `type`, or None (logged) if it is not."""
    try:
        data = json.loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        log.warning("realtime: skipping a malformed server frame (%d bytes): %s", len(message), exc)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        log.warning("realtime: skipping a server frame without a string `type`")
        return None
    return data


class Normalizer:
    """Turns server events of either flavour into internal events; one per connection.

    It keeps a little state so that each function call is requested exactly once: beta's
    `function_call_arguments.done` does not document `name`, so names are remembered from
    `response.output_item.added`, and `response.output_item.done` serves as the request when
    the arguments event did not.
    """

    _MAX_TRACKED = 256

    def __init__(self) -> None:
        self._call_names: OrderedDict[str, str] = OrderedDict()
        self._requested: OrderedDict[str, None] = OrderedDict()
        self._unknown_logged: set[str] = set()
        self._mcp = McpItems()

    def feed(self, message: str | bytes) -> ev.RealtimeEvent | None:
        """Decode and normalize one frame; None means skip it."""
        data = decode_message(message)
        return None if data is None else self.normalize(data)

    def normalize(self, data: dict[str, Any]) -> ev.RealtimeEvent | None:
        """Normalize one decoded server event; None means skip it."""
        etype: str = data["type"]
        if etype in _AUDIO_DELTA_TYPES:
            return self._audio_delta(data)
        model = w.SERVER_EVENT_MODELS.get(etype)
        if model is None:
            if etype in w.PASSTHROUGH_EVENT_TYPES:
                return ev.OtherEvent(etype, data)
            if etype not in self._unknown_logged:
                self._unknown_logged.add(etype)
                log.info("realtime: ignoring unknown server event type %r", etype)
            return None
        try:
            wire = model.model_validate(data)
        except ValidationError as exc:
            log.warning(
                "realtime: skipping malformed %s event: %s", etype, exc.errors(include_url=False)
            )
            return None
        return self._convert(wire, data)

    @staticmethod
    def _audio_delta(data: dict[str, Any]) -> ev.AudioDelta | None:
        delta = data.get("delta")
        if not isinstance(delta, str):
            log.warning("realtime: skipping an audio delta without a string `delta`")
            return None
        try:
            pcm = binascii.a2b_base64(delta, strict_mode=True)
        except (binascii.Error, ValueError) as exc:
            log.warning("realtime: skipping an audio delta with bad base64: %s", exc)
            return None
        return ev.AudioDelta(
            response_id=str(data.get("response_id", "")),
            item_id=str(data.get("item_id", "")),
            pcm=pcm,
            content_index=int(data.get("content_index", 0) or 0),
        )

    def _remember(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        if len(table) > self._MAX_TRACKED:
            table.popitem(last=False)

    def _function_call(
        self, call_id: str, name: str | None, arguments: str, item_id: str, response_id: str
    ) -> ev.FunctionCallRequest | None:
        if call_id in self._requested or not name:
            return None
        self._remember(self._requested, call_id, None)
        return ev.FunctionCallRequest(call_id, name, arguments, item_id, response_id)

    def _convert(self, wire: w.WireEvent, data: dict[str, Any]) -> ev.RealtimeEvent | None:
        plan = _COPY_PLANS.get(type(wire))
        if plan is not None:
            target, fields = plan
            return target(**{name: getattr(wire, source) for name, source in fields})
        match wire:
            case w.ItemAddedEvent() | w.ItemDoneEvent() | w.OutputItemDoneEvent() if (
                mcp := self._mcp.event(wire.item, final=not isinstance(wire, w.ItemAddedEvent))
            ):
                return mcp
            case w.McpListToolsProgressEvent():
                status = wire.type.rsplit(".", 1)[1]
                label = self._mcp.label_of(wire.item_id)
                return ev.McpListToolsProgress(wire.item_id, status, label)
            case w.McpCallProgressEvent():
                return ev.McpCallProgress(wire.item_id, wire.type.rsplit(".", 1)[1])
            case w.ItemAddedEvent():
                self._track_call(wire.item)
                return ev.ItemAdded(str(wire.item.get("id", "")), wire.item, wire.previous_item_id)
            case w.OutputItemAddedEvent():
                self._track_call(wire.item)
                return ev.OtherEvent(wire.type, data)
            case w.OutputItemDoneEvent():
                return self._output_item_done(wire)
            case w.FunctionCallArgumentsDoneEvent():
                name = wire.name or self._call_names.get(wire.call_id)
                return self._function_call(
                    wire.call_id, name, wire.arguments, wire.item_id, wire.response_id
                )
        return _build(wire) or ev.OtherEvent(wire.type, data)

    def _output_item_done(
        self, wire: w.OutputItemDoneEvent
    ) -> ev.FunctionCallRequest | ev.OutputItemDone:
        item = wire.item
        request = None
        if item.get("type") == "function_call":
            request = self._function_call(
                str(item.get("call_id", "")),
                item.get("name"),
                str(item.get("arguments", "")),
                str(item.get("id", "")),
                wire.response_id,
            )
        return request or ev.OutputItemDone(wire.response_id, item)

    def _track_call(self, item: dict[str, Any]) -> None:
        call_id, name = item.get("call_id"), item.get("name")
        if (
            item.get("type") == "function_call"
            and isinstance(call_id, str)
            and isinstance(name, str)
        ):
            self._remember(self._call_names, call_id, name)


def _build(wire: w.WireEvent) -> ev.RealtimeEvent | None:
    """The internal event of a stateless wire event that is more than a copy of fields."""
    match wire:
        case w.SessionCreatedEvent():
            session = wire.session
            expires = session.get("expires_at")
            return ev.SessionCreated(
                session=session,
                session_id=session.get("id") if isinstance(session.get("id"), str) else None,
                model=session.get("model") if isinstance(session.get("model"), str) else None,
                expires_at=expires if isinstance(expires, int) else None,
            )
        case w.ErrorEvent():
            e = wire.error
            return ev.ServerError(e.type, e.code, e.message, e.param, e.event_id)
        case w.ItemDoneEvent():
            return ev.ItemDone(str(wire.item.get("id", "")), wire.item, wire.previous_item_id)
        case w.InputTranscriptionFailedEvent():
            return ev.UserTranscriptFailed(wire.item_id, wire.error.code, wire.error.message)
        case w.ResponseCreatedEvent():
            return ev.ResponseCreated(str(wire.response.get("id", "")), wire.response)
        case w.ResponseDoneEvent():
            r = wire.response
            return ev.ResponseDone(r.id, r.status, r.status_details, r.usage, tuple(r.output))
        case w.RateLimitsUpdatedEvent():
            return ev.RateLimits(
                tuple(
                    ev.RateLimit(x.name, x.limit, x.remaining, x.reset_seconds)
                    for x in wire.rate_limits
                )
            )
    return None


_CopyPlan = tuple[type[ev.RealtimeEvent], tuple[tuple[str, str], ...]]


def _copy(
    wire: type[w.WireEvent], target: type[ev.RealtimeEvent], **renames: str
) -> tuple[type[w.WireEvent], _CopyPlan]:
    """`wire` converts to `target` by copying fields; `renames` maps internal to wire names."""
    fields = tuple((f.name, renames.get(f.name, f.name)) for f in dataclasses.fields(target))
    missing = [source for _, source in fields if source not in wire.model_fields]
    if missing:  # checked at import, so a wrong table never reaches a live session
        raise TypeError(f"{wire.__name__} has no {missing} for {target.__name__}")
    return wire, (target, fields)


#: Wire events whose internal event is a copy of their fields.
_COPY_PLANS: dict[type[w.WireEvent], _CopyPlan] = dict(
    [
        _copy(w.TextDeltaEvent, ev.TextDelta),
        _copy(w.TextDoneEvent, ev.TextDone),
        _copy(w.AudioTranscriptDeltaEvent, ev.TranscriptDelta),
        _copy(w.AudioTranscriptDoneEvent, ev.TranscriptDone, text="transcript"),
        _copy(w.AudioDoneEvent, ev.AudioDone),
        _copy(w.InputTranscriptionDeltaEvent, ev.UserTranscriptDelta),
        _copy(w.InputTranscriptionCompletedEvent, ev.UserTranscript, text="transcript"),
        _copy(w.FunctionCallArgumentsDeltaEvent, ev.FunctionCallArgumentsDelta),
        _copy(w.SessionUpdatedEvent, ev.SessionUpdated),
        _copy(w.SpeechStartedEvent, ev.SpeechStarted),
        _copy(w.SpeechStoppedEvent, ev.SpeechStopped),
        _copy(w.InputCommittedEvent, ev.InputCommitted),
        _copy(w.InputClearedEvent, ev.InputCleared),
        _copy(w.InputTimeoutEvent, ev.InputTimeout),
        _copy(w.ItemTruncatedEvent, ev.ItemTruncated),
        _copy(w.ItemDeletedEvent, ev.ItemDeleted),
    ]
)
