"""The Dashboard 2 flows in a real Node-RED 4.1 and a real headless Chromium, with edge_voice.

All three flow files run merged in one Node-RED (as a user imports them side by side) against a
real Mosquitto; each test runs its own edge_voice device on the simulator and works the pages
as a user would. Node-RED and the browser start once for the module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.dashboard import DashboardPage, headless_chromium, require_chromium
from tests.support.home_assistant import HA_MQTT, own_broker
from tests.support.mqtt_observer import observer
from tests.support.node_red import NodeRed, require_node_red, running_node_red
from tests.support.service_device import ask, build_device, make_config, running

pytestmark = [pytest.mark.timeout(120), pytest.mark.asyncio(loop_scope="module")]

FLOWS = ("function-calls.json", "model-control.json", "cost-dashboard.json")
#: The flows subscribe to edge_voice's defaults: base topic and HA discovery prefix.
#: The cost test talks to each of these models once.
MODELS = ("gpt-realtime", "gpt-realtime-mini")
MQTT = HA_MQTT


@pytest.fixture(scope="module")
def broker() -> Iterator[BrokerAddress]:
    """A broker for this module only: the flows use the default topics."""
    require_node_red()
    require_chromium()
    with own_broker() as address:
        yield address


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node_red(broker: BrokerAddress) -> AsyncIterator[NodeRed]:
    async with running_node_red(FLOWS, broker) as node_red:
        await node_red.wait_log("Node-RED Dashboard 2.0")
        yield node_red


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with headless_chromium() as chromium:
        yield chromium


def page_url(node_red: NodeRed, page: str) -> str:
    """A dashboard page of this Node-RED."""
    return f"http://127.0.0.1:{node_red.port}/dashboard/{page}"


async def test_the_model_dropdown_sets_the_model(
    broker: BrokerAddress, node_red: NodeRed, browser: Browser, tmp_path: Path
) -> None:
    async with (
        RealtimeSimulator(SimConfig(pacing=0)) as sim,
        observer(broker, "edge_voice/kitchen/#") as obs,
    ):
        cfg = make_config(broker, tmp_path, base="edge_voice", sim=sim, mqtt=MQTT)
        async with (
            running(build_device(cfg, sim=sim)),
            DashboardPage.opened(browser, page_url(node_red, "control")) as dash,
        ):
            await dash.choose("ev_mc_device", "kitchen")
            await dash.shows("ev_mc_model", "gpt-realtime")
            await dash.choose("ev_mc_model", "gpt-realtime-mini")
            command = await obs.expect("edge_voice/kitchen/model/set")
            assert command.json()["model"] == "gpt-realtime-mini"
            assert command.json()["transaction"].startswith("nr-")
            await obs.expect(
                "edge_voice/kitchen/state", lambda m: m.json()["model"] == "gpt-realtime-mini"
            )
            await dash.shows("ev_mc_answer_text", "model/set gpt-realtime-mini: ok")
            await dash.shows("ev_mc_model", "gpt-realtime-mini")
    # What any client subscribing now gets: the retained state with the new model.
    async with observer(broker, "edge_voice/kitchen/state") as fresh:
        state = await fresh.expect("edge_voice/kitchen/state")
        assert state.retain and state.json()["model"] == "gpt-realtime-mini"
    assert len(obs.on("edge_voice/kitchen/model/set")) == 1  # showing a value sends nothing


async def test_a_refused_voice_shows_the_reason(
    broker: BrokerAddress, node_red: NodeRed, browser: Browser, tmp_path: Path
) -> None:
    async with (
        RealtimeSimulator(SimConfig(pacing=0)) as sim,
        observer(broker, "edge_voice/hall/#") as obs,
    ):
        # No HA discovery: the page's options come from the state alone.
        no_discovery = {**MQTT, "discovery": False}
        cfg = make_config(
            broker, tmp_path, base="edge_voice", sim=sim, device_id="hall", mqtt=no_discovery
        )
        async with (
            running(build_device(cfg, sim=sim)),
            DashboardPage.opened(browser, page_url(node_red, "control")) as dash,
        ):
            await dash.choose("ev_mc_device", "hall")
            await dash.shows("ev_mc_voice", "cedar")
            assert "cedar" in await dash.options("ev_mc_voice")
            # The legacy model has no cedar: the voice list follows the model.
            await dash.choose("ev_mc_selection", "legacy")
            await dash.shows("ev_mc_answer_text", "model_selection/set legacy: ok")
            refused = "cedar (not on gpt-4o-realtime-preview)"
            await dash.choose("ev_mc_voice", refused)
            answer = await obs.expect(
                "edge_voice/hall/response", lambda m: m.json()["topic"].endswith("/voice/set")
            )
            assert answer.json()["status"] == "error"
            reason = "has no voice 'cedar'"
            assert reason in answer.json()["error"]
            await dash.shows("ev_mc_answer_text", "voice/set cedar: refused")
            await dash.shows("ev_mc_answer_text", reason)
            notification = dash.page.locator(".v-snackbar")
            await expect(notification).to_contain_text(reason)
            # The dropdown shows the device's voice again, not the refused choice.
            await expect(dash.widget("ev_mc_voice")).not_to_contain_text("not on")
            await dash.screenshot("model-control")
            assert refused in await dash.options("ev_mc_voice")
            assert "alloy" in await dash.options("ev_mc_voice")


async def test_a_conversation_shows_in_the_cost_charts_and_the_table(
    broker: BrokerAddress, node_red: NodeRed, browser: Browser, tmp_path: Path
) -> None:
    async with (
        RealtimeSimulator(SimConfig(pacing=0)) as sim,
        observer(broker, "edge_voice/attic/#") as obs,
    ):
        cfg = make_config(
            broker, tmp_path, base="edge_voice", sim=sim, device_id="attic", mqtt=MQTT
        )
        device = build_device(cfg, sim=sim)
        async with running(device):
            for model in MODELS:  # one conversation on each model: one series each
                answer = await obs.request(device, "model/set", {"model": model})
                assert answer["status"] == "ok", answer
                await ask(obs, device)
                await obs.status(device, "idle", within=15)
            await obs.expect("edge_voice/attic/metrics", lambda m: m.json()["conversations"] == 2)
        answers = [m.json() for m in obs.on("edge_voice/attic/event/response")]
        assert {a["model"] for a in answers} == set(MODELS)
        async with DashboardPage.opened(browser, page_url(node_red, "cost")) as dash:
            # A point per answer and series by model; the history is Node-RED's, so a page
            # opened later sees it.
            for model in MODELS:
                mine = [a for a in answers if a["model"] == model]
                spoken = [a for a in mine if a["latency_ms"].get("first_audio") is not None]
                assert spoken  # an answer without audio has no first-audio point
                await dash.wait_points("ev_cd_cost_chart", model, len(mine))
                await dash.wait_points("ev_cd_total_chart", model, len(mine))
                await dash.wait_points("ev_cd_latency_chart", model, len(spoken))
            row = dash.widget("ev_cd_table").locator("tbody tr", has_text="attic")
            await expect(row).to_have_count(1)
            await dash.screenshot("cost-dashboard")
    assert all(a["cost_usd"] > 0 for a in answers)
