"""The real assistant on a misbehaving simulator: unstable links and refusals end fast."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edge_voice.conversation.states import Status
from edge_voice.events import ErrorOccurred, WakeDetected
from edge_voice.models.migration import FallbackEvent
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import build_rig, demo_wav, frames_of, make_config

pytestmark = pytest.mark.timeout(60)

NEW, OLD = "gpt-realtime", "gpt-4o-realtime-preview"
REQUEST = "hey_jarvis_kitchen_light.wav"


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


async def test_refused_primary_and_stalled_legacy_fail_within_a_connect_timeout(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.config.refuse_models.add(NEW)
    sim.config.stall_models.add(OLD)
    timeout_s = 0.5
    cfg = make_config(sim.url, tmp_path, tools=[], openai={"connect_timeout_s": timeout_s})
    rig = build_rig(cfg, tmp_path / "reply.wav")

    async def user() -> AsyncIterator[bytes]:
        """Asks, waits for the failure, asks again (the breaker is open now)."""
        async for frame in frames_of(demo_wav(REQUEST), silence_s=0):
            yield frame
        while not (rig.of(ErrorOccurred) and rig.assistant.status is Status.IDLE):
            yield bytes(2560)
            await asyncio.sleep(0.02)
        async for frame in frames_of(demo_wav(REQUEST)):
            yield frame

    async with asyncio.timeout(40):
        await rig.assistant.run(user(), exit_on_eof=True)

    wakes, errors = rig.of(WakeDetected), rig.of(ErrorOccurred)
    assert len(wakes) == 2
    assert [e.code for e in errors] == ["all_models_failed"] * 2
    assert "invalid_model" in errors[1].message  # the refusal is still named, not retried
    for wake, error in zip(wakes, errors, strict=True):
        # One live candidate (the legacy model), so one connect timeout; retrying 5 times took
        # at least 5 of them.
        assert (error.ts - wake.ts).total_seconds() < 3 * timeout_s
    fallbacks = [e for e in rig.migration_events if isinstance(e, FallbackEvent)]
    assert fallbacks == [FallbackEvent(NEW, OLD, "invalid_model")]  # never "back" to NEW
    assert [c.model for c in sim.connections] == [NEW, OLD, OLD]
    assert rig.assistant.status is Status.IDLE
