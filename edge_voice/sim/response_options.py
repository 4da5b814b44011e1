"""The optional `response` object of `response.create`, validated per flavour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge_voice.models.catalog import ModelInfo
from edge_voice.realtime.model_spec import WireProtocol as Protocol
from edge_voice.sim import session_fields as f
from edge_voice.sim.errors import ClientError, invalid_type, invalid_value
from edge_voice.sim.session_config import SessionState

_GA_KEYS = {
    "instructions",
    "tools",
    "tool_choice",
    "max_output_tokens",
    "output_modalities",
    "audio",
    "metadata",
    "conversation",
    "input",
    "prompt",
}
_BETA_KEYS = {
    "instructions",
    "tools",
    "tool_choice",
    "max_response_output_tokens",
    "modalities",
    "voice",
    "output_audio_format",
    "temperature",
    "metadata",
    "conversation",
    "input",
}


@dataclass
class ResponseOptions:
    """The session's settings with this response's overrides applied."""

    instructions: str
    tool_names: set[str]
    tool_choice: Any
    audio_out: bool
    voice: str
    max_output_tokens: int | str
    metadata: dict[str, Any] | None
    in_conversation: bool
    no_context: bool = False


def parse_options(
    raw: Any, protocol: Protocol, model: ModelInfo, session: SessionState, *, voice_locked: bool
) -> ResponseOptions:
    """Merge `response.create`'s `response` object over the session (ClientError if bad)."""
    opts = ResponseOptions(
        instructions=session.instructions,
        tool_names=session.tool_names(),
        tool_choice=session.tool_choice,
        audio_out=session.audio_out,
        voice=session.voice,
        max_output_tokens=session.max_output_tokens,
        metadata=None,
        in_conversation=True,
    )
    if raw is None:
        return opts
    ga = protocol == "ga"
    r = f.check_obj(raw, _GA_KEYS if ga else _BETA_KEYS, "response")
    _apply_overrides(opts, r, model, ga)
    voice, path = _requested_voice(r, ga)
    if voice is not None:
        opts.voice = f.voice(voice, model, path)
        if opts.voice != session.voice and voice_locked:
            raise ClientError(
                "cannot_update_voice",
                "Cannot update a conversation's voice if assistant audio is present.",
                param=path,
            )
    return opts


def _apply_overrides(opts: ResponseOptions, r: dict[str, Any], model: ModelInfo, ga: bool) -> None:
    """Every option but the voice, in the order the service checks them."""
    if "instructions" in r:
        opts.instructions = f.string(r["instructions"], "response.instructions")
    if "tools" in r:
        tools = f.tools(r["tools"], model, "response.tools", allow_mcp=ga)
        opts.tool_names = {str(t["name"]) for t in tools if t.get("type") == "function"}
    if "tool_choice" in r:
        opts.tool_choice = f.tool_choice(r["tool_choice"], "response.tool_choice")
    tokens_key = "max_output_tokens" if ga else "max_response_output_tokens"
    if tokens_key in r:
        opts.max_output_tokens = f.max_tokens(r[tokens_key], f"response.{tokens_key}")
    if r.get("metadata") is not None:
        opts.metadata = _metadata(r["metadata"])
    _apply_context(opts, r)
    mods_key = "output_modalities" if ga else "modalities"
    if mods_key in r:
        mods = sorted(f.str_list(r[mods_key], f"response.{mods_key}"))
        valid = (["audio"], ["text"]) if ga else (["audio", "text"], ["text"])
        if mods not in valid:
            raise invalid_value(f"response.{mods_key}", mods, [str(v) for v in valid])
        opts.audio_out = "audio" in mods


def _apply_context(opts: ResponseOptions, r: dict[str, Any]) -> None:
    """`conversation` (`none`: out of band) and `input` (`[]`: no context at all)."""
    if "conversation" in r:
        if r["conversation"] not in ("auto", "none"):
            raise invalid_value("response.conversation", r["conversation"], ["auto", "none"])
        opts.in_conversation = r["conversation"] == "auto"
    if "input" in r:
        if not isinstance(r["input"], list):
            raise invalid_type("response.input", "an array", r["input"])
        opts.no_context = not r["input"]


def _metadata(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_type("response.metadata", "an object", value)
    if len(value) > 16:
        raise ClientError(
            "invalid_value", "Metadata can have at most 16 pairs.", param="response.metadata"
        )
    return dict(value)


def _requested_voice(r: dict[str, Any], ga: bool) -> tuple[Any, str]:
    """The voice the options ask for (None: the session's) and the path it was given at."""
    if not ga:
        return r.get("voice"), "response.voice"
    path = "response.audio.output.voice"
    if "audio" not in r:
        return None, path
    audio = f.check_obj(r["audio"], {"output"}, "response.audio")
    out = f.check_obj(audio.get("output", {}), {"voice", "format"}, "response.audio.output")
    return out.get("voice"), path
