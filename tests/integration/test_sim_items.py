"""conversation.item.create in the simulator: every item type, its refusals, and what it answers."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from edge_voice.sim import RealtimeSimulator, SimConfig
from edge_voice.sim.scenario import parse_scenario
from tests.support.sim_client import SimClient

pytestmark = pytest.mark.timeout(20)

SCENARIO = """
turns:
  - user: first thing
    say: First answer.
  - user: second thing
    say: Second answer.
"""


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    scenario = parse_scenario(SCENARIO)
    async with RealtimeSimulator(SimConfig(pacing=0), scenario=scenario) as server:
        yield server


async def create_error(sim: RealtimeSimulator, event: dict[str, Any]) -> dict[str, Any]:
    """Send an item.create expected to fail; return the error (the session stays usable)."""
    async with await SimClient.connect(sim.url) as c:
        await c.wait_for("session.created")
        await c.send({"type": "conversation.item.create", "event_id": "evt_1", **event})
        error: dict[str, Any] = (await c.wait_for("error"))["error"]
        assert error["event_id"] == "evt_1"
        assert "conversation.item.added" not in c.types()
        return error


@pytest.mark.parametrize(
    ("event", "code", "param"),
    [
        ({}, "missing_required_parameter", "item"),
        ({"item": []}, "invalid_type", "item"),
        ({"item": {"role": "user"}}, "missing_required_parameter", "item.type"),
        ({"item": {"type": "reasoning"}}, "invalid_value", "item.type"),
        ({"item": {"type": ["message"]}}, "invalid_value", "item.type"),
        ({"item": {"type": "message", "size": 1}}, "unknown_parameter", "item.size"),
        ({"item": {"type": "message", "role": "tool"}}, "invalid_value", "item.role"),
        (
            {"item": {"type": "function_call", "call_id": "c1"}},
            "missing_required_parameter",
            "item.name",
        ),
        (
            {"item": {"type": "function_call", "name": "x"}},
            "missing_required_parameter",
            "item.call_id",
        ),
        (
            {"item": {"type": "function_call", "call_id": "c1", "name": "x", "arguments": 1}},
            "invalid_type",
            "item.arguments",
        ),
        (
            {"item": {"type": "function_call_output", "call_id": "nope", "output": ""}},
            "invalid_value",
            "item.call_id",
        ),
    ],
)
async def test_create_refusals(
    sim: RealtimeSimulator, event: dict[str, Any], code: str, param: str
) -> None:
    error = await create_error(sim, event)
    assert (error["code"], error["param"]) == (code, param)


async def test_a_client_function_call_item_can_be_answered(sim: RealtimeSimulator) -> None:
    call = {"type": "function_call", "call_id": "call_1", "name": "set_light", "arguments": "{}"}
    async with await SimClient.connect(sim.url) as c:
        await c.send({"type": "conversation.item.create", "item": {"id": "item_call", **call}})
        added = (await c.wait_for("conversation.item.added"))["item"]
        assert added["id"] == "item_call"
        assert (added["call_id"], added["name"], added["arguments"]) == (
            "call_1",
            "set_light",
            "{}",
        )
        output = {"type": "function_call_output", "call_id": "call_1", "output": "ok"}
        await c.send({"type": "conversation.item.create", "item": output})
        done = await c.wait_for(
            "conversation.item.done", where=lambda e: e["item"]["type"] != "function_call"
        )
        assert done["item"]["type"] == "function_call_output"
        assert done["previous_item_id"] == "item_call"


def audio_message(transcript: str | None) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "input_audio", "audio": base64.b64encode(bytes(4800)).decode()}
    if transcript is not None:
        part["transcript"] = transcript
    return {"type": "message", "role": "user", "content": [part]}


async def answer(c: SimClient) -> str:
    await c.send({"type": "response.create"})
    done = await c.wait_for("response.output_audio_transcript.done")
    return str(done["transcript"])


async def test_a_user_audio_item_is_its_transcript_or_else_the_next_turn(
    sim: RealtimeSimulator,
) -> None:
    async with await SimClient.connect(sim.url) as c:
        await c.send({"type": "conversation.item.create", "item": audio_message("second thing")})
        assert await answer(c) == "Second answer."
    async with await SimClient.connect(sim.url) as c:
        # Nothing to match: an utterance simply is the next turn.
        await c.send({"type": "conversation.item.create", "item": audio_message(None)})
        assert await answer(c) == "First answer."
        await c.send({"type": "conversation.item.create", "item": audio_message(None)})
        assert await answer(c) == "Second answer."
