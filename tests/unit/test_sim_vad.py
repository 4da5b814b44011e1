"""The simulator's energy VAD on generated signals (and on espeak-ng speech when installed)."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from edge_voice.sim.audio_synth import synthesize
from edge_voice.sim.vad import (
    SILENCE_DBFS,
    EnergyVad,
    SpeechStarted,
    SpeechStopped,
    VadParams,
    rms_dbfs,
    threshold_to_dbfs,
)
from tests.support.signals import silence, speech_like


def test_rms_of_full_scale_sine_is_minus_three_dbfs() -> None:
    t = np.arange(2400) / 24000
    sine = (np.sin(2 * np.pi * 1000 * t) * 32767).astype(np.int16)
    assert rms_dbfs(sine) == pytest.approx(-3.01, abs=0.05)


def test_rms_of_digital_silence_is_the_floor() -> None:
    assert rms_dbfs(np.zeros(480, dtype=np.int16)) == SILENCE_DBFS
    assert rms_dbfs(np.zeros(0, dtype=np.int16)) == SILENCE_DBFS


def test_threshold_maps_api_scale_onto_dbfs() -> None:
    assert threshold_to_dbfs(0.5) == -40.0
    assert threshold_to_dbfs(0.7) == pytest.approx(-32.0)
    assert threshold_to_dbfs(0.0, base_dbfs=-45.0) == pytest.approx(-65.0)


def test_one_utterance_gives_start_with_padding_and_stop_with_trailing_silence() -> None:
    vad = EnergyVad(VadParams(silence_duration_ms=500, prefix_padding_ms=300))
    events = vad.feed(silence(0.5) + speech_like(1.0) + silence(1.0))
    assert events == [
        SpeechStarted(audio_start_ms=200, onset_ms=500),
        SpeechStopped(audio_end_ms=2000),
    ]
    assert not vad.in_speech


def test_chunking_does_not_change_the_events() -> None:
    pcm = silence(0.4) + speech_like(0.8) + silence(0.9)
    whole = EnergyVad().feed(pcm)
    vad = EnergyVad()
    pieces: list[object] = []
    for start in range(0, len(pcm), 777):  # odd size: splits samples and frames
        pieces.extend(vad.feed(pcm[start : start + 777]))
    assert pieces == whole
    assert len(whole) == 2


def test_quiet_room_noise_is_not_speech() -> None:
    vad = EnergyVad()
    assert vad.feed(silence(3.0, noise_dbfs=-55.0)) == []
    assert vad.position_ms == 3000


def test_click_shorter_than_min_speech_is_ignored() -> None:
    vad = EnergyVad(VadParams(min_speech_ms=60))
    assert vad.feed(silence(0.2) + speech_like(0.04) + silence(1.0)) == []


def test_word_gaps_shorter_than_silence_duration_keep_one_utterance() -> None:
    words = b"".join(speech_like(0.3, seed=i) + silence(0.2) for i in range(3))
    events = EnergyVad(VadParams(silence_duration_ms=500)).feed(words + silence(0.6))
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped]


def test_short_silence_duration_splits_at_the_same_gaps() -> None:
    words = b"".join(speech_like(0.3, seed=i) + silence(0.2) for i in range(3))
    events = EnergyVad(VadParams(silence_duration_ms=200)).feed(words + silence(0.4))
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped] * 3


def test_padding_never_reaches_back_into_the_previous_utterance() -> None:
    vad = EnergyVad(VadParams(silence_duration_ms=200, prefix_padding_ms=300))
    events = vad.feed(speech_like(0.5) + silence(0.25) + speech_like(0.5) + silence(0.3))
    first_stop, second_start = events[1], events[2]
    assert isinstance(first_stop, SpeechStopped)
    assert isinstance(second_start, SpeechStarted)
    assert second_start.audio_start_ms >= first_stop.audio_end_ms


def test_reset_forgets_the_utterance_in_progress() -> None:
    vad = EnergyVad()
    assert [type(e) for e in vad.feed(speech_like(0.5))] == [SpeechStarted]
    vad.reset()
    assert vad.feed(silence(1.0)) == []


def test_higher_threshold_ignores_quiet_speech() -> None:
    quiet = silence(0.2) + speech_like(0.6, level_dbfs=-35.0) + silence(0.7)
    assert len(EnergyVad(VadParams(threshold_dbfs=-40.0)).feed(quiet)) == 2
    assert EnergyVad(VadParams(threshold_dbfs=threshold_to_dbfs(0.8))).feed(quiet) == []


def test_synthesized_assistant_voice_reads_as_one_utterance() -> None:
    pcm = synthesize("The kitchen light is on.", "alloy", 1500)
    events = EnergyVad().feed(pcm + silence(0.6))
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_espeak_speech_with_mic_noise_is_one_turn(tmp_path: Path) -> None:
    soxr = pytest.importorskip("soxr")
    wav = tmp_path / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-w", str(wav), "Hey Jarvis, turn on the kitchen light."], check=True
    )
    with wave.open(str(wav)) as w:
        rate = w.getframerate()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    speech = soxr.resample(raw.astype(np.float32) / 32768, rate, 24000)
    lead = np.zeros(12000)
    signal = np.concatenate([lead, speech, np.zeros(24000)])
    noise = np.random.default_rng(3).standard_normal(signal.size) * 10 ** (-55 / 20)
    pcm = (np.clip(signal + noise, -1, 1) * 32767).astype("<i2").tobytes()
    events = EnergyVad().feed(pcm)
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped]
    start, stop = events
    assert isinstance(start, SpeechStarted)
    assert isinstance(stop, SpeechStopped)
    assert 200 <= start.onset_ms <= 800
    speech_end_ms = 500 + 1000 * speech.size / 24000
    assert speech_end_ms <= stop.audio_end_ms <= speech_end_ms + 600
