"""Several devices on one broker: no cross-talk, and wake word arbitration between them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from edge_voice.events import Transcript
from tests.integration.test_mqtt_harness import (
    Device,
    Observer,
    build_device,
    make_config,
    observer,
    running,
    unique_base,
)
from tests.support.broker import BrokerAddress

pytestmark = pytest.mark.broker


def _pair(broker: BrokerAddress, tmp_path: Path, **extra: Any) -> tuple[Device, Device]:
    base = unique_base()
    kitchen = build_device(make_config(broker, tmp_path / "k", base=base, **extra))
    hall = build_device(make_config(broker, tmp_path / "h", base=base, device_id="hall", **extra))
    return kitchen, hall


async def test_two_devices_side_by_side_do_not_cross_talk(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    kitchen, hall = _pair(mqtt_broker, tmp_path)
    base = kitchen.topics.base_topic
    async with observer(mqtt_broker, f"{base}/#") as obs, running(kitchen), running(hall):
        answer = await obs.request(kitchen, "model/set", {"model": "gpt-realtime-mini"})
        assert answer["topic"] == f"{kitchen.topics.base}/model/set"
        hall.bus.publish(Transcript(role="user", text="hall only"))
        await obs.expect(hall.topics.event("transcript"))
        await obs.request(hall, "conversation/start", {})
        assert not obs.on(hall.topics.response)[:-1], "the hall answered only its own command"
        assert not obs.on(kitchen.topics.event("transcript"))
        assert obs.on(kitchen.topics.state) and not obs.on(hall.topics.state)
    assert kitchen.store.effective.openai.model == "gpt-realtime-mini"
    assert hall.store.effective.openai.model == "gpt-realtime"
    assert (kitchen.control.starts, hall.control.starts) == (0, 1)
    # Both retained availabilities are theirs.
    async with observer(mqtt_broker, f"{base}/+/availability") as late:
        assert (await late.expect(kitchen.topics.availability)).payload == b"offline"
        assert (await late.expect(hall.topics.availability)).payload == b"offline"


async def test_arbitration_the_best_score_answers_and_ties_go_to_the_lowest_id(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    kitchen, hall = _pair(mqtt_broker, tmp_path, wakeword={"arbitration_group": "downstairs"})
    group = kitchen.topics.arbitration()
    async with observer(mqtt_broker, group) as obs, running(kitchen):
        assert await kitchen.bridge.claim(0.1), "alone in the group: no rival, it answers"
        async with running(hall):
            await _contest(obs, group, kitchen, hall)


async def _contest(obs: Observer, group: str, kitchen: Device, hall: Device) -> None:
    won = await asyncio.gather(kitchen.bridge.claim(0.71), hall.bridge.claim(0.93))
    assert list(won) == [False, True]
    assert {m.json()["device_id"] for m in obs.on(group)} == {"kitchen", "hall"}

    tie = await asyncio.gather(kitchen.bridge.claim(0.8), hall.bridge.claim(0.8))
    assert list(tie) == [False, True], "'hall' < 'kitchen'"


async def test_a_device_without_arbitration_group_always_answers(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    async with running(device):
        assert await device.bridge.claim(0.01)
