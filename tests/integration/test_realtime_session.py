"""RealtimeSession over real sockets against the offline simulator, GA and beta."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from edge_voice.models.catalog import ModelInfo, default_catalog
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import (
    AuthenticationError,
    ConnectTimeout,
    HandshakeError,
    ModelRefusedError,
    ServerClosedError,
    SessionExpiredError,
    SessionSettingError,
)
from edge_voice.realtime.session import RealtimeSession
from edge_voice.realtime.session_builders import SessionSettings, build_session_update
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.signals import silence, speech_like

CATALOG = default_catalog()
GA = CATALOG.get("gpt-realtime")
BETA = CATALOG.get("gpt-4o-realtime-preview")
KEY = "sk-test-integration-0000"
LIGHT = {
    "type": "function",
    "name": "set_light",
    "description": "Switch a light",
    "parameters": {
        "type": "object",
        "properties": {"room": {"type": "string"}, "state": {"type": "string"}},
    },
}
FLAVOURS = [
    pytest.param(GA, "marin", "gpt-4o-mini-transcribe", id="ga"),
    pytest.param(BETA, "verse", "whisper-1", id="beta"),
]


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


def open_session(
    sim: RealtimeSimulator, model: ModelInfo, voice: str = "alloy", **settings: Any
) -> RealtimeSession:
    return RealtimeSession(
        SessionSettings(model=model.name, voice=voice, **settings),
        model,
        api_key=KEY,
        base_url=sim.url,
        setup_timeout_s=3,
        close_grace_s=1,
    )


async def until(session: RealtimeSession, kind: type[Any], within: float = 5) -> list[Any]:
    """Events up to and including the first of `kind`."""
    seen: list[Any] = []
    async with asyncio.timeout(within):
        async for event in session.events():
            seen.append(event)
            if isinstance(event, kind):
                return seen
    raise AssertionError(f"events ended before {kind.__name__}")


async def speak(session: RealtimeSession) -> None:
    pcm = speech_like(1.0) + silence(1.0)
    for start in range(0, len(pcm), 4800):  # 100 ms chunks
        await session.append_audio(pcm[start : start + 4800])


@pytest.mark.parametrize(("model", "voice", "asr"), FLAVOURS)
async def test_voice_turn_with_a_function_call(
    sim: RealtimeSimulator, model: ModelInfo, voice: str, asr: str
) -> None:
    async with open_session(
        sim, model, voice, tools=(LIGHT,), input_transcription_model=asr
    ) as session:
        record = sim.connections[-1]
        assert record.protocol == model.protocol
        assert record.model == model.name
        update = next(e for e in record.received if e["type"] == "session.update")
        assert update == build_session_update(session.settings, model)
        assert session.session_ready_time_s is not None and session.connect_time_s is not None

        await speak(session)
        events = await until(session, ev.FunctionCallRequest)
        call = events[-1]
        assert call.name == "set_light"
        assert json.loads(call.arguments) == {"room": "kitchen", "state": "on"}
        assert any(isinstance(e, ev.SpeechStarted) for e in events)
        user = [e for e in events if isinstance(e, ev.UserTranscript)]
        assert user and "kitchen light" in user[0].text

        first = (await until(session, ev.ResponseDone))[-1]
        assert first.response_id == call.response_id
        assert first.output[0]["type"] == "function_call"
        await session.create_function_call_output(call.call_id, '{"ok": true}')
        await session.create_response()
        events = await until(session, ev.ResponseDone)
        audio = b"".join(e.pcm for e in events if isinstance(e, ev.AudioDelta))
        assert audio and len(audio) % 2 == 0
        done = [e for e in events if isinstance(e, ev.TranscriptDone)]
        assert done and done[0].text == "The kitchen light is on."
        assert events[-1].status == "completed" and events[-1].usage["total_tokens"] > 0
        assert not [e for e in events if isinstance(e, ev.FunctionCallRequest)]


async def test_recoverable_errors_do_not_end_the_session(sim: RealtimeSimulator) -> None:
    async with open_session(sim, GA) as session:
        await session.cancel_response()
        events = await until(session, ev.ServerError)
        assert events[-1].code == "response_cancel_not_active"
        sim.config.rate_limit_responses = 1
        await session.create_text_item("What time is it?")
        await session.create_response()
        events = await until(session, ev.ServerError)
        assert events[-1].code == "rate_limit_exceeded"
        await session.create_response()
        events = await until(session, ev.ResponseDone)
        transcript = [e for e in events if isinstance(e, ev.TranscriptDone)]
        assert transcript[0].text == "It's a quarter past ten."
        assert session.connected


async def test_barge_in_truncates_the_assistant_item(sim: RealtimeSimulator) -> None:
    async with open_session(sim, GA) as session:
        await session.create_text_item("What time is it?")
        await session.create_response()
        events = await until(session, ev.AudioDone)
        item_id = events[-1].item_id
        await until(session, ev.ResponseDone)
        await session.truncate_item(item_id, 100)
        truncated = (await until(session, ev.ItemTruncated))[-1]
        assert (truncated.item_id, truncated.audio_end_ms) == (item_id, 100)


@pytest.mark.parametrize(
    ("fault", "cls", "code", "close_code"),
    [
        ({"api_keys": {"sk-the-right-one"}}, AuthenticationError, "invalid_api_key", 3000),
        ({"refuse_models": {"gpt-realtime"}}, ModelRefusedError, "invalid_model", 4000),
        ({"not_found_models": {"gpt-realtime"}}, ModelRefusedError, "model_not_found", 4000),
        ({"forbid_models": {"gpt-realtime"}}, HandshakeError, "model_not_found", None),
    ],
)
async def test_refusals_are_typed(
    sim: RealtimeSimulator,
    fault: dict[str, Any],
    cls: type[Exception],
    code: str,
    close_code: int | None,
) -> None:
    for name, value in fault.items():
        setattr(sim.config, name, value)
    with pytest.raises(cls) as info:
        await open_session(sim, GA).connect()
    error: Any = info.value
    assert error.code == code and error.close_code == close_code
    assert KEY not in str(error) and KEY not in repr(error)
    if cls is HandshakeError:
        assert error.status_code == 403 and error.fallback_worthy


async def test_beta_shape_disabled_refuses_the_preview(sim: RealtimeSimulator) -> None:
    sim.config.beta_disabled = True
    with pytest.raises(ModelRefusedError) as info:
        await open_session(sim, BETA).connect()
    assert info.value.code == "beta_api_shape_disabled" and info.value.fallback_worthy


async def test_model_the_endpoint_does_not_serve(sim: RealtimeSimulator) -> None:
    live = dataclasses.replace(GA, name="gpt-live-1")
    with pytest.raises(ModelRefusedError, match="not supported in realtime mode"):
        await open_session(sim, live).connect()


async def test_session_update_refused_by_the_server(sim: RealtimeSimulator) -> None:
    # A catalog that wrongly lists cedar for the preview: the server is the judge.
    generous = dataclasses.replace(BETA, voices=(*BETA.voices, "cedar"))
    with pytest.raises(SessionSettingError) as info:
        await open_session(sim, generous, voice="cedar").connect()
    assert info.value.code == "invalid_value" and info.value.param == "session.voice"


async def test_session_expiry(sim: RealtimeSimulator) -> None:
    sim.config.session_max_s = 0.3
    async with open_session(sim, GA) as session:
        with pytest.raises(SessionExpiredError) as info:
            await until(session, ev.ResponseDone, within=5)
    assert info.value.close_code == 1001 and info.value.retryable


@pytest.mark.parametrize(("mode", "close_code"), [("error", 1011), ("abort", 1006)])
async def test_drop_mid_response(sim: RealtimeSimulator, mode: Any, close_code: int) -> None:
    sim.config.drop_after_audio_deltas = 2
    sim.config.drop_mode = mode
    async with open_session(sim, GA) as session:
        await session.create_text_item("What time is it?")
        await session.create_response()
        with pytest.raises(ServerClosedError) as info:
            await until(session, ev.ResponseDone)
    assert info.value.close_code == close_code and info.value.recoverable


async def test_connect_timeout_when_nothing_answers() -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers the upgrade
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    session = RealtimeSession(
        SessionSettings(model=GA.name),
        GA,
        api_key=KEY,
        base_url=f"ws://127.0.0.1:{port}/v1/realtime",
        connect_timeout_s=0.2,
    )
    try:
        with pytest.raises(ConnectTimeout) as info:
            await session.connect()
        assert info.value.phase == "connect" and info.value.fallback_worthy
    finally:
        server.close()
        await server.wait_closed()
