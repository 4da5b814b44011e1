"""Streaming and one-shot resampling between the source (16 kHz) and API (24 kHz) rates."""

from __future__ import annotations

import numpy as np
import pytest

from edge_voice.audio.pcm import API_RATE, FRAME_SAMPLES, SOURCE_RATE, Int16Array
from edge_voice.audio.resample import (
    StreamResampler,
    downsampler,
    resample,
    resample_bytes,
    upsampler,
)


def sine(freq: float, rate: int, seconds: float = 1.0, amplitude: float = 10_000) -> Int16Array:
    t = np.arange(round(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def peak_hz(samples: Int16Array, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def stream(resampler: StreamResampler, samples: Int16Array, chunk: int) -> Int16Array:
    parts = [resampler.process_array(samples[i : i + chunk]) for i in range(0, len(samples), chunk)]
    parts.append(resampler.process_array(np.zeros(0, np.int16), last=True))
    return np.concatenate(parts)


@pytest.mark.parametrize(("in_rate", "out_rate"), [(16_000, 24_000), (24_000, 16_000)])
def test_streamed_length_matches_the_rate_ratio(in_rate: int, out_rate: int) -> None:
    out = stream(StreamResampler(in_rate, out_rate), sine(440, in_rate), chunk=1_000)
    assert out.dtype == np.int16
    assert len(out) == out_rate  # one second in, one second out


@pytest.mark.parametrize(
    ("in_rate", "out_rate", "freq"), [(16_000, 24_000, 440), (24_000, 16_000, 1_000)]
)
def test_a_sine_keeps_its_frequency_and_level(in_rate: int, out_rate: int, freq: float) -> None:
    out = stream(StreamResampler(in_rate, out_rate), sine(freq, in_rate), chunk=FRAME_SAMPLES)
    assert peak_hz(out, out_rate) == pytest.approx(freq, abs=2)
    steady = out[out_rate // 10 : -out_rate // 10]
    assert np.abs(steady).max() == pytest.approx(10_000, rel=0.02)


def test_streaming_equals_one_shot_within_a_few_lsb() -> None:
    signal = sine(440, SOURCE_RATE) // 2 + sine(3_000, SOURCE_RATE) // 2
    streamed = stream(upsampler(), signal, chunk=FRAME_SAMPLES)
    one_shot = resample(signal, SOURCE_RATE, API_RATE)
    assert len(streamed) == len(one_shot)
    assert np.abs(streamed.astype(np.int32) - one_shot).max() <= 4


def test_chunk_boundaries_do_not_change_the_output() -> None:
    signal = sine(440, API_RATE)
    a = stream(downsampler(), signal, chunk=480)
    b = stream(downsampler(), signal, chunk=1_777)
    assert np.abs(a.astype(np.int32) - b).max() <= 4  # rounding of int16 output only


def test_bytes_api_flush_and_reset() -> None:
    resampler = upsampler()
    pcm = sine(440, SOURCE_RATE, seconds=0.5).tobytes()
    out = resampler.process(pcm)
    assert resampler.pending_output() > 0  # the filter's delay, released by flush
    out += resampler.flush()
    assert len(out) == len(pcm) * 3 // 2
    resampler.reset()
    assert len(resampler.process(pcm) + resampler.flush()) == len(pcm) * 3 // 2


def test_equal_rates_pass_through_without_copying() -> None:
    resampler = StreamResampler(SOURCE_RATE, SOURCE_RATE)
    pcm = bytes(range(256)) * 10
    samples = np.frombuffer(pcm, dtype=np.int16)
    assert resampler.passthrough
    assert resampler.process(pcm) is pcm
    assert resampler.process_array(samples) is samples
    assert resampler.flush() == b""
    assert resample_bytes(pcm, 16_000, 16_000) is pcm


def test_one_shot_bytes_helper() -> None:
    pcm = sine(440, 44_100, seconds=0.25).tobytes()
    assert len(resample_bytes(pcm, 44_100, SOURCE_RATE)) == 2 * SOURCE_RATE // 4


def test_invalid_rates_are_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        StreamResampler(0, 16_000)
