"""The simulator end to end over real sockets, with a raw websockets client, GA and beta."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest

from edge_voice.sim import RealtimeSimulator, SimConfig
from edge_voice.sim.audio_synth import speech_duration_ms
from tests.support.signals import silence, speech_like
from tests.support.sim_client import SimClient

pytestmark = pytest.mark.timeout(20)

SET_LIGHT = {
    "type": "function",
    "name": "set_light",
    "description": "Switch a light",
    "parameters": {"type": "object", "properties": {"room": {"type": "string"}}},
}
DELTAS = {
    "response.output_audio.delta",
    "response.output_audio_transcript.delta",
    "response.audio.delta",
    "response.audio_transcript.delta",
}


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


def utterance() -> bytes:
    """0.3 s room tone, 1 s of voice, 1 s of silence: one VAD turn."""
    return silence(0.3) + speech_like(1.0) + silence(1.0)


def response_types(events: list[dict[str, Any]]) -> list[str]:
    """Event types from response.created to response.done, deltas left out."""
    types = [str(e["type"]) for e in events if e["type"] not in DELTAS]
    return types[types.index("response.created") : types.index("response.done") + 1]


async def test_ga_voice_turn_end_to_end(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime") as c:
        created = (await c.wait_for("session.created"))["session"]
        assert created["type"] == "realtime"
        assert created["object"] == "realtime.session"
        assert created["id"].startswith("sess_")
        assert created["model"] == "gpt-realtime"
        assert created["output_modalities"] == ["audio"]
        assert created["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
        assert created["audio"]["input"]["turn_detection"]["type"] == "server_vad"
        assert created["audio"]["output"]["voice"] == "alloy"
        assert created["expires_at"] > 0

        transcription = {"model": "gpt-4o-transcribe"}
        await c.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"transcription": transcription}},
                },
            }
        )
        updated = (await c.wait_for("session.updated"))["session"]
        assert updated["audio"]["input"]["transcription"] == transcription

        await c.send_audio(utterance())
        started = await c.wait_for("input_audio_buffer.speech_started")
        assert started["audio_start_ms"] == 0  # onset 300 ms minus 300 ms padding
        stopped = await c.wait_for("input_audio_buffer.speech_stopped")
        assert stopped["audio_end_ms"] == 1800  # speech ends at 1300 ms, + 500 ms silence
        committed = await c.wait_for("input_audio_buffer.committed")
        assert committed["item_id"] == started["item_id"] == stopped["item_id"]
        added = await c.wait_for("conversation.item.added")
        assert added["item"]["role"] == "user"
        assert added["item"]["object"] == "realtime.item"
        assert added["item"]["content"][0]["type"] == "input_audio"
        transcript = await c.wait_for("conversation.item.input_audio_transcription.completed")
        assert transcript["transcript"] == "Hey Jarvis, turn on the kitchen light."
        assert transcript["item_id"] == committed["item_id"]

        events = await c.collect_until("response.done")
        assert response_types(events) == [
            "response.created",
            "response.output_item.added",
            "conversation.item.added",
            "response.content_part.added",
            "response.output_audio.done",
            "response.output_audio_transcript.done",
            "response.content_part.done",
            "response.output_item.done",
            "conversation.item.done",
            "response.done",
        ]
        # No set_light tool was declared, so the scenario speaks instead of calling.
        said = "I can't control the lights from here."
        audio = b"".join(
            base64.b64decode(e["delta"])
            for e in events
            if e["type"] == "response.output_audio.delta"
        )
        assert len(audio) // 48 == speech_duration_ms(said)  # 24 kHz * 2 bytes = 48 B/ms
        first_delta = next(e for e in events if e["type"] == "response.output_audio.delta")
        assert len(base64.b64decode(first_delta["delta"])) == 4800  # 100 ms chunks
        deltas = [
            e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta"
        ]
        assert "".join(deltas) == said
        done_item = next(e for e in events if e["type"] == "response.output_item.done")["item"]
        assert done_item["content"] == [{"type": "output_audio", "transcript": said}]

        usage = events[-1]["response"]["usage"]
        assert events[-1]["response"]["status"] == "completed"
        assert usage["input_token_details"]["audio_tokens"] == 18  # 1.8 s at 10/s
        assert usage["input_token_details"]["cached_tokens"] == 0
        assert set(usage["input_token_details"]["cached_tokens_details"]) == {
            "text_tokens",
            "audio_tokens",
            "image_tokens",
        }
        out = usage["output_token_details"]
        assert out["audio_tokens"] == math.ceil(speech_duration_ms(said) * 20 / 1000)
        assert out["text_tokens"] == math.ceil(len(said) / 4)
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        limits = await c.wait_for("rate_limits.updated")
        assert limits["rate_limits"][0]["name"] == "tokens"

        # Second turn: the first turn is re-billed, and as an unchanged prefix it is cached.
        await c.send_audio(utterance())
        second = await c.wait_for("response.done")
        usage2 = second["response"]["usage"]
        assert usage2["input_tokens"] > usage["input_tokens"]
        assert usage2["input_token_details"]["cached_tokens"] == usage["input_tokens"]
        spoken = second["response"]["output"][0]["content"][0]["transcript"]
        assert spoken == "It's a quarter past ten."


async def test_beta_voice_turn_end_to_end(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-4o-realtime-preview", beta=True) as c:
        created = (await c.wait_for("session.created"))["session"]
        assert "type" not in created
        assert created["modalities"] == ["text", "audio"]
        assert created["voice"] == "alloy"
        assert created["input_audio_format"] == "pcm16"
        assert created["turn_detection"]["type"] == "server_vad"

        await c.send(
            {
                "type": "session.update",
                "session": {"voice": "verse", "input_audio_transcription": {"model": "whisper-1"}},
            }
        )
        assert (await c.wait_for("session.updated"))["session"]["voice"] == "verse"
        await c.send_audio(utterance())
        await c.wait_for("input_audio_buffer.committed")
        created_item = await c.wait_for("conversation.item.created")
        assert "object" not in created_item["item"]
        transcript = await c.wait_for("conversation.item.input_audio_transcription.completed")
        assert transcript["transcript"] == "Hey Jarvis, turn on the kitchen light."

        events = await c.collect_until("response.done")
        assert response_types(events) == [
            "response.created",
            "response.output_item.added",
            "conversation.item.created",
            "response.content_part.added",
            "response.audio.done",
            "response.audio_transcript.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.done",
        ]
        assert any(e["type"] == "response.audio.delta" for e in events)
        response = events[-1]["response"]
        assert response["voice"] == "verse"
        assert response["output"][0]["content"][0]["type"] == "audio"
        assert set(response["usage"]["input_token_details"]) == {
            "text_tokens",
            "audio_tokens",
            "cached_tokens",
        }


async def test_function_call_round_trip(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime") as c:
        await c.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "tools": [SET_LIGHT],
                    "audio": {"input": {"turn_detection": None}},
                },
            }
        )
        assert (await c.wait_for("session.updated"))["session"]["tools"][0]["name"] == "set_light"
        text = {"type": "input_text", "text": "please turn on the kitchen light"}
        await c.send(
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": [text]},
            }
        )
        await c.wait_for("conversation.item.done")
        await c.send({"type": "response.create"})
        args_done = await c.wait_for("response.function_call_arguments.done")
        assert args_done["name"] == "set_light"
        assert json.loads(args_done["arguments"]) == {"room": "kitchen", "state": "on"}
        done = await c.wait_for("response.done")
        call_item = done["response"]["output"][0]
        assert call_item["type"] == "function_call"
        assert call_item["status"] == "completed"
        assert call_item["call_id"] == args_done["call_id"]

        output_event = {
            "type": "conversation.item.create",
            "event_id": "evt_output_1",
            "item": {
                "type": "function_call_output",
                "call_id": args_done["call_id"],
                "output": '{"ok": true}',
            },
        }
        await c.send(output_event)
        await c.send({"type": "response.create"})
        final = await c.wait_for("response.output_audio_transcript.done")
        assert final["transcript"] == "The kitchen light is on."
        await c.wait_for("response.done")
        received = await sim.wait_for_received("conversation.item.create", count=2)
        assert received[-1][1] == output_event  # exactly what the client sent


async def test_function_call_output_for_unknown_call_is_an_error(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime") as c:
        item = {"type": "function_call_output", "call_id": "call_nope", "output": "{}"}
        await c.send({"type": "conversation.item.create", "event_id": "e1", "item": item})
        error = (await c.wait_for("error"))["error"]
        assert error["param"] == "item.call_id"
        assert error["event_id"] == "e1"


async def test_manual_commit_needs_100_ms(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime") as c:
        no_vad = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
        await c.send({"type": "session.update", "session": no_vad})
        await c.wait_for("session.updated")
        await c.send_audio(speech_like(0.05))
        await c.send({"type": "input_audio_buffer.commit", "event_id": "commit_1"})
        error = (await c.wait_for("error"))["error"]
        assert error["code"] == "input_audio_buffer_commit_empty"
        assert error["event_id"] == "commit_1"
        await c.send_audio(speech_like(0.1))
        await c.send({"type": "input_audio_buffer.commit"})
        committed = await c.wait_for("input_audio_buffer.committed")
        item = (await c.wait_for("conversation.item.added"))["item"]
        assert item["id"] == committed["item_id"]
        assert not any(t.startswith("input_audio_buffer.speech") for t in c.types())
        await c.send({"type": "response.create"})
        done = await c.wait_for("response.done")
        assert done["response"]["usage"]["input_token_details"]["audio_tokens"] == 2  # 150 ms


async def test_text_modality_streams_text_not_audio(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime") as c:
        await c.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "output_modalities": ["text"]},
            }
        )
        await c.wait_for("session.updated")
        await c.send({"type": "response.create"})
        events = await c.collect_until("response.done")
        text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
        assert text == "How can I help?"
        assert not any(e["type"] == "response.output_audio.delta" for e in events)
        assert events[-1]["response"]["usage"]["output_token_details"]["audio_tokens"] == 0


async def test_observability_records_each_connection(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime", key="sk-secret-key-123456") as c:
        await c.wait_for("session.created")
        await c.send({"type": "input_audio_buffer.clear", "event_id": "clr"})
        await c.wait_for("input_audio_buffer.cleared")
    assert sim.connection_count == 1
    record = sim.connections[0]
    assert record.model == "gpt-realtime"
    assert record.protocol == "ga"
    assert record.received == [{"type": "input_audio_buffer.clear", "event_id": "clr"}]
    assert sim.received == [(record.id, record.received[0])]
    assert record.sent_types()[:2] == ["session.created", "input_audio_buffer.cleared"]
    assert "secret" not in record.headers["Authorization"]
    assert await sim.wait_for(lambda: record.closed)
