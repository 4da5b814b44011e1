"""docs/NODE_RED.md's "Add your own tool in five minutes", done: its code in function-calls.json.

The walkthrough's two code blocks are taken from the doc and applied as its steps say (the
declaration into "tool declarations", a rule above *otherwise* in "route by tool name", a new
function node wired to "answer the calling device"); a real edge_voice then calls the new tool
on the shipped broker config and speaks its result.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import parse_scenario
from tests.e2e.test_node_red_deployed_broker import expect_retained
from tests.e2e.test_node_red_function_calls import FLOW, result_of
from tests.support.broker import BrokerAddress
from tests.support.deployed_broker import LOGINS
from tests.support.mqtt_observer import observer
from tests.support.node_red import FLOWS_DIR, running_node_red
from tests.support.service_device import ask, build_device, make_config, running

pytestmark = pytest.mark.timeout(90)

DOC = FLOWS_DIR.parent / "docs" / "NODE_RED.md"
TOOL = "add_to_shopping_list"
SCENARIO = f"""
name: own-tool
turns:
  - user: "Put milk on the shopping list."
    call: {{name: {TOOL}, arguments: {{item: milk}}}}
    after_call: "Done: {{output}}"
"""


def walkthrough_code() -> tuple[str, str]:
    """The declaration and the function body of the walkthrough, as the doc shows them."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Add your own tool in five minutes\n")[1].split("\n## ")[0]
    blocks = [textwrap.dedent(b) for b in re.findall(r"```js\n(.*?)```", section, re.S)]
    assert len(blocks) == 2, blocks
    return blocks[0], blocks[1]


def with_own_tool(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """function-calls.json after the walkthrough's steps 1-3."""
    declaration, body = walkthrough_code()
    by_id = {n["id"]: n for n in nodes}
    declare = by_id["ev_fc_declare"]
    end_of_tools = "\n};\nconst messages"
    assert declare["func"].count(end_of_tools) == 1
    declare["func"] = declare["func"].replace(
        end_of_tools, f"\n{declaration.rstrip()}\n{end_of_tools[1:]}"
    )
    route = by_id["ev_fc_route"]
    assert route["rules"][-1] == {"t": "else"}  # otherwise stays last
    route["rules"].insert(-1, {"t": "eq", "v": TOOL, "vt": "str"})
    route["wires"].insert(-1, ["own_tool"])
    route["outputs"] = len(route["rules"])
    own = {"id": "own_tool", "type": "function", "z": route["z"], "name": TOOL, "func": body}
    own |= {"outputs": 1, "timeout": 0, "noerr": 0, "x": 600, "y": 500, "wires": [["ev_fc_answer"]]}
    return [*nodes, own]


async def test_the_walkthrough_tool_is_declared_and_answers_a_device(
    deployed: BrokerAddress, tmp_path: Path
) -> None:
    flow = tmp_path / "function-calls-own-tool.json"
    nodes = json.loads((FLOWS_DIR / FLOW).read_text(encoding="utf-8"))
    flow.write_text(json.dumps(with_own_tool(nodes)), encoding="utf-8")
    device_login = LOGINS["edge_voice"]
    mqtt = {
        "username": device_login.user,
        "password": device_login.password,
        "discovery_prefix": "homeassistant",
        "ha_status_topic": "homeassistant/status",
    }
    nodered = LOGINS["nodered"]
    async with (
        RealtimeSimulator(SimConfig(pacing=0), scenario=parse_scenario(SCENARIO)) as sim,
        running_node_red([str(flow)], deployed, login=nodered),
        observer(deployed, "edge_voice/#", username=nodered.user, password=nodered.password) as obs,
    ):
        [declared] = await expect_retained(deployed, LOGINS["edge_voice"], TOOL)
        assert declared["parameters"]["required"] == ["item"]
        cfg = make_config(deployed, tmp_path, base="edge_voice", sim=sim, mqtt=mqtt)
        device = build_device(cfg, sim=sim)
        async with running(device):
            await ask(obs, device)
            call = (await obs.expect("edge_voice/kitchen/event/function_call")).json()
            assert call["name"] == TOOL
            result = await result_of(obs, "kitchen", call["call_id"])
            assert result["output"] == {"ok": True, "item": "milk", "items": ["milk"]}
            said = await obs.expect(
                "edge_voice/kitchen/event/transcript",
                lambda m: m.json()["role"] == "assistant" and "Done:" in m.json()["text"],
            )
            assert '"items":["milk"]' in said.json()["text"]
            await obs.status(device, "idle", within=15)
