"""Earcons and the offline notice in the sink output of the real service (WAV sink) on a
broker and the simulator: the wake sound before anything else, the end-of-listening sound
right before the answer, the error sound and the spoken notice when no model can be reached;
no earcon unless enabled, the notice unless off; per sound a file or off."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_voice.audio.sounds import BUNDLED, load_sound
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import (
    WAKE_REQUEST,
    Device,
    build_device,
    make_config,
    running,
)

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]

WAKE, LISTEN_END, ERROR, OFFLINE = (
    load_sound(BUNDLED / f"{n}.wav") for n in ("wake", "listen_end", "error", "offline")
)


def _device(
    broker: BrokerAddress,
    sim: RealtimeSimulator,
    tmp: Path,
    earcons: dict[str, Any] | None,
    **audio: Any,
) -> tuple[Device, Path]:
    out = tmp / "out.wav"
    audio |= {"earcons": earcons} if earcons is not None else {}
    cfg = make_config(broker, tmp / "state", base=unique_base(), sim=sim, audio=audio)
    return build_device(cfg, sim=sim, sink=f"wav:{out}"), out


def _played(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == 24000
        return wav.readframes(wav.getnframes())


async def _converse(broker: BrokerAddress, device: Device) -> None:
    """ "Hey Jarvis, turn on the kitchen light.", the answer, back to idle; then stop."""
    async with observer(broker, f"{device.topics.base}/#") as obs, running(device):
        await device.mic.play(WAKE_REQUEST)
        answer = await obs.expect(device.topics.event("response"))
        await obs.status(device, "idle", after=answer)


async def test_wake_and_end_of_listening_sounds_frame_the_users_turn(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device, out = _device(mqtt_broker, sim, tmp_path, {"enabled": True})
    await _converse(mqtt_broker, device)
    played = _played(out)
    # Written is played (a WAV sink without pacing): the sounds, then the answer, in order.
    assert played[: len(WAKE)] == WAKE
    assert played[len(WAKE) : len(WAKE) + len(LISTEN_END)] == LISTEN_END
    answer = played[len(WAKE) + len(LISTEN_END) :]
    assert len(answer) > 24000  # the answer's audio (over 0.5 s) follows, with no sound after
    assert WAKE not in answer and LISTEN_END not in answer and ERROR not in played


async def test_no_sound_unless_enabled(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device, out = _device(mqtt_broker, sim, tmp_path, None)
    await _converse(mqtt_broker, device)
    played = _played(out)
    assert played and WAKE not in played and LISTEN_END not in played


async def test_each_sound_can_be_a_file_of_any_rate_or_off(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    custom = tmp_path / "ding.wav"
    tone = (np.sin(np.arange(8000) * 2 * np.pi * 500 / 16000) * 8000).astype("<i2")
    with wave.open(str(custom), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(tone.tobytes())
    earcons = {"enabled": True, "wake": "off", "listen_end": str(custom)}
    device, out = _device(mqtt_broker, sim, tmp_path, earcons)
    await _converse(mqtt_broker, device)
    played = _played(out)
    ding = load_sound(custom)
    assert len(ding) == 2 * 12000  # 0.5 s, resampled from 16 kHz to the sink's 24 kHz
    assert played.startswith(ding) and WAKE not in played and LISTEN_END not in played


async def test_the_error_sound_when_no_model_can_be_reached(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device, out = _device(mqtt_broker, sim, tmp_path, {"enabled": True, "wake": "off"})
    sim.config.refuse_models.update(device.store.effective.catalog().names())
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        assert (await obs.request(device, "conversation/start", {}))["status"] == "ok"
        error = await obs.expect(device.topics.event("error"))
        await obs.status(device, "idle", after=error)
        await obs.barrier(device)
    assert sim.connections and all(c.refused for c in sim.connections)
    # Once, whatever number of models refused; then the spoken notice.
    assert _played(out) == ERROR + OFFLINE


def test_a_bad_sound_file_is_refused_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "not.wav"
    bad.write_text("hello")
    with pytest.raises(ValueError, match="not a readable WAV file"):
        make_config(
            BrokerAddress("127.0.0.1", 1),
            tmp_path,
            base="t",
            audio={"earcons": {"enabled": True, "error": str(bad)}},
        )


async def _unreachable(
    broker: BrokerAddress, sim: RealtimeSimulator, device: Device, command: str, payload: Any
) -> dict[str, Any]:
    """Every model refuses; `command` starts something; the error published, back to idle."""
    sim.config.refuse_models.update(device.store.effective.catalog().names())
    async with observer(broker, f"{device.topics.base}/#") as obs, running(device):
        await obs.publish(f"{device.topics.base}/{command}", payload)
        error = await obs.expect(device.topics.event("error"))
        await obs.status(device, "idle", after=error)
        await obs.barrier(device)
    assert sim.connections and all(c.refused for c in sim.connections)
    data: dict[str, Any] = error.json()
    return data


async def test_the_offline_notice_is_spoken_when_every_model_refuses(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device, out = _device(mqtt_broker, sim, tmp_path, None)  # the defaults: no earcons
    error = await _unreachable(mqtt_broker, sim, device, "conversation/start", "")
    assert error["code"] == "all_models_failed"  # published first, then said
    assert _played(out) == OFFLINE
    assert len(OFFLINE) > 2 * 24000  # over a second of speech


async def test_an_announcement_that_cannot_be_spoken_gets_the_notice_instead(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device, out = _device(mqtt_broker, sim, tmp_path, None)
    error = await _unreachable(mqtt_broker, sim, device, "say", "The washing machine is done.")
    assert error["code"] == "all_models_failed"
    assert _played(out) == OFFLINE


async def test_the_offline_notice_can_be_off(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device, out = _device(mqtt_broker, sim, tmp_path, None, offline_notice="off")
    await _unreachable(mqtt_broker, sim, device, "conversation/start", "")
    assert _played(out) == b""
