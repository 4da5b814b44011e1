"""The effective session configuration, `session.update` validation per flavour, and rendering.

The sim is strict on purpose: a field of the other flavour (e.g. `temperature` on GA) or a
feature the model lacks is answered with the error the real service gives, so client bugs
surface offline.
"""

from __future__ import annotations

import copy
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


def _apply_ga(s: SessionState, u: dict[str, Any], model: ModelInfo) -> None:
    allowed = set(f.GA_SESSION_KEYS)
    if "reasoning" in model.features:
        allowed.add("reasoning")
    if "parallel_tool_calls" in model.features:
        allowed.add("parallel_tool_calls")
    f.check_keys(u, allowed, "session")
    if "type" not in u:
        raise missing_parameter("session.type")
    if u["type"] != "realtime":
        # Transcription sessions are a different product; the sim only plays conversations.
        raise invalid_value("session.type", u["type"], ["realtime"])
    _common(s, u, model, "ga")
    if "output_modalities" in u:
        mods = f.str_list(u["output_modalities"], "session.output_modalities")
        if sorted(mods) not in (["audio"], ["text"]):
            raise invalid_value("session.output_modalities", mods, ["audio", "text"])
        s.audio_out = mods == ["audio"]
    if "max_output_tokens" in u:
        s.max_output_tokens = f.max_tokens(u["max_output_tokens"], "session.max_output_tokens")
    for key in ("tracing", "truncation", "prompt"):
        if key in u:
            setattr(s, key, u[key])
    if "include" in u:
        s.include = f.str_list(u["include"], "session.include") if u["include"] else None
    if "reasoning" in u:
        s.reasoning = f.reasoning(u["reasoning"])
    if "parallel_tool_calls" in u:
        s.parallel_tool_calls = f.boolean(u["parallel_tool_calls"], "session.parallel_tool_calls")
    audio = u.get("audio")
    if audio is None:
        return
    f.check_obj(audio, {"input", "output"}, "session.audio")
    inp = audio.get("input")
    if inp is not None:
        p = "session.audio.input"
        f.check_obj(inp, {"format", "transcription", "noise_reduction", "turn_detection"}, p)
        if "format" in inp:
            s.input_format = f.ga_format(inp["format"], f"{p}.format")
        if "transcription" in inp:
            s.transcription = f.transcription(inp["transcription"], f"{p}.transcription")
        if "noise_reduction" in inp:
            s.noise_reduction = f.noise_reduction(inp["noise_reduction"], f"{p}.noise_reduction")
        if "turn_detection" in inp:
            s.turn_detection = _turn_detection(
                inp["turn_detection"], s.turn_detection, model, f"{p}.turn_detection"
            )
    out = audio.get("output")
    if out is not None:
        p = "session.audio.output"
        f.check_obj(out, {"format", "voice", "speed"}, p)
        if "format" in out:
            s.output_format = f.ga_format(out["format"], f"{p}.format")
        if "voice" in out:
            s.voice = f.voice(out["voice"], model, f"{p}.voice")
        if "speed" in out:
            s.speed = f.number(out["speed"], 0.25, 1.5, f"{p}.speed")


def _apply_beta(s: SessionState, u: dict[str, Any], model: ModelInfo) -> None:
    f.check_keys(u, set(f.BETA_SESSION_KEYS), "session")
    _common(s, u, model, "beta")
    if "modalities" in u:
        mods = sorted(f.str_list(u["modalities"], "session.modalities"))
        if mods not in (["text"], ["audio", "text"]):
            raise ClientError(
                "invalid_value",
                f"Invalid modalities: {mods}. "
                "Supported combinations are: ['text'] and ['audio', 'text'].",
                param="session.modalities",
            )
        s.audio_out = "audio" in mods
    if "voice" in u:
        s.voice = f.voice(u["voice"], model, "session.voice")
    for key, attr in (
        ("input_audio_format", "input_format"),
        ("output_audio_format", "output_format"),
    ):
        if key in u:
            value = u[key]
            if value not in _BETA_TO_FORMAT:
                raise invalid_value(f"session.{key}", value, list(_BETA_TO_FORMAT))
            setattr(s, attr, _BETA_TO_FORMAT[value])
    if "input_audio_transcription" in u:
        s.transcription = f.transcription(
            u["input_audio_transcription"], "session.input_audio_transcription"
        )
    if "input_audio_noise_reduction" in u:
        s.noise_reduction = f.noise_reduction(
            u["input_audio_noise_reduction"], "session.input_audio_noise_reduction"
        )
    if "turn_detection" in u:
        s.turn_detection = _turn_detection(
            u["turn_detection"], s.turn_detection, model, "session.turn_detection"
        )
    if "temperature" in u:
        s.temperature = f.number(u["temperature"], 0.6, 1.2, "session.temperature")
    if "max_response_output_tokens" in u:
        s.max_output_tokens = f.max_tokens(
            u["max_response_output_tokens"], "session.max_response_output_tokens"
        )
    if "speed" in u:
        s.speed = f.number(u["speed"], 0.25, 1.5, "session.speed")
    if "tracing" in u:
        s.tracing = u["tracing"]


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


def _turn_detection(
    raw: Any, current: TurnDetection | None, model: ModelInfo, p: str
) -> TurnDetection | None:
    if raw is None:
        return None
    f.check_obj(
        raw,
        {
            "type",
            "threshold",
            "prefix_padding_ms",
            "silence_duration_ms",
            "idle_timeout_ms",
            "create_response",
            "interrupt_response",
            "eagerness",
        },
        p,
    )
    kinds = ["server_vad", "semantic_vad"] if "semantic_vad" in model.features else ["server_vad"]
    kind = raw.get("type", "server_vad")
    if kind not in kinds:
        raise invalid_value(f"{p}.type", kind, kinds)
    td = TurnDetection(type=kind)
    if current is not None and current.type == kind:
        td = copy.copy(current)
    if kind == "semantic_vad":
        for key in ("threshold", "prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms"):
            if key in raw:
                raise unknown_parameter(f"{p}.{key}")
        if "eagerness" in raw:
            eager = raw["eagerness"]
            if eager not in ("low", "medium", "high", "auto"):
                raise invalid_value(f"{p}.eagerness", eager, ["low", "medium", "high", "auto"])
            td.eagerness = eager
    else:
        if "eagerness" in raw:
            raise unknown_parameter(f"{p}.eagerness")
        if "threshold" in raw:
            td.threshold = f.number(raw["threshold"], 0.0, 1.0, f"{p}.threshold")
        for key in ("prefix_padding_ms", "silence_duration_ms"):
            if key in raw:
                setattr(td, key, f.integer(raw[key], 0, 10_000, f"{p}.{key}"))
        if "idle_timeout_ms" in raw and raw["idle_timeout_ms"] is not None:
            td.idle_timeout_ms = f.integer(raw["idle_timeout_ms"], 0, 3_600_000, f"{p}.idle")
    for key in ("create_response", "interrupt_response"):
        if key in raw:
            setattr(td, key, f.boolean(raw[key], f"{p}.{key}"))
    return td


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
