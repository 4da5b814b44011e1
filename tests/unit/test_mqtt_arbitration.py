"""Wake word arbitration between the assistant (asks) and the bridge (carries), no broker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from edge_voice.mqtt.arbitration import Arbitration, beats, nearness
from edge_voice.mqtt.commands import ArbitrationClaim

WINDOW_S = 0.05
Send = Callable[[ArbitrationClaim], Awaitable[bool]]


async def carrying(arbitration: Arbitration, send: Send) -> asyncio.Task[None]:
    """The bridge's connected loop, once it carries claims."""
    task = asyncio.create_task(arbitration.carry(send))
    await asyncio.wait_for(arbitration.wait_carried(), 5)
    return task


def rival(score: float, device_id: str = "hall") -> ArbitrationClaim:
    return ArbitrationClaim(device_id=device_id, score=score, ts="2026-01-01T00:00:00Z")


async def test_without_a_carrier_the_device_answers_at_once() -> None:
    arbitration = Arbitration("kitchen", window_s=60)  # a window it must not wait for
    async with asyncio.timeout(5):
        assert await arbitration.claim(0.5)


async def test_the_carrier_sends_our_claim_and_the_best_score_wins() -> None:
    arbitration = Arbitration("kitchen", WINDOW_S)
    sent: list[ArbitrationClaim] = []

    async def send(claim: ArbitrationClaim) -> bool:
        sent.append(claim)
        arbitration.observe(claim)  # our own echo is ignored
        arbitration.observe(rival(0.9))
        return True

    carrier = await carrying(arbitration, send)
    try:
        assert not await arbitration.claim(0.7), "hall heard it better"
        assert [(c.device_id, c.score) for c in sent] == [("kitchen", 0.7)]
        assert await arbitration.claim(0.95)
    finally:
        carrier.cancel()


async def test_a_claim_in_flight_when_the_connection_drops_is_answered() -> None:
    arbitration = Arbitration("kitchen", WINDOW_S)
    sending = asyncio.Event()

    async def send(claim: ArbitrationClaim) -> bool:
        sending.set()
        await asyncio.Event().wait()  # the broker never acknowledges
        return True

    carrier = await carrying(arbitration, send)
    claim = asyncio.create_task(arbitration.claim(0.7))
    await asyncio.wait_for(sending.wait(), 5)
    carrier.cancel()  # the bridge lost the broker
    async with asyncio.timeout(5):
        assert await claim, "not sent: the device answers without asking the group"
    assert not arbitration.carried
    assert await arbitration.claim(0.7)  # and later claims do not wait for a carrier


async def test_a_claim_not_acknowledged_still_yields_to_a_nearer_one_it_heard() -> None:
    # A loaded broker acknowledges late (the publish times out) while the group's claims
    # arrive: the device heard a nearer one, so it must not answer over it.
    arbitration = Arbitration("kitchen", WINDOW_S)

    async def send(claim: ArbitrationClaim) -> bool:
        arbitration.observe(rival(0.9))
        return False  # not acknowledged within the window

    carrier = await carrying(arbitration, send)
    try:
        assert not await arbitration.claim(0.7), "hall's claim arrived: yield"
        assert await arbitration.claim(0.95), "ours is the nearest: answer"
    finally:
        carrier.cancel()


def _claim(device_id: str, score: float, energy_dbfs: float | None) -> ArbitrationClaim:
    return ArbitrationClaim(
        device_id=device_id, score=score, energy_dbfs=energy_dbfs, ts="2026-05-01T00:00:00Z"
    )


def test_the_nearer_claim_wins_on_score_and_energy() -> None:
    # The probe's case: the louder device crossed earlier at a lower score, yet it is nearer.
    near, far = _claim("kitchen", 0.961, -24.0), _claim("attic", 0.968, -38.0)
    assert beats(near, far) and not beats(far, near)
    assert nearness(near) == pytest.approx(0.961 + 36 / 60)
    # A loud noise with a poor score loses to a clear word a little quieter.
    assert beats(_claim("hall", 0.99, -30.0), _claim("tv", 0.55, -20.0))
    # Energy outside -60..0 dBFS counts as 0 or 1.
    assert nearness(_claim("a", 0.5, -90.0)) == 0.5 and nearness(_claim("b", 0.5, 3.0)) == 1.5


def test_a_claim_without_energy_is_compared_on_score_alone() -> None:
    old, new = _claim("old", 0.9, None), _claim("new", 0.8, -6.0)
    assert beats(old, new), "an older device's claim: scores only"
    tie = _claim("hall", 0.8, None), _claim("kitchen", 0.8, None)
    assert beats(*tie) and not beats(tie[1], tie[0]), "a tie goes to the lowest device_id"
