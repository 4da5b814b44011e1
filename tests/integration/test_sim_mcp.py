"""The simulator's native MCP on the wire: a raw client, the simulator, a real MCP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from edge_voice.sim import RealtimeSimulator, SimConfig
from edge_voice.sim.scenario import parse_scenario
from tests.support.mcp_server import RunningMcp, mcp_server
from tests.support.sim_client import SimClient

pytestmark = pytest.mark.timeout(30)

SCENARIO = """
loop: false
turns:
  - user: turn on the kitchen light
    match: light
    mcp: {server_label: home, name: set_light, arguments: {room: kitchen, "on": true}}
    after_call: "Done: {output}."
  - user: fix the thermostat
    match: thermostat
    mcp: {server_label: home, name: broken}
    on_error: "That failed: {error}"
"""


@pytest.fixture
async def home() -> AsyncIterator[RunningMcp]:
    async with mcp_server() as running:
        yield running


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0), scenario=parse_scenario(SCENARIO)) as srv:
        yield srv


def _tool(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "mcp", "server_label": "home", "server_url": url, **extra}


async def _session(sim: RealtimeSimulator, tool: dict[str, Any]) -> SimClient:
    client = await SimClient.connect(sim.url)
    await client.wait_for("session.created")
    await client.send({"type": "session.update", "session": {"type": "realtime", "tools": [tool]}})
    await client.wait_for("session.updated")
    return client


async def _say(client: SimClient, text: str) -> None:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    await client.send({"type": "conversation.item.create", "item": item})
    await client.send({"type": "response.create"})


def _spoken(done: dict[str, Any]) -> str:
    messages = [i for i in done["response"]["output"] if i["type"] == "message"]
    return " ".join(
        p.get("transcript") or p.get("text", "") for m in messages for p in m["content"]
    )


async def test_tools_are_listed_honouring_allowed_tools(
    sim: RealtimeSimulator, home: RunningMcp
) -> None:
    async with await _session(sim, _tool(home.url, allowed_tools=["set_light"])) as c:
        events = await c.collect_until("mcp_list_tools.completed")
    kinds = [e["type"] for e in events]
    added = events[kinds.index("conversation.item.added")]["item"]
    assert (added["type"], added["server_label"], added["tools"]) == ("mcp_list_tools", "home", [])
    assert kinds.index("mcp_list_tools.in_progress") < kinds.index("conversation.item.done")
    done = events[kinds.index("conversation.item.done")]["item"]
    assert done["id"] == added["id"]
    assert [t["name"] for t in done["tools"]] == ["set_light"]
    assert done["tools"][0]["input_schema"]["properties"].keys() == {"room", "on"}
    assert home.home.authorizations and set(home.home.authorizations) == {None}


async def test_headers_and_authorization_reach_the_server(
    sim: RealtimeSimulator, home: RunningMcp
) -> None:
    tool = _tool(home.url, authorization="tok-123", headers={"X-Home": "a"})
    async with await _session(sim, tool) as c:
        await c.wait_for("mcp_list_tools.completed")
    assert set(home.home.authorizations) == {"Bearer tok-123"}
    assert all(h.get("x-home") == "a" for h in home.home.headers)


async def test_an_unreachable_server_fails_the_listing(sim: RealtimeSimulator) -> None:
    async with mcp_server() as gone:
        url = gone.url
    async with await _session(sim, _tool(url)) as c:
        failed = await c.wait_for("mcp_list_tools.failed")
        added = next(e for e in c.events if e["type"] == "conversation.item.added")
        assert failed["item_id"] == added["item"]["id"]


async def test_a_call_without_approval_ends_the_response_then_reports_its_output(
    sim: RealtimeSimulator, home: RunningMcp
) -> None:
    async with await _session(sim, _tool(home.url, require_approval="never")) as c:
        await c.wait_for("mcp_list_tools.completed")
        await _say(c, "turn on the kitchen light")
        events = await c.collect_until("conversation.item.done")
        while events[-1]["item"]["type"] != "mcp_call":
            events += await c.collect_until("conversation.item.done")
        kinds = [e["type"] for e in events]
        order = [
            "response.mcp_call_arguments.done",
            "response.mcp_call.in_progress",
            "response.done",
            "response.mcp_call.completed",
        ]
        assert [kinds.index(k) for k in order] == sorted(kinds.index(k) for k in order)
        in_response = events[kinds.index("response.done")]["response"]["output"][-1]
        assert in_response["type"] == "mcp_call" and in_response["output"] is None
        call = events[-1]["item"]
        assert call["output"] == "kitchen light is on" and call["error"] is None
        assert call["arguments"] == '{"room":"kitchen","on":true}'
        assert home.home.lights == {"kitchen": True}
        # No follow-up by itself: the client asks, and the answer uses the output.
        await c.send({"type": "response.create"})
        done = await c.wait_for("response.done")
        assert _spoken(done) == "Done: kitchen light is on."


async def test_a_tool_error_fails_the_call_and_the_follow_up_says_why(
    sim: RealtimeSimulator, home: RunningMcp
) -> None:
    async with await _session(sim, _tool(home.url, require_approval="never")) as c:
        await c.wait_for("mcp_list_tools.completed")
        await _say(c, "fix the thermostat")
        failed = await c.wait_for("response.mcp_call.failed")
        item = await c.wait_for(
            "conversation.item.done", where=lambda e: e["item"]["id"] == failed["item_id"]
        )
        error = item["item"]["error"]
        assert error["type"] == "tool_execution_error"
        assert "the thermostat is unreachable" in error["message"]
        await c.send({"type": "response.create"})
        done = await c.wait_for("response.done")
        assert _spoken(done).startswith("That failed: ")


async def test_an_approval_is_asked_first_and_a_denied_call_is_not_made(
    sim: RealtimeSimulator, home: RunningMcp
) -> None:
    async with await _session(sim, _tool(home.url)) as c:
        await c.wait_for("mcp_list_tools.completed")
        await _say(c, "turn on the kitchen light")
        done = await c.wait_for("response.done")
        request = done["response"]["output"][-1]
        assert request["type"] == "mcp_approval_request"
        assert (request["server_label"], request["name"]) == ("home", "set_light")
        answer = {
            "type": "mcp_approval_response",
            "approval_request_id": request["id"],
            "approve": False,
            "reason": "not today",
        }
        await c.send({"type": "conversation.item.create", "item": answer})
        await c.send({"type": "response.create"})
        done = await c.wait_for("response.done")
        call = done["response"]["output"][0]
        assert call["type"] == "mcp_call" and call["approval_request_id"] == request["id"]
        assert call["output"] is None and "not today" in call["error"]["message"]
        assert "response.mcp_call.failed" in c.types()
        assert "not today" in _spoken(done)
    assert home.home.lights == {}


async def test_an_approval_for_an_unknown_request_is_refused(
    sim: RealtimeSimulator, home: RunningMcp
) -> None:
    async with await _session(sim, _tool(home.url)) as c:
        answer = {"type": "mcp_approval_response", "approval_request_id": "mcpr_x", "approve": True}
        await c.send({"type": "conversation.item.create", "item": answer})
        error = (await c.wait_for("error"))["error"]
        assert (error["code"], error["param"]) == ("invalid_value", "item.approval_request_id")
