"""The simulator's `response.create` options: merged over the session, validated per flavour."""

from __future__ import annotations

from typing import Any

import pytest

from edge_voice.models.catalog import default_catalog
from edge_voice.sim.errors import ClientError
from edge_voice.sim.response_options import ResponseOptions, parse_options
from edge_voice.sim.session_config import SessionState

CATALOG = default_catalog()
GA = CATALOG.get("gpt-realtime")
BETA = CATALOG.get("gpt-4o-realtime-preview")
LIGHT = {"type": "function", "name": "set_light", "parameters": {"type": "object"}}


def session(model: Any) -> SessionState:
    return SessionState(
        model=model.name, instructions="Be brief.", tools=[LIGHT], max_output_tokens=300
    )


def ga(raw: Any, *, voice_locked: bool = False) -> ResponseOptions:
    return parse_options(raw, "ga", GA, session(GA), voice_locked=voice_locked)


def beta(raw: Any, *, voice_locked: bool = False) -> ResponseOptions:
    return parse_options(raw, "beta", BETA, session(BETA), voice_locked=voice_locked)


def refused(parse: Any, raw: Any, **kw: Any) -> ClientError:
    with pytest.raises(ClientError) as info:
        parse(raw, **kw)
    return info.value


def test_without_options_the_session_settings_apply() -> None:
    assert ga(None) == ResponseOptions(
        instructions="Be brief.",
        tool_names={"set_light"},
        tool_choice="auto",
        audio_out=True,
        voice="alloy",
        max_output_tokens=300,
        metadata=None,
        in_conversation=True,
    )
    assert ga({}) == ga(None)


def test_ga_options_override_the_session() -> None:
    opts = ga(
        {
            "instructions": "Say hi.",
            "tools": [
                {"type": "function", "name": "read_sensor"},
                {"type": "mcp", "server_label": "ha"},
            ],
            "tool_choice": "required",
            "max_output_tokens": 20,
            "metadata": {"topic": "greeting"},
            "conversation": "none",
            "output_modalities": ["text"],
            "audio": {"output": {"voice": "cedar", "format": {"type": "audio/pcm"}}},
            "input": [],
            "prompt": None,
        }
    )
    assert opts == ResponseOptions(
        instructions="Say hi.",
        tool_names={"read_sensor"},
        tool_choice="required",
        audio_out=False,
        voice="cedar",
        max_output_tokens=20,
        metadata={"topic": "greeting"},
        in_conversation=False,
        no_context=True,  # `input: []`: only the instructions are billed
    )
    assert not ga({"input": [{"type": "item_reference", "id": "item_1"}]}).no_context
    assert ga({"audio": {}}).voice == "alloy"
    assert ga({"conversation": "auto", "metadata": None}).in_conversation


def test_beta_options_override_the_session() -> None:
    opts = beta(
        {
            "modalities": ["text"],
            "voice": "verse",
            "max_response_output_tokens": "inf",
            "temperature": 0.7,
            "output_audio_format": "pcm16",
        }
    )
    assert (opts.audio_out, opts.voice, opts.max_output_tokens) == (False, "verse", "inf")
    assert beta({"modalities": ["audio", "text"]}).audio_out


@pytest.mark.parametrize(
    ("parse", "raw", "code", "param"),
    [
        (ga, [], "invalid_type", "response"),
        (ga, {"voice": "alloy"}, "unknown_parameter", "response.voice"),
        (ga, {"modalities": ["text"]}, "unknown_parameter", "response.modalities"),
        (beta, {"audio": {}}, "unknown_parameter", "response.audio"),
        (beta, {"prompt": {}}, "unknown_parameter", "response.prompt"),
        (ga, {"instructions": 3}, "invalid_type", "response.instructions"),
        (
            beta,
            {"tools": [{"type": "mcp", "server_label": "ha"}]},
            "invalid_value",
            "response.tools[0].type",
        ),
        (ga, {"tool_choice": "always"}, "invalid_value", "response.tool_choice"),
        (ga, {"max_output_tokens": 0}, "integer_below_min_value", "response.max_output_tokens"),
        (
            beta,
            {"max_response_output_tokens": 9999},
            "integer_above_max_value",
            "response.max_response_output_tokens",
        ),
        (ga, {"metadata": "x"}, "invalid_type", "response.metadata"),
        (ga, {"conversation": "new"}, "invalid_value", "response.conversation"),
        (
            ga,
            {"output_modalities": ["audio", "text"]},
            "invalid_value",
            "response.output_modalities",
        ),
        (beta, {"modalities": ["audio"]}, "invalid_value", "response.modalities"),
        (beta, {"modalities": "text"}, "invalid_type", "response.modalities"),
        (ga, {"audio": []}, "invalid_type", "response.audio"),
        (ga, {"audio": {"input": {}}}, "unknown_parameter", "response.audio.input"),
        (
            ga,
            {"audio": {"output": {"speed": 1}}},
            "unknown_parameter",
            "response.audio.output.speed",
        ),
        (
            ga,
            {"audio": {"output": {"voice": "nova"}}},
            "invalid_value",
            "response.audio.output.voice",
        ),
        (beta, {"voice": "marin"}, "invalid_value", "response.voice"),
    ],
)
def test_refusals(parse: Any, raw: Any, code: str, param: str) -> None:
    error = refused(parse, raw)
    assert (error.code, error.param) == (code, param)


def test_metadata_has_at_most_16_pairs() -> None:
    error = refused(ga, {"metadata": {str(i): "v" for i in range(17)}})
    assert (error.code, error.message) == ("invalid_value", "Metadata can have at most 16 pairs.")
    assert len(ga({"metadata": {str(i): "v" for i in range(16)}}).metadata or {}) == 16


@pytest.mark.parametrize("metadata", [5, 1.5, True, [["k", "v"]]])
def test_metadata_that_is_not_an_object_is_an_invalid_type_not_a_crash(metadata: Any) -> None:
    error = refused(ga, {"metadata": metadata})
    assert (error.code, error.param) == ("invalid_type", "response.metadata")


def test_modalities_error_lists_the_valid_combinations() -> None:
    assert refused(ga, {"output_modalities": ["audio", "text"]}).message == (
        "Invalid value: '['audio', 'text']'. Supported values are: '['audio']' and '['text']'."
    )
    assert refused(beta, {"modalities": ["audio"]}).message == (
        "Invalid value: '['audio']'. Supported values are: '['audio', 'text']' and '['text']'."
    )


def test_the_first_bad_option_is_the_error() -> None:
    raw = {"conversation": "new", "max_output_tokens": 0, "instructions": 1}
    assert refused(ga, raw).param == "response.instructions"
    raw = {"audio": {"output": {"voice": "nova"}}, "output_modalities": ["x"], "conversation": "x"}
    assert refused(ga, raw).param == "response.conversation"


def test_a_locked_voice_refuses_another_voice_only() -> None:
    error = refused(ga, {"audio": {"output": {"voice": "cedar"}}}, voice_locked=True)
    assert (error.code, error.param) == ("cannot_update_voice", "response.audio.output.voice")
    assert refused(beta, {"voice": "ash"}, voice_locked=True).param == "response.voice"
    assert beta({"voice": "alloy"}, voice_locked=True).voice == "alloy"
