"""`edge-voice run` with its speaker's echo in the microphone (a synthetic room, audio.room_echo):
with `audio.echo_cancel: webrtc` speech over the answer interrupts it without the wake word, and
the answer's echo alone does not; with the mic open and nothing cancelling, the echo does."""

from __future__ import annotations

import asyncio
import uuid
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.echo_rooms import ROOMS, espeak, room_responses
from edge_voice.audio.resample import resample
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.speech import bundled_speech
from tests.support.assistant_rig import demo_wav
from tests.support.broker import BrokerAddress
from tests.support.cli_process import edge_voice, write_device_config

pytestmark = [pytest.mark.broker, pytest.mark.timeout(150)]

ANSWER = "I can't control the lights from here."  # the sim's answer to the demo request
MS_PER_CHAR = 150  # a long answer (5.7 s streamed, 2.1 s of it speech): room to speak over it
ECHO_DBFS = -24.0  # the answer's echo at the mic: well above the server VAD's -40 dBFS
#: After the demo request ends (4.1 s): the answer begins ~0.5 s later (the server's silence).
STOP_AFTER_S = 1.9


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=1.0, ms_per_char=MS_PER_CHAR)) as server:
        yield server


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """16 kHz mono PCM16 from floats (full scale 1.0)."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes())
    return path


def room_ir(path: Path) -> Path:
    """The living room's speaker → mic response, scaled so the answer's echo is ECHO_DBFS."""
    ir = room_responses(ROOMS[1])[0]
    answer24 = np.frombuffer(bundled_speech(ANSWER, 5000) or b"", "<i2")
    answer = resample(answer24, 24000, 16000).astype(np.float64) / 32768
    echo = np.convolve(answer, ir)[: answer.size]
    rms = np.sqrt(np.mean(echo[np.abs(echo) > 1e-3] ** 2))
    return write_wav(path, ir * 10 ** (ECHO_DBFS / 20) / rms)


def mic_input(path: Path, *, stop: bool) -> Path:
    """The demo request, then (stop) "Stop, stop please." over the answer, then quiet."""
    with wave.open(str(demo_wav("hey_jarvis_kitchen_light.wav")), "rb") as wav:
        request = np.frombuffer(wav.readframes(wav.getnframes()), "<i2") / 32768
    quiet = np.zeros(int(16000 * STOP_AFTER_S))
    words = espeak("Stop, stop please.") if stop else np.zeros(0)
    return write_wav(path, np.concatenate([request, quiet, words, np.zeros(16000 * 5)]))


def config(tmp: Path, broker: BrokerAddress, sim: RealtimeSimulator, audio: dict[str, Any]) -> Path:
    """The device in the living room (its echo through `room.wav`), `audio` merged in."""
    return write_device_config(
        tmp,
        broker,
        sim.url,
        f"t_{uuid.uuid4().hex[:8]}",
        conversation={"follow_up_s": 0.5},
        tools=[],
        audio={"room_echo": str(room_ir(tmp / "room.wav")), **audio},
    )


async def run(tmp: Path, broker: BrokerAddress, sim: RealtimeSimulator, **audio: Any) -> str:
    """Run the service on the room until the source ends; its log."""
    stop = audio.pop("stop")
    proc = await edge_voice(
        "run",
        "--today",
        "2026-05-01",
        "--config",
        str(config(tmp, broker, sim, audio)),
        "--source",
        f"wav:{mic_input(tmp / 'mic.wav', stop=stop)}",  # at the microphone's pace
        "--sink",
        f"wav:{tmp / 'reply.wav'}",
        "--exit-on-eof",
    )
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    return err.decode()


def truncations(sim: RealtimeSimulator) -> list[int]:
    """`audio_end_ms` of every truncate the device sent (one per barge-in)."""
    return [e["audio_end_ms"] for _, e in sim.received if e["type"] == "conversation.item.truncate"]


async def test_speech_over_the_answer_interrupts_it_with_webrtc_cancellation(
    sim: RealtimeSimulator, mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    log = await run(tmp_path, mqtt_broker, sim, echo_cancel="webrtc", stop=True)
    assert "echo cancellation: webrtc" in log
    cuts = truncations(sim)
    assert len(cuts) == 1, log[-3000:]  # the user's words, not the echo
    assert 0 < cuts[0] < len(ANSWER) * MS_PER_CHAR  # cut where the user spoke
    assert any(e["type"] == "response.cancel" for _, e in sim.received)


async def test_the_answers_echo_alone_does_not_interrupt_it_with_webrtc_cancellation(
    sim: RealtimeSimulator, mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    log = await run(tmp_path, mqtt_broker, sim, echo_cancel="webrtc", stop=False)
    assert truncations(sim) == [], log[-3000:]
    assert not any(e["type"] == "response.cancel" for _, e in sim.received)
    with wave.open(str(tmp_path / "reply.wav"), "rb") as wav:
        played_ms = wav.getnframes() * 1000 // wav.getframerate()
    assert played_ms >= len(ANSWER) * MS_PER_CHAR - 100  # the whole answer was played


async def test_with_the_mic_open_and_nothing_cancelling_the_echo_interrupts_the_answer(
    sim: RealtimeSimulator, mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    # The control: the room's echo is loud enough to trigger the server VAD on its own.
    await run(tmp_path, mqtt_broker, sim, echo_cancelled=True, stop=False)
    assert len(truncations(sim)) >= 1
