"""The MQTT test harness itself: the observer, and the real service it watches."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_voice.service import Service
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import WAKE_REQUEST, build_device, make_config, running

pytestmark = pytest.mark.broker


async def test_observer_sees_its_own_publication(mqtt_broker: BrokerAddress) -> None:
    base = unique_base()
    async with observer(mqtt_broker, f"{base}/#") as obs:
        await obs.publish(f"{base}/x", "hello")
        assert (await obs.expect(f"{base}/x")).payload == b"hello"


async def test_the_device_is_the_real_service_and_hears_its_microphone(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim))
    assert isinstance(device.service, Service)
    assert device.bridge is device.service.bridge and device.store is device.bridge.store
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        await device.mic.play(WAKE_REQUEST)
        assert (await obs.expect(device.topics.event("wake"))).json()["wakeword"] == "hey_jarvis"
        await obs.expect(device.topics.event("response"))
    assert [c.model for c in sim.connections] == ["gpt-realtime"]
