"""Microphone and speaker over a fake `sounddevice` whose callbacks run on their own threads."""

from __future__ import annotations

import asyncio
import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from edge_voice.audio.device import AudioUnavailableError
from edge_voice.audio.pcm import API_RATE, FRAME_BYTES, SOURCE_RATE
from edge_voice.audio.sinks import SpeakerSink
from edge_voice.audio.sources import MicSource

TIMEOUT_S = 5.0


class FakePortAudioError(Exception):
    pass


class FakeStream:
    """Records what the code under test asks of a PortAudio stream."""

    def __init__(self, owner: FakeSoundDevice, **kwargs: Any) -> None:
        self.owner = owner
        self.kwargs = kwargs
        self.callback: Callable[..., None] = kwargs["callback"]
        self.latency = 0.0
        self.events: list[str] = []
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.events.append("start")
        if self.owner.input_blocks is not None and "finished_callback" in self.kwargs:
            # PortAudio calls back on its own thread: so does the fake.
            self._thread = threading.Thread(target=self._record)
            self._thread.start()

    def _record(self) -> None:
        for block in self.owner.input_blocks or []:
            self.callback(memoryview(bytearray(block)), len(block) // 2, None, 0)
        if self.owner.end_input:
            self.kwargs["finished_callback"]()

    def pump(self, n_bytes: int) -> bytes:
        """Ask the output callback for `n_bytes`, as the device would when it needs audio."""
        out = bytearray(n_bytes)
        self.callback(memoryview(out), n_bytes // 2, None, 0)
        return bytes(out)

    def stop(self) -> None:
        self.events.append("stop")
        if self._thread is not None:
            self._thread.join()

    def abort(self) -> None:
        self.events.append("abort")

    def close(self) -> None:
        self.events.append("close")


class FakeSoundDevice(types.ModuleType):
    """The part of the sounddevice API the audio package uses."""

    PortAudioError = FakePortAudioError

    def __init__(self, rates: tuple[int, ...] = (SOURCE_RATE, API_RATE)) -> None:
        super().__init__("sounddevice")
        self.rates = rates
        self.streams: list[FakeStream] = []
        self.input_blocks: list[bytes] | None = None
        self.end_input = False

    def query_devices(self, device: object = None, kind: str | None = None) -> dict[str, Any]:
        if device not in (None, 3, "USB"):
            raise ValueError(f"No {kind} device matching {device!r}")
        return {"name": "Fake USB", "default_samplerate": 48_000.0}

    def check_input_settings(self, samplerate: float | None = None, **_: Any) -> None:
        if samplerate not in self.rates:
            raise FakePortAudioError("Invalid sample rate")

    check_output_settings = check_input_settings

    def RawInputStream(self, **kwargs: Any) -> FakeStream:
        self.streams.append(FakeStream(self, **kwargs))
        return self.streams[-1]

    RawOutputStream = RawInputStream


@pytest.fixture
def sd(monkeypatch: pytest.MonkeyPatch) -> FakeSoundDevice:
    fake = FakeSoundDevice()
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    return fake


def blocks(n: int, samples: int) -> list[bytes]:
    return [np.full(samples, i + 1, dtype=np.int16).tobytes() for i in range(n)]


async def test_mic_frames_cross_from_the_callback_thread_into_the_loop(sd: FakeSoundDevice) -> None:
    sd.input_blocks = blocks(5, 1280)
    mic = MicSource("USB")
    frames = [await asyncio.wait_for(anext(mic), TIMEOUT_S) for _ in range(5)]
    await mic.aclose()
    assert frames == sd.input_blocks
    stream = sd.streams[0]
    assert stream.kwargs["samplerate"] == SOURCE_RATE
    assert stream.kwargs["blocksize"] == 1280
    assert (stream.kwargs["channels"], stream.kwargs["dtype"]) == (1, "int16")
    assert stream.events == ["start", "stop", "close"]
    assert [f async for f in mic] == []


async def test_mic_at_48k_is_resampled_to_16k_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = FakeSoundDevice(rates=(48_000,))
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    t = np.arange(48_000) / 48_000
    tone = (8_000 * np.sin(2 * np.pi * 500 * t)).astype(np.int16)
    sd.input_blocks = [tone[i : i + 3_840].tobytes() for i in range(0, 48_000, 3_840)]
    mic = MicSource()
    assert mic.rate == 48_000
    frames = [await asyncio.wait_for(anext(mic), TIMEOUT_S) for _ in range(11)]
    await mic.aclose()
    assert all(len(frame) == FRAME_BYTES for frame in frames)
    audio = np.frombuffer(b"".join(frames), dtype=np.int16).astype(np.float64)
    peak = np.fft.rfftfreq(len(audio), 1 / SOURCE_RATE)[np.argmax(np.abs(np.fft.rfft(audio)))]
    assert peak == pytest.approx(500, abs=3)


async def test_a_mic_stream_that_dies_raises_so_the_caller_can_reopen(sd: FakeSoundDevice) -> None:
    sd.input_blocks = blocks(1, 1280)
    sd.end_input = True
    mic = MicSource()
    assert await asyncio.wait_for(anext(mic), TIMEOUT_S) == sd.input_blocks[0]
    with pytest.raises(AudioUnavailableError, match="stopped unexpectedly"):
        await asyncio.wait_for(anext(mic), TIMEOUT_S)
    await mic.aclose()


def test_a_slow_consumer_loses_the_oldest_blocks(sd: FakeSoundDevice) -> None:
    mic = MicSource(max_queued_frames=3)
    for block in blocks(5, 1280):
        mic._deliver(block, False)
    assert mic.overflows == 2
    assert [mic._queue.get_nowait() for _ in range(3)] == blocks(5, 1280)[2:]


def test_an_unknown_device_is_named(sd: FakeSoundDevice) -> None:
    with pytest.raises(AudioUnavailableError, match="no input device 'Blue Yeti'"):
        MicSource("Blue Yeti")


class _NoPortAudio(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports `sounddevice` the way it fails on a host without libportaudio."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> Any:
        if name != "sounddevice":
            return None
        return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        raise OSError("PortAudio library not found")


def test_missing_portaudio_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPortAudio(), *sys.meta_path])
    with pytest.raises(AudioUnavailableError) as info:
        SpeakerSink()
    assert "PortAudio library not found" in str(info.value)
    assert "apt-get install libportaudio2" in str(info.value)


async def test_speaker_plays_from_the_callback_and_flush_stops_at_once(sd: FakeSoundDevice) -> None:
    sink = SpeakerSink(3)
    sink.begin_response("item_1")
    audio = np.arange(API_RATE, dtype=np.int16).tobytes()  # one second
    await sink.write(audio)
    stream = sd.streams[0]
    assert stream.kwargs["samplerate"] == API_RATE

    played = await asyncio.to_thread(stream.pump, 2 * API_RATE // 4)

    assert played == audio[: len(played)]
    assert (sink.played_ms, sink.received_ms) == (250, 1_000)
    assert sink.flush_now() == 250
    assert await asyncio.to_thread(stream.pump, 960) == bytes(960)  # silence after barge-in
    assert sink.received_ms == 250
    sink.close()
    assert stream.events == ["start", "abort", "close"]


async def test_speaker_drain_waits_for_the_device(sd: FakeSoundDevice) -> None:
    sink = SpeakerSink()
    await sink.write(bytes(2 * API_RATE * 3 // 10))  # 300 ms
    drained = asyncio.create_task(sink.drain())
    await asyncio.sleep(0)
    assert not drained.done()
    await asyncio.to_thread(sd.streams[0].pump, 2 * API_RATE)
    await asyncio.wait_for(drained, TIMEOUT_S)
    assert sink.played_ms == 300
    sink.close()


async def test_speaker_at_48k_resamples_and_counts_in_api_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sd = FakeSoundDevice(rates=(48_000,))
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    sink = SpeakerSink()
    assert sink.device_rate == 48_000
    await sink.write(bytes(2 * API_RATE))  # one second
    await asyncio.to_thread(sd.streams[0].pump, 2 * 48_000 // 2)  # half a second at 48 kHz
    assert sink.played_ms == pytest.approx(500, abs=25)  # the resampler holds a few ms back
    drained = asyncio.create_task(sink.drain())
    await asyncio.sleep(0)
    await asyncio.to_thread(sd.streams[0].pump, 2 * 48_000)
    await asyncio.wait_for(drained, TIMEOUT_S)
    assert sink.played_ms == 1_000
    sink.close()
