"""The local MCP bridge in a conversation: the real service on the simulator, the model calling
`mcp_<server>_<tool>`, the bridge running it on a real MCP server on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge_voice.metrics.cost import calculate_cost
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import parse_scenario
from tests.support.broker import BrokerAddress
from tests.support.mcp_server import RunningMcp, ToolWatch, mcp_server
from tests.support.mqtt_observer import Observer, Received, observer, unique_base
from tests.support.service_device import WAKE_REQUEST, Device, build_device, make_config, running

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]


def _scenario(tool: str, arguments: dict[str, Any], after_call: str) -> Any:
    return parse_scenario(
        f"""
name: bridge
loop: false
turns:
  - user: "Hey Jarvis, turn on the kitchen light."
    call: {{name: {tool}, arguments: {arguments!r}}}
    after_call: "{after_call}"
    otherwise: "I have no such tool."
"""
    )


async def _device(
    broker: BrokerAddress, sim: RealtimeSimulator, srv: RunningMcp, tmp_path: Path, **openai: Any
) -> tuple[Device, ToolWatch]:
    cfg = make_config(
        broker,
        tmp_path,
        base=unique_base(),
        sim=sim,
        openai=openai,
        mcp_bridge={"servers": [{"name": "home", "url": srv.url}]},
    )
    device = build_device(cfg, sim=sim)
    # Follow the bridge's tool list as the service does, to start once the tools are there.
    watch, wired = ToolWatch(), device.service.mcp.on_change
    assert wired is not None

    def both(tools: dict[str, Any]) -> None:
        wired(tools)
        watch(tools)

    device.service.mcp.on_change = both
    return device, watch


async def _reply(obs: Observer, device: Device) -> Received:
    return await obs.expect(
        device.topics.event("transcript"), lambda m: m.json()["role"] == "assistant"
    )


async def test_the_model_calls_a_bridged_tool_and_speaks_its_result(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.scenario = _scenario(
        "mcp_home_set_light", {"room": "kitchen", "on": True}, "The home says: {output}."
    )
    async with mcp_server() as srv:
        device, watch = await _device(mqtt_broker, sim, srv, tmp_path)
        topics = device.topics
        async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
            await watch.until(lambda tools: "mcp_home_set_light" in tools)
            await device.mic.play(WAKE_REQUEST)
            said = await _reply(obs, device)
            assert said.json()["text"] == "The home says: kitchen light is on."
            await obs.status(device, "idle", after=said)
        assert srv.home.lights == {"kitchen": True}
    call = obs.on(topics.event("function_call"))[0].json()
    assert (call["name"], call["answered_by"]) == ("mcp_home_set_light", "mcp")
    outputs = [
        e["item"]["output"]
        for _, e in sim.received
        if e["type"] == "conversation.item.create" and e["item"]["type"] == "function_call_output"
    ]
    assert outputs == ["kitchen light is on"]


async def _snapshot_conversation(
    broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path, **openai: Any
) -> tuple[Device, Observer, list[dict[str, Any]]]:
    sim.scenario = _scenario("mcp_home_snapshot", {}, "I can see the door.")
    async with mcp_server(camera=True) as srv:
        device, watch = await _device(broker, sim, srv, tmp_path, **openai)
        topics = device.topics
        async with observer(broker, f"{topics.base}/#") as obs, running(device):
            await watch.until(lambda tools: "mcp_home_snapshot" in tools)
            await device.mic.play(WAKE_REQUEST)
            said = await _reply(obs, device)
            await obs.status(device, "idle", after=said)
    items = [e["item"] for _, e in sim.received if e["type"] == "conversation.item.create"]
    return device, obs, items


async def test_an_image_from_a_bridged_tool_is_shown_and_priced_by_class(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device, obs, items = await _snapshot_conversation(mqtt_broker, sim, tmp_path)
    shown = [i for i in items if i["type"] == "message"]
    assert len(shown) == 1
    part = shown[0]["content"][0]
    assert part["type"] == "input_image"
    assert part["image_url"].startswith("data:image/png;base64,")
    responses = [m.json() for m in obs.on(device.topics.event("response"))]
    seen = responses[-1]  # the answer after the image
    assert seen["usage"]["image_in"] > 0
    assert seen["cost_usd"] == pytest.approx(calculate_cost(seen["usage"], seen["model"]))
    text_only = {**seen["usage"], "image_in": 0}
    assert seen["cost_usd"] > calculate_cost(text_only, seen["model"])
    snapshot = device.service.metrics.snapshot()
    assert snapshot.cost_total_usd == pytest.approx(sum(r["cost_usd"] for r in responses))


async def test_on_a_model_without_image_input_the_result_says_the_image_was_not_shown(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    _, _, items = await _snapshot_conversation(
        mqtt_broker, sim, tmp_path, disable_new_features=True
    )
    assert not [i for i in items if i["type"] == "message"]
    outputs = [i["output"] for i in items if i["type"] == "function_call_output"]
    assert len(outputs) == 1 and "could not be shown" in outputs[0]
