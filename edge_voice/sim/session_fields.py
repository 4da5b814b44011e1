"""Field-level validators shared by `session.update` and `response.create` checking."""

from __future__ import annotations

from typing import Any

from edge_voice.models.catalog import ModelInfo
from edge_voice.sim.errors import (
    ClientError,
    invalid_type,
    invalid_value,
    missing_parameter,
    out_of_range,
    unknown_parameter,
)

GA_SESSION_KEYS = (
    "type",
    "model",
    "instructions",
    "output_modalities",
    "audio",
    "tools",
    "tool_choice",
    "max_output_tokens",
    "tracing",
    "truncation",
    "include",
    "prompt",
)
BETA_SESSION_KEYS = (
    "model",
    "modalities",
    "instructions",
    "voice",
    "input_audio_format",
    "output_audio_format",
    "input_audio_transcription",
    "input_audio_noise_reduction",
    "turn_detection",
    "tools",
    "tool_choice",
    "temperature",
    "max_response_output_tokens",
    "speed",
    "tracing",
)
TRANSCRIPTION_MODELS = (
    "whisper-1",
    "gpt-4o-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-transcribe-latest",
    "gpt-transcribe",
    "gpt-live-transcribe",
    "gpt-4o-transcribe-diarize",
    "gpt-realtime-whisper",
)
_FUNCTION_TOOL_KEYS = {"type", "name", "description", "parameters"}
_MCP_TOOL_KEYS = {
    "type",
    "server_label",
    "server_url",
    "connector_id",
    "authorization",
    "headers",
    "allowed_tools",
    "require_approval",
    "server_description",
}


def check_keys(obj: dict[str, Any], allowed: set[str], path: str) -> None:
    """Reject the first key not in `allowed` (in the client's order, like the service)."""
    for key in obj:
        if key not in allowed:
            raise unknown_parameter(f"{path}.{key}")


def check_obj(obj: Any, allowed: set[str], path: str) -> dict[str, Any]:
    """`obj` must be an object with only `allowed` keys."""
    if not isinstance(obj, dict):
        raise invalid_type(path, "an object", obj)
    check_keys(obj, allowed, path)
    return obj


def string(value: Any, path: str) -> str:
    """A string."""
    if not isinstance(value, str):
        raise invalid_type(path, "a string", value)
    return value


def boolean(value: Any, path: str) -> bool:
    """A boolean."""
    if not isinstance(value, bool):
        raise invalid_type(path, "a boolean", value)
    return value


def number(value: Any, low: float, high: float, path: str) -> float:
    """A number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_type(path, "a decimal", value)
    if not low <= value <= high:
        raise out_of_range(path, float(value), low, high)
    return float(value)


def integer(value: Any, low: int, high: int, path: str) -> int:
    """An integer within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(path, "an integer", value)
    if not low <= value <= high:
        raise out_of_range(path, value, low, high)
    return int(value)


def str_list(value: Any, path: str) -> list[str]:
    """An array of strings."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_type(path, "an array of strings", value)
    return list(value)


def max_tokens(value: Any, path: str) -> int | str:
    """1..4096 or "inf"."""
    if value == "inf":
        return "inf"
    return integer(value, 1, 4096, path)


def voice(value: Any, model: ModelInfo, path: str) -> str:
    """A voice this model speaks with."""
    if isinstance(value, dict):
        # Custom voices exist only for approved accounts; the sim has none.
        raise ClientError("invalid_value", "Custom voices are not available.", param=path)
    if value not in model.voices:
        raise invalid_value(path, value, model.voices)
    return str(value)


def ga_format(value: Any, path: str) -> str:
    """A GA audio format object; PCM only at 24 kHz."""
    fmt = check_obj(value, {"type", "rate"}, path)
    kind = fmt.get("type")
    if kind not in ("audio/pcm", "audio/pcmu", "audio/pcma"):
        raise invalid_value(f"{path}.type", kind, ["audio/pcm", "audio/pcmu", "audio/pcma"])
    if kind == "audio/pcm" and fmt.get("rate", 24000) != 24000:
        raise invalid_value(f"{path}.rate", fmt.get("rate"), ["24000"])
    return str(kind)


def render_format(kind: str) -> dict[str, Any]:
    """A GA audio format object."""
    return {"type": kind, "rate": 24000} if kind == "audio/pcm" else {"type": kind}


def transcription(value: Any, path: str) -> dict[str, Any] | None:
    """Input transcription settings, or None (off)."""
    if value is None:
        return None
    obj = check_obj(value, {"model", "language", "prompt", "delay", "keywords", "languages"}, path)
    if "model" in obj and obj["model"] not in TRANSCRIPTION_MODELS:
        raise invalid_value(f"{path}.model", obj["model"], TRANSCRIPTION_MODELS)
    return dict(obj)


def noise_reduction(value: Any, path: str) -> dict[str, Any] | None:
    """Noise reduction settings, or None (off)."""
    if value is None:
        return None
    obj = check_obj(value, {"type", "strength"}, path)
    if obj.get("type") not in ("near_field", "far_field"):
        raise invalid_value(f"{path}.type", obj.get("type"), ["near_field", "far_field"])
    return dict(obj)


def reasoning(value: Any) -> dict[str, Any]:
    """Reasoning effort (models with the `reasoning` feature)."""
    obj = check_obj(value, {"effort"}, "session.reasoning")
    efforts = ["minimal", "low", "medium", "high", "xhigh"]
    if "effort" in obj and obj["effort"] not in efforts:
        raise invalid_value("session.reasoning.effort", obj["effort"], efforts)
    return dict(obj)


def tools(value: Any, model: ModelInfo, path: str, *, allow_mcp: bool) -> list[dict[str, Any]]:
    """Tool declarations; MCP only on GA models with the `mcp` feature."""
    if not isinstance(value, list):
        raise invalid_type(path, "an array", value)
    mcp_ok = allow_mcp and "mcp" in model.features
    out: list[dict[str, Any]] = []
    for index, tool in enumerate(value):
        p = f"{path}[{index}]"
        if not isinstance(tool, dict):
            raise invalid_type(p, "an object", tool)
        kinds = ["function", "mcp"] if mcp_ok else ["function"]
        kind = tool.get("type", "function")
        if kind not in kinds:
            raise invalid_value(f"{p}.type", kind, kinds)
        if kind == "function":
            check_keys(tool, _FUNCTION_TOOL_KEYS, p)
            if "name" not in tool:
                raise missing_parameter(f"{p}.name")
            string(tool["name"], f"{p}.name")
        else:
            check_keys(tool, _MCP_TOOL_KEYS, p)
            if "server_label" not in tool:
                raise missing_parameter(f"{p}.server_label")
        out.append(dict(tool))
    return out


def tool_choice(value: Any, path: str) -> Any:
    """ "none" | "auto" | "required" | {type: function, name} | {type: mcp, ...}."""
    if isinstance(value, str):
        if value not in ("none", "auto", "required"):
            raise invalid_value(path, value, ["none", "auto", "required"])
        return value
    obj = check_obj(value, {"type", "name", "server_label"}, path)
    if obj.get("type") not in ("function", "mcp"):
        raise invalid_value(f"{path}.type", obj.get("type"), ["function", "mcp"])
    return dict(obj)
