"""Several devices on one broker: no cross-talk, and wake word arbitration between them."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from edge_voice.mqtt.bridge import BridgeOptions
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import Observer, observer, unique_base
from tests.support.service_device import (
    FAST,
    WAKE_REQUEST,
    Device,
    ask,
    build_device,
    make_config,
    running,
)

pytestmark = pytest.mark.broker


def _pair(
    broker: BrokerAddress,
    tmp_path: Path,
    sim: RealtimeSimulator | None = None,
    options: BridgeOptions = FAST,
    **extra: Any,
) -> tuple[Device, Device]:
    base = unique_base()
    kitchen_cfg = make_config(broker, tmp_path / "k", base=base, sim=sim, **extra)
    hall_cfg = make_config(broker, tmp_path / "h", base=base, sim=sim, device_id="hall", **extra)
    return build_device(kitchen_cfg, options=options), build_device(hall_cfg, options=options)


async def test_two_devices_side_by_side_do_not_cross_talk(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    kitchen, hall = _pair(mqtt_broker, tmp_path, sim)
    base = kitchen.topics.base_topic
    async with observer(mqtt_broker, f"{base}/#") as obs, running(kitchen), running(hall):
        answer = await obs.request(kitchen, "model/set", {"model": "gpt-realtime-mini"})
        assert answer["topic"] == f"{kitchen.topics.base}/model/set"
        await ask(obs, hall)  # a conversation in the hall
        said = await obs.expect(
            hall.topics.event("transcript"), lambda m: m.json()["role"] == "assistant"
        )
        assert said.json()["model"] == "gpt-realtime"
        await obs.barrier(kitchen)
        await obs.barrier(hall)
        hall_answers = [m.json()["topic"] for m in obs.on(hall.topics.response)]
        assert hall_answers[:1] == [f"{hall.topics.base}/conversation/start"]
        assert all("/barrier_" in t for t in hall_answers[1:]), "the hall answered its own only"
        assert not obs.on(kitchen.topics.event("transcript"))
        assert {m.json()["status"] for m in obs.on(kitchen.topics.state)} == {"idle"}
        assert {m.json()["model"] for m in obs.on(hall.topics.state)} == {"gpt-realtime"}
    assert kitchen.store.effective.openai.model == "gpt-realtime-mini"
    assert hall.store.effective.openai.model == "gpt-realtime"
    assert [c.model for c in sim.connections] == ["gpt-realtime"], "only the hall talked"
    # Both retained availabilities are theirs.
    async with observer(mqtt_broker, f"{base}/+/availability") as late:
        assert (await late.expect(kitchen.topics.availability)).payload == b"offline"
        assert (await late.expect(hall.topics.availability)).payload == b"offline"


async def test_both_devices_hear_the_wake_word_and_only_the_best_answers(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    # A window that stays wide on a loaded machine: both detectors run on the same loop.
    options = dataclasses.replace(FAST, arbitration_window_s=1.0)
    kitchen, hall = _pair(
        mqtt_broker, tmp_path, sim, options, wakeword={"arbitration_group": "downstairs"}
    )
    group = kitchen.topics.arbitration()
    base = kitchen.topics.base_topic
    async with observer(mqtt_broker, f"{base}/#") as obs, running(kitchen), running(hall):
        await asyncio.gather(kitchen.mic.play(WAKE_REQUEST), hall.mic.play(WAKE_REQUEST))
        claims = [(await obs.expect(group)).json() for _ in range(2)]
        scores = {c["device_id"]: c["score"] for c in claims}
        assert set(scores) == {"kitchen", "hall"}
        # The best score answers; a tie goes to the lowest device_id.
        winner, loser = sorted(
            (kitchen, hall), key=lambda d: (-scores[d.topics.device_id], d.topics.device_id)
        )
        await obs.expect(winner.topics.event("response"))
        await obs.barrier(loser)
        assert obs.on(loser.topics.event("wake")), "the loser heard the wake word too"
        assert {m.json()["status"] for m in obs.on(loser.topics.state)} == {"idle"}
    assert len(sim.connections) == 1, "one conversation for one wake word"


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
