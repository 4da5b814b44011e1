"""The effective session configuration, `session.update` validation per flavour, and rendering.

The sim is strict on purpose: a field of the other flavour (e.g. `temperature` on GA) or a
feature the model lacks is answered with the error the real service gives, so client bugs
surface offline.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edge_voice.models.catalog import ModelInfo
from edge_voice.realtime.model_spec import WireProtocol as Protocol
from edge_voice.sim import session_fields as f
from edge_voice.sim.errors import (
    ClientError,
    invalid_type,
    invalid_value,
    missing_parameter,
    unknown_parameter,
)
from edge_voice.sim.truncation import checked_truncation

#: What the sim says its instructions are before the client sets any.
DEFAULT_INSTRUCTIONS = "You are a helpful voice assistant in a smart home. (simulated)"

_FORMAT_TO_BETA = {"audio/pcm": "pcm16", "audio/pcmu": "g711_ulaw", "audio/pcma": "g711_alaw"}
_BETA_TO_FORMAT = {v: k for k, v in _FORMAT_TO_BETA.items()}


@dataclass
class TurnDetection:
    """Server or semantic VAD settings (semantic VAD is simulated with the energy VAD)."""

    type: str = "server_vad"
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    idle_timeout_ms: int | None = None
    create_response: bool = True
    interrupt_response: bool = True
    eagerness: str = "auto"

    def effective_silence_ms(self) -> int:
        """Silence that ends a turn; semantic VAD's eagerness stands in for understanding."""
        if self.type == "semantic_vad":
            return {"low": 1000, "high": 300}.get(self.eagerness, 600)
        return self.silence_duration_ms


@dataclass
class SessionState:
    """The session in the sim's own terms; render() shows it in either flavour."""

    model: str
    voice: str = "alloy"
    instructions: str = DEFAULT_INSTRUCTIONS
    audio_out: bool = True
    speed: float = 1.0
    input_format: str = "audio/pcm"
    output_format: str = "audio/pcm"
    transcription: dict[str, Any] | None = None
    noise_reduction: dict[str, Any] | None = None
    turn_detection: TurnDetection | None = field(default_factory=TurnDetection)
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: Any = "auto"
    max_output_tokens: int | str = "inf"
    temperature: float = 0.8
    tracing: Any = None
    truncation: Any = "auto"
    include: list[str] | None = None
    prompt: Any = None
    reasoning: dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None

    def tool_names(self) -> set[str]:
        """Names of the declared function tools."""
        return {str(t["name"]) for t in self.tools if t.get("type") == "function"}


def apply_update(
    state: SessionState,
    update: Any,
    protocol: Protocol,
    model: ModelInfo,
    *,
    voice_locked: bool,
) -> SessionState:
    """A new state with `update` applied; raises ClientError and changes nothing on error."""
    if not isinstance(update, dict):
        raise invalid_type("session", "an object", update)
    new = copy.deepcopy(state)
    if protocol == "ga":
        _apply_ga(new, update, model)
    else:
        _apply_beta(new, update, model)
    if new.voice != state.voice and voice_locked:
        raise ClientError(
            "cannot_update_voice",
            "Cannot update a conversation's voice if assistant audio is present.",
            param="session.audio.output.voice" if protocol == "ga" else "session.voice",
        )
    return new


#: Parses one field from its raw value and its path (for the error).
_Parse = Callable[[Any, str], Any]
#: An object's fields in the order they are checked (the first bad one is the error):
#: key → (attribute of SessionState, parser).
_Fields = dict[str, tuple[str, _Parse]]


def _assign(s: SessionState, obj: dict[str, Any], fields: _Fields, path: str) -> None:
    """Parse each field of `obj` that is present into its attribute of `s`, in table order."""
    for key, (attr, parse) in fields.items():
        if key in obj:
            setattr(s, attr, parse(obj[key], f"{path}.{key}"))


def _as_is(value: Any, path: str) -> Any:
    return value


def _speed(value: Any, path: str) -> float:
    return f.number(value, 0.25, 1.5, path)


def _include(value: Any, path: str) -> list[str] | None:
    return f.str_list(value, path) if value else None


def _beta_format(value: Any, path: str) -> str:
    if value not in _BETA_TO_FORMAT:
        raise invalid_value(path, value, list(_BETA_TO_FORMAT))
    return _BETA_TO_FORMAT[value]


def _ga_modalities(value: Any, path: str) -> bool:
    mods = f.str_list(value, path)
    if sorted(mods) not in (["audio"], ["text"]):
        raise invalid_value(path, mods, ["audio", "text"])
    return mods == ["audio"]


def _beta_modalities(value: Any, path: str) -> bool:
    mods = sorted(f.str_list(value, path))
    if mods not in (["text"], ["audio", "text"]):
        raise ClientError(
            "invalid_value",
            f"Invalid modalities: {mods}. "
            "Supported combinations are: ['text'] and ['audio', 'text'].",
            param=path,
        )
    return "audio" in mods


_GA_FIELDS: _Fields = {
    "output_modalities": ("audio_out", _ga_modalities),
    "max_output_tokens": ("max_output_tokens", f.max_tokens),
    "tracing": ("tracing", _as_is),
    "truncation": ("truncation", checked_truncation),
    "prompt": ("prompt", _as_is),
    "include": ("include", _include),
    "reasoning": ("reasoning", lambda value, path: f.reasoning(value)),
    "parallel_tool_calls": ("parallel_tool_calls", f.boolean),
}
#: GA session keys only models with the feature of the same name accept.
_GA_FEATURE_KEYS = ("reasoning", "parallel_tool_calls")


def _ga_audio_fields(s: SessionState, model: ModelInfo) -> dict[str, _Fields]:
    return {
        "input": {
            "format": ("input_format", f.ga_format),
            "transcription": ("transcription", f.transcription),
            "noise_reduction": ("noise_reduction", f.noise_reduction),
            "turn_detection": ("turn_detection", _turn_detection_of(s, model)),
        },
        "output": {
            "format": ("output_format", f.ga_format),
            "voice": ("voice", lambda value, path: f.voice(value, model, path)),
            "speed": ("speed", _speed),
        },
    }


def _beta_fields(s: SessionState, model: ModelInfo) -> _Fields:
    return {
        "modalities": ("audio_out", _beta_modalities),
        "voice": ("voice", lambda value, path: f.voice(value, model, path)),
        "input_audio_format": ("input_format", _beta_format),
        "output_audio_format": ("output_format", _beta_format),
        "input_audio_transcription": ("transcription", f.transcription),
        "input_audio_noise_reduction": ("noise_reduction", f.noise_reduction),
        "turn_detection": ("turn_detection", _turn_detection_of(s, model)),
        "temperature": ("temperature", lambda value, path: f.number(value, 0.6, 1.2, path)),
        "max_response_output_tokens": ("max_output_tokens", f.max_tokens),
        "speed": ("speed", _speed),
        "tracing": ("tracing", _as_is),
    }


def _turn_detection_of(s: SessionState, model: ModelInfo) -> _Parse:
    return lambda value, path: _turn_detection(value, s.turn_detection, model, path)


def _apply_ga(s: SessionState, u: dict[str, Any], model: ModelInfo) -> None:
    allowed = set(f.GA_SESSION_KEYS) | {k for k in _GA_FEATURE_KEYS if k in model.features}
    f.check_keys(u, allowed, "session")
    if "type" not in u:
        raise missing_parameter("session.type")
    if u["type"] != "realtime":
        # Transcription sessions are a different product; the sim only plays conversations.
        raise invalid_value("session.type", u["type"], ["realtime"])
    _common(s, u, model, "ga")
    _assign(s, u, _GA_FIELDS, "session")
    audio = u.get("audio")
    if audio is None:
        return
    f.check_obj(audio, {"input", "output"}, "session.audio")
    for key, fields in _ga_audio_fields(s, model).items():
        obj = audio.get(key)
        if obj is not None:
            path = f"session.audio.{key}"
            _assign(s, f.check_obj(obj, set(fields), path), fields, path)


def _apply_beta(s: SessionState, u: dict[str, Any], model: ModelInfo) -> None:
    f.check_keys(u, set(f.BETA_SESSION_KEYS), "session")
    _common(s, u, model, "beta")
    _assign(s, u, _beta_fields(s, model), "session")


def _common(s: SessionState, u: dict[str, Any], model: ModelInfo, protocol: Protocol) -> None:
    """Fields both flavours spell the same way."""
    p = "session"
    if "model" in u and u["model"] != model.name:
        raise ClientError(
            "invalid_value", "The model of a session cannot be changed.", param=f"{p}.model"
        )
    if "instructions" in u:
        s.instructions = f.string(u["instructions"], f"{p}.instructions")
    if "tools" in u:
        s.tools = f.tools(u["tools"], model, f"{p}.tools", allow_mcp=protocol == "ga")
    if "tool_choice" in u:
        s.tool_choice = f.tool_choice(u["tool_choice"], f"{p}.tool_choice")


_SERVER_VAD_ONLY = ("threshold", "prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms")
_TURN_DETECTION_KEYS = {
    "type",
    *_SERVER_VAD_ONLY,
    "eagerness",
    "create_response",
    "interrupt_response",
}
_EAGERNESS = ["low", "medium", "high", "auto"]


def _turn_detection(
    raw: Any, current: TurnDetection | None, model: ModelInfo, p: str
) -> TurnDetection | None:
    if raw is None:
        return None
    f.check_obj(raw, _TURN_DETECTION_KEYS, p)
    kinds = ["server_vad", "semantic_vad"] if "semantic_vad" in model.features else ["server_vad"]
    kind = raw.get("type", "server_vad")
    if kind not in kinds:
        raise invalid_value(f"{p}.type", kind, kinds)
    # Settings of the same kind carry over; a change of kind starts from its defaults.
    same_kind = current is not None and current.type == kind
    td = copy.copy(current) if same_kind and current is not None else TurnDetection(type=kind)
    if kind == "semantic_vad":
        _semantic_vad(raw, td, p)
    else:
        _server_vad(raw, td, p)
    for key in ("create_response", "interrupt_response"):
        if key in raw:
            setattr(td, key, f.boolean(raw[key], f"{p}.{key}"))
    return td


def _semantic_vad(raw: dict[str, Any], td: TurnDetection, p: str) -> None:
    for key in _SERVER_VAD_ONLY:
        if key in raw:
            raise unknown_parameter(f"{p}.{key}")
    if "eagerness" in raw:
        if raw["eagerness"] not in _EAGERNESS:
            raise invalid_value(f"{p}.eagerness", raw["eagerness"], _EAGERNESS)
        td.eagerness = raw["eagerness"]


def _server_vad(raw: dict[str, Any], td: TurnDetection, p: str) -> None:
    if "eagerness" in raw:
        raise unknown_parameter(f"{p}.eagerness")
    if "threshold" in raw:
        td.threshold = f.number(raw["threshold"], 0.0, 1.0, f"{p}.threshold")
    for key in ("prefix_padding_ms", "silence_duration_ms"):
        if key in raw:
            setattr(td, key, f.integer(raw[key], 0, 10_000, f"{p}.{key}"))
    if raw.get("idle_timeout_ms") is not None:
        td.idle_timeout_ms = f.integer(raw["idle_timeout_ms"], 0, 3_600_000, f"{p}.idle")


def _render_td(td: TurnDetection | None, protocol: Protocol) -> dict[str, Any] | None:
    if td is None:
        return None
    out: dict[str, Any] = {"type": td.type}
    if td.type == "semantic_vad":
        out["eagerness"] = td.eagerness
    else:
        out.update(
            threshold=td.threshold,
            prefix_padding_ms=td.prefix_padding_ms,
            silence_duration_ms=td.silence_duration_ms,
        )
        if protocol == "ga":
            out["idle_timeout_ms"] = td.idle_timeout_ms
    out.update(create_response=td.create_response, interrupt_response=td.interrupt_response)
    return out


def render_session(
    s: SessionState, protocol: Protocol, session_id: str, expires_at: int
) -> dict[str, Any]:
    """The full effective session, as `session.created` / `session.updated` carry it."""
    if protocol == "beta":
        return {
            "id": session_id,
            "object": "realtime.session",
            "model": s.model,
            "expires_at": expires_at,
            "modalities": ["text", "audio"] if s.audio_out else ["text"],
            "instructions": s.instructions,
            "voice": s.voice,
            "input_audio_format": _FORMAT_TO_BETA[s.input_format],
            "output_audio_format": _FORMAT_TO_BETA[s.output_format],
            "input_audio_transcription": s.transcription,
            "input_audio_noise_reduction": s.noise_reduction,
            "turn_detection": _render_td(s.turn_detection, protocol),
            "tools": s.tools,
            "tool_choice": s.tool_choice,
            "temperature": s.temperature,
            "max_response_output_tokens": s.max_output_tokens,
            "speed": s.speed,
            "tracing": s.tracing,
        }
    out: dict[str, Any] = {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": s.model,
        "output_modalities": ["audio"] if s.audio_out else ["text"],
        "instructions": s.instructions,
        "tools": s.tools,
        "tool_choice": s.tool_choice,
        "max_output_tokens": s.max_output_tokens,
        "tracing": s.tracing,
        "truncation": s.truncation,
        "prompt": s.prompt,
        "expires_at": expires_at,
        "audio": {
            "input": {
                "format": f.render_format(s.input_format),
                "transcription": s.transcription,
                "noise_reduction": s.noise_reduction,
                "turn_detection": _render_td(s.turn_detection, protocol),
            },
            "output": {
                "format": f.render_format(s.output_format),
                "voice": s.voice,
                "speed": s.speed,
            },
        },
        "include": s.include,
    }
    if s.reasoning is not None:
        out["reasoning"] = s.reasoning
    if s.parallel_tool_calls is not None:
        out["parallel_tool_calls"] = s.parallel_tool_calls
    return out
