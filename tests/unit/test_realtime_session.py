"""RealtimeSession's connect/setup state machine and commands, against a scripted real server."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.frames import Close

from edge_voice.models.catalog import default_catalog
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import (
    AuthenticationError,
    ConnectError,
    ConnectTimeout,
    HandshakeError,
    ModelRefusedError,
    RealtimeError,
    ServerClosedError,
    SessionClosedError,
    SessionExpiredError,
    SessionSettingError,
    VoiceNotSupportedError,
)
from edge_voice.realtime.session import RealtimeSession
from edge_voice.realtime.session_builders import SessionSettings, build_session_update
from tests.support.broker import free_port
from tests.support.scripted_ws import ScriptedServer

CATALOG = default_catalog()
GA = CATALOG.get("gpt-realtime")
BETA = CATALOG.get("gpt-4o-realtime-preview")
KEY = "sk-test-0123456789SECRET"


def created(model: str = "gpt-realtime-2025-08-28") -> str:
    return json.dumps(
        {"type": "session.created", "session": {"id": "sess_1", "model": model, "expires_at": 7}}
    )


def error(code: str, message: str = "nope", param: str | None = None) -> str:
    return json.dumps(
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "code": code,
                "message": message,
                "param": param,
            },
        }
    )


def accept_updates(ws: ScriptedServer, event: dict[str, Any]) -> None:
    if event["type"] == "session.update":
        ws.push(json.dumps({"type": "session.updated", "session": event["session"]}))


@pytest.fixture
async def opened() -> AsyncIterator[dict[str, Any]]:
    """A real scripted server on loopback; sessions made by `session()` connect to it."""
    global _BASE_URL
    server = ScriptedServer(accept_updates)
    await server.start()
    _BASE_URL = server.url
    try:
        yield {"ws": server}
    finally:
        await server.stop()


_BASE_URL = "ws://127.0.0.1:1/v1/realtime"


def session(model: Any = GA, voice: str = "marin", **kw: Any) -> RealtimeSession:
    kw.setdefault("setup_timeout_s", 0.5)
    kw.setdefault("close_grace_s", 0.2)
    return RealtimeSession(
        SessionSettings(model=model.name, voice=voice),
        model,
        api_key=KEY,
        base_url=kw.pop("base_url", _BASE_URL),
        **kw,
    )


async def test_connect_ga_happy_path(opened: dict[str, Any]) -> None:
    ws: ScriptedServer = opened["ws"]
    ws.push(created(), json.dumps({"type": "conversation.created", "conversation": {}}))
    s = session()
    await s.connect()
    assert ws.request is not None
    assert ws.request.path == "/v1/realtime?model=gpt-realtime"
    assert ws.request.headers["Authorization"] == f"Bearer {KEY}"
    assert "OpenAI-Beta" not in ws.request.headers
    assert s._ping_interval_s == 20.0
    assert await ws.wait_sent(1) == [
        json.dumps(build_session_update(s.settings, GA), separators=(",", ":"))
    ]
    assert s.connected
    assert s.connect_time_s is not None and s.session_ready_time_s is not None
    assert 0 <= s.connect_time_s <= s.session_ready_time_s
    kinds = []
    ws.push(Close(1011, "boom"))
    with pytest.raises(ServerClosedError) as info:
        async for event in s.events():
            kinds.append(event.kind)
    assert kinds == ["session.created", "other", "session.updated"]
    assert info.value.recoverable and info.value.close_code == 1011


async def test_beta_connect_sends_the_beta_header_and_shape(opened: dict[str, Any]) -> None:
    opened["ws"].push(created("gpt-4o-realtime-preview-2025-06-03"))
    async with session(BETA, voice="verse") as s:
        assert opened["ws"].request.headers["OpenAI-Beta"] == "realtime=v1"
        update = json.loads((await opened["ws"].wait_sent(1))[0])
        assert update["session"]["voice"] == "verse"
        assert update["session"]["input_audio_format"] == "pcm16"
    assert await opened["ws"].wait_closed() == (1000, "")
    assert not s.connected


@pytest.mark.parametrize(
    ("frames", "cls", "code", "close_code"),
    [
        (
            [
                error("invalid_api_key", f"Incorrect API key provided: {KEY}"),
                Close(3000, "invalid_request_error.invalid_api_key"),
            ],
            AuthenticationError,
            "invalid_api_key",
            3000,
        ),
        (
            [
                error("invalid_model", 'Model "gpt-live-1" is not supported in realtime mode.'),
                Close(4000, "invalid_request_error.invalid_model"),
            ],
            ModelRefusedError,
            "invalid_model",
            4000,
        ),
        (
            [error("beta_api_shape_disabled"), Close(4000, "")],
            ModelRefusedError,
            "beta_api_shape_disabled",
            4000,
        ),
        (
            [Close(4000, "invalid_request_error.missing_model")],
            ModelRefusedError,
            "missing_model",
            4000,
        ),
        ([error("invalid_model")], ModelRefusedError, "invalid_model", None),
    ],
)
async def test_refusals_before_session_created(
    opened: dict[str, Any],
    frames: list[Any],
    cls: type[RealtimeError],
    code: str,
    close_code: int | None,
) -> None:
    opened["ws"].push(*frames)
    s = session()
    with pytest.raises(cls) as info:
        await s.connect()
    assert info.value.code == code
    assert info.value.close_code == close_code
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert opened["ws"].sent == []  # no session.update after a refusal
    assert not s.connected
    with pytest.raises(SessionClosedError):
        await s.append_audio(b"\0\0")


async def test_model_refusal_message_is_the_servers(opened: dict[str, Any]) -> None:
    message = 'Model "gpt-live-1" is not supported in realtime mode.'
    opened["ws"].push(error("invalid_model", message), Close(4000, ""))
    with pytest.raises(ModelRefusedError, match="not supported in realtime mode") as info:
        await session().connect()
    assert info.value.fallback_worthy and info.value.message == message


async def test_session_update_error_is_a_setting_error(opened: dict[str, Any]) -> None:
    ws: ScriptedServer = opened["ws"]

    def refuse(ws: ScriptedServer, event: dict[str, Any]) -> None:
        ws.push(error("invalid_value", "Invalid value: 'marin'.", "session.audio.output.voice"))

    ws.on_send = refuse
    ws.push(created())
    s = session()
    with pytest.raises(SessionSettingError) as info:
        await s.connect()
    assert info.value.code == "invalid_value"
    assert info.value.param == "session.audio.output.voice"
    assert info.value.fallback_worthy
    assert await ws.wait_closed()  # we hung up


async def test_unsupported_voice_raises_before_opening_a_socket(opened: dict[str, Any]) -> None:
    with pytest.raises(VoiceNotSupportedError):
        await session(BETA, voice="cedar").connect()
    assert opened["ws"].request is None


@pytest.mark.parametrize(
    ("push_created", "phase"), [(False, "session.created"), (True, "session.updated")]
)
async def test_setup_timeouts(opened: dict[str, Any], push_created: bool, phase: str) -> None:
    ws: ScriptedServer = opened["ws"]
    ws.on_send = None
    if push_created:
        ws.push(created())
    with pytest.raises(ConnectTimeout) as info:
        await session(setup_timeout_s=0.05).connect()
    assert info.value.phase == phase
    assert info.value.fallback_worthy


async def test_closed_during_setup_without_error(opened: dict[str, Any]) -> None:
    opened["ws"].push(Close(1011, "internal"))
    with pytest.raises(ServerClosedError) as info:
        await session().connect()
    assert info.value.close_code == 1011 and info.value.recoverable


@pytest.mark.parametrize(
    ("failure", "cls"),
    [("stall", ConnectTimeout), ("refused", ConnectError), ("no_such_host", ConnectError)],
)
async def test_socket_failures(
    opened: dict[str, Any], failure: str, cls: type[RealtimeError]
) -> None:
    kw: dict[str, Any] = {"connect_timeout_s": 0.3}
    if failure == "stall":
        opened["ws"].stall = True  # the upgrade is accepted by TCP, then nothing
    elif failure == "refused":
        kw["base_url"] = f"ws://127.0.0.1:{free_port()}/v1/realtime"
    else:
        kw["base_url"] = "ws://no-such-host.invalid:1/v1/realtime"
        kw["connect_timeout_s"] = 5.0
    with pytest.raises(cls) as info:
        await session(**kw).connect()
    assert info.value.retryable


async def test_http_403_at_upgrade(opened: dict[str, Any]) -> None:
    body = b'{"error":{"type":"invalid_request_error","code":"model_not_allowed","message":"x"}}'
    opened["ws"].reject = (403, body)
    with pytest.raises(HandshakeError) as info:
        await session().connect()
    assert info.value.status_code == 403 and info.value.code == "model_not_allowed"
    assert info.value.fallback_worthy


async def _ready(opened: dict[str, Any], model: Any = GA, voice: str = "marin") -> RealtimeSession:
    opened["ws"].push(created())
    s = session(model, voice=voice)
    await s.connect()
    return s


async def test_events_skip_garbage_and_yield_recoverable_errors(opened: dict[str, Any]) -> None:
    s = await _ready(opened)
    ws: ScriptedServer = opened["ws"]
    pcm = b"\x01\x02" * 240
    ws.push(
        "not json",
        json.dumps({"type": "brand.new.event"}),
        error("response_cancel_not_active"),
        json.dumps(
            {
                "type": "response.output_audio.delta",
                "response_id": "r",
                "item_id": "i",
                "delta": base64.b64encode(pcm).decode(),
            }
        ),
        error("session_expired", "Your session hit the maximum duration of 60 minutes."),
        Close(1001, ""),
    )
    seen: list[ev.RealtimeEvent] = []
    with pytest.raises(SessionExpiredError) as info:
        async for event in s.events():
            seen.append(event)
    assert [e.kind for e in seen] == [
        "session.created",
        "session.updated",
        "error",
        "audio.delta",
        "error",
    ]
    assert isinstance(seen[3], ev.AudioDelta) and seen[3].pcm == pcm
    assert info.value.close_code == 1001 and info.value.retryable
    assert s.close_code == 1001


async def test_an_old_error_does_not_explain_a_later_drop(opened: dict[str, Any]) -> None:
    s = await _ready(opened)
    opened["ws"].push(
        error("response_cancel_not_active"),
        json.dumps({"type": "input_audio_buffer.cleared"}),
        Close(1006, ""),
    )
    with pytest.raises(ServerClosedError) as info:
        async for _ in s.events():
            pass
    assert info.value.code is None and info.value.close_code == 1006


async def test_close_ends_events_cleanly(opened: dict[str, Any]) -> None:
    s = await _ready(opened)

    async def consume() -> list[str]:
        return [e.kind async for e in s.events()]

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    await s.close()
    await s.close()  # idempotent
    assert await asyncio.wait_for(task, 1) == ["session.created", "session.updated"]
    with pytest.raises(SessionClosedError):
        await s.cancel_response()


async def test_commands_send_the_exact_events(opened: dict[str, Any]) -> None:
    s = await _ready(opened)
    ws: ScriptedServer = opened["ws"]
    ws.sent.clear()
    await s.append_audio(b"\x00\x01\x02\x03")
    await s.append_audio(b"")  # nothing to send
    await s.create_text_item("hello")
    await s.create_function_call_output("call_1", '{"ok":true}')
    await s.create_response()
    await s.cancel_response()
    await s.cancel_response("resp_1")
    await s.truncate_item("item_1", 1234)
    assert [json.loads(t) for t in await ws.wait_sent(7)] == [
        {"type": "input_audio_buffer.append", "audio": "AAECAw=="},
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "hello"}],
            },
        },
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "call_1", "output": '{"ok":true}'},
        },
        {"type": "response.create"},
        {"type": "response.cancel"},
        {"type": "response.cancel", "response_id": "resp_1"},
        {
            "type": "conversation.item.truncate",
            "item_id": "item_1",
            "content_index": 0,
            "audio_end_ms": 1234,
        },
    ]
    with pytest.raises(ValueError, match="even"):
        await s.append_audio(b"\x00")


async def test_beta_commands_use_beta_shapes(opened: dict[str, Any]) -> None:
    s = await _ready(opened, BETA, voice="verse")
    ws: ScriptedServer = opened["ws"]
    ws.sent.clear()
    await s.create_text_item("noted", role="assistant")
    assert [json.loads(t) for t in await ws.wait_sent(1)] == [
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "noted"}],
            },
        },
    ]


async def test_send_after_server_close_raises_the_typed_error(opened: dict[str, Any]) -> None:
    s = await _ready(opened)
    ws: ScriptedServer = opened["ws"]
    ws.push(Close(1012, "restart"))
    await ws.wait_closed()  # the client has answered the server's close
    with pytest.raises(ServerClosedError) as info:
        await s.cancel_response()
    assert info.value.close_code == 1012 and info.value.recoverable


async def test_connect_twice_is_refused(opened: dict[str, Any]) -> None:
    s = await _ready(opened)
    with pytest.raises(SessionClosedError, match="connects once"):
        await s.connect()


def test_key_never_in_repr_or_websocket_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    s = session()
    assert KEY not in repr(s) and KEY not in str(vars(s))
    ws_logger = logging.getLogger("edge_voice.realtime.session.websocket")
    with caplog.at_level(logging.DEBUG, logger=ws_logger.name):
        ws_logger.debug("> %s: %s", "Authorization", f"Bearer {KEY}")
        ws_logger.debug("> %s: %s", "Host", "api.openai.com")
    assert KEY not in caplog.text
    assert "Authorization: Bearer ***" in caplog.text and "Host: api.openai.com" in caplog.text


async def test_the_close_after_an_error_is_read_even_past_the_setup_timeout(
    opened: dict[str, Any],
) -> None:
    ws: ScriptedServer = opened["ws"]
    ws.push(error("brand_new_refusal", "no"))
    asyncio.get_running_loop().call_later(0.1, ws.push, Close(4000, ""))
    with pytest.raises(ModelRefusedError) as info:
        await session(setup_timeout_s=0.05, close_grace_s=1.0).connect()
    assert info.value.close_code == 4000 and info.value.code == "brand_new_refusal"


async def test_an_unexplained_error_without_close_is_not_a_refusal(
    opened: dict[str, Any],
) -> None:
    opened["ws"].push(error("brand_new_refusal", "no"))
    with pytest.raises(RealtimeError) as info:
        await session(close_grace_s=0.05).connect()
    assert type(info.value) is RealtimeError
    assert not info.value.fallback_worthy and info.value.code == "brand_new_refusal"


async def test_a_closed_session_cannot_connect(opened: dict[str, Any]) -> None:
    s = session()
    await s.close()
    with pytest.raises(SessionClosedError):
        await s.connect()
    assert opened["ws"].request is None
