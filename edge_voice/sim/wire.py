"""Server event shapes per protocol flavour: GA (`gpt-realtime`) and beta (`realtime=v1`)."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any, Literal

from edge_voice.realtime.model_spec import WireProtocol as Protocol
from edge_voice.sim.conversation import MCP_ITEM_TYPES, Item, Part, TokenCounts

_ALPHABET = string.ascii_letters + string.digits

#: Server event names that differ between the flavours (reference §3, renames).
_NAMES: dict[str, tuple[str, str]] = {
    "audio_delta": ("response.output_audio.delta", "response.audio.delta"),
    "audio_done": ("response.output_audio.done", "response.audio.done"),
    "transcript_delta": (
        "response.output_audio_transcript.delta",
        "response.audio_transcript.delta",
    ),
    "transcript_done": ("response.output_audio_transcript.done", "response.audio_transcript.done"),
    "text_delta": ("response.output_text.delta", "response.text.delta"),
    "text_done": ("response.output_text.done", "response.text.done"),
}


def name(protocol: Protocol, key: str) -> str:
    """The event name for `key` in this flavour."""
    ga, beta = _NAMES[key]
    return ga if protocol == "ga" else beta


def new_id(prefix: str) -> str:
    """An id shaped like the service's: prefix, underscore, 22 alphanumerics."""
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def error_event(
    code: str | None,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    param: str | None = None,
    client_event_id: str | None = None,
) -> dict[str, Any]:
    """An `error` server event; `client_event_id` echoes the offending client event."""
    return {
        "type": "error",
        "error": {
            "type": error_type,
            "code": code,
            "message": message,
            "param": param,
            "event_id": client_event_id,
        },
    }


def rate_limit_error(
    model: str, retry_after_s: float, client_event_id: str | None = None
) -> dict[str, Any]:
    """A `rate_limit_exceeded` error with the service's retry hint ("try again in 1.8s")."""
    hint = f"{round(retry_after_s * 1000)}ms" if retry_after_s < 1 else f"{retry_after_s:.3g}s"
    return error_event(
        "rate_limit_exceeded",
        f"Rate limit reached for {model} in organization org-sim on tokens per min (TPM): "
        f"Limit 40000, Used 40000, Requested 1200. Please try again in {hint}.",
        error_type="rate_limit_error",
        client_event_id=client_event_id,
    )


def render_part(part: Part, protocol: Protocol) -> dict[str, Any]:
    """A content part as the flavour shows it (no audio bytes are ever echoed)."""
    ga = protocol == "ga"
    if part.kind == "input_text":
        return {"type": "input_text", "text": part.text or ""}
    if part.kind == "input_audio":
        return {"type": "input_audio", "transcript": part.text}
    if part.kind == "input_image":
        return {"type": "input_image", "detail": part.detail or "auto"}
    if part.kind == "text":
        return {"type": "output_text" if ga else "text", "text": part.text or ""}
    return {"type": "output_audio" if ga else "audio", "transcript": part.text or ""}


def render_item(item: Item, protocol: Protocol) -> dict[str, Any]:
    """A conversation item; GA items carry `object: realtime.item`, beta ones do not."""
    if item.type in MCP_ITEM_TYPES:  # GA only; the SDK's MCP items have no object or status
        return {"id": item.id, "type": item.type, **item.mcp}
    out: dict[str, Any] = {"id": item.id}
    if protocol == "ga":
        out["object"] = "realtime.item"
    out["type"] = item.type
    out["status"] = item.status
    if item.type == "message":
        out["role"] = item.role
        out["content"] = [render_part(p, protocol) for p in item.parts]
    elif item.type == "function_call":
        out.update(call_id=item.call_id, name=item.name, arguments=item.arguments or "")
    else:
        out.update(call_id=item.call_id, output=item.output or "")
    return out


@dataclass
class Usage:
    """Tokens billed for one response; `cached` is a subset of `input`."""

    input: TokenCounts = field(default_factory=TokenCounts)
    cached: TokenCounts = field(default_factory=TokenCounts)
    output: TokenCounts = field(default_factory=TokenCounts)


def render_usage(usage: Usage, protocol: Protocol) -> dict[str, Any]:
    """`response.usage` in the GA shape, or the smaller beta one (reference §6)."""
    inp, cached, out = usage.input, usage.cached, usage.output
    details: dict[str, Any] = {
        "text_tokens": inp.text,
        "audio_tokens": inp.audio,
        "cached_tokens": cached.total,
    }
    if protocol == "ga":
        details["image_tokens"] = inp.image
        details["cached_tokens_details"] = {
            "text_tokens": cached.text,
            "audio_tokens": cached.audio,
            "image_tokens": cached.image,
        }
    else:
        details["text_tokens"] += inp.image  # beta has no image class
    return {
        "total_tokens": inp.total + out.total,
        "input_tokens": inp.total,
        "output_tokens": out.total,
        "input_token_details": details,
        "output_token_details": {"text_tokens": out.text, "audio_tokens": out.audio},
    }


ResponseStatus = Literal["in_progress", "completed", "cancelled", "failed", "incomplete"]


@dataclass
class ResponseView:
    """What `response.created` / `response.done` show about a response."""

    id: str
    audio_out: bool
    voice: str
    in_conversation: bool
    metadata: dict[str, Any] | None = None
    max_output_tokens: int | str = "inf"
    status: ResponseStatus = "in_progress"
    reason: str | None = None
    output: list[Item] = field(default_factory=list)
    usage: Usage | None = None


def render_response(resp: ResponseView, protocol: Protocol) -> dict[str, Any]:
    """The `response` object of `response.created` / `response.done`."""
    details: dict[str, Any] | None = None
    if resp.status in ("cancelled", "incomplete"):
        details = {"type": resp.status, "reason": resp.reason}
    out: dict[str, Any] = {
        "id": resp.id,
        "object": "realtime.response",
        "status": resp.status,
        "status_details": details,
        "output": [render_item(i, protocol) for i in resp.output],
        "conversation_id": "conv_sim" if resp.in_conversation else None,
    }
    fmt = {"type": "audio/pcm", "rate": 24000}
    if protocol == "ga":
        out["output_modalities"] = ["audio"] if resp.audio_out else ["text"]
        out["max_output_tokens"] = resp.max_output_tokens
        out["audio"] = {"output": {"format": fmt, "voice": resp.voice}}
    else:
        out["modalities"] = ["text", "audio"] if resp.audio_out else ["text"]
        out["voice"] = resp.voice
        out["output_audio_format"] = "pcm16"
        out["max_output_tokens"] = resp.max_output_tokens
    out["metadata"] = resp.metadata
    out["usage"] = None if resp.usage is None else render_usage(resp.usage, protocol)
    return out
