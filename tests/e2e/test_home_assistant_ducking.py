"""The shipped ducking blueprint in a real Home Assistant: it loads, its automation is on, and
driven by the real service's retained state (via MQTT discovery) it lowers a media player
while the device listens and gives the volume back when it is idle again.

The media player is HA's `universal` player over an `input_number` (its volume), so the test
needs no media hardware. Skipped like tests/e2e/test_home_assistant.py without a Home
Assistant venv.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
from tests.support.service_device import build_device, running

HASS = hass_binary()
BLUEPRINT = Path(__file__).resolve().parents[2] / "homeassistant/blueprints/automation/edge_voice"

pytestmark = [
    pytest.mark.broker,
    pytest.mark.timeout(90),
    pytest.mark.skipif(HASS is None and not HASS_REQUIRED, reason=NO_HASS),
]

SPEAKER = "media_player.speaker"
AUTOMATION = "automation.duck_the_speaker"
EXTRA = """
input_number:
  speaker_volume: {min: 0, max: 1, step: 0.01, initial: 0.8}
media_player:
  - platform: universal
    name: Speaker
    state_template: "playing"
    attributes:
      volume_level: input_number.speaker_volume
    commands:
      volume_set:
        service: input_number.set_value
        target: {entity_id: input_number.speaker_volume}
        data: {value: "{{ volume_level }}"}
scene:
automation:
  - id: edge_voice_ducking
    alias: Duck the speaker
    use_blueprint:
      path: edge_voice/ducking.yaml
      input:
        status_sensor: sensor.edge_voice_kitchen_status
        media_players: [media_player.speaker]
        ducked_volume: 0.2
"""


@pytest.fixture
def hass(broker: BrokerAddress) -> Iterator[HomeAssistant]:
    assert HASS is not None, "EDGE_VOICE_WITH_HASS=1 but no hass found (EDGE_VOICE_HASS)"
    ha = HomeAssistant(HASS, broker, extra_config=EXTRA)
    shutil.copytree(BLUEPRINT, ha.config_dir / "blueprints/automation/edge_voice")
    with running_hass(ha):
        yield ha


async def test_the_blueprint_lowers_the_speaker_while_the_device_listens(
    broker: BrokerAddress, hass: HomeAssistant, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    def state(entity: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = hass.states().get(entity)
        return found

    def volume() -> float | None:
        speaker = state(SPEAKER)
        return speaker["attributes"].get("volume_level") if speaker else None

    automation = await until("the blueprint's automation", lambda: state(AUTOMATION), hass)
    assert automation["state"] == "on", hass.log_tail()  # the blueprint loaded and is valid
    assert volume() == 0.8
    cfg = ha_device_config(broker, tmp_path, sim, conversation={"follow_up_s": 0.5})
    device = build_device(cfg, sim=sim)
    async with running(device):
        status = "sensor.edge_voice_kitchen_status"
        await until(
            "the device's status in HA", lambda: (state(status) or {}).get("state") == "idle", hass
        )
        await device.assistant.start()  # conversation/start: listening
        await until("the speaker lowered", lambda: volume() == 0.2, hass)
        await device.assistant.stop()
        await until("the speaker's volume back", lambda: volume() == 0.8, hass)
