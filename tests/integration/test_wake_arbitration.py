"""Wake arbitration between real services: the nearest device answers, the others yield.

Every device is the real service on one broker, in one `arbitration_group`, fed the same
espeak-ng "hey jarvis" then a request at a different gain (a device farther away hears it
quieter). On this rendering the first frame over the threshold scores higher the quieter it is
(0.961 at gain 1.0, 0.968 at 0.2), so a claim made with the first crossing lets the farthest
device win; claims carry the peak score and the energy (`mqtt.arbitration.beats`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from pathlib import Path

import pytest

from edge_voice.conversation.states import Status
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress, LocalMosquitto
from tests.support.mqtt_observer import Observer, observer, unique_base
from tests.support.service_device import (
    FAST,
    REQUEST,
    Device,
    build_device,
    make_config,
    running,
)
from tests.support.speech import Speech, SpeechCache

pytestmark = pytest.mark.broker

#: A window that stays wide on a loaded machine: every detector runs on the same loop.
OPTIONS = dataclasses.replace(FAST, arbitration_window_s=1.5)
GROUP = {"arbitration_group": "downstairs"}
#: The rendering tests/integration/test_wakeword.py uses for hey_jarvis (scores 0.99).
HEY_JARVIS = Speech("hey jarvis", voice="en", speed=150)


@pytest.fixture(scope="module")
def wake_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wake word, rendered once for the module."""
    return SpeechCache(tmp_path_factory.mktemp("speech")).wav(HEY_JARVIS)


async def say(device: Device, wake: Path, gain: float) -> None:
    """The wake word, then the request, into the device's microphone at `gain`."""
    await device.mic.play(wake, silence_s=0.2, gain=gain)
    await device.mic.play(REQUEST, gain=gain)


def _devices(
    broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path, names: list[str]
) -> list[Device]:
    base = unique_base()
    return [
        build_device(
            make_config(broker, tmp_path / n, base=base, sim=sim, device_id=n, wakeword=GROUP),
            options=OPTIONS,
        )
        for n in names
    ]


async def _contest(
    broker: BrokerAddress,
    sim: RealtimeSimulator,
    tmp_path: Path,
    wake: Path,
    gains: dict[str, float],
) -> None:
    devices = _devices(broker, sim, tmp_path, list(gains))
    loudest = max(devices, key=lambda d: gains[d.topics.device_id])
    others = [d for d in devices if d is not loudest]
    group = devices[0].topics.arbitration()
    base = devices[0].topics.base_topic
    async with observer(broker, f"{base}/#") as obs, contextlib_all(devices):
        await asyncio.gather(*(say(d, wake, gains[d.topics.device_id]) for d in devices))
        answered = await _first_answer(obs, devices)
        claims = {m.json()["device_id"]: m.json() for m in obs.on(group)}
        who = answered.topics.device_id
        assert who == loudest.topics.device_id, f"{who} answered; claims {claims}"
        for device in others:
            yielded = await obs.expect(
                device.topics.event("wake"), lambda m: m.json()["event_type"] == "yielded"
            )
            assert yielded.json()["wakeword"] == "hey_jarvis"
            await obs.barrier(device)
            states = {m.json()["status"] for m in obs.on(device.topics.state)}
            assert states == {"idle"}, f"{device.topics.device_id} stayed idle"
    assert set(claims) == set(gains), "every device claimed"
    energies = {d: c["energy_dbfs"] for d, c in claims.items()}
    assert max(energies, key=lambda d: energies[d]) == loudest.topics.device_id
    assert len(sim.connections) == 1, "one conversation for one wake word"
    assert not [m for d in others for m in obs.on(d.topics.event("response"))], (
        "only the nearest answered"
    )


async def _first_answer(obs: Observer, devices: list[Device]) -> Device:
    """The device whose `event/response` comes first."""
    waits = {
        asyncio.ensure_future(obs.expect(d.topics.event("response"), within=60)): d for d in devices
    }
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    first = done.pop()
    first.result()  # a timeout: nobody answered
    return waits[first]


class contextlib_all:
    """Run every device for the block (each started and connected, then stopped)."""

    def __init__(self, devices: list[Device]) -> None:
        self.devices = devices
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> None:
        await self._stack.__aenter__()
        for device in self.devices:
            await self._stack.enter_async_context(running(device))

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.__aexit__(*exc)


async def test_of_two_devices_the_nearest_answers_and_the_other_yields(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path, wake_wav: Path
) -> None:
    await _contest(mqtt_broker, sim, tmp_path, wake_wav, {"kitchen": 1.0, "hall": 0.5})


async def test_of_four_devices_the_nearest_answers_and_the_others_yield(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path, wake_wav: Path
) -> None:
    gains = {"attic": 0.2, "bedroom": 0.35, "hall": 0.5, "kitchen": 1.0}
    await _contest(mqtt_broker, sim, tmp_path, wake_wav, gains)


async def test_a_device_whose_broker_is_away_answers_alone_without_waiting(
    restartable_broker: LocalMosquitto, sim: RealtimeSimulator, tmp_path: Path, wake_wav: Path
) -> None:
    (device,) = _devices(restartable_broker.address, sim, tmp_path, ["kitchen"])
    async with running(device):
        restartable_broker.stop()  # the bridge may not have noticed yet when the word comes
        heard = device.bus.subscribe()
        await say(device, wake_wav, 1.0)
        # It answers alone: a conversation opens though no claim could reach the group.
        async with asyncio.timeout(OPTIONS.arbitration_window_s + 10):
            while device.assistant.status is Status.IDLE:
                await heard.get()
        restartable_broker.start()
