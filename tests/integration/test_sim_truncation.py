"""`openai.truncation` from the config to the simulator's context window, over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from edge_voice.config.schema import OpenAIConfig
from edge_voice.models.catalog import default_catalog
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.session import RealtimeSession
from edge_voice.realtime.session_builders import SessionSettings
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator

CATALOG = default_catalog()
LIMIT = 32_000 - 4_096  # gpt-realtime's input limit
BLOCK = "word " * 8_000  # 10,000 tokens at the sim's four characters per token


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


async def turns(sim: RealtimeSimulator, truncation: Any, count: int) -> list[ev.ResponseDone]:
    """`count` turns of one 10k-token user message each; every response.done."""
    wire = OpenAIConfig.model_validate({"truncation": truncation}).truncation_wire()
    settings = SessionSettings(model="gpt-realtime", instructions="Be brief.", truncation=wire)
    done: list[ev.ResponseDone] = []
    info = CATALOG.get("gpt-realtime")
    async with RealtimeSession(settings, info, api_key="sk-test-trunc-01", base_url=sim.url) as s:
        events = s.events()
        for _ in range(count):
            await s.create_text_item(BLOCK)
            await s.create_response()
            async with asyncio.timeout(5):
                async for event in events:
                    if isinstance(event, ev.ResponseDone):
                        done.append(event)
                        break
    return done


def inputs(done: ev.ResponseDone) -> tuple[int, int]:
    assert done.usage is not None
    return done.usage["input_tokens"], done.usage["input_token_details"]["cached_tokens"]


async def test_auto_drops_the_oldest_and_busts_the_cache(sim: RealtimeSimulator) -> None:
    done = await turns(sim, "auto", 4)
    (in2, cached2), (in3, cached3), (in4, _) = map(inputs, done[1:])
    assert cached2 > 10_000  # the first turn is cached on the second
    assert in3 < in2 + 10_000 and in3 <= LIMIT  # the third would be 30k: the oldest went
    assert cached3 < 100  # only the instructions stayed cached
    assert in4 <= LIMIT
    assert sim.connections[-1].received[0]["type"] == "session.update"
    assert "truncation" not in sim.connections[-1].received[0]["session"]


async def test_retention_ratio_cuts_deeper_and_keeps_the_cache(sim: RealtimeSimulator) -> None:
    done = await turns(sim, {"retention_ratio": 0.5}, 4)
    (_, _), (in3, cached3), (in4, cached4) = map(inputs, done[1:])
    assert in3 <= 0.5 * LIMIT + 100  # cut to half of the limit
    assert cached3 < 100
    assert in4 > in3 and cached4 >= in3 - 100  # no cut on the next turn: the cache holds
    session = sim.connections[-1].received[0]["session"]
    assert session["truncation"] == {"type": "retention_ratio", "retention_ratio": 0.5}


async def test_disabled_fails_the_response_that_does_not_fit(sim: RealtimeSimulator) -> None:
    done = await turns(sim, "disabled", 3)
    assert [d.status for d in done] == ["completed", "completed", "failed"]
    assert done[2].status_details is not None
    assert done[2].status_details["error"]["code"] == "context_length_exceeded"
