"""Echo cancellation's plumbing: playout taps, far-end blocks, the room's convolution, the
WebRTC canceller on a pure echo, the config key and the missing-extra error."""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from edge_voice.audio.echo_cancel import (
    EchoCancelUnavailableError,
    FarEnd,
    WebRtcCanceller,
    check_available,
)
from edge_voice.audio.pcm import API_RATE, FRAME_BYTES, FRAME_SAMPLES
from edge_voice.audio.playout import PlayoutTap
from edge_voice.audio.room_echo import RoomEcho, load_impulse_response
from edge_voice.audio.sinks import NullSink, WavSink
from edge_voice.cli.main import main
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.conversation.microphone import open_while_answering


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def ramp(ms: int, rate: int = API_RATE) -> bytes:
    n = rate * ms // 1000
    return ((np.arange(n) % 300) - 150).astype("<i2").tobytes()


def test_a_tap_keeps_order_and_drops_the_oldest_past_its_bound() -> None:
    tap = PlayoutTap(1000, max_s=0.01)  # 10 samples
    tap.push(np.arange(6, dtype="<i2").tobytes())
    tap.push(np.arange(6, 12, dtype="<i2").tobytes())
    assert np.frombuffer(tap.take(), "<i2").tolist() == list(range(2, 12))
    assert tap.dropped == 2
    assert tap.take() == b""


async def test_a_realtime_sink_taps_only_what_has_been_played_and_never_the_flushed_rest() -> None:
    clock = Clock()
    sink = NullSink(realtime=True, clock=clock, sleep=clock.sleep)
    tap = sink.tap()
    audio = ramp(1000)
    await sink.write(audio)
    assert tap.take() == b""  # nothing played yet
    clock.now += 0.25
    assert tap.take() == audio[: len(audio) // 4]
    sink.flush_now()  # barge-in: the rest is never played
    clock.now += 1.0
    assert tap.take() == b""


async def test_a_wav_sink_taps_what_it_writes_to_its_file(tmp_path: Path) -> None:
    sink = WavSink(tmp_path / "out.wav")
    tap = sink.tap()
    await sink.write(ramp(80))
    assert tap.take() == ramp(80)
    sink.close()
    with wave.open(str(tmp_path / "out.wav"), "rb") as wav:
        assert wav.readframes(wav.getnframes()) == ramp(80)


def test_far_end_blocks_are_80_ms_at_16_khz_and_silence_when_nothing_plays() -> None:
    tap = PlayoutTap(API_RATE)
    far = FarEnd(tap)
    assert not far.frame().any() and far.frame().size == FRAME_SAMPLES
    tap.push(ramp(200))
    blocks = [far.frame() for _ in range(3)]
    assert all(b.size == FRAME_SAMPLES for b in blocks)
    assert blocks[0].any() and blocks[1].any()
    assert not far.frame().any()  # 200 ms played, 240 ms taken: then silence


def test_far_end_lag_stays_bounded_when_the_sink_plays_ahead_of_the_mic() -> None:
    tap = PlayoutTap(API_RATE)
    far = FarEnd(tap)
    tap.push(ramp(1000))  # a burst: a second played between two mic frames
    first = far.frame()
    assert first.size == FRAME_SAMPLES
    assert far.dropped > 0  # not a second of lag behind the echo
    assert far.frame().any() and not far.frame().any()  # one frame kept, then silence


def test_room_echo_streams_the_same_convolution_as_the_whole_signal() -> None:
    rng = np.random.default_rng(1)
    ir = rng.normal(0, 0.05, 3000)  # longer than two frames: the tail spans frames
    far = rng.integers(-8000, 8000, FRAME_SAMPLES * 5).astype(np.int16)
    room = RoomEcho(ir)
    silent = bytes(FRAME_BYTES)
    heard = b"".join(
        room.add(silent, far[i : i + FRAME_SAMPLES]) for i in range(0, far.size, FRAME_SAMPLES)
    )
    expected = np.convolve(far.astype(np.float64), ir)[: far.size]
    got = np.frombuffer(heard, "<i2").astype(np.float64)
    assert np.max(np.abs(got - np.clip(np.round(expected), -32768, 32767))) <= 1


def test_an_impulse_response_wav_is_read_at_16_khz_and_a_silent_one_refused(
    tmp_path: Path,
) -> None:
    def write(path: Path, samples: np.ndarray, rate: int) -> Path:
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(samples.astype("<i2").tobytes())
        return path

    ir = np.zeros(4800)
    ir[480] = 16384
    loaded = load_impulse_response(write(tmp_path / "ir.wav", ir, 48000))
    assert loaded.size == 1600 and abs(int(np.argmax(np.abs(loaded))) - 160) <= 1
    with pytest.raises(ValueError, match="silent"):
        load_impulse_response(write(tmp_path / "zero.wav", np.zeros(100), 16000))


def test_webrtc_removes_most_of_a_pure_echo() -> None:
    rng = np.random.default_rng(3)
    canceller = WebRtcCanceller()
    ir = np.zeros(400)
    ir[[40, 150, 390]] = [0.5, -0.2, 0.1]  # a direct path and two reflections
    room = RoomEcho(ir)
    before = after = 0.0
    for i in range(40):  # 3.2 s of noise-like reference
        far = (rng.normal(0, 3000, FRAME_SAMPLES)).astype(np.int16)
        mic = room.add(bytes(FRAME_BYTES), far)
        out = canceller.process(mic, far)
        if i >= 15:  # after a second to converge
            before += float(np.sum(np.frombuffer(mic, "<i2").astype(float) ** 2))
            after += float(np.sum(np.frombuffer(out, "<i2").astype(float) ** 2))
    assert 10 * np.log10(before / max(after, 1.0)) >= 15.0


def test_webrtc_takes_one_frame_at_a_time() -> None:
    with pytest.raises(ValueError, match="80 ms"):
        WebRtcCanceller().process(bytes(100), np.zeros(FRAME_SAMPLES, np.int16))


def test_the_config_key_and_when_the_mic_stays_open() -> None:
    assert not open_while_answering(EdgeVoiceConfig().audio)  # today's gating by default
    assert open_while_answering(EdgeVoiceConfig(audio={"echo_cancel": "webrtc"}).audio)
    assert open_while_answering(EdgeVoiceConfig(audio={"echo_cancelled": True}).audio)
    with pytest.raises(ValidationError):
        EdgeVoiceConfig(audio={"echo_cancel": "speex"})


def test_without_livekit_webrtc_is_refused_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "livekit.rtc", None)  # as if the extra were not installed
    with pytest.raises(EchoCancelUnavailableError, match=r"edge-voice\[aec\]"):
        check_available("webrtc")
    check_available("none")
    path = tmp_path / "config.yaml"
    path.write_text("audio:\n  echo_cancel: webrtc\n")
    assert main(["config", "check", str(path)]) == 2
    assert "edge-voice[aec]" in capsys.readouterr().err
