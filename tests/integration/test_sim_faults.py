"""Injected faults and response control: rate limit, drops, slow first audio, cancel, barge-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from edge_voice.realtime.errors import retry_after
from edge_voice.sim import RealtimeSimulator, SimConfig
from tests.support.signals import silence, speech_like
from tests.support.sim_client import SimClient

pytestmark = pytest.mark.timeout(20)

AUDIO_DELTA = "response.output_audio.delta"


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


async def test_rate_limit_fault_replaces_the_response_with_an_error(sim: RealtimeSimulator) -> None:
    sim.config.rate_limit_responses = 1
    async with await SimClient.connect(sim.url) as c:
        await c.send({"type": "response.create", "event_id": "rc1"})
        error = (await c.wait_for("error"))["error"]
        assert error["code"] == "rate_limit_exceeded"
        assert error["event_id"] == "rc1"
        await c.send({"type": "response.create"})
        done = await c.wait_for("response.done")
        assert done["response"]["status"] == "completed"
        assert c.types().count("response.created") == 1
    assert sim.config.rate_limit_responses == 0


@pytest.mark.parametrize(("after_s", "said"), [(1.8, "1.8s"), (0.25, "250ms"), (30.0, "30s")])
async def test_a_rate_limit_says_when_to_try_again_in_the_ga_error_shape(
    sim: RealtimeSimulator, after_s: float, said: str
) -> None:
    sim.config.rate_limit_responses = 1
    sim.config.rate_limit_retry_after_s = after_s
    async with await SimClient.connect(sim.url) as c:
        await c.send({"type": "response.create", "event_id": "rc1"})
        event = await c.wait_for("error")
    assert set(event) == {"type", "event_id", "error"}  # reference §7
    assert set(event["error"]) == {"type", "code", "message", "param", "event_id"}
    assert (event["error"]["type"], event["error"]["code"]) == (
        "rate_limit_error",
        "rate_limit_exceeded",
    )
    assert event["error"]["message"].endswith(f"Please try again in {said}.")
    assert retry_after(event["error"]["message"]) == after_s  # what the client reads


@pytest.mark.parametrize(("mode", "expected_code"), [("error", 1011), ("abort", 1006)])
async def test_drop_mid_response(sim: RealtimeSimulator, mode: str, expected_code: int) -> None:
    sim.config.drop_after_audio_deltas = 2
    sim.config.drop_mode = "abort" if mode == "abort" else "error"
    client = await SimClient.connect(sim.url)
    await client.send({"type": "response.create"})
    code, _ = await client.wait_closed()
    assert code == expected_code
    assert client.types().count(AUDIO_DELTA) == 2
    assert "response.done" not in client.types()


async def test_first_audio_delay_holds_audio_back(sim: RealtimeSimulator) -> None:
    sim.config.first_audio_delay_ms = 30_000
    async with await SimClient.connect(sim.url) as c:
        await c.send({"type": "response.create"})
        await c.wait_for("response.content_part.added")
        # The session answers other events while the first audio is held back.
        await c.send({"type": "input_audio_buffer.clear"})
        await c.wait_for("input_audio_buffer.cleared")
        await c.send({"type": "response.cancel"})
        done = await c.wait_for("response.done")
        assert AUDIO_DELTA not in c.types()
        assert done["response"]["status"] == "cancelled"
        assert done["response"]["status_details"]["reason"] == "client_cancelled"


async def test_first_audio_delay_keeps_the_event_order(sim: RealtimeSimulator) -> None:
    sim.config.first_audio_delay_ms = 50
    async with await SimClient.connect(sim.url) as c:
        await c.wait_for("session.created")
        await c.send({"type": "response.create"})
        events = await c.collect_until(AUDIO_DELTA)
        assert [e["type"] for e in events] == [
            "response.created",
            "response.output_item.added",
            "conversation.item.added",
            "response.content_part.added",
            AUDIO_DELTA,
        ]


async def test_cancel_with_nothing_active_is_a_recoverable_error(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url) as c:
        await c.send({"type": "response.cancel", "event_id": "cancel_1"})
        error = (await c.wait_for("error"))["error"]
        assert error["code"] == "response_cancel_not_active"
        assert error["event_id"] == "cancel_1"
        await c.send({"type": "response.create"})
        assert (await c.wait_for("response.done"))["response"]["status"] == "completed"


async def test_second_response_create_while_active_is_refused(sim: RealtimeSimulator) -> None:
    sim.config.first_audio_delay_ms = 30_000
    async with await SimClient.connect(sim.url) as c:
        await c.send({"type": "response.create"})
        created = await c.wait_for("response.created")
        await c.send({"type": "response.create", "event_id": "again"})
        error = (await c.wait_for("error"))["error"]
        assert error["code"] == "conversation_already_has_active_response"
        assert created["response"]["id"] in error["message"]
        await c.send({"type": "response.cancel"})
        await c.wait_for("response.done")


async def test_speech_during_response_interrupts_it(sim: RealtimeSimulator) -> None:
    sim.config.first_audio_delay_ms = 30_000
    async with await SimClient.connect(sim.url) as c:
        await c.send_audio(silence(0.2) + speech_like(0.6) + silence(0.6))
        first = (await c.wait_for("response.created"))["response"]["id"]
        # One append holding a whole new turn: barge-in, turn end, and the next response.
        await c.send_audio(speech_like(0.3) + silence(0.6), chunk_ms=5000)
        await c.wait_for("input_audio_buffer.speech_started")
        done = await c.wait_for("response.done")
        assert done["response"]["id"] == first
        assert done["response"]["status"] == "cancelled"
        assert done["response"]["status_details"]["reason"] == "turn_detected"
        await c.wait_for("input_audio_buffer.committed")
        second = await c.wait_for("response.created")
        assert second["response"]["id"] != first
        await c.send({"type": "response.cancel"})
        await c.wait_for("response.done")


async def test_truncate_checks_item_and_length(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url) as c:
        await c.send({"type": "response.create"})
        done = await c.wait_for("response.done")
        item_id = done["response"]["output"][0]["id"]
        audio_ms = sum(len(e["delta"]) * 3 // 4 // 48 for e in c.events if e["type"] == AUDIO_DELTA)
        too_long = {
            "type": "conversation.item.truncate",
            "event_id": "tr1",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": audio_ms + 1,
        }
        await c.send(too_long)
        error = (await c.wait_for("error"))["error"]
        assert error["param"] == "audio_end_ms"
        assert error["event_id"] == "tr1"
        await c.send({**too_long, "item_id": "item_unknown", "event_id": "tr2"})
        error = (await c.wait_for("error"))["error"]
        assert error["code"] == "item_not_found"
        assert error["event_id"] == "tr2"
        await c.send({**too_long, "audio_end_ms": 200, "event_id": "tr3"})
        truncated = await c.wait_for("conversation.item.truncated")
        assert (truncated["item_id"], truncated["audio_end_ms"]) == (item_id, 200)
        await c.send({"type": "conversation.item.retrieve", "item_id": item_id})
        item = (await c.wait_for("conversation.item.retrieved"))["item"]
        assert len(item["content"][0]["transcript"]) < len("How can I help?")
