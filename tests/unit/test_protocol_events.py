"""Server events of both flavours normalize to one vocabulary; client events, URL and headers."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest

from edge_voice.realtime import normalized as ev
from edge_voice.realtime import server_events as w
from edge_voice.realtime.protocol import (
    BETA_HEADER,
    ConversationItemCreate,
    ConversationItemTruncate,
    InputAudioBufferAppend,
    Normalizer,
    ResponseCancel,
    ResponseCreate,
    _copy,
    append_audio_json,
    build_headers,
    build_url,
    function_call_output_item,
    text_item,
)
from edge_voice.realtime.server_events import (
    BETA_TO_GA_EVENT_NAMES,
    PASSTHROUGH_EVENT_TYPES,
    SERVER_EVENT_MODELS,
)

PCM = bytes(range(256)) * 4
B64 = base64.b64encode(PCM).decode()


def norm(event: dict[str, Any]) -> ev.RealtimeEvent | None:
    return Normalizer().feed(json.dumps(event))


# Each beta event body, and the GA type that carries the same body.
PAIRS: list[tuple[dict[str, Any], str, ev.RealtimeEvent]] = [
    (
        {"type": "response.audio.delta", "response_id": "r1", "item_id": "i1", "delta": B64},
        "response.output_audio.delta",
        ev.AudioDelta("r1", "i1", PCM),
    ),
    (
        {"type": "response.audio.done", "response_id": "r1", "item_id": "i1"},
        "response.output_audio.done",
        ev.AudioDone("r1", "i1"),
    ),
    (
        {
            "type": "response.audio_transcript.delta",
            "response_id": "r1",
            "item_id": "i1",
            "delta": "Hel",
        },
        "response.output_audio_transcript.delta",
        ev.TranscriptDelta("r1", "i1", "Hel"),
    ),
    (
        {
            "type": "response.audio_transcript.done",
            "response_id": "r1",
            "item_id": "i1",
            "transcript": "Hello",
        },
        "response.output_audio_transcript.done",
        ev.TranscriptDone("r1", "i1", "Hello"),
    ),
    (
        {"type": "response.text.delta", "response_id": "r1", "item_id": "i1", "delta": "Hi"},
        "response.output_text.delta",
        ev.TextDelta("r1", "i1", "Hi"),
    ),
    (
        {"type": "response.text.done", "response_id": "r1", "item_id": "i1", "text": "Hi!"},
        "response.output_text.done",
        ev.TextDone("r1", "i1", "Hi!"),
    ),
    (
        {
            "type": "conversation.item.created",
            "previous_item_id": "i0",
            "item": {"id": "i1", "type": "message", "role": "user", "content": []},
        },
        "conversation.item.added",
        ev.ItemAdded("i1", {"id": "i1", "type": "message", "role": "user", "content": []}, "i0"),
    ),
]


@pytest.mark.parametrize(("beta", "ga_type", "expected"), PAIRS, ids=[p[1] for p in PAIRS])
def test_beta_and_ga_names_normalize_to_the_same_event(
    beta: dict[str, Any], ga_type: str, expected: ev.RealtimeEvent
) -> None:
    ga = {**beta, "type": ga_type, "event_id": "event_1", "obfuscation": "xyz"}
    assert norm(beta) == expected
    assert norm(ga) == expected
    assert BETA_TO_GA_EVENT_NAMES[beta["type"]] == ga_type


def test_every_renamed_event_is_modelled_in_both_spellings() -> None:
    for beta_name, ga_name in BETA_TO_GA_EVENT_NAMES.items():
        assert beta_name in SERVER_EVENT_MODELS
        assert ga_name in SERVER_EVENT_MODELS
        assert SERVER_EVENT_MODELS[beta_name] is SERVER_EVENT_MODELS[ga_name]
    assert not PASSTHROUGH_EVENT_TYPES & set(SERVER_EVENT_MODELS)


def test_a_copy_plan_naming_a_missing_wire_field_fails_at_import() -> None:
    _copy(w.TextDeltaEvent, ev.TextDelta)
    with pytest.raises(TypeError, match="TextDoneEvent has no"):
        _copy(w.TextDoneEvent, ev.UserTranscript)  # `usage` is not a field of text.done


SAME_NAME: list[tuple[dict[str, Any], ev.RealtimeEvent]] = [
    (
        {
            "type": "session.created",
            "session": {"id": "sess_1", "model": "gpt-realtime-2025-08-28", "expires_at": 99},
        },
        ev.SessionCreated(
            {"id": "sess_1", "model": "gpt-realtime-2025-08-28", "expires_at": 99},
            "sess_1",
            "gpt-realtime-2025-08-28",
            99,
        ),
    ),
    (
        {"type": "session.updated", "session": {"voice": "marin"}},
        ev.SessionUpdated({"voice": "marin"}),
    ),
    (
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": 120, "item_id": "u1"},
        ev.SpeechStarted(120, "u1"),
    ),
    (
        {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 900, "item_id": "u1"},
        ev.SpeechStopped(900, "u1"),
    ),
    (
        {"type": "input_audio_buffer.committed", "item_id": "u1", "previous_item_id": None},
        ev.InputCommitted("u1", None),
    ),
    ({"type": "input_audio_buffer.cleared"}, ev.InputCleared()),
    (
        {
            "type": "input_audio_buffer.timeout_triggered",
            "item_id": "u2",
            "audio_start_ms": 1,
            "audio_end_ms": 2,
        },
        ev.InputTimeout("u2", 1, 2),
    ),
    (
        {"type": "conversation.item.done", "item": {"id": "a1", "status": "completed"}},
        ev.ItemDone("a1", {"id": "a1", "status": "completed"}),
    ),
    (
        {
            "type": "conversation.item.truncated",
            "item_id": "a1",
            "content_index": 0,
            "audio_end_ms": 1500,
        },
        ev.ItemTruncated("a1", 0, 1500),
    ),
    ({"type": "conversation.item.deleted", "item_id": "a1"}, ev.ItemDeleted("a1")),
    (
        {
            "type": "conversation.item.input_audio_transcription.delta",
            "item_id": "u1",
            "content_index": 0,
            "delta": "turn",
        },
        ev.UserTranscriptDelta("u1", "turn"),
    ),
    (
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "u1",
            "content_index": 0,
            "transcript": "turn on the light",
            "usage": {"type": "duration", "seconds": 1.5},
        },
        ev.UserTranscript("u1", "turn on the light", {"type": "duration", "seconds": 1.5}),
    ),
    (
        {
            "type": "conversation.item.input_audio_transcription.failed",
            "item_id": "u1",
            "content_index": 0,
            "error": {"type": "server_error", "code": "asr_failed", "message": "nope"},
        },
        ev.UserTranscriptFailed("u1", "asr_failed", "nope"),
    ),
    (
        {"type": "response.created", "response": {"id": "r1", "status": "in_progress"}},
        ev.ResponseCreated("r1", {"id": "r1", "status": "in_progress"}),
    ),
    (
        {
            "type": "response.function_call_arguments.delta",
            "response_id": "r1",
            "item_id": "f1",
            "call_id": "c1",
            "delta": '{"on"',
        },
        ev.FunctionCallArgumentsDelta("r1", "f1", "c1", '{"on"'),
    ),
    (
        {
            "type": "response.output_item.done",
            "response_id": "r1",
            "item": {"id": "a1", "type": "message"},
        },
        ev.OutputItemDone("r1", {"id": "a1", "type": "message"}),
    ),
    (
        {
            "type": "error",
            "event_id": "event_9",
            "error": {
                "type": "invalid_request_error",
                "code": "response_cancel_not_active",
                "message": "no active response",
                "param": None,
                "event_id": "cli_1",
            },
        },
        ev.ServerError(
            "invalid_request_error",
            "response_cancel_not_active",
            "no active response",
            None,
            "cli_1",
        ),
    ),
    (
        {
            "type": "rate_limits.updated",
            "rate_limits": [
                {"name": "tokens", "limit": 100, "remaining": 90, "reset_seconds": 1.5}
            ],
        },
        ev.RateLimits((ev.RateLimit("tokens", 100, 90, 1.5),)),
    ),
]


@pytest.mark.parametrize(("raw", "expected"), SAME_NAME, ids=[r[0]["type"] for r in SAME_NAME])
def test_events_with_shared_names(raw: dict[str, Any], expected: ev.RealtimeEvent) -> None:
    assert norm(raw) == expected


def test_response_done_carries_status_usage_and_output() -> None:
    usage = {"total_tokens": 127, "input_tokens": 120, "output_tokens": 7}
    event = norm(
        {
            "type": "response.done",
            "response": {
                "id": "r1",
                "object": "realtime.response",
                "status": "cancelled",
                "status_details": {"type": "cancelled", "reason": "turn_detected"},
                "usage": usage,
                "output": [{"id": "a1", "type": "message"}],
            },
        }
    )
    assert event == ev.ResponseDone(
        "r1",
        "cancelled",
        {"type": "cancelled", "reason": "turn_detected"},
        usage,
        ({"id": "a1", "type": "message"},),
    )


def _call_events(with_name: bool) -> list[dict[str, Any]]:
    item = {"id": "f1", "type": "function_call", "call_id": "c1", "name": "set_light"}
    done: dict[str, Any] = {
        "type": "response.function_call_arguments.done",
        "response_id": "r1",
        "item_id": "f1",
        "call_id": "c1",
        "arguments": '{"on":true}',
    }
    if with_name:
        done["name"] = "set_light"
    return [
        {"type": "response.output_item.added", "response_id": "r1", "item": item},
        done,
        {
            "type": "response.output_item.done",
            "response_id": "r1",
            "item": {**item, "arguments": '{"on":true}', "status": "completed"},
        },
    ]


REQUEST = ev.FunctionCallRequest("c1", "set_light", '{"on":true}', "f1", "r1")


@pytest.mark.parametrize("with_name", [True, False], ids=["ga", "beta"])
def test_a_function_call_is_requested_exactly_once(with_name: bool) -> None:
    n = Normalizer()
    out = [n.normalize(e) for e in _call_events(with_name)]
    assert isinstance(out[0], ev.OtherEvent)
    assert out[1] == REQUEST
    assert isinstance(out[2], ev.OutputItemDone)


def test_function_call_request_comes_from_output_item_done_when_the_name_is_unknown() -> None:
    n = Normalizer()
    events = _call_events(with_name=False)
    assert n.normalize(events[1]) is None  # beta arguments.done, name never seen
    assert n.normalize(events[2]) == REQUEST


def test_audio_delta_is_decoded_once_to_bytes() -> None:
    event = norm(
        {
            "type": "response.output_audio.delta",
            "response_id": "r",
            "item_id": "i",
            "content_index": 0,
            "delta": B64,
        }
    )
    assert isinstance(event, ev.AudioDelta)
    assert type(event.pcm) is bytes and event.pcm == PCM


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        b"\xff\xfe",
        "[1, 2]",
        '{"no_type": 1}',
        '{"type": 5}',
        '{"type": "response.output_audio.delta", "delta": "###"}',
        '{"type": "response.audio.delta"}',
        '{"type": "input_audio_buffer.speech_started", "audio_start_ms": "soon"}',
        '{"type": "error"}',
    ],
)
def test_malformed_frames_are_skipped(frame: str | bytes, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert Normalizer().feed(frame) is None
    assert caplog.records


def test_unknown_events_are_skipped_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    n = Normalizer()
    with caplog.at_level(logging.INFO):
        assert n.feed('{"type": "response.hologram.delta"}') is None
        assert n.feed('{"type": "response.hologram.delta"}') is None
    assert sum("response.hologram.delta" in r.getMessage() for r in caplog.records) == 1


def test_known_events_without_meaning_pass_through() -> None:
    raw = {"type": "response.content_part.added", "part": {"type": "audio"}}
    assert norm(raw) == ev.OtherEvent("response.content_part.added", raw)
    delta = {"type": "response.mcp_call_arguments.delta", "item_id": "m", "delta": "{"}
    assert norm(delta) == ev.OtherEvent("response.mcp_call_arguments.delta", delta)


def test_kinds_are_unique() -> None:
    kinds = [cls.kind for cls in ev.RealtimeEvent.__args__]
    assert len(kinds) == len(set(kinds))


# --- client events --------------------------------------------------------------------------


def test_append_fast_path_matches_the_typed_event() -> None:
    assert append_audio_json(PCM) == InputAudioBufferAppend(audio=B64).to_json()
    assert json.loads(append_audio_json(PCM)) == {"type": "input_audio_buffer.append", "audio": B64}


def test_client_events_serialize_compactly_without_unset_fields() -> None:
    assert ResponseCancel().to_json() == '{"type":"response.cancel"}'
    assert ResponseCancel(response_id="r1", event_id="e1").to_json() == (
        '{"type":"response.cancel","event_id":"e1","response_id":"r1"}'
    )
    assert ResponseCreate().to_json() == '{"type":"response.create"}'
    assert ConversationItemTruncate(item_id="a1", audio_end_ms=1200).to_json() == (
        '{"type":"conversation.item.truncate","item_id":"a1","content_index":0,"audio_end_ms":1200}'
    )
    created = ConversationItemCreate(item=function_call_output_item("c1", '{"ok":true}'))
    assert created.to_json() == (
        '{"type":"conversation.item.create","item":{"type":"function_call_output",'
        '"call_id":"c1","output":"{\\"ok\\":true}"}}'
    )


def test_text_items_use_each_flavours_content_type() -> None:
    assert text_item("hi", "user", "ga")["content"] == [{"type": "input_text", "text": "hi"}]
    assert text_item("hi", "user", "beta")["content"] == [{"type": "input_text", "text": "hi"}]
    assert text_item("ok", "assistant", "ga")["content"][0]["type"] == "output_text"
    assert text_item("ok", "assistant", "beta")["content"][0]["type"] == "text"
    assert text_item("be kind", "system", "ga")["role"] == "system"


# --- connection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "model", "url"),
    [
        (
            "wss://api.openai.com/v1/realtime",
            "gpt-realtime",
            "wss://api.openai.com/v1/realtime?model=gpt-realtime",
        ),
        (
            "ws://127.0.0.1:8765/v1/realtime",
            "gpt-4o-realtime-preview",
            "ws://127.0.0.1:8765/v1/realtime?model=gpt-4o-realtime-preview",
        ),
        (
            "wss://proxy.example/v1/realtime?api-version=2025-04-01",
            "gpt-realtime",
            "wss://proxy.example/v1/realtime?api-version=2025-04-01&model=gpt-realtime",
        ),
        (
            "wss://api.openai.com/v1/realtime?model=old&x=1",
            "gpt-realtime",
            "wss://api.openai.com/v1/realtime?x=1&model=gpt-realtime",
        ),
        (
            "https://api.openai.com/v1/realtime",
            "gpt-realtime",
            "wss://api.openai.com/v1/realtime?model=gpt-realtime",
        ),
        ("http://localhost:9000/v1/realtime/", "m", "ws://localhost:9000/v1/realtime/?model=m"),
        ("wss://h/v1/realtime?", "a b&c", "wss://h/v1/realtime?model=a+b%26c"),
        ("wss://h/v1/realtime#frag", "gpt-realtime", "wss://h/v1/realtime?model=gpt-realtime"),
    ],
)
def test_build_url(base: str, model: str, url: str) -> None:
    assert build_url(base, model) == url


@pytest.mark.parametrize("base", ["ftp://h/v1/realtime", "api.openai.com/v1/realtime", "wss://"])
def test_build_url_rejects_non_websocket_urls(base: str) -> None:
    with pytest.raises(ValueError, match="websocket"):
        build_url(base, "gpt-realtime")


def test_headers_per_protocol() -> None:
    assert build_headers("sk-x", "ga") == {"Authorization": "Bearer sk-x"}
    assert build_headers("sk-x", "beta") == {
        "Authorization": "Bearer sk-x",
        BETA_HEADER[0]: BETA_HEADER[1],
    }
    assert build_headers(None, "ga") == {}
    assert build_headers("", "beta") == {"OpenAI-Beta": "realtime=v1"}
