"""Malformed server events (invalid JSON, unknown types, missing or mistyped fields) before
every response: the real service neither crashes nor hangs; each conversation completes."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_voice.sim.config import SimConfig
from edge_voice.sim.malformed import MALFORMED_EVENTS
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import ask, build_device, make_config, running

pytestmark = [pytest.mark.broker, pytest.mark.timeout(90)]


async def test_malformed_server_events_are_survived_and_conversations_complete(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    async with RealtimeSimulator(SimConfig(pacing=0, malformed_events=True)) as sim:
        device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim))
        topics = device.topics
        async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
            for _ in range(2):  # the second proves the first left nothing broken behind
                await ask(obs, device)
                await obs.expect(
                    topics.event("transcript"), lambda m: m.json()["role"] == "assistant", 30
                )
                await obs.status(device, "idle", within=30)
        # The malformed events really went out, before each response.
        sent = [e for c in sim.observer.connections for e in c.sent]
        assert sum(e["type"] == "response.done" for e in sent) >= 2
        responses = [m.json() for m in obs.on(topics.event("response"))]
        assert len(responses) >= 2 and all(r["cost_usd"] > 0 for r in responses)
    assert len(MALFORMED_EVENTS) > 20
