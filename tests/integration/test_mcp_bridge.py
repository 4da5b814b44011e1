"""The local MCP bridge against a real MCP server (the SDK's MCPServer) on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from edge_voice.config.mcp_schema import McpBridgeConfig
from edge_voice.conversation.function_calls import FunctionCallBroker, ToolRegistry
from edge_voice.events import EventBus, FunctionCallRequested
from edge_voice.mcp.bridge import McpBridge
from edge_voice.mqtt.commands import CommandError, ErrorCode
from tests.support.mcp_server import RunningMcp, ToolWatch, mcp_server, start_mcp

SET_LIGHT = "mcp_home_set_light"


@asynccontextmanager
async def running_bridge(
    url: str, transport: str = "streamable_http", **server: object
) -> AsyncIterator[tuple[McpBridge, ToolWatch]]:
    """A bridge to one server named `home`, running until the block ends, its tools listed."""
    watch = ToolWatch()
    cfg = McpBridgeConfig.model_validate(
        {"servers": [{"name": "home", "url": url, "transport": transport, **server}]}
    )
    bridge = McpBridge(cfg, on_change=watch)
    task = asyncio.get_running_loop().create_task(bridge.run())
    try:
        await watch.until(lambda tools: bool(tools))
        yield bridge, watch
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def broker_for(bridge: McpBridge, deadline_ms: int = 3000) -> tuple[FunctionCallBroker, EventBus]:
    """A function-call broker whose registry offers the bridge's tools, as the service wires it."""
    bus = EventBus(queue_size=100)
    registry = ToolRegistry([])
    registry.set_local({n: (t.description, t.parameters) for n, t in bridge.tools().items()})
    return FunctionCallBroker(registry, bus, deadline_ms=deadline_ms, local=bridge), bus


@pytest.mark.parametrize("transport", ["streamable_http", "sse"])
async def test_lists_the_servers_tools_as_prefixed_function_tools(transport: str) -> None:
    async with mcp_server(transport) as srv, running_bridge(srv.url, transport) as (bridge, _):
        tools = bridge.tools()
        assert set(tools) == {
            "mcp_home_set_light",
            "mcp_home_broken",
            "mcp_home_slow",
            "mcp_home_install",
        }
        light = tools[SET_LIGHT]
        assert light.tool == "set_light"
        assert light.description == "Turn a light on or off."
        assert set(light.parameters["properties"]) == {"room", "on"}


@pytest.mark.parametrize("transport", ["streamable_http", "sse"])
async def test_a_call_runs_on_the_server_and_returns_its_text(transport: str) -> None:
    async with mcp_server(transport) as srv, running_bridge(srv.url, transport) as (bridge, _):
        output, error = await bridge.call(SET_LIGHT, json.dumps({"room": "kitchen", "on": True}))
        assert (output, error) == ("kitchen light is on", None)
        assert srv.home.lights == {"kitchen": True}


async def test_allowed_tools_limits_what_the_model_gets() -> None:
    async with (
        mcp_server() as srv,
        running_bridge(srv.url, allowed_tools=["set_light"]) as (bridge, _),
    ):
        assert set(bridge.tools()) == {SET_LIGHT}
        _, error = await bridge.call("mcp_home_broken", "{}")
        assert error is not None and "no longer offered" in error


async def test_a_tool_error_becomes_an_error_output_the_model_can_speak() -> None:
    async with mcp_server() as srv, running_bridge(srv.url) as (bridge, _):
        calls, bus = broker_for(bridge)
        seen: list[FunctionCallRequested] = []
        bus.on(FunctionCallRequested, seen.append)
        output = await calls.call("call_1", "mcp_home_broken", "{}", "gpt-realtime")
        assert "the thermostat is unreachable" in json.loads(output)["error"]
        assert [(e.call_id, e.name, e.answered_by) for e in seen] == [
            ("call_1", "mcp_home_broken", "mcp")
        ]


async def test_a_call_past_the_deadline_is_an_error_and_the_bridge_keeps_working() -> None:
    async with mcp_server() as srv, running_bridge(srv.url) as (bridge, _):
        calls, bus = broker_for(bridge, deadline_ms=300)
        published = asyncio.Event()
        bus.on(FunctionCallRequested, lambda _: published.set())
        call = asyncio.create_task(calls.call("call_1", "mcp_home_slow", "{}", "gpt-realtime"))
        await asyncio.wait_for(published.wait(), 5)
        with pytest.raises(CommandError) as refused:  # MQTT cannot answer a call run here
            calls.result("call_1", "made up", None)
        assert refused.value.code is ErrorCode.UNKNOWN_CALL
        output = await call
        assert json.loads(output) == {"error": "no answer from mcp_home_slow within 300 ms"}
        again = await calls.call("call_2", SET_LIGHT, '{"room": "hall", "on": false}', "m")
        assert again == "hall light is off"


async def test_the_server_gone_gives_an_error_result_and_the_bridge_reconnects() -> None:
    srv = await start_mcp()
    port = int(srv.url.split(":")[2].split("/")[0])
    restarted: RunningMcp | None = None
    try:
        async with running_bridge(srv.url) as (bridge, watch):
            calls, _ = broker_for(bridge)
            await srv.stop()
            output = await calls.call("call_1", SET_LIGHT, '{"room": "a", "on": true}', "m")
            assert "the MCP server home" in json.loads(output)["error"]
            await watch.until(lambda tools: not tools)  # the link noticed and retracted them
            restarted = await start_mcp(port=port)
            await watch.until(lambda tools: SET_LIGHT in tools)  # reconnected after a backoff
            output, _ = await bridge.call(SET_LIGHT, '{"room": "a", "on": true}')
            assert output == "a light is on"
    finally:
        await srv.stop()
        if restarted is not None:
            await restarted.stop()


async def test_the_list_is_refreshed_on_tools_list_changed() -> None:
    async with mcp_server() as srv, running_bridge(srv.url) as (bridge, watch):
        assert "mcp_home_get_temperature" not in bridge.tools()
        output, _ = await bridge.call("mcp_home_install", "{}")
        assert output == "installed"
        await watch.until(lambda tools: "mcp_home_get_temperature" in tools)
        output, _ = await bridge.call("mcp_home_get_temperature", "{}")
        assert output == "21 °C"


async def test_a_call_after_the_server_restarted_runs_once_in_a_new_session() -> None:
    # The server came back between two calls (an HA restart): the link still holds the old
    # session, which the new server does not know (404 "Session not found"). The request never
    # ran, so the link opens a new session and runs it there, once.
    srv = await start_mcp()
    port = int(srv.url.split(":")[2].split("/")[0])
    restarted: RunningMcp | None = None
    try:
        async with running_bridge(srv.url) as (bridge, _):
            await srv.stop()
            restarted = await start_mcp(port=port)
            output, error = await bridge.call(SET_LIGHT, '{"room": "hall", "on": true}')
            assert (output, error) == ("hall light is on", None)
            assert restarted.home.lights == {"hall": True}
    finally:
        await srv.stop()
        if restarted is not None:
            await restarted.stop()
