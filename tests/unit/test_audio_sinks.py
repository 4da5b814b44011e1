"""Audio sinks: WAV files, the null sink, per-response played/received accounting, barge-in."""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from edge_voice.audio.device import AudioUnavailableError
from edge_voice.audio.pcm import API_RATE
from edge_voice.audio.sinks import NullSink, WavSink, parse_sink
from edge_voice.audio.timing import SimulatedPlayback


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def tone(ms: int, value: int = 1_000) -> bytes:
    """`ms` of 24 kHz PCM16 with a recognisable sample pattern."""
    n = API_RATE * ms // 1000
    return ((np.arange(n) % 200) + value).astype("<i2").tobytes()


def read_wav(path: Path) -> tuple[wave._wave_params, bytes]:
    with wave.open(str(path), "rb") as wav:
        return wav.getparams(), wav.readframes(wav.getnframes())


async def test_wav_sink_writes_a_valid_24k_file_with_exactly_the_samples(tmp_path: Path) -> None:
    chunks = [tone(100), tone(37, value=5), tone(250, value=-300)]
    async with WavSink(tmp_path / "answer.wav") as sink:
        for chunk in chunks:
            await sink.write(chunk)
        await sink.drain()
        assert sink.frames_written == sum(len(c) for c in chunks) // 2
    params, data = read_wav(tmp_path / "answer.wav")
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, API_RATE)
    assert data == b"".join(chunks)


async def test_without_realtime_written_audio_counts_as_played(tmp_path: Path) -> None:
    sink = WavSink(tmp_path / "a.wav")
    sink.begin_response("item_1")
    await sink.write(tone(400))
    assert sink.item_id == "item_1"
    assert (sink.received_ms, sink.played_ms) == (400, 400)
    assert sink.flush_now() == 400
    sink.close()
    assert len(read_wav(tmp_path / "a.wav")[1]) == len(tone(400))


async def test_realtime_wav_sink_barge_in_keeps_only_what_was_played(tmp_path: Path) -> None:
    clock = FakeClock()
    sink = WavSink(tmp_path / "cut.wav", realtime=True, clock=clock, sleep=clock.sleep)
    sink.begin_response("item_1")
    await sink.write(tone(1_000))
    clock.now += 0.3
    assert sink.played_ms == 300
    assert sink.received_ms == 1_000

    played = sink.flush_now()

    assert played == 300
    assert played <= 1_000
    assert sink.received_ms == 300  # the dropped 700 ms were never heard
    clock.now += 1.0
    assert sink.played_ms == 300
    sink.close()
    assert read_wav(tmp_path / "cut.wav")[1] == tone(1_000)[: 2 * 7_200]


async def test_realtime_drain_waits_until_everything_played(tmp_path: Path) -> None:
    clock = FakeClock()
    sink = WavSink(tmp_path / "all.wav", realtime=True, clock=clock, sleep=clock.sleep)
    await sink.write(tone(500))
    await sink.write(tone(250))
    start = clock.now
    await sink.drain()
    assert clock.now - start == pytest.approx(0.75)
    assert sink.played_ms == 750
    sink.close()
    assert len(read_wav(tmp_path / "all.wav")[1]) == len(tone(750))


async def test_begin_response_restarts_the_counts() -> None:
    sink = NullSink()
    sink.begin_response("a")
    await sink.write(tone(200))
    sink.begin_response("b")
    assert (sink.received_ms, sink.played_ms) == (0, 0)
    await sink.write(tone(120))
    assert (sink.item_id, sink.received_ms, sink.played_ms) == ("b", 120, 120)


async def test_realtime_null_sink_flush_mid_response_and_idle_gaps() -> None:
    clock = FakeClock()
    sink = NullSink(realtime=True, clock=clock, sleep=clock.sleep)
    sink.begin_response("a")
    await sink.write(tone(500))
    clock.now += 2.0  # played out, then the device idles
    await sink.write(tone(500))
    clock.now += 0.25
    assert (sink.played_ms, sink.received_ms) == (750, 1_000)
    assert sink.flush_now() == 750
    await sink.drain()  # nothing left: returns at once
    assert sink.played_ms == 750


async def test_flush_of_a_previous_response_does_not_go_negative() -> None:
    clock = FakeClock()
    sink = NullSink(realtime=True, clock=clock, sleep=clock.sleep)
    sink.begin_response("a")
    await sink.write(tone(1_000))
    clock.now += 0.1
    sink.begin_response("b")  # "a" is still queued
    assert sink.flush_now() == 0
    assert sink.received_ms == 0


def test_simulated_playback_position() -> None:
    clock = FakeClock()
    playback = SimulatedPlayback(API_RATE, clock)
    playback.queue(API_RATE)  # one second
    clock.now += 0.25
    assert playback.pending() == API_RATE * 3 // 4
    playback.discard()
    assert playback.pending() == 0
    assert playback.remaining_s() == 0


async def test_null_sink_and_write_checks() -> None:
    sink = parse_sink("null")
    assert isinstance(sink, NullSink)
    await sink.write(tone(80))
    with pytest.raises(ValueError, match="even number of bytes"):
        await sink.write(b"\x00\x01\x02")
    sink.close()
    with pytest.raises(RuntimeError, match="closed"):
        await sink.write(tone(10))


def test_parse_sink_specs(tmp_path: Path) -> None:
    sink = parse_sink(f"wav:{tmp_path / 'out.wav'}", realtime=True)
    assert isinstance(sink, WavSink)
    assert sink.realtime
    sink.close()
    with pytest.raises(ValueError, match="needs a path"):
        parse_sink("wav:")
    with pytest.raises(ValueError, match="unknown audio sink"):
        parse_sink("bluetooth")


def test_speaker_without_sounddevice_names_the_extra_and_the_alternatives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    with pytest.raises(AudioUnavailableError) as info:
        parse_sink("speaker:1")
    message = str(info.value)
    for hint in ("edge-voice[audio]", "libportaudio2", "wav:PATH", "null"):
        assert hint in message
