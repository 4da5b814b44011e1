"""Under load on a healthy broker nothing is dropped: every command answered, every event sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from edge_voice.events import Transcript
from edge_voice.mqtt.topics import CommandKind
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import Observer, observer, unique_base
from tests.support.service_device import Device, build_device, make_config, running

pytestmark = pytest.mark.broker

#: Generous: a burst of thousands of QoS 1 round trips on a shared 2-core machine.
BURST_TIMEOUT = 60.0


async def _burst(obs: Observer, device: Device, count: int) -> None:
    """`count` function-call results for calls nobody waits for, published all at once."""
    topic = device.topics.command(CommandKind.FUNCTION_CALL_RESULT)
    await asyncio.gather(
        *(
            obs.publish(topic, json.dumps({"call_id": f"c{n}", "output": "x", "transaction": n}))
            for n in range(count)
        )
    )


async def test_a_burst_of_2000_commands_is_answered_in_full(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    # The default queue_size (1000) is smaller than the burst's 4000 publications.
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    count = 2000
    async with (
        observer(mqtt_broker, topics.response, topics.event("error")) as obs,
        running(device),
    ):
        await _burst(obs, device, count)
        answers = await obs.expect_count(topics.response, count, within=BURST_TIMEOUT)
        errors = await obs.expect_count(topics.event("error"), count, within=BURST_TIMEOUT)
    assert sorted(a.json()["transaction"] for a in answers) == list(range(count))
    assert {a.json()["status"] for a in answers} == {"error"}
    assert sorted(e.json()["transaction"] for e in errors) == list(range(count))
    assert device.bridge.dropped == 0


async def test_events_published_during_a_command_burst_all_arrive_in_order(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    commands, events = 3000, 500
    transcript = topics.event("transcript")

    async def converse() -> None:
        # A conversation going on meanwhile: its events reach the bus one by one.
        for n in range(events):
            device.bus.publish(Transcript(role="assistant", text=f"part {n}"))
            await asyncio.sleep(0)

    async with observer(mqtt_broker, topics.response, transcript) as obs, running(device):
        await asyncio.gather(_burst(obs, device, commands), converse())
        seen = await obs.expect_count(transcript, events, within=BURST_TIMEOUT)
        await obs.expect_count(topics.response, commands, within=BURST_TIMEOUT)
    assert [m.json()["text"] for m in seen] == [f"part {n}" for n in range(events)]
    assert device.bridge.dropped == 0
