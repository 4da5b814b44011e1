"""session.update and response.create built from one SessionSettings for GA and beta models."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from edge_voice.models.catalog import default_catalog
from edge_voice.realtime.errors import (
    FeatureNotSupportedError,
    InvalidSettingError,
    RealtimeError,
    VoiceNotSupportedError,
)
from edge_voice.realtime.protocol import SessionUpdate
from edge_voice.realtime.session_builders import (
    SessionSettings,
    build_session_update,
    dropped_fields,
)

CATALOG = default_catalog()
GA = CATALOG.get("gpt-realtime")
BETA = CATALOG.get("gpt-4o-realtime-preview")
LAUNCH = CATALOG.get("gpt-4o-realtime-preview-2024-10-01")
REASONING = CATALOG.get("gpt-realtime-2")

LIGHT_TOOL = {
    "type": "function",
    "name": "set_light",
    "description": "Switch a light",
    "parameters": {
        "type": "object",
        "properties": {"on": {"type": "boolean"}},
        "required": ["on"],
    },
}
SETTINGS = SessionSettings(
    model="gpt-realtime",
    voice="verse",
    instructions="Be brief.",
    tools=(LIGHT_TOOL,),
    input_transcription_model="gpt-4o-mini-transcribe",
    noise_reduction="far_field",
    temperature=0.8,
    max_output_tokens=1024,
)


def wire(event: dict[str, Any]) -> str:
    """The exact text the client puts on the socket."""
    return SessionUpdate(session=event["session"]).to_json()


def test_ga_session_update_exact_json() -> None:
    expected = (
        '{"type":"session.update","session":{"type":"realtime","model":"gpt-realtime",'
        '"instructions":"Be brief.","output_modalities":["audio"],"audio":{"input":{'
        '"format":{"type":"audio/pcm","rate":24000},'
        '"transcription":{"model":"gpt-4o-mini-transcribe"},'
        '"noise_reduction":{"type":"far_field"},'
        '"turn_detection":{"type":"server_vad","threshold":0.5,"prefix_padding_ms":300,'
        '"silence_duration_ms":500,"create_response":true,"interrupt_response":true}},'
        '"output":{"format":{"type":"audio/pcm","rate":24000},"voice":"verse","speed":1.0}},'
        '"tools":[{"type":"function","name":"set_light","description":"Switch a light",'
        '"parameters":{"type":"object","properties":{"on":{"type":"boolean"}},'
        '"required":["on"]}}],"tool_choice":"auto","max_output_tokens":1024}}'
    )
    assert wire(build_session_update(SETTINGS, GA)) == expected
    # The plain-dict form serializes to the same text (what the simulator receives).
    assert json.dumps(build_session_update(SETTINGS, GA), separators=(",", ":")) == expected


def test_beta_session_update_exact_json_from_the_same_settings() -> None:
    settings = dataclasses.replace(
        SETTINGS, model="gpt-4o-realtime-preview", input_transcription_model="whisper-1"
    )
    expected = (
        '{"type":"session.update","session":{"model":"gpt-4o-realtime-preview",'
        '"modalities":["text","audio"],"instructions":"Be brief.","voice":"verse",'
        '"input_audio_format":"pcm16","output_audio_format":"pcm16",'
        '"input_audio_transcription":{"model":"whisper-1"},'
        '"input_audio_noise_reduction":{"type":"far_field"},'
        '"turn_detection":{"type":"server_vad","threshold":0.5,"prefix_padding_ms":300,'
        '"silence_duration_ms":500,"create_response":true,"interrupt_response":true},'
        '"tools":[{"type":"function","name":"set_light","description":"Switch a light",'
        '"parameters":{"type":"object","properties":{"on":{"type":"boolean"}},'
        '"required":["on"]}}],"tool_choice":"auto","temperature":0.8,'
        '"max_response_output_tokens":1024}}'
    )
    assert wire(build_session_update(settings, BETA)) == expected


def test_output_is_deterministic_and_not_aliased() -> None:
    first = build_session_update(SETTINGS, GA)
    first["session"]["tools"][0]["parameters"]["type"] = "mutated"
    assert wire(build_session_update(SETTINGS, GA)) == wire(build_session_update(SETTINGS, GA))
    assert LIGHT_TOOL["parameters"]["type"] == "object"  # type: ignore[index]


def test_temperature_is_never_sent_on_ga_and_reported_as_dropped() -> None:
    text = wire(build_session_update(SETTINGS, GA))
    assert "temperature" not in text
    assert dropped_fields(SETTINGS, GA) == ("temperature",)
    beta = dataclasses.replace(SETTINGS, model=BETA.name)
    assert dropped_fields(beta, BETA) == ()


def test_semantic_vad_shape_and_manual_turns() -> None:
    semantic = dataclasses.replace(SETTINGS, turn_detection="semantic_vad", eagerness="low")
    td = build_session_update(semantic, GA)["session"]["audio"]["input"]["turn_detection"]
    assert td == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": True,
        "interrupt_response": True,
    }
    manual = dataclasses.replace(SETTINGS, turn_detection=None, input_transcription_model=None)
    ga_input = build_session_update(manual, GA)["session"]["audio"]["input"]
    assert ga_input["turn_detection"] is None and ga_input["transcription"] is None
    beta = build_session_update(dataclasses.replace(manual, model=BETA.name), BETA)["session"]
    assert beta["turn_detection"] is None and beta["input_audio_transcription"] is None


def test_text_modality_language_speed_and_reasoning() -> None:
    settings = SessionSettings(
        model=REASONING.name,
        voice="cedar",
        output_modality="text",
        transcription_language="de",
        input_transcription_model="gpt-4o-transcribe",
        speed=1.2,
        reasoning_effort="low",
    )
    session = build_session_update(settings, REASONING)["session"]
    assert session["output_modalities"] == ["text"]
    assert session["audio"]["input"]["transcription"] == {
        "model": "gpt-4o-transcribe",
        "language": "de",
    }
    assert session["audio"]["output"]["speed"] == 1.2
    assert session["reasoning"] == {"effort": "low"}
    assert list(session)[-1] == "reasoning"


def test_beta_speed_only_when_it_changes_something() -> None:
    base = SessionSettings(model=BETA.name, output_modality="text")
    assert "speed" not in build_session_update(base, BETA)["session"]
    fast = build_session_update(dataclasses.replace(base, speed=1.3), BETA)["session"]
    assert fast["speed"] == 1.3
    assert fast["modalities"] == ["text"]


def test_mcp_tools_on_ga_follow_function_tools() -> None:
    mcp = {"server_label": "ha", "server_url": "https://mcp.local", "require_approval": "never"}
    settings = dataclasses.replace(SETTINGS, mcp_servers=(mcp,))
    tools = build_session_update(settings, GA)["session"]["tools"]
    assert [t["type"] for t in tools] == ["function", "mcp"]
    assert tools[1] == {"type": "mcp", **mcp}
    assert next(iter(tools[1])) == "type"


@pytest.mark.parametrize(
    ("model", "changes", "error", "field"),
    [
        (BETA, {"voice": "cedar"}, VoiceNotSupportedError, "voice"),
        (BETA, {"voice": "marin"}, VoiceNotSupportedError, "voice"),
        (GA, {"voice": "nova"}, VoiceNotSupportedError, "voice"),
        (LAUNCH, {"voice": "verse"}, VoiceNotSupportedError, "voice"),
        (BETA, {"mcp_servers": ({"server_label": "x"},)}, FeatureNotSupportedError, "mcp_servers"),
        (LAUNCH, {"turn_detection": "semantic_vad"}, FeatureNotSupportedError, "turn_detection"),
        (GA, {"reasoning_effort": "high"}, FeatureNotSupportedError, "reasoning_effort"),
        (BETA, {"reasoning_effort": "high"}, FeatureNotSupportedError, "reasoning_effort"),
    ],
)
def test_unsupported_settings_raise_instead_of_being_sent(
    model: Any, changes: dict[str, Any], error: type[Exception], field: str
) -> None:
    settings = dataclasses.replace(SETTINGS, **{"model": model.name, "voice": "alloy", **changes})
    with pytest.raises(error) as info:
        build_session_update(settings, model)
    assert isinstance(info.value, RealtimeError)
    assert info.value.field == field  # type: ignore[attr-defined]
    assert model.name in str(info.value)


def test_voice_error_lists_the_available_voices() -> None:
    with pytest.raises(VoiceNotSupportedError) as info:
        build_session_update(SessionSettings(model=BETA.name, voice="cedar"), BETA)
    assert info.value.voice == "cedar"
    assert "marin" not in info.value.available and "verse" in info.value.available
    assert not info.value.fallback_worthy


def test_settings_for_another_model_are_refused() -> None:
    with pytest.raises(InvalidSettingError) as info:
        build_session_update(SETTINGS, BETA)
    assert info.value.field == "model"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"model": ""}, "model"),
        ({"voice": ""}, "voice"),
        ({"turn_detection": "push_to_talk"}, "turn_detection"),
        ({"eagerness": "eager"}, "eagerness"),
        ({"noise_reduction": "studio"}, "noise_reduction"),
        ({"reasoning_effort": "max"}, "reasoning_effort"),
        ({"output_modality": "video"}, "output_modality"),
        ({"threshold": 1.5}, "threshold"),
        ({"speed": 2.0}, "speed"),
        ({"temperature": 0.2}, "temperature"),
        ({"max_output_tokens": 0}, "max_output_tokens"),
        ({"max_output_tokens": 5000}, "max_output_tokens"),
        ({"max_output_tokens": True}, "max_output_tokens"),
        ({"silence_duration_ms": -1}, "turn_detection"),
        ({"tools": ({"type": "function"},)}, "tools"),
        ({"tools": ({"type": "mcp", "name": "x"},)}, "tools"),
        ({"mcp_servers": ({"type": "mcp"},)}, "mcp_servers"),
    ],
)
def test_invalid_values_are_rejected_when_settings_are_made(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidSettingError) as info:
        dataclasses.replace(SETTINGS, **changes)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_max_output_tokens_inf_is_allowed() -> None:
    settings = dataclasses.replace(SETTINGS, max_output_tokens="inf")
    assert build_session_update(settings, GA)["session"]["max_output_tokens"] == "inf"


def test_function_tool_is_normalized_to_the_flat_shape() -> None:
    settings = dataclasses.replace(SETTINGS, tools=({"name": "ping"},))
    assert build_session_update(settings, GA)["session"]["tools"] == [
        {
            "type": "function",
            "name": "ping",
            "description": "",
            "parameters": {"type": "object", "properties": {}},
        }
    ]
