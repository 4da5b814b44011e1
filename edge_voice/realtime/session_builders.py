"""One `SessionSettings`, two wire shapes: the session.update for GA and for beta.

The builders are the last line of defence before the socket: a setting the target model cannot
take raises a typed error instead of being sent (ModelMigration degrades first, upstream). Only
`temperature` is dropped silently on GA, where the field no longer exists (reference §2).
Dict key order is fixed so tests can compare exact JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from edge_voice.realtime.errors import (
    FeatureNotSupportedError,
    InvalidSettingError,
    VoiceNotSupportedError,
)
from edge_voice.realtime.model_spec import WireModel

TurnDetection = Literal["server_vad", "semantic_vad"]
NoiseReduction = Literal["near_field", "far_field"]
Eagerness = Literal["low", "medium", "high", "auto"]
ReasoningEffort = Literal["minimal", "low", "medium", "high", "xhigh"]
OutputModality = Literal["audio", "text"]

#: A custom voice id (reference §8); the GA session sends it as `{"id": ...}`.
CUSTOM_VOICE_PREFIX = "voice_"
SAMPLE_RATE = 24_000
_GA_FORMAT: dict[str, Any] = {"type": "audio/pcm", "rate": SAMPLE_RATE}
_BETA_FORMAT = "pcm16"


class Redacted(str):
    """A credential inside session settings (an MCP token): sent as is, shown as `***`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"

    def __str__(self) -> str:
        return "***"

    def reveal(self) -> str:
        """The credential itself, for the wire only."""
        return str.__str__(self)


def _check_choice(field: str, value: object, allowed: tuple[object, ...]) -> None:
    if value not in allowed:
        raise InvalidSettingError(
            f"{field}={value!r} is not one of {', '.join(map(repr, allowed))}", field=field
        )


def _check_range(field: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise InvalidSettingError(f"{field}={value!r} is outside [{low}, {high}]", field=field)


def _check_max_tokens(field: str, value: int | str | None) -> None:
    if value is None or value == "inf":
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4096:
        raise InvalidSettingError(f"{field}={value!r}: use 1..4096 or 'inf'", field=field)


@dataclass(frozen=True)
class SessionSettings:
    """Everything configurable in a realtime session, independent of the wire flavour."""

    model: str
    voice: str = "alloy"
    instructions: str = ""
    tools: tuple[Mapping[str, Any], ...] = ()
    mcp_servers: tuple[Mapping[str, Any], ...] = ()
    tool_choice: str = "auto"
    turn_detection: TurnDetection | None = "server_vad"
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    create_response: bool = True
    interrupt_response: bool = True
    eagerness: Eagerness = "auto"
    input_transcription_model: str | None = None
    transcription_language: str | None = None
    noise_reduction: NoiseReduction | None = None
    speed: float = 1.0
    temperature: float | None = None
    max_output_tokens: int | Literal["inf"] | None = None
    reasoning_effort: ReasoningEffort | None = None
    output_modality: OutputModality = "audio"
    #: GA only: "auto" (the service's default, so not sent), "disabled" or a retention_ratio
    #: object in the wire shape.
    truncation: str | Mapping[str, Any] = "auto"

    def __post_init__(self) -> None:
        # Model-independent checks; what depends on the model is checked by the builders.
        if not self.model:
            raise InvalidSettingError("model must not be empty", field="model")
        if not self.voice:
            raise InvalidSettingError("voice must not be empty", field="voice")
        _check_choice("turn_detection", self.turn_detection, (*get_args(TurnDetection), None))
        _check_choice("eagerness", self.eagerness, get_args(Eagerness))
        _check_choice("noise_reduction", self.noise_reduction, (*get_args(NoiseReduction), None))
        _check_choice("reasoning_effort", self.reasoning_effort, (*get_args(ReasoningEffort), None))
        _check_choice("output_modality", self.output_modality, get_args(OutputModality))
        _check_range("threshold", self.threshold, 0.0, 1.0)
        _check_range("speed", self.speed, 0.25, 1.5)
        if self.temperature is not None:
            _check_range("temperature", self.temperature, 0.6, 1.2)
        if self.prefix_padding_ms < 0 or self.silence_duration_ms < 0:
            raise InvalidSettingError("VAD durations must be >= 0 ms", field="turn_detection")
        _check_max_tokens("max_output_tokens", self.max_output_tokens)
        if isinstance(self.truncation, str):
            _check_choice("truncation", self.truncation, ("auto", "disabled"))
        for tool in self.tools:
            function_tool(tool)
        for server in self.mcp_servers:
            mcp_tool(server)


def function_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A function tool in the flat realtime shape, keys in a fixed order; raises if malformed."""
    name = tool.get("name")
    if tool.get("type", "function") != "function" or not isinstance(name, str) or not name:
        raise InvalidSettingError(
            f"a function tool needs type 'function' and a name: {dict(tool)!r}", field="tools"
        )
    parameters = tool.get("parameters") or {"type": "object", "properties": {}}
    return {
        "type": "function",
        "name": name,
        "description": str(tool.get("description", "")),
        "parameters": dict(parameters),
    }


def mcp_tool(server: Mapping[str, Any]) -> dict[str, Any]:
    """An MCP tool entry with `type` first, other keys as given; raises if malformed."""
    if server.get("type", "mcp") != "mcp" or not server.get("server_label"):
        raise InvalidSettingError(
            "an MCP tool needs type 'mcp' and a server_label", field="mcp_servers"
        )
    return {"type": "mcp", **{k: v for k, v in server.items() if k != "type"}}


def check_settings(settings: SessionSettings, model: WireModel) -> None:
    """Raise the typed error for the first setting `model` cannot take."""
    if settings.model != model.name:
        raise InvalidSettingError(
            f"settings are for {settings.model} but the session is on {model.name}",
            field="model",
            model=model.name,
        )
    custom = settings.voice.startswith(CUSTOM_VOICE_PREFIX) and model.protocol == "ga"
    if not custom and not model.has_voice(settings.voice):
        raise VoiceNotSupportedError(settings.voice, model.name, model.voices)
    if settings.mcp_servers and (model.protocol != "ga" or not model.has_feature("mcp")):
        raise FeatureNotSupportedError("mcp", model.name, field="mcp_servers")
    if settings.turn_detection == "semantic_vad" and not model.has_feature("semantic_vad"):
        raise FeatureNotSupportedError("semantic_vad", model.name, field="turn_detection")
    if settings.reasoning_effort is not None and (
        model.protocol != "ga" or not model.has_feature("reasoning")
    ):
        raise FeatureNotSupportedError("reasoning", model.name, field="reasoning_effort")


def dropped_fields(settings: SessionSettings, model: WireModel) -> tuple[str, ...]:
    """Settings the builder leaves out silently for this model (to report them once)."""
    if model.protocol == "ga" and settings.temperature is not None:
        return ("temperature",)
    if model.protocol == "beta" and settings.truncation != "auto":
        return ("truncation",)
    return ()


def _turn_detection(s: SessionSettings) -> dict[str, Any] | None:
    if s.turn_detection is None:
        return None
    td: dict[str, Any] = {"type": s.turn_detection}
    if s.turn_detection == "server_vad":
        td["threshold"] = s.threshold
        td["prefix_padding_ms"] = s.prefix_padding_ms
        td["silence_duration_ms"] = s.silence_duration_ms
    else:
        td["eagerness"] = s.eagerness
    td["create_response"] = s.create_response
    td["interrupt_response"] = s.interrupt_response
    return td


def _transcription(s: SessionSettings) -> dict[str, Any] | None:
    if s.input_transcription_model is None:
        return None
    tr: dict[str, Any] = {"model": s.input_transcription_model}
    if s.transcription_language:
        tr["language"] = s.transcription_language
    return tr


def _noise_reduction(s: SessionSettings) -> dict[str, Any] | None:
    return None if s.noise_reduction is None else {"type": s.noise_reduction}


def _tools(s: SessionSettings) -> list[dict[str, Any]]:
    return [function_tool(t) for t in s.tools] + [mcp_tool(m) for m in s.mcp_servers]


def _ga_voice(voice: str) -> str | dict[str, str]:
    # Built-in voices go by name; a custom voice is the object `{"id": "voice_..."}`.
    return {"id": voice} if voice.startswith(CUSTOM_VOICE_PREFIX) else voice


def _ga_session(s: SessionSettings, model: WireModel) -> dict[str, Any]:
    session: dict[str, Any] = {
        "type": "realtime",
        "model": model.name,
        "instructions": s.instructions,
        "output_modalities": [s.output_modality],
        "audio": {
            "input": {
                "format": dict(_GA_FORMAT),
                "transcription": _transcription(s),
                "noise_reduction": _noise_reduction(s),
                "turn_detection": _turn_detection(s),
            },
            "output": {"format": dict(_GA_FORMAT), "voice": _ga_voice(s.voice), "speed": s.speed},
        },
        "tools": _tools(s),
        "tool_choice": s.tool_choice,
    }
    if s.max_output_tokens is not None:
        session["max_output_tokens"] = s.max_output_tokens
    if s.reasoning_effort is not None:
        session["reasoning"] = {"effort": s.reasoning_effort}
    if s.truncation != "auto":
        session["truncation"] = (
            s.truncation if isinstance(s.truncation, str) else dict(s.truncation)
        )
    return session


def _beta_modalities(modality: OutputModality) -> list[str]:
    # Beta audio answers need "text" too (the transcript); GA "audio" implies it.
    return ["text", "audio"] if modality == "audio" else ["text"]


def _beta_session(s: SessionSettings, model: WireModel) -> dict[str, Any]:
    session: dict[str, Any] = {
        "model": model.name,
        "modalities": _beta_modalities(s.output_modality),
        "instructions": s.instructions,
        "voice": s.voice,
        "input_audio_format": _BETA_FORMAT,
        "output_audio_format": _BETA_FORMAT,
        "input_audio_transcription": _transcription(s),
        "input_audio_noise_reduction": _noise_reduction(s),
        "turn_detection": _turn_detection(s),
        "tools": _tools(s),
        "tool_choice": s.tool_choice,
    }
    if s.temperature is not None:
        session["temperature"] = s.temperature
    if s.max_output_tokens is not None:
        session["max_response_output_tokens"] = s.max_output_tokens
    if s.speed != 1.0:
        # `speed` came late to beta; older preview snapshots may not know it, so only send
        # it when it changes something.
        session["speed"] = s.speed
    return session


def build_session(settings: SessionSettings, model: WireModel) -> dict[str, Any]:
    """The `session` object of a session.update for `model`'s protocol; raises if unsupported."""
    check_settings(settings, model)
    if model.protocol == "ga":
        return _ga_session(settings, model)
    return _beta_session(settings, model)


def build_session_update(settings: SessionSettings, model: WireModel) -> dict[str, Any]:
    """A complete session.update client event for `model` (GA or beta by `model.protocol`)."""
    return {"type": "session.update", "session": build_session(settings, model)}
