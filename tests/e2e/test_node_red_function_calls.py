"""flows/function-calls.json in a real Node-RED 4.1, on a real Mosquitto, with edge_voice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import parse_scenario
from tests.support.broker import BrokerAddress, LocalMosquitto
from tests.support.mqtt_observer import Observer, observer
from tests.support.node_red import NodeRed, NodeRedError, require_node_red, running_node_red
from tests.support.service_device import ask, build_device, make_config, running

pytestmark = pytest.mark.timeout(90)

FLOW = "function-calls.json"
TOOLS = ("set_light", "get_sensor", "call_ha_service")
#: The model speaks the flow's output, so the test sees what the model got.
SCENARIO = """
name: node-red
turns:
  - user: "Turn on the kitchen light."
    call: {name: set_light, arguments: {room: kitchen, state: "on"}}
    after_call: "Done: {output}"
"""


@pytest.fixture(scope="module")
def _node_red_installed() -> None:
    require_node_red()


@pytest.fixture
def broker(_node_red_installed: None, restartable_broker: LocalMosquitto) -> BrokerAddress:
    """A broker of this test's own: the flow uses the default `edge_voice` base topic."""
    return restartable_broker.address


@pytest.fixture
async def flow(broker: BrokerAddress) -> AsyncIterator[NodeRed]:
    async with running_node_red([FLOW], broker) as node_red:
        yield node_red


def call_event(call_id: str, name: str, arguments: Any) -> str:
    """An `event/function_call` payload as edge_voice publishes it."""
    event = {
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "model": "gpt-realtime",
        "deadline_ms": 8000,
        "answered_by": "mqtt",
        "mode": "async",
        "ts": "2026-05-01T10:00:00.000Z",
    }
    return json.dumps(event)


async def result_of(obs: Observer, device: str, call_id: str) -> dict[str, Any]:
    """The flow's answer to `call_id` on the device's result topic."""
    topic = f"edge_voice/{device}/function_call/result"
    got = await obs.expect(topic, lambda m: m.json()["call_id"] == call_id)
    payload: dict[str, Any] = got.json()
    return payload


async def test_a_device_call_is_answered_and_the_conversation_completes(
    broker: BrokerAddress, flow: NodeRed, tmp_path: Path
) -> None:
    scenario = parse_scenario(SCENARIO)
    async with (
        RealtimeSimulator(SimConfig(pacing=0), scenario=scenario) as sim,
        observer(broker, "edge_voice/#", "zigbee2mqtt/#") as obs,
    ):
        # No `tools:` in the device config: it learns the flow's retained declarations.
        device = build_device(make_config(broker, tmp_path, base="edge_voice", sim=sim), sim=sim)
        async with running(device):
            await ask(obs, device)
            call = (await obs.expect("edge_voice/kitchen/event/function_call")).json()
            assert call["name"] == "set_light"
            command = await obs.expect("zigbee2mqtt/kitchen/set")
            assert command.json() == {"state": "ON"}
            result = await result_of(obs, "kitchen", call["call_id"])
            assert result["output"]["ok"] is True and result["output"]["light"] == "kitchen"
            answer = await obs.answer(device, "edge_voice/kitchen/function_call/result")
            assert answer["status"] == "ok", answer
            said = await obs.expect(
                "edge_voice/kitchen/event/transcript",
                lambda m: m.json()["role"] == "assistant" and "Done:" in m.json()["text"],
            )
            assert '"light":"kitchen"' in said.json()["text"]  # the model got the flow's output
            await obs.status(device, "idle", within=15)
    # A fresh subscriber: declarations published just after the birth reach `obs` live.
    async with observer(broker, "edge_voice/tools/+") as fresh:
        for name in TOOLS:
            await fresh.expect(f"edge_voice/tools/{name}", lambda m: m.retain)


async def test_string_and_object_arguments_both_work(broker: BrokerAddress, flow: NodeRed) -> None:
    async with observer(broker, "edge_voice/+/function_call/result", "zigbee2mqtt/#") as obs:
        topic = "edge_voice/kitchen/event/function_call"
        await obs.publish(topic, call_event("c-str", "set_light", '{"room":"hall","state":"off"}'))
        await obs.publish(
            topic,
            call_event("c-obj", "set_light", {"room": "desk", "state": "on", "brightness": 50}),
        )
        assert (await result_of(obs, "kitchen", "c-str"))["output"]["light"] == "hall"
        assert (await result_of(obs, "kitchen", "c-obj"))["output"]["brightness"] == 50
        assert (await obs.expect("zigbee2mqtt/hall/set")).json() == {"state": "OFF"}
        assert (await obs.expect("zigbee2mqtt/desk/set")).json() == {
            "state": "ON",
            "brightness": 127,
        }
        await obs.publish(topic, call_event("c-bad", "set_light", "not json"))
        assert "not valid JSON" in (await result_of(obs, "kitchen", "c-bad"))["error"]


async def test_an_unknown_function_gets_an_error_result(
    broker: BrokerAddress, flow: NodeRed
) -> None:
    async with observer(broker, "edge_voice/+/function_call/result") as obs:
        await obs.publish(
            "edge_voice/kitchen/event/function_call", call_event("c-x", "open_garage", "{}")
        )
        result = await result_of(obs, "kitchen", "c-x")
        assert set(result) == {"call_id", "error"}
        assert "unknown function open_garage" in result["error"]


async def test_two_devices_at_once_each_get_their_own_answer(
    broker: BrokerAddress, flow: NodeRed
) -> None:
    async with observer(broker, "edge_voice/+/function_call/result") as obs:
        await asyncio.gather(
            obs.publish(
                "edge_voice/kitchen/event/function_call",
                call_event("k-1", "set_light", '{"room":"kitchen","state":"on"}'),
            ),
            obs.publish(
                "edge_voice/hall/event/function_call",
                call_event("h-1", "set_light", '{"room":"hall","state":"off"}'),
            ),
        )
        kitchen = await result_of(obs, "kitchen", "k-1")
        hall = await result_of(obs, "hall", "h-1")
        assert kitchen["output"]["light"] == "kitchen" and hall["output"]["light"] == "hall"
        # Each answer went to its own device only.
        assert [m.json()["call_id"] for m in obs.on("edge_voice/kitchen/function_call/result")] == [
            "k-1"
        ]
        assert [m.json()["call_id"] for m in obs.on("edge_voice/hall/function_call/result")] == [
            "h-1"
        ]


async def test_get_sensor_reads_the_retained_value(broker: BrokerAddress) -> None:
    async with observer(broker, "edge_voice/+/function_call/result") as obs:
        await obs.publish("zigbee2mqtt/living_room", '{"temperature":21.5}', retain=True)
        async with running_node_red([FLOW], broker):
            topic = "edge_voice/kitchen/event/function_call"
            args = {"sensor": "living_room", "field": "temperature"}
            await obs.publish(topic, call_event("s-1", "get_sensor", json.dumps(args)))
            assert (await result_of(obs, "kitchen", "s-1"))["output"]["value"] == 21.5
            await obs.publish(topic, call_event("s-2", "get_sensor", '{"sensor":"attic"}'))
            assert "no value for sensor attic" in (await result_of(obs, "kitchen", "s-2"))["error"]


async def test_call_ha_service_without_home_assistant_says_so(
    broker: BrokerAddress, flow: NodeRed
) -> None:
    async with observer(broker, "edge_voice/+/function_call/result") as obs:
        args = '{"domain":"light","service":"turn_on","entity_id":"light.kitchen"}'
        await obs.publish(
            "edge_voice/kitchen/event/function_call", call_event("ha-1", "call_ha_service", args)
        )
        error = (await result_of(obs, "kitchen", "ha-1"))["error"]
        assert "Home Assistant is not configured" in error and "HA_URL" in error


async def test_an_mcp_call_is_left_to_edge_voice(broker: BrokerAddress, flow: NodeRed) -> None:
    async with observer(broker, "edge_voice/+/function_call/result") as obs:
        topic = "edge_voice/kitchen/event/function_call"
        mcp = json.loads(call_event("m-1", "mcp_files_read", "{}")) | {"answered_by": "mcp"}
        await obs.publish(topic, json.dumps(mcp))
        await obs.publish(topic, call_event("after", "open_garage", "{}"))
        await result_of(obs, "kitchen", "after")  # answered in order: m-1 would be first
        assert [m.json()["call_id"] for m in obs.on("edge_voice/kitchen/function_call/result")] == [
            "after"
        ]


async def test_an_unset_env_var_fails_the_start_at_once(broker: BrokerAddress) -> None:
    node_red = NodeRed([FLOW], broker, env={"MQTT_HOST": None})  # type: ignore[dict-item]
    try:
        with pytest.raises(NodeRedError, match=r"\$\{MQTT_HOST\}"):
            await node_red.start()
    finally:
        await node_red.stop()
