"""A function call that misses its deadline is visible on MQTT (event/error naming the call, the
tool and the model), for MQTT-answered and MCP-bridge calls, async and wait; the real service on
the simulator and a broker. A realtime connect failure publishes a snake_case code too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge_voice.realtime.error_codes import CODE_PATTERN
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import parse_scenario
from tests.support.broker import BrokerAddress
from tests.support.mcp_server import ToolWatch, mcp_server
from tests.support.mqtt_observer import Observer, observer, unique_base
from tests.support.service_device import (
    WAKE_REQUEST,
    Device,
    build_device,
    light_device,
    make_config,
    running,
)

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]

DEADLINE_MS = 600


async def _timed_out_call(obs: Observer, device: Device) -> tuple[dict[str, Any], dict[str, Any]]:
    """Speak the light request, answer nothing; the published call and its error event."""
    topics = device.topics
    await device.mic.play(WAKE_REQUEST)
    call = (await obs.expect(topics.event("function_call"), within=15)).json()
    error = await obs.expect(
        topics.event("error"), lambda m: m.json()["code"] == "function_call_timeout", within=15
    )
    # The conversation goes on to its end: the model was told the call failed.
    await obs.status(device, "idle", within=20, after=error)
    return call, error.json()


@pytest.mark.parametrize(
    ("openai", "mode"),
    [({}, "async"), ({"model": "gpt-4o-realtime-preview"}, "wait")],
    ids=["async", "wait"],
)
async def test_an_unanswered_mqtt_call_publishes_function_call_timeout(
    mqtt_broker: BrokerAddress,
    sim: RealtimeSimulator,
    tmp_path: Path,
    openai: dict[str, Any],
    mode: str,
) -> None:
    device = light_device(
        mqtt_broker,
        tmp_path,
        sim,
        openai=openai,
        conversation={"function_deadline_ms": DEADLINE_MS},
    )
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        call, error = await _timed_out_call(obs, device)
    assert (call["mode"], call["answered_by"], call["name"]) == (mode, "mqtt", "set_light")
    assert (error["call_id"], error["name"], error["model"]) == (
        call["call_id"],
        "set_light",
        call["model"],
    )
    assert call["call_id"] in error["message"] and "set_light" in error["message"]
    assert f"{DEADLINE_MS} ms" in error["message"]
    assert "source_topic" not in error  # no command caused it
    outputs = [
        e["item"]["output"]
        for _, e in sim.received
        if e["type"] == "conversation.item.create" and e["item"]["type"] == "function_call_output"
    ]
    assert outputs == [f'{{"error": "no answer from set_light within {DEADLINE_MS} ms"}}']


@pytest.mark.parametrize(
    "openai", [{}, {"model": "gpt-4o-realtime-preview"}], ids=["async", "wait"]
)
async def test_an_mcp_bridge_call_past_its_deadline_publishes_function_call_timeout(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path, openai: dict[str, Any]
) -> None:
    sim.scenario = parse_scenario(
        """
name: slow
loop: false
turns:
  - user: "Hey Jarvis, turn on the kitchen light."
    call: {name: mcp_home_slow, arguments: {}}
    after_call: "The home says: {output}."
    otherwise: "I have no such tool."
"""
    )
    async with mcp_server() as srv:
        cfg = make_config(
            mqtt_broker,
            tmp_path,
            base=unique_base(),
            sim=sim,
            openai=openai,
            conversation={"function_deadline_ms": DEADLINE_MS},
            mcp_bridge={"servers": [{"name": "home", "url": srv.url}]},
        )
        device = build_device(cfg, sim=sim)
        watch, wired = ToolWatch(), device.service.mcp.on_change
        assert wired is not None

        def both(tools: dict[str, Any]) -> None:
            wired(tools)
            watch(tools)

        device.service.mcp.on_change = both
        try:
            async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
                await watch.until(lambda tools: "mcp_home_slow" in tools)
                call, error = await _timed_out_call(obs, device)
        finally:
            srv.home.release.set()  # the hung tool returns, so the server can stop
    assert (call["answered_by"], call["name"]) == ("mcp", "mcp_home_slow")
    assert (error["call_id"], error["name"], error["model"]) == (
        call["call_id"],
        "mcp_home_slow",
        call["model"],
    )
    assert "MCP server" in error["message"]


async def test_a_realtime_connect_failure_publishes_a_snake_case_code(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    # No simulator: the device's realtime URL is a closed loopback port.
    cfg = make_config(mqtt_broker, tmp_path, base=unique_base(), openai={"connect_timeout_s": 2})
    device = build_device(cfg)
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        assert (await obs.request(device, "conversation/start", {}))["status"] == "ok"
        error = (await obs.expect(device.topics.event("error"), within=30)).json()
        await obs.status(device, "idle", within=15)
    assert error["code"] == "connect_failed"
    assert CODE_PATTERN.match(error["code"])
