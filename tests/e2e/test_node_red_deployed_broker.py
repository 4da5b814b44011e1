"""function-calls.json on the shipped broker deployment: each client with its own login.

Node-RED logs in as `nodered`, the device as `edge_voice`, the observer as `homeassistant`
(it reads everything and starts the conversation as Home Assistant's button would), all on
mosquitto/mosquitto.conf with mosquitto/acl: the flow's tool declarations, the call, the light
command and the result all pass the ACL, and the conversation completes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import parse_scenario
from tests.e2e.test_node_red_function_calls import FLOW, SCENARIO, TOOLS, result_of
from tests.support.broker import BrokerAddress
from tests.support.deployed_broker import LOGINS, Login
from tests.support.mqtt_observer import observer
from tests.support.node_red import running_node_red
from tests.support.service_device import ask, build_device, make_config, running

pytestmark = pytest.mark.timeout(90)


async def test_the_flow_answers_a_device_through_the_shipped_acl(
    deployed: BrokerAddress, tmp_path: Path
) -> None:
    ha, device_login = LOGINS["homeassistant"], LOGINS["edge_voice"]
    mqtt = {
        "username": device_login.user,
        "password": device_login.password,
        "discovery_prefix": "homeassistant",
        "ha_status_topic": "homeassistant/status",
    }
    async with (
        RealtimeSimulator(SimConfig(pacing=0), scenario=parse_scenario(SCENARIO)) as sim,
        running_node_red([FLOW], deployed, login=LOGINS["nodered"]),
        observer(deployed, "edge_voice/#", username=ha.user, password=ha.password) as obs,
    ):
        cfg = make_config(deployed, tmp_path, base="edge_voice", sim=sim, mqtt=mqtt)
        device = build_device(cfg, sim=sim)
        async with running(device):
            await ask(obs, device)
            call = (await obs.expect("edge_voice/kitchen/event/function_call")).json()
            assert call["name"] == "set_light"
            result = await result_of(obs, "kitchen", call["call_id"])
            assert result["output"]["ok"] is True
            answer = await obs.answer(device, "edge_voice/kitchen/function_call/result")
            assert answer["status"] == "ok", answer
            said = await obs.expect(
                "edge_voice/kitchen/event/transcript",
                lambda m: m.json()["role"] == "assistant" and "Done:" in m.json()["text"],
            )
            assert '"light":"kitchen"' in said.json()["text"]
            await obs.status(device, "idle", within=15)
        await expect_retained(deployed, LOGINS["edge_voice"], *TOOLS)


async def expect_retained(broker: BrokerAddress, login: Login, *tools: str) -> list[Any]:
    """The retained declarations of `tools` a new subscriber gets (waits for each)."""
    topics = [f"edge_voice/tools/{name}" for name in tools]
    kwargs = {"username": login.user, "password": login.password}
    # A declaration published just after we subscribe arrives live (retain flag clear): wait
    # until each was published, then a second, fresh subscriber must get them as retained.
    async with observer(broker, "edge_voice/tools/+", **kwargs) as first:
        for topic in topics:
            await first.expect(topic)
    async with observer(broker, "edge_voice/tools/+", **kwargs) as fresh:
        return [(await fresh.expect(topic, lambda m: m.retain)).json() for topic in topics]
