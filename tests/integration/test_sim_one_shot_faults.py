"""Faults a soak injects once, at a chosen moment: a dropped answer, a slow one, an expiry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from edge_voice.sim import RealtimeSimulator, SimConfig
from tests.support.sim_client import SimClient

pytestmark = pytest.mark.timeout(20)

AUDIO_DELTA = "response.output_audio.delta"


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


async def test_drop_responses_drops_only_that_many_answers(sim: RealtimeSimulator) -> None:
    sim.config.drop_after_audio_deltas = 1
    sim.config.drop_responses = 1
    dropped = await SimClient.connect(sim.url)
    await dropped.send({"type": "response.create"})
    code, _ = await dropped.wait_closed()
    assert code == 1011
    assert sim.config.drop_responses == 0
    async with await SimClient.connect(sim.url) as c:
        await c.send({"type": "response.create"})
        done = await c.wait_for("response.done")
        assert done["response"]["status"] == "completed"
        assert c.types().count(AUDIO_DELTA) > 1


async def test_slow_responses_delays_only_that_many_answers(sim: RealtimeSimulator) -> None:
    sim.config.first_audio_delay_ms = 30_000
    sim.config.slow_responses = 1
    async with await SimClient.connect(sim.url) as c:
        await c.send({"type": "response.create"})
        await c.wait_for("response.content_part.added")
        assert sim.config.slow_responses == 0
        await c.send({"type": "response.cancel"})
        await c.wait_for("response.done")
        assert AUDIO_DELTA not in c.types()
        # The next one is not held back: its audio comes well within the 30 s delay.
        await c.send({"type": "response.create"})
        await c.wait_for(AUDIO_DELTA)


async def test_expire_sessions_ends_every_open_session_as_its_maximum_would(
    sim: RealtimeSimulator,
) -> None:
    async with (
        await SimClient.connect(sim.url) as first,
        await SimClient.connect(sim.url) as second,
    ):
        for c in (first, second):
            await c.wait_for("session.created")
        assert sim.expire_sessions() == 2
        for c in (first, second):
            error = (await c.wait_for("error"))["error"]
            assert error["code"] == "session_expired"
            code, _ = await c.wait_closed()
            assert code == 1001
