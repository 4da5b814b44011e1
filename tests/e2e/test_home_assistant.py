"""A real Home Assistant finds the running service through MQTT discovery: one device, working
entities, and what the user does in HA reaches the assistant (a conversation on the simulator).

No YAML from the user: Home Assistant has only its MQTT config entry (broker, discovery on),
as the MQTT config flow leaves it. Skipped unless a Home Assistant venv is installed
(`scripts/install_home_assistant.sh /tmp/hass_venv`, or `EDGE_VOICE_HASS=/path/to/bin/hass`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_voice.mqtt.discovery import ENTITIES, discovery_configs
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.home_assistant import (
    HASS_REQUIRED,
    NO_HASS,
    HomeAssistant,
    ha_device_config,
    hass_binary,
    running_hass,
    until,
)
from tests.support.service_device import REQUEST, Device, build_device, running

HASS = hass_binary()

pytestmark = [
    pytest.mark.broker,
    pytest.mark.timeout(90),
    pytest.mark.skipif(HASS is None and not HASS_REQUIRED, reason=NO_HASS),
]


@pytest.fixture
def hass(broker: BrokerAddress) -> Iterator[HomeAssistant]:
    assert HASS is not None, "EDGE_VOICE_WITH_HASS=1 but no hass found (EDGE_VOICE_HASS)"
    ha = HomeAssistant(HASS, broker)
    with running_hass(ha):
        yield ha


def entity_id(component: str, device_id: str, name: str) -> str:
    """The entity_id HA derives from the device name plus the entity name."""
    return f"{component}.edge_voice_{device_id}_{re.sub(r'[^a-z0-9]+', '_', name.lower())}"


async def test_home_assistant_shows_one_device_with_working_entities(
    broker: BrokerAddress, hass: HomeAssistant, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = ha_device_config(broker, tmp_path, sim)
    configs = discovery_configs(cfg)
    # Every discovered entity, the per-wake-word numbers and profile sensors included; the
    # MQTT `notify` platform exists from HA 2024.5 on (an older HA ignores that config).
    unsupported = set() if hass.version() >= (2024, 5) else {"notify"}
    ids = {
        topic.split("/")[3]: entity_id(topic.split("/")[1], cfg.device_id, payload["name"])
        for topic, payload in configs.items()
        if topic.split("/")[1] not in unsupported
    }
    assert {f"homeassistant/{c}/edge_voice_{cfg.device_id}/{k}/config" for c, k in ENTITIES} <= set(
        configs
    )
    device = build_device(cfg, sim=sim)

    async with running(device):  # the service publishes its state and metrics itself

        def all_entities() -> dict[str, dict[str, Any]] | None:
            states = hass.states()
            if not all(e in states for e in ids.values()):
                return None
            if any(states[e]["state"] == "unavailable" for e in ids.values()):
                return None  # availability not there yet
            if (
                states[ids["status"]]["state"] == "unknown"
                or states[ids["cost_total"]]["state"] == "unknown"
            ):
                return None  # state and metrics not there yet
            return states

        states = await until("every discovered entity with its state", all_entities, hass)
        await _one_device(hass, ids, cfg.device_id)

        # Selects: the catalog's models, the voices of gpt-realtime.
        model = states[ids["model"]]
        assert model["state"] == cfg.openai.model == "gpt-realtime"
        model_topic = f"homeassistant/select/edge_voice_{cfg.device_id}/model/config"
        assert model["attributes"]["options"] == configs[model_topic]["options"]
        voice = states[ids["voice"]]
        assert voice["state"] == cfg.voice.primary
        assert (
            len(voice["attributes"]["options"]) == 10 and "marin" in voice["attributes"]["options"]
        )
        # Sensors, binary sensors, buttons, event.
        assert states[ids["status"]]["state"] == "idle"
        cost = states[ids["cost_total"]]
        assert float(cost["state"]) == 0.0
        assert cost["attributes"]["unit_of_measurement"] == "USD"
        assert cost["attributes"]["device_class"] == "monetary"
        assert states[ids["connected"]]["state"] == "off"
        for key in ("rollback", "reset_overrides", "start_conversation"):
            assert states[ids[key]]["state"] == "unknown"  # a never-pressed button, available
        wake = states[ids["wake_word"]]
        wake_topic = f"homeassistant/event/edge_voice_{cfg.device_id}/wake_word/config"
        assert wake["attributes"]["event_types"] == configs[wake_topic]["event_types"]
        assert "detected" in wake["attributes"]["event_types"]

        await _pick_a_voice(hass, ids, device)
        await _talk(hass, ids, device)
        # That the `notify` entity speaks: tests/e2e/test_home_assistant_notify.py.


async def _one_device(hass: HomeAssistant, ids: dict[str, str], device_id: str) -> None:
    """Every entity of the mqtt integration is on one device, and it is edge_voice's."""
    device_ids = hass.template(
        "{{ integration_entities('mqtt') | map('device_id') | unique | list | tojson }}"
    )
    assert len(device_ids) == 1, device_ids
    (dev,) = device_ids
    assert sorted(hass.template(f"{{{{ device_entities('{dev}') | tojson }}}}")) == sorted(
        ids.values()
    )
    assert hass.template(f"{{{{ device_attr('{dev}', 'name') }}}}") == f"Edge Voice {device_id}"
    identifiers = hass.template(
        f"{{{{ device_attr('{dev}', 'identifiers') | map('list') | list | tojson }}}}"
    )
    assert identifiers == [["mqtt", f"edge_voice_{device_id}"]]
    assert hass.template(f"{{{{ device_attr('{dev}', 'manufacturer') }}}}") == "edge_voice"


async def _pick_a_voice(hass: HomeAssistant, ids: dict[str, str], device: Device) -> None:
    """HA -> device: the user picks a voice in HA's select."""
    assert device.store.effective.voice.primary != "marin"
    await asyncio.to_thread(
        hass.call_service, "select", "select_option", {"entity_id": ids["voice"], "option": "marin"}
    )
    await until(
        "the device's effective voice to become marin",
        lambda: device.store.effective.voice.primary == "marin",
        hass,
    )
    await until(
        "HA's voice select to follow the device's state",
        lambda: hass.states()[ids["voice"]]["state"] == "marin",
        hass,
    )
    assert device.changes and device.changes[-1].source.startswith("mqtt")


async def _talk(hass: HomeAssistant, ids: dict[str, str], device: Device) -> None:
    """The user presses "Start conversation" in HA and speaks: HA shows the answer and its cost."""

    def state(key: str) -> str:
        return str(hass.states()[ids[key]]["state"])

    await asyncio.to_thread(
        hass.call_service, "button", "press", {"entity_id": ids["start_conversation"]}
    )
    await until(
        "HA's status to show the device listening",
        lambda: state("status") == "listening" and state("connected") == "on",
        hass,
    )
    assert device.sim is not None and [c.model for c in device.sim.connections] == ["gpt-realtime"]
    await device.mic.play(REQUEST)
    await until(
        "the conversation's cost in HA's cost sensor", lambda: float(state("cost_total")) > 0, hass
    )
    await until("HA's status back to idle", lambda: state("status") == "idle", hass)
    metrics = device.service.metrics.snapshot()
    assert float(state("cost_total")) == pytest.approx(metrics.cost_total_usd)
    # The migration guide's key figures, from this conversation: success rate, latencies.
    success = hass.states()[ids["connection_success"]]
    assert (float(success["state"]), success["attributes"]["unit_of_measurement"]) == (100.0, "%")
    assert success["attributes"]["model"] == "gpt-realtime"
    assert state("connection_success_legacy") == "unknown"  # never tried
    assert float(state("latency_p50")) > 0  # speech stopped → first audio
    assert float(state("latency_session_ready_p95")) > 0
    # No tool is declared: the simulator's answer to the light request says so.
    assert state("last_transcript") == "I can't control the lights from here."
    assert device.sim.connections[-1].model == "gpt-realtime"
