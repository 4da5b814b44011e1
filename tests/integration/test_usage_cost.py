"""Usage from the simulator's response.done, through the real client, priced and ledgered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edge_voice.metrics.cost_ledger import CostLedger
from edge_voice.metrics.performance import PerformanceMetrics
from edge_voice.models.catalog import default_catalog
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.session import RealtimeSession
from edge_voice.realtime.session_builders import SessionSettings
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator

CATALOG = default_catalog()


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


async def one_turn(sim: RealtimeSimulator, model: str) -> tuple[ev.ResponseDone, bytes]:
    info = CATALOG.get(model)
    settings = SessionSettings(model=model, voice="alloy", instructions="Be brief.")
    async with RealtimeSession(settings, info, api_key="sk-test-cost-0001", base_url=sim.url) as s:
        await s.create_text_item("What time is it?")
        await s.create_response()
        audio = b""
        async with asyncio.timeout(5):
            async for event in s.events():
                if isinstance(event, ev.AudioDelta):
                    audio += event.pcm
                if isinstance(event, ev.ResponseDone):
                    return event, audio
    raise AssertionError("no response.done")


async def test_usage_is_priced_and_survives_a_restart(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    ledger_path = tmp_path / "ledger.jsonl"
    metrics = PerformanceMetrics(ledger=CostLedger(ledger_path))
    costs = {}
    for model in ("gpt-realtime", "gpt-4o-realtime-preview"):
        done, audio = await one_turn(sim, model)
        assert done.usage is not None
        seconds = len(audio) / 2 / 24_000
        audio_out = done.usage["output_token_details"]["audio_tokens"]
        assert audio_out == pytest.approx(20 * seconds, abs=2)  # 20 tokens per second of speech
        costs[model] = metrics.record_response(done.response_id, model, done.usage).cost_usd
    assert costs["gpt-realtime"] > 0
    # the same first turn (nothing cached yet) costs 20% less on gpt-realtime
    assert costs["gpt-realtime"] / costs["gpt-4o-realtime-preview"] == pytest.approx(0.8, rel=1e-6)
    restarted = PerformanceMetrics(ledger=CostLedger(ledger_path))
    assert restarted.cost_total_usd == pytest.approx(sum(costs.values()), abs=1e-9)
