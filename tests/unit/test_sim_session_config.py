"""The simulator's session.update validation and rendering per flavour, field by field."""

from __future__ import annotations

from typing import Any

import pytest

from edge_voice.models.catalog import default_catalog
from edge_voice.sim.errors import ClientError
from edge_voice.sim.session_config import (
    SessionState,
    TurnDetection,
    apply_update,
    render_session,
)

CATALOG = default_catalog()
GA = CATALOG.get("gpt-realtime")
REASONING = CATALOG.get("gpt-realtime-2")
BETA = CATALOG.get("gpt-4o-realtime-preview")
LAUNCH = CATALOG.get("gpt-4o-realtime-preview-2024-10-01")  # no semantic_vad


def ga(update: dict[str, Any], model: Any = GA, state: SessionState | None = None) -> SessionState:
    return apply_update(
        state or SessionState(model=model.name),
        {"type": "realtime", **update},
        "ga",
        model,
        voice_locked=False,
    )


def beta(update: dict[str, Any], model: Any = BETA) -> SessionState:
    return apply_update(SessionState(model=model.name), update, "beta", model, voice_locked=False)


def refused(call: Any, *args: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value


def test_the_update_must_be_an_object() -> None:
    state = SessionState(model=GA.name)
    error = refused(apply_update, state, [], "ga", GA, voice_locked=False)
    assert (error.code, error.param) == ("invalid_type", "session")


def test_ga_session_type_must_be_realtime() -> None:
    error = refused(
        apply_update,
        SessionState(model=GA.name),
        {"type": "transcription"},
        "ga",
        GA,
        voice_locked=False,
    )
    assert (error.code, error.param) == ("invalid_value", "session.type")


def test_ga_top_level_fields() -> None:
    s = ga(
        {
            "output_modalities": ["text"],
            "max_output_tokens": 200,
            "tracing": "auto",
            "truncation": "disabled",
            "prompt": {"id": "pmpt_1"},
            "include": ["item.input_audio_transcription.logprobs"],
        }
    )
    assert not s.audio_out and s.max_output_tokens == 200
    assert (s.tracing, s.truncation, s.prompt) == ("auto", "disabled", {"id": "pmpt_1"})
    assert s.include == ["item.input_audio_transcription.logprobs"]
    assert ga({"include": []}).include is None
    assert ga({"output_modalities": ["audio"]}).audio_out
    assert ga({"max_output_tokens": "inf"}).max_output_tokens == "inf"


@pytest.mark.parametrize(
    ("update", "code", "param"),
    [
        ({"output_modalities": ["audio", "text"]}, "invalid_value", "session.output_modalities"),
        ({"output_modalities": "audio"}, "invalid_type", "session.output_modalities"),
        ({"max_output_tokens": 0}, "integer_below_min_value", "session.max_output_tokens"),
        ({"include": "all"}, "invalid_type", "session.include"),
        ({"reasoning": {"effort": "low"}}, "unknown_parameter", "session.reasoning"),
        ({"parallel_tool_calls": True}, "unknown_parameter", "session.parallel_tool_calls"),
        ({"audio": {"speakers": {}}}, "unknown_parameter", "session.audio.speakers"),
        ({"audio": {"input": []}}, "invalid_type", "session.audio.input"),
        ({"audio": {"input": {"gain": 1}}}, "unknown_parameter", "session.audio.input.gain"),
        (
            {"audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}},
            "invalid_value",
            "session.audio.input.format.rate",
        ),
        (
            {"audio": {"input": {"noise_reduction": {"type": "studio"}}}},
            "invalid_value",
            "session.audio.input.noise_reduction.type",
        ),
        (
            {"audio": {"input": {"transcription": {"model": "whisper-2"}}}},
            "invalid_value",
            "session.audio.input.transcription.model",
        ),
        ({"audio": {"output": {"volume": 1}}}, "unknown_parameter", "session.audio.output.volume"),
        (
            {"audio": {"output": {"speed": 2.0}}},
            "decimal_above_max_value",
            "session.audio.output.speed",
        ),
        (
            {"audio": {"output": {"format": {"type": "mp3"}}}},
            "invalid_value",
            "session.audio.output.format.type",
        ),
    ],
)
def test_ga_refusals(update: dict[str, Any], code: str, param: str) -> None:
    error = refused(ga, update)
    assert (error.code, error.param) == (code, param)


def test_ga_fields_checked_in_order_first_error_wins() -> None:
    error = refused(ga, {"max_output_tokens": 0, "output_modalities": ["x"], "instructions": 1})
    assert error.param == "session.instructions"
    error = refused(ga, {"max_output_tokens": 0, "output_modalities": ["x"]})
    assert error.param == "session.output_modalities"
    error = refused(
        ga,
        {
            "audio": {
                "output": {"speed": 9},
                "input": {"format": {"type": "mp3"}, "turn_detection": {"type": "x"}},
            }
        },
    )
    assert error.param == "session.audio.input.format.type"


def test_ga_reasoning_and_parallel_tool_calls_where_the_model_has_them() -> None:
    s = ga({"reasoning": {"effort": "high"}, "parallel_tool_calls": False}, REASONING)
    assert s.reasoning == {"effort": "high"} and s.parallel_tool_calls is False
    rendered = render_session(s, "ga", "sess_1", 9)
    assert rendered["reasoning"] == {"effort": "high"}
    assert rendered["parallel_tool_calls"] is False
    assert "reasoning" not in render_session(ga({}), "ga", "sess_1", 9)
    error = refused(ga, {"parallel_tool_calls": "yes"}, REASONING)
    assert (error.code, error.param) == ("invalid_type", "session.parallel_tool_calls")


def test_ga_audio_fields() -> None:
    s = ga(
        {
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "transcription": {"model": "gpt-4o-transcribe", "language": "de"},
                    "noise_reduction": {"type": "far_field"},
                    "turn_detection": None,
                },
                "output": {"format": {"type": "audio/pcma"}, "voice": "cedar", "speed": 1.25},
            }
        }
    )
    assert (s.input_format, s.output_format) == ("audio/pcmu", "audio/pcma")
    assert s.transcription == {"model": "gpt-4o-transcribe", "language": "de"}
    assert s.noise_reduction == {"type": "far_field"}
    assert s.turn_detection is None
    assert (s.voice, s.speed) == ("cedar", 1.25)
    audio = render_session(s, "ga", "sess_1", 9)["audio"]
    assert audio["input"]["format"] == {"type": "audio/pcmu"}
    assert audio["output"] == {"format": {"type": "audio/pcma"}, "voice": "cedar", "speed": 1.25}
    assert ga({"audio": {}}).input_format == "audio/pcm"
    off = ga({"audio": {"input": {"transcription": None, "noise_reduction": None}}})
    assert off.transcription is None and off.noise_reduction is None


def test_beta_fields() -> None:
    s = beta(
        {
            "modalities": ["text"],
            "voice": "verse",
            "input_audio_format": "g711_ulaw",
            "output_audio_format": "g711_alaw",
            "input_audio_transcription": {"model": "whisper-1"},
            "input_audio_noise_reduction": {"type": "near_field"},
            "turn_detection": {"type": "semantic_vad", "eagerness": "low"},
            "temperature": 0.7,
            "max_response_output_tokens": 50,
            "speed": 0.5,
            "tracing": "auto",
        }
    )
    assert not s.audio_out and s.voice == "verse"
    assert (s.input_format, s.output_format) == ("audio/pcmu", "audio/pcma")
    assert s.transcription == {"model": "whisper-1"}
    assert s.noise_reduction == {"type": "near_field"}
    assert s.turn_detection == TurnDetection(type="semantic_vad", eagerness="low")
    assert (s.temperature, s.max_output_tokens, s.speed, s.tracing) == (0.7, 50, 0.5, "auto")
    rendered = render_session(s, "beta", "sess_1", 9)
    assert rendered["modalities"] == ["text"]
    assert rendered["input_audio_format"] == "g711_ulaw"
    assert rendered["output_audio_format"] == "g711_alaw"
    assert rendered["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": True,
        "interrupt_response": True,
    }
    assert beta({"modalities": ["audio", "text"]}).audio_out


@pytest.mark.parametrize(
    ("update", "code", "param"),
    [
        ({"type": "realtime"}, "unknown_parameter", "session.type"),
        ({"modalities": ["audio"]}, "invalid_value", "session.modalities"),
        ({"input_audio_format": "mp3"}, "invalid_value", "session.input_audio_format"),
        ({"output_audio_format": "pcm24"}, "invalid_value", "session.output_audio_format"),
        ({"temperature": 0.1}, "decimal_below_min_value", "session.temperature"),
        (
            {"max_response_output_tokens": 5000},
            "integer_above_max_value",
            "session.max_response_output_tokens",
        ),
        ({"speed": "fast"}, "invalid_type", "session.speed"),
        ({"model": "gpt-realtime"}, "invalid_value", "session.model"),
    ],
)
def test_beta_refusals(update: dict[str, Any], code: str, param: str) -> None:
    error = refused(beta, update)
    assert (error.code, error.param) == (code, param)


def test_beta_modalities_message_names_the_combinations() -> None:
    assert refused(beta, {"modalities": ["audio"]}).message == (
        "Invalid modalities: ['audio']. Supported combinations are: ['text'] and ['audio', 'text']."
    )
    assert refused(beta, {"input_audio_format": "mp3"}).message == (
        "Invalid value: 'mp3'. Supported values are: 'pcm16', 'g711_ulaw', and 'g711_alaw'."
    )


def test_server_vad_fields_and_their_limits() -> None:
    td = {
        "type": "server_vad",
        "threshold": 0.7,
        "prefix_padding_ms": 100,
        "silence_duration_ms": 800,
        "idle_timeout_ms": 6000,
        "create_response": False,
        "interrupt_response": False,
    }
    s = ga({"audio": {"input": {"turn_detection": td}}})
    assert s.turn_detection == TurnDetection(
        threshold=0.7,
        prefix_padding_ms=100,
        silence_duration_ms=800,
        idle_timeout_ms=6000,
        create_response=False,
        interrupt_response=False,
    )
    assert render_session(s, "ga", "sess_1", 9)["audio"]["input"]["turn_detection"] == td
    beta_td = render_session(beta({"turn_detection": td}), "beta", "s", 9)["turn_detection"]
    assert "idle_timeout_ms" not in beta_td
    cleared = ga({"audio": {"input": {"turn_detection": {"idle_timeout_ms": None}}}})
    assert cleared.turn_detection == TurnDetection()


@pytest.mark.parametrize(
    ("td", "code", "param"),
    [
        ({"type": "semantic_vad", "threshold": 0.5}, "unknown_parameter", "threshold"),
        ({"type": "semantic_vad", "idle_timeout_ms": 5}, "unknown_parameter", "idle_timeout_ms"),
        ({"type": "semantic_vad", "eagerness": "eager"}, "invalid_value", "eagerness"),
        ({"eagerness": "low"}, "unknown_parameter", "eagerness"),
        ({"threshold": 1.5}, "decimal_above_max_value", "threshold"),
        ({"prefix_padding_ms": -1}, "integer_below_min_value", "prefix_padding_ms"),
        ({"silence_duration_ms": 0.5}, "invalid_type", "silence_duration_ms"),
        ({"idle_timeout_ms": 4_000_000}, "integer_above_max_value", "idle"),
        ({"create_response": "yes"}, "invalid_type", "create_response"),
        ({"interrupt_response": 1}, "invalid_type", "interrupt_response"),
        ({"type": "push_to_talk"}, "invalid_value", "type"),
        ({"mode": "auto"}, "unknown_parameter", "mode"),
    ],
)
def test_turn_detection_refusals(td: dict[str, Any], code: str, param: str) -> None:
    error = refused(ga, {"audio": {"input": {"turn_detection": td}}})
    assert (error.code, error.param) == (code, f"session.audio.input.turn_detection.{param}")


def test_semantic_vad_needs_the_feature() -> None:
    error = refused(beta, {"turn_detection": {"type": "semantic_vad"}}, LAUNCH)
    assert (error.code, error.param) == ("invalid_value", "session.turn_detection.type")
    assert error.message == "Invalid value: 'semantic_vad'. Supported values are: 'server_vad'."


def test_turn_detection_keeps_earlier_values_of_the_same_kind_only() -> None:
    first = ga({"audio": {"input": {"turn_detection": {"threshold": 0.9}}}})
    same = ga({"audio": {"input": {"turn_detection": {"silence_duration_ms": 900}}}}, state=first)
    assert same.turn_detection == TurnDetection(threshold=0.9, silence_duration_ms=900)
    other = ga({"audio": {"input": {"turn_detection": {"type": "semantic_vad"}}}}, state=same)
    assert other.turn_detection == TurnDetection(type="semantic_vad")
    assert first.turn_detection == TurnDetection(threshold=0.9)  # the old state is unchanged


def test_voice_change_refused_once_locked() -> None:
    state = SessionState(model=GA.name)
    update = {"type": "realtime", "audio": {"output": {"voice": "cedar"}}}
    error = refused(apply_update, state, update, "ga", GA, voice_locked=True)
    assert (error.code, error.param) == ("cannot_update_voice", "session.audio.output.voice")
    error = refused(
        apply_update,
        SessionState(model=BETA.name),
        {"voice": "ash"},
        "beta",
        BETA,
        voice_locked=True,
    )
    assert error.param == "session.voice"
    same = apply_update(
        state,
        {"type": "realtime", "audio": {"output": {"voice": "alloy"}}},
        "ga",
        GA,
        voice_locked=True,
    )
    assert same.voice == "alloy"
