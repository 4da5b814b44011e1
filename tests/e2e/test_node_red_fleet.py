"""A fleet on one broker: 20 edge_voice devices, one function-call flow (or several sharing it).

The real service of 20 devices (each with a device_id and a simulated model of its own, which
asks for the light named after the device) on the shipped broker deployment, and
flows/function-calls.json in real Node-RED 4.1: every call is answered once, to the device that
made it, with that device's light, and every conversation completes. With
`EDGE_VOICE_SHARE_GROUP` two Node-RED workers split the calls (an MQTT 5 shared subscription):
each call is answered exactly once and both workers took some.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import parse_scenario
from tests.e2e.test_node_red_function_calls import FLOW
from tests.support.broker import BrokerAddress
from tests.support.deployed_broker import LOGINS
from tests.support.mqtt_observer import Observer, observer
from tests.support.node_red import AVAILABILITY, NodeRed
from tests.support.service_device import Device, ask, build_device, make_config, running

pytestmark = pytest.mark.timeout(120)

DEVICES = [f"dev{n:02d}" for n in range(1, 21)]
#: The node of the flow that answers, and what it counts in its context.
ANSWER_NODE = "ev_fc_answer"
NODERED = LOGINS["nodered"]


def _scenario(device_id: str) -> Any:
    """The model of `device_id`: it turns on the light named after the device."""
    return parse_scenario(
        f"""
name: fleet-{device_id}
loop: false
turns:
  - user: "Turn on my light."
    call: {{name: set_light, arguments: {{room: {device_id}, state: "on"}}}}
    after_call: "Done: {{output}}"
"""
    )


@contextlib.asynccontextmanager
async def _workers(
    broker: BrokerAddress, count: int, group: str | None
) -> AsyncIterator[list[NodeRed]]:
    """`count` Node-RED instances on the function-call flow (sharing `group` if given)."""
    env = {"EDGE_VOICE_SHARE_GROUP": group} if group else {}
    workers = [NodeRed([FLOW], broker, env, NODERED) for _ in range(count)]
    try:
        async with NODERED.client(broker) as client:
            for worker in workers:
                # The retained `online` of the one before would pass for this one's birth.
                await client.publish(AVAILABILITY, b"", qos=1, retain=True)
                await worker.start()
        yield workers
    finally:
        await asyncio.gather(*(w.stop() for w in workers))


@contextlib.asynccontextmanager
async def _fleet(broker: BrokerAddress, tmp_path: Path) -> AsyncIterator[list[Device]]:
    """The 20 devices, each on its own simulator, running and connected."""
    mqtt = {
        "username": LOGINS["edge_voice"].user,
        "password": LOGINS["edge_voice"].password,
        # Discovery is not what this test is about: 20 devices' entities would only add load.
        "discovery": False,
    }
    # 20 devices on 2 cores: the answer may take longer to begin than the default wait for
    # it (the test ends each conversation itself, so no follow-up window is waited out).
    conversation = {"follow_up_s": 20.0}
    async with contextlib.AsyncExitStack() as stack:
        devices = []
        for device_id in DEVICES:
            sim = await stack.enter_async_context(
                RealtimeSimulator(SimConfig(pacing=0), scenario=_scenario(device_id))
            )
            cfg = make_config(
                broker,
                tmp_path / device_id,
                base="edge_voice",
                sim=sim,
                device_id=device_id,
                mqtt=mqtt,
                conversation=conversation,
            )
            devices.append(build_device(cfg, sim=sim))
        await asyncio.gather(*(stack.enter_async_context(running(d)) for d in devices))
        yield devices


async def _converse(obs: Observer, device: Device) -> dict[str, Any]:
    """One conversation with a function call; the call event the device published."""
    base = device.topics.base
    await ask(obs, device)
    call: dict[str, Any] = (await obs.expect(f"{base}/event/function_call", within=30)).json()
    said = await obs.expect(
        f"{base}/event/transcript",
        lambda m: m.json()["role"] == "assistant" and m.json()["text"].startswith("Done:"),
        within=30,
    )
    # The model got the flow's answer for this device's own light.
    output = json.loads(said.json()["text"].removeprefix("Done: "))
    assert (output["ok"], output["light"]) == (True, device.store.effective.device_id), output
    stop = await obs.request(device, "conversation/stop", {})
    assert stop["status"] == "ok", stop
    await obs.status(device, "idle", within=30)
    return call


@pytest.mark.parametrize(
    ("workers", "group"), [(1, None), (2, "edge_voice_calls")], ids=["one-flow", "two-shared"]
)
async def test_every_call_of_the_fleet_is_answered_once_to_its_own_device(
    deployed: BrokerAddress, tmp_path: Path, workers: int, group: str | None
) -> None:
    async with (
        _workers(deployed, workers, group) as flows,
        observer(
            deployed,
            "edge_voice/+/event/function_call",
            "edge_voice/+/function_call/result",
            "edge_voice/+/event/transcript",
            "edge_voice/+/response",
            "edge_voice/+/state",
            "zigbee2mqtt/+/set",
            username=NODERED.user,
            password=NODERED.password,
        ) as obs,
        _fleet(deployed, tmp_path) as devices,
    ):
        calls = await asyncio.gather(*(_converse(obs, d) for d in devices))
        answered = [await w.node_context(ANSWER_NODE, "answered") or 0 for w in flows]

    call_ids = {c["call_id"] for c in calls}
    assert len(call_ids) == len(DEVICES)
    for device_id, call in zip(DEVICES, calls, strict=True):
        assert call["name"] == "set_light"
        # Exactly one result, on this device's own topic, for this device's call only.
        results = [m.json() for m in obs.on(f"edge_voice/{device_id}/function_call/result")]
        assert [r["call_id"] for r in results] == [call["call_id"]], (device_id, results)
        assert results[0]["output"]["light"] == device_id
        # Its light, once; and the device took the result (no unknown_call: no cross-talk).
        assert len(obs.on(f"zigbee2mqtt/{device_id}/set")) == 1
        answers = [m.json() for m in obs.on(f"edge_voice/{device_id}/response")]
        assert [a["status"] for a in answers if a["topic"].endswith("/result")] == ["ok"]
    every_result = Counter(
        m.json()["call_id"] for m in obs.messages if m.topic.endswith("/function_call/result")
    )
    assert set(every_result) == call_ids and set(every_result.values()) == {1}
    # Each worker answered some of the calls; together, each call once.
    assert sum(answered) == len(DEVICES) and all(n > 0 for n in answered), answered


async def test_without_a_share_group_two_flows_both_answer_every_call(
    deployed: BrokerAddress,
) -> None:
    # What the share group prevents: two plain subscribers answer each call twice (the device
    # refuses the second answer as `unknown_call`, but the flow ran the tool twice).
    async with (
        _workers(deployed, 2, None) as flows,
        observer(
            deployed,
            "edge_voice/+/function_call/result",
            username=NODERED.user,
            password=NODERED.password,
        ) as obs,
        LOGINS["edge_voice"].client(deployed) as device,
    ):
        for n, device_id in enumerate(DEVICES[:4]):
            event = {"call_id": f"c{n}", "name": "set_light", "answered_by": "mqtt"}
            event["arguments"] = json.dumps({"room": device_id, "state": "on"})
            await device.publish(
                f"edge_voice/{device_id}/event/function_call", json.dumps(event), qos=1
            )
        for n, device_id in enumerate(DEVICES[:4]):
            topic = f"edge_voice/{device_id}/function_call/result"
            results = await obs.expect_count(topic, 2)
            assert {r.json()["call_id"] for r in results} == {f"c{n}"}
        answered = [await w.node_context(ANSWER_NODE, "answered") for w in flows]
    assert answered == [4, 4]
