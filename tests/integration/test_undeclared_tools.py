"""A call of a tool the conversation does not offer is never run, whatever the model asks for.

The real service on the simulator, whose model calls a tool it was not given (a made-up name, an
MCP tool the config's allow-list leaves out, a tool a wake word's profile leaves out, one declared
after the session began): nothing is published on `event/function_call` for flows, no MCP
server is called, `event/error` says `undeclared_tool`, and the model gets an error result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import parse_scenario
from tests.support.broker import BrokerAddress
from tests.support.mcp_server import mcp_server
from tests.support.mqtt_observer import Observer, Received, observer, unique_base
from tests.support.service_device import (
    REQUEST,
    WAKE_REQUEST,
    Device,
    build_device,
    make_config,
    running,
    start_conversation,
)

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]

SET_LIGHT = {
    "name": "set_light",
    "description": "Turn a light on or off.",
    "parameters": {"type": "object", "properties": {"room": {"type": "string"}}},
}


def _scenario(tool: str) -> Any:
    """One turn: the model calls `tool` whether or not the session declares it."""
    return parse_scenario(
        f"""
name: rogue
loop: false
turns:
  - user: "Open the garage."
    call: {{name: {tool}, arguments: {{room: garage}}, even_if_undeclared: true}}
    after_call: "Result: {{output}}"
"""
    )


async def _refused(obs: Observer, device: Device, sim: RealtimeSimulator, tool: str) -> Received:
    """The model's error result for `tool`, its `event/error`, and the answer spoken; returns
    the spoken answer (the conversation goes on)."""
    said = await obs.expect(
        device.topics.event("transcript"),
        lambda m: m.json()["role"] == "assistant" and m.json()["text"].startswith("Result:"),
        within=15,
    )
    assert f"unknown tool '{tool}'" in said.json()["text"], said.json()
    errors = device.topics.event("error")
    error = (await obs.expect(errors, lambda m: m.json()["code"] == "undeclared_tool")).json()
    assert error["name"] == tool and tool in error["message"], error
    outputs = [
        e["item"]
        for _, e in sim.received
        if e.get("type") == "conversation.item.create"
        and e["item"].get("type") == "function_call_output"
    ]
    assert len(outputs) == 1 and "error" in json.loads(outputs[0]["output"]), outputs
    return said


def _published_calls(obs: Observer, device: Device) -> list[Any]:
    return [m.json() for m in obs.on(device.topics.event("function_call"))]


async def test_a_made_up_tool_is_not_published_and_the_model_gets_an_error(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.scenario = _scenario("open_garage")
    cfg = make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim, tools=[SET_LIGHT])
    device = build_device(cfg, sim=sim)
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        await start_conversation(obs, device)
        await device.mic.play(REQUEST)
        said = await _refused(obs, device, sim, "open_garage")
        await obs.status(device, "idle", after=said, within=15)
    assert _published_calls(obs, device) == []
    # The model was given the declared tool; the made-up one was never in its session.
    updates = [e for _, e in sim.received if e.get("type") == "session.update"]
    offered = {t["name"] for u in updates for t in u["session"].get("tools", [])}
    assert "set_light" in offered and "open_garage" not in offered


async def test_an_mcp_tool_the_allow_list_leaves_out_is_not_run(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.scenario = _scenario("mcp_home_set_light")
    async with mcp_server() as srv:
        server = {"name": "home", "url": srv.url, "allowed_tools": ["broken"]}
        cfg = make_config(
            mqtt_broker, tmp_path, base=unique_base(), sim=sim, mcp_bridge={"servers": [server]}
        )
        device = build_device(cfg, sim=sim)
        async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
            await start_conversation(obs, device)
            await device.mic.play(REQUEST)
            said = await _refused(obs, device, sim, "mcp_home_set_light")
            await obs.status(device, "idle", after=said, within=15)
        assert srv.home.lights == {}  # the server's set_light never ran
    assert _published_calls(obs, device) == []


async def test_a_tool_the_wake_words_profile_leaves_out_is_not_run(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.scenario = _scenario("set_light")
    cfg = make_config(
        mqtt_broker,
        tmp_path,
        base=unique_base(),
        sim=sim,
        tools=[SET_LIGHT],
        # Conversations of this wake word get the built-in tools only.
        wakeword={"words": {"hey_jarvis": {"profile": {"tools": []}}}},
    )
    device = build_device(cfg, sim=sim)
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        await device.mic.play(WAKE_REQUEST)
        said = await _refused(obs, device, sim, "set_light")
        await obs.status(device, "idle", after=said, within=15)
    assert _published_calls(obs, device) == []


async def test_a_tool_declared_after_the_session_began_is_not_run(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.scenario = _scenario("set_light")
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim), sim=sim)
    declaration = json.dumps({k: v for k, v in SET_LIGHT.items() if k != "name"})
    tool_topic = f"{device.topics.base}/tools/set_light"
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        try:
            await start_conversation(obs, device)
            await sim.wait_for_received("session.update")
            # Declared now: the device knows the tool, but this session's model was not told.
            await obs.publish(tool_topic, declaration, retain=True)
            await obs.barrier(device)
            assert "set_light" in device.assistant.calls.registry.tools()
            await device.mic.play(REQUEST)
            said = await _refused(obs, device, sim, "set_light")
            await obs.status(device, "idle", after=said, within=15)
        finally:
            await obs.publish(tool_topic, b"", retain=True)
    assert _published_calls(obs, device) == []
