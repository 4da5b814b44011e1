"""Audio sources: WAV conversion to 80 ms 16 kHz mono frames, pacing, padding, stdin, specs."""

from __future__ import annotations

import math
import os
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from edge_voice.audio.device import AudioUnavailableError
from edge_voice.audio.pcm import FRAME_BYTES, FRAME_SAMPLES, SOURCE_RATE, Int16Array
from edge_voice.audio.sources import (
    AudioSource,
    StdinSource,
    WavSource,
    parse_source,
)
from edge_voice.audio.timing import Pacer


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def write_wav(path: Path, samples: Int16Array, rate: int, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def sine(freq: float, rate: int, seconds: float, amplitude: float = 8_000) -> Int16Array:
    t = np.arange(round(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


async def collect(source: AudioSource) -> list[bytes]:
    async with source:
        return [frame async for frame in source]


def peak_hz(samples: Int16Array, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


async def test_a_44k_stereo_wav_becomes_16k_mono_80ms_frames(tmp_path: Path) -> None:
    left = sine(440, 44_100, seconds=1.0)
    stereo = np.stack([left, np.zeros_like(left)], axis=1).reshape(-1)  # right channel silent
    path = write_wav(tmp_path / "cd.wav", stereo, 44_100, channels=2)

    frames = await collect(WavSource(path, fast=True))

    assert all(len(frame) == FRAME_BYTES for frame in frames)
    assert len(frames) == math.ceil(SOURCE_RATE / FRAME_SAMPLES)  # 12.5 frames → 13, padded
    audio = np.frombuffer(b"".join(frames), dtype=np.int16)[:SOURCE_RATE]
    assert peak_hz(audio, SOURCE_RATE) == pytest.approx(440, abs=2)
    # Mono mixdown averages the channels: half the left channel's level.
    assert np.abs(audio[2_000:-2_000]).max() == pytest.approx(4_000, rel=0.03)


async def test_a_16k_mono_wav_is_passed_through_frame_by_frame(tmp_path: Path) -> None:
    samples = (np.arange(3 * FRAME_SAMPLES + 100) % 2000).astype(np.int16)
    source = WavSource(write_wav(tmp_path / "native.wav", samples, SOURCE_RATE), fast=True)
    assert source.native
    frames = await collect(source)
    assert b"".join(frames) == samples.tobytes().ljust(4 * FRAME_BYTES, b"\x00")


@pytest.mark.parametrize("width", [1, 3, 4])
async def test_other_sample_widths_are_converted(tmp_path: Path, width: int) -> None:
    path = tmp_path / f"w{width}.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(width)
        out.setframerate(SOURCE_RATE)
        out.writeframes(b"\x80" * width * FRAME_SAMPLES)
    frames = await collect(WavSource(path, fast=True))
    assert len(frames) == 1
    assert len(frames[0]) == FRAME_BYTES


async def test_real_time_pacing_releases_one_frame_every_80ms(tmp_path: Path) -> None:
    clock = FakeClock()
    path = write_wav(tmp_path / "one_second.wav", sine(300, SOURCE_RATE, 1.0), SOURCE_RATE)
    source = WavSource(path, clock=clock, sleep=clock.sleep)
    start = clock.now
    released = [clock.now - start async for _ in source]
    # Like a microphone: frame n is available once its 80 ms have been "recorded".
    assert released == pytest.approx([0.08 * (n + 1) for n in range(13)])
    assert sum(clock.sleeps) == pytest.approx(13 * 0.08)


async def test_fast_mode_never_sleeps(tmp_path: Path) -> None:
    clock = FakeClock()
    path = write_wav(tmp_path / "one_second.wav", sine(300, SOURCE_RATE, 1.0), SOURCE_RATE)
    frames = await collect(WavSource(path, fast=True, clock=clock, sleep=clock.sleep))
    assert len(frames) == 13
    assert clock.sleeps == []


async def test_pacer_catches_up_after_a_slow_consumer_without_drift() -> None:
    clock = FakeClock()
    pacer = Pacer(0.08, clock=clock, sleep=clock.sleep)
    await pacer.wait()  # frame 1 due at +0.08
    clock.now += 0.5  # the consumer stalls for 0.5 s
    for _ in range(5):  # frames 2..6 were due by +0.48: released at once
        await pacer.wait()
    assert len(clock.sleeps) == 1
    await pacer.wait()  # frame 7 due at +0.56, it is +0.58 now: no sleep
    await pacer.wait()  # frame 8 due at +0.64
    assert clock.sleeps[-1] == pytest.approx(0.06)


async def test_silence_padding_at_eof(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "short.wav", sine(300, SOURCE_RATE, 0.16), SOURCE_RATE)
    source = WavSource(path, fast=True, pad_silence_s=0.5)
    frames = await collect(source)
    assert len(frames) == 2 + 7  # 0.5 s is 6.25 frames: rounded up
    assert set(frames[2:]) == {bytes(FRAME_BYTES)}
    assert source.frames_read == 9


async def test_aclose_ends_iteration(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "long.wav", sine(300, SOURCE_RATE, 2.0), SOURCE_RATE)
    source = WavSource(path, fast=True)
    assert len(await anext(source)) == FRAME_BYTES
    await source.aclose()
    assert [frame async for frame in source] == []


def test_a_file_that_is_not_pcm_wav_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "song.wav"
    path.write_bytes(b"ID3 this is an mp3")
    with pytest.raises(ValueError, match="not a PCM WAV file"):
        WavSource(path)


async def test_stdin_reads_raw_pcm_from_a_pipe() -> None:
    samples = sine(300, SOURCE_RATE, 0.5)  # 16 KB: fits in the pipe buffer
    read_fd, write_fd = os.pipe()
    os.write(write_fd, samples.tobytes())
    os.close(write_fd)
    try:
        frames = await collect(StdinSource(fd=read_fd))
    finally:
        os.close(read_fd)
    assert len(frames) == math.ceil(len(samples) / FRAME_SAMPLES)
    assert b"".join(frames).startswith(samples.tobytes())


async def test_stdin_redirected_from_a_file_at_another_rate(tmp_path: Path) -> None:
    path = tmp_path / "audio.raw"
    path.write_bytes(sine(300, 8_000, 1.0).tobytes())
    fd = os.open(path, os.O_RDONLY)
    try:
        frames = await collect(StdinSource(8_000, fd=fd))
    finally:
        os.close(fd)
    assert len(frames) == 13
    audio = np.frombuffer(b"".join(frames), dtype=np.int16)[:SOURCE_RATE]
    assert peak_hz(audio, SOURCE_RATE) == pytest.approx(300, abs=2)


@pytest.mark.parametrize("rate", [SOURCE_RATE, 8_000])
async def test_stdin_at_eof_from_the_start_is_a_clear_error(rate: int) -> None:
    fd = os.open(os.devnull, os.O_RDONLY)  # systemd's default stdin: no poll, EOF at once
    try:
        with pytest.raises(AudioUnavailableError, match=r"stdin gave no audio.*arecord"):
            await collect(StdinSource(rate, fd=fd))
    finally:
        os.close(fd)


async def test_a_pipe_closed_without_audio_is_a_clear_error() -> None:
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    try:
        with pytest.raises(AudioUnavailableError, match="stdin gave no audio"):
            await collect(StdinSource(fd=read_fd))
    finally:
        os.close(read_fd)


async def test_a_closed_stdin_is_a_clear_error() -> None:
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    os.close(write_fd)
    with pytest.raises(AudioUnavailableError, match="stdin cannot be read"):
        await collect(StdinSource(fd=read_fd))


def test_parse_source_specs(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", sine(300, SOURCE_RATE, 0.1), SOURCE_RATE)
    wav = parse_source(f"wav:{path}", fast=True)
    assert isinstance(wav, WavSource)
    assert wav.path == path
    stdin = parse_source("stdin:24000")
    assert isinstance(stdin, StdinSource)
    assert stdin.rate == 24_000
    assert isinstance(parse_source("stdin"), StdinSource)


@pytest.mark.parametrize(
    ("spec", "message"),
    [("wav:", "needs a path"), ("stdin:fast", "rate"), ("mp3:x", "unknown audio source")],
)
def test_parse_source_rejects_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_source(spec)


def test_mic_without_sounddevice_names_the_extra_and_the_alternatives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    with pytest.raises(AudioUnavailableError) as info:
        parse_source("mic")
    message = str(info.value)
    for hint in ("edge-voice[audio]", "libportaudio2", "wav:PATH", "stdin"):
        assert hint in message
