"""Native MCP end to end: the real service on the simulator, which calls a real MCP server.

The simulator plays OpenAI's cloud: it lists the server's tools and calls them with the SDK
client over loopback; the device answers approval requests from `approved_tools` and reports
every call on MQTT.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import Scenario, parse_scenario
from tests.support.assistant_rig import build_rig, demo_wav, frames_of
from tests.support.assistant_rig import make_config as rig_config
from tests.support.broker import BrokerAddress
from tests.support.mcp_server import mcp_server
from tests.support.mqtt_observer import Observer, Received, observer, unique_base
from tests.support.service_device import (
    WAKE_REQUEST,
    Device,
    build_device,
    make_config,
    running,
)

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]

TOKEN = "mcp-token-5b1e9c7d-never-shown"
SCRIPT = """
name: native-mcp
loop: false
turns:
  - user: "Hey Jarvis, turn on the kitchen light."
    say: "One moment."
    mcp: {server_label: home, name: TOOL, arguments: {room: kitchen, "on": true}}
    after_call: "Done: {output}."
    on_error: "I could not do that. {error}"
    otherwise: "I can't reach the home."
"""
SCENARIO = parse_scenario(SCRIPT.replace("TOOL", "set_light"))


def _server(url: str, **extra: Any) -> dict[str, Any]:
    return {"server_label": "home", "server_url": url, **extra}


def _device(
    broker: BrokerAddress,
    sim: RealtimeSimulator,
    tmp_path: Path,
    scenario: Scenario = SCENARIO,
    **server: Any,
) -> Device:
    sim.scenario = scenario
    cfg = make_config(
        broker, tmp_path / "state", base=unique_base(), sim=sim, openai={"mcp_servers": [server]}
    )
    return build_device(cfg, sim=sim)


async def _reply(obs: Observer, device: Device, starts: str) -> Received:
    return await obs.expect(
        device.topics.event("transcript"),
        lambda m: m.json()["role"] == "assistant" and m.json()["text"].startswith(starts),
    )


async def test_an_approved_call_runs_on_the_server_and_the_reply_uses_its_output(
    mqtt_broker: BrokerAddress,
    sim: RealtimeSimulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token_file = tmp_path / "home.token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    async with mcp_server() as srv:
        device = _device(
            mqtt_broker,
            sim,
            tmp_path,
            **_server(srv.url, approved_tools=["set_light"], authorization_file=str(token_file)),
        )
        topics = device.topics
        async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
            await device.mic.play(WAKE_REQUEST)
            said = await _reply(obs, device, "Done")
            assert said.json()["text"] == "Done: kitchen light is on."
            await obs.status(device, "idle", after=said)
        assert srv.home.lights == {"kitchen": True}  # the tool really ran on the server
        assert srv.home.authorizations
        assert set(srv.home.authorizations) == {f"Bearer {TOKEN}"}

    calls = [m.json() for m in obs.on(topics.event("mcp_call"))]
    assert [c["status"] for c in calls] == ["approved", "completed"]
    assert calls[1]["output"] == "kitchen light is on"
    assert (calls[1]["server_label"], calls[1]["name"]) == ("home", "set_light")
    assert json.loads(calls[1]["arguments"]) == {"room": "kitchen", "on": True}
    # The simulator saw the tools listed and the approval answered yes.
    sent = [e for c in sim.observer.connections for e in c.sent]
    assert any(e["type"] == "mcp_list_tools.completed" for e in sent)
    approvals = [e["item"] for _, e in sim.received if e["type"] == "conversation.item.create"]
    assert [(a["type"], a["approve"]) for a in approvals] == [("mcp_approval_response", True)]
    # The token went to the server, and nowhere a user or a log reader can see it.
    assert not [r for r in caplog.records if TOKEN in r.getMessage()]
    assert not [m.topic for m in obs.messages if TOKEN.encode() in m.payload]


async def test_a_call_not_on_the_allow_list_is_denied_and_not_made(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    async with mcp_server() as srv:
        device = _device(mqtt_broker, sim, tmp_path, **_server(srv.url, approved_tools=[]))
        topics = device.topics
        async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
            await device.mic.play(WAKE_REQUEST)
            said = await _reply(obs, device, "I could not")
            assert "not approved" in said.json()["text"]
            await obs.status(device, "idle", after=said)
        assert srv.home.lights == {}  # never called
    statuses = [m.json()["status"] for m in obs.on(topics.event("mcp_call"))]
    assert statuses[0] == "denied" and "completed" not in statuses


async def test_a_failing_tool_is_reported_failed_and_the_reply_says_why(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    broken = parse_scenario(SCRIPT.replace("TOOL", "broken").replace(', "on": true', ""))
    async with mcp_server() as srv:
        server = _server(srv.url, require_approval="never")
        device = _device(mqtt_broker, sim, tmp_path, broken, **server)
        topics = device.topics
        async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
            await device.mic.play(WAKE_REQUEST)
            said = await _reply(obs, device, "I could not")
            assert "the thermostat is unreachable" in said.json()["text"]
            await obs.status(device, "idle", after=said)
    calls = [m.json() for m in obs.on(topics.event("mcp_call"))]
    assert [c["status"] for c in calls] == ["failed"]
    assert "the thermostat is unreachable" in calls[0]["error"] and calls[0]["output"] is None


async def test_an_unreachable_server_is_reported_and_the_conversation_completes(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    async with mcp_server() as srv:
        url = srv.url
    # The server is gone: nothing listens on its port any more.
    device = _device(mqtt_broker, sim, tmp_path, **_server(url, approved_tools=["set_light"]))
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await device.mic.play(WAKE_REQUEST)
        error = await obs.expect(
            topics.event("error"), lambda m: m.json()["code"] == "mcp_list_tools_failed"
        )
        assert "home" in error.json()["message"]
        said = await _reply(obs, device, "I can't reach")
        await obs.status(device, "idle", after=said)
    assert not obs.on(topics.event("mcp_call"))


async def test_a_model_without_mcp_gets_no_mcp_tool_and_it_is_reported_once(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.scenario = SCENARIO
    async with mcp_server() as srv:
        cfg = rig_config(
            sim.url,
            tmp_path,
            openai={
                "base_url": sim.url,
                "model": "gpt-4o-realtime-preview",
                "model_selection": "new",
                "mcp_servers": [_server(srv.url, approved_tools=["set_light"])],
            },
        )
        rig = build_rig(cfg, tmp_path / "reply.wav")
        wav = demo_wav("hey_jarvis_kitchen_light.wav")
        await rig.assistant.run(frames_of(wav, wav, silence_s=4), exit_on_eof=True)
        assert srv.home.lights == {}
    updates = [e for _, e in sim.received if e["type"] == "session.update"]
    assert updates
    assert all(t.get("type") != "mcp" for u in updates for t in u["session"].get("tools", []))
    dropped = [e for e in rig.migration_events if getattr(e, "feature", None) == "mcp"]
    assert len(dropped) == 1
