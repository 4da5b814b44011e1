"""Shared fixtures: a real MQTT broker for the session, a restartable one, the simulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator

import pytest

from edge_voice.models import lifecycle
from edge_voice.sim import config as sim_config
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import (
    BrokerAddress,
    ContainerMosquitto,
    LocalMosquitto,
    docker_available,
)

#: The simulator's calendar in tests that do not set `SimConfig.today`: before the preview
#: models (2026-05-07) and the beta interface (2026-05-12) shut down, which many tests use.
SIM_DEFAULT_TODAY = dt.date(2026, 5, 1)


@pytest.fixture(autouse=True)
def _pinned_sim_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process simulators live on SIM_DEFAULT_TODAY unless a test gives them a date.

    So do in-process lifecycle decisions (ModelMigration, the service's start-up warnings)
    unless a test passes its own `today`: many tests were written for the preview models.
    """
    monkeypatch.setattr(sim_config, "calendar_today", lambda: SIM_DEFAULT_TODAY)
    monkeypatch.setattr(lifecycle, "calendar_today", lambda: SIM_DEFAULT_TODAY)


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[BrokerAddress]:
    """A running broker shared by the session: testcontainers if Docker answers, else local."""
    broker: ContainerMosquitto | LocalMosquitto
    broker = ContainerMosquitto() if docker_available() else LocalMosquitto()
    broker.start()
    try:
        yield broker.address
    finally:
        broker.close()


@pytest.fixture
def restartable_broker() -> Iterator[LocalMosquitto]:
    """A local broker of this test's own, which the test may stop and start again."""
    broker = LocalMosquitto()
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    """The Realtime simulator on loopback, answering at once (no real-time pacing)."""
    # Per test: it starts in ~2 ms, and a test's faults and recordings stay its own.
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server
