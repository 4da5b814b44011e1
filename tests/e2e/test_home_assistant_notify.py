"""Announcements from a real Home Assistant: the device's `notify` entity (MQTT discovery) speaks
what an automation or a `notify.send_message` call sends it, out of band (its `<base>/say`).

HA's MQTT `notify` platform exists from 2024.5 on (the automation's syntax from 2024.10), so
this runs against `EDGE_VOICE_HASS_MODERN` (a newer HA, which `scripts/test` installs when it
finds a Python >= 3.12) or else `EDGE_VOICE_HASS` when that one is new enough; it skips, saying
why, otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_voice.events import Transcript
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.home_assistant import (
    HomeAssistant,
    ha_device_config,
    hass_binary,
    hass_release,
    running_hass,
    until,
)
from tests.support.service_device import build_device, running

#: MQTT `notify` came in 2024.5; the automation below is written as docs/HOME_ASSISTANT.md shows
#: it (`triggers:`/`actions:`/`action:`, HA 2024.10 on).
NOTIFY_SINCE = (2024, 10)
ENTITY = "notify.edge_voice_kitchen_announce"
EXTRA = f"""
automation:
  - id: washer_done
    alias: Washer done
    triggers:
      - trigger: event
        event_type: edge_voice_test_washer
    actions:
      - action: notify.send_message
        target:
          entity_id: {ENTITY}
        data:
          message: "{{{{ trigger.event.data.text }}}}"
"""


def _modern_hass() -> tuple[Path | None, str]:
    """The HA binary to use and, when there is none, why."""
    candidates = [hass_binary("EDGE_VOICE_HASS_MODERN"), hass_binary()]
    found = [(path, hass_release(path)) for path in candidates if path is not None]
    for path, release in found:
        if release >= NOTIFY_SINCE:
            return path, ""
    seen = ", ".join(f"{p} is {r[0]}.{r[1]}" for p, r in found) or "no Home Assistant venv"
    return None, (
        f"needs Home Assistant >= 2024.10 (MQTT notify, today's automation syntax) and {seen}: "
        "set EDGE_VOICE_HASS_MODERN to the bin/hass of a venv installed by "
        "PYTHON=python3.12 (or newer) scripts/install_home_assistant.sh DIR"
    )


HASS, WHY_NOT = _modern_hass()

pytestmark = [
    pytest.mark.broker,
    pytest.mark.timeout(90),
    pytest.mark.skipif(HASS is None, reason=WHY_NOT),
]


@pytest.fixture
def hass(broker: BrokerAddress) -> Iterator[HomeAssistant]:
    assert HASS is not None
    ha = HomeAssistant(HASS, broker, extra_config=EXTRA)
    with running_hass(ha):
        yield ha


async def test_an_automation_and_a_service_call_make_the_device_speak(
    broker: BrokerAddress, hass: HomeAssistant, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = ha_device_config(broker, tmp_path, sim)
    device = build_device(cfg, sim=sim)
    spoken: list[str] = []
    device.bus.on(Transcript, lambda t: spoken.append(t.text) if t.role == "assistant" else None)

    async with running(device):

        def announce_available() -> bool:
            state = hass.states().get(ENTITY)
            return state is not None and state["state"] != "unavailable"

        await until(f"{ENTITY} from MQTT discovery", announce_available, hass)

        # The user's automation: an event fires it, its action is notify.send_message.
        washer = "The washing machine is done."
        await asyncio.to_thread(
            hass.request, "POST", "/api/events/edge_voice_test_washer", {"text": washer}
        )
        await until("the device to speak the automation's message", lambda: washer in spoken, hass)
        assert hass.states()["automation.washer_done"]["attributes"]["last_triggered"]

        # The same service called directly (as a script or the developer tools would).
        oven = "The oven is hot."
        await asyncio.to_thread(
            hass.call_service, "notify", "send_message", {"entity_id": ENTITY, "message": oven}
        )
        await until("the device to speak the called message", lambda: oven in spoken, hass)
        assert spoken.index(washer) < spoken.index(oven)
