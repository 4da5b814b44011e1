"""The real assistant on a misbehaving simulator: unstable links and refusals end fast."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edge_voice.conversation.states import Status
from edge_voice.events import ErrorOccurred, FunctionCallRequested, ServiceState, WakeDetected
from edge_voice.models.migration import FallbackEvent
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import answer_calls, build_rig, demo_wav, frames_of, make_config

pytestmark = pytest.mark.timeout(60)

NEW, OLD = "gpt-realtime", "gpt-4o-realtime-preview"
REQUEST = "hey_jarvis_kitchen_light.wav"


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


@pytest.mark.parametrize(
    ("limits", "setups"),
    [
        ({}, 1 + 3),  # the defaults: three reconnects per conversation
        ({"max_reconnects": 1}, 1 + 1),
        ({"max_resumed_responses": 0}, 1),  # never pay for a cut answer twice
    ],
)
async def test_a_server_that_cuts_every_answer_ends_the_conversation_with_an_error(
    sim: RealtimeSimulator, tmp_path: Path, limits: dict[str, int], setups: int
) -> None:
    sim.config.drop_after_audio_deltas = 5  # every spoken answer is cut after 0.5 s
    rig = build_rig(make_config(sim.url, tmp_path, conversation=limits), tmp_path / "reply.wav")
    answering = asyncio.create_task(answer_calls(rig))
    async with asyncio.timeout(30):  # before the fix: reconnected and replayed for ever
        await rig.assistant.run(frames_of(demo_wav(REQUEST)), exit_on_eof=True)
    answering.cancel()

    assert sim.connection_count == setups
    errors = rig.of(ErrorOccurred)
    assert [e.code for e in errors] == ["realtime_unstable"]
    assert "conversation ended" in errors[0].message
    # The light was switched once: a re-asked answer reuses the output already given.
    assert len(rig.of(FunctionCallRequested)) == 1
    outputs = [
        e
        for _, e in sim.received
        if e["type"] == "conversation.item.create" and e["item"]["type"] == "function_call_output"
    ]
    assert all(o["item"]["output"] == '{"ok": true}' for o in outputs)
    last = rig.of(ServiceState)[-1]
    assert (last.status, last.connected) == ("idle", False)
    assert rig.assistant.status is Status.IDLE


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
