"""The server's routine limits on a real device: the session's maximum duration and rate limits
are handled without an alarm, and without losing what the user asked."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import ask, build_device, make_config, running

pytestmark = pytest.mark.broker


async def test_the_idle_warm_session_expiring_is_renewed_quietly(
    mqtt_broker: BrokerAddress,
    sim: RealtimeSimulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim), sim=sim)
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await ask(obs, device)
        await obs.expect(topics.event("transcript"), lambda m: m.json()["role"] == "assistant")
        idle = await obs.status(device, "idle")
        assert idle["connected"], "the warm session is kept for the next conversation"
        caplog.clear()
        assert sim.expire_sessions() == 1  # the server's 60 minutes are up
        renewed = await obs.status(device, "idle")  # published once the new session carries on
        assert renewed["connected"]
        assert sim.connection_count == 2
        # An error event would have come before the state that follows the renewal.
        errors = [m.json() for m in obs.on(topics.event("error"))]
        assert errors == [], errors
    assert device.assistant.link is None  # closed at the end, not before
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [m for m in loud if "expired" in m.lower()], loud
    quiet = [r.getMessage() for r in caplog.records if "session_expired" in r.getMessage()]
    assert quiet, "the renewal is logged (at INFO)"
