"""The simulator speaks its default scenario's replies as real speech (bundled espeak-ng)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from edge_voice.sim.audio_synth import SAMPLE_RATE, speech_duration_ms, synthesize
from edge_voice.sim.scenario import default_scenario
from edge_voice.sim.speech import bundled_speech, has_speech


def default_replies() -> list[str]:
    scenario = default_scenario()
    texts = [scenario.idle_reply, scenario.waiting_reply]
    for turn in [*scenario.turns, scenario.fallback]:
        texts += [t for t in (turn.say, turn.after_call, turn.otherwise) if t]
    return texts


def samples(pcm: bytes) -> NDArray[np.float64]:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def high_band_share(x: NDArray[np.float64]) -> float:
    """Share of the energy above 3 kHz: fricatives (s, t, c) have it, a voiced tone has not."""
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    return float(power[freqs > 3000].sum() / power.sum())


def voiced_ms(x: NDArray[np.float64]) -> float:
    """How long the signal is louder than -40 dBFS, in 20 ms frames."""
    frame = SAMPLE_RATE // 50
    frames = x[: len(x) // frame * frame].reshape(-1, frame)
    rms = np.sqrt((frames**2).mean(axis=1))
    return float((rms > 10 ** (-40 / 20)).sum() * 20)


def test_every_reply_of_the_default_scenario_is_bundled() -> None:
    assert all(has_speech(text) for text in default_replies())
    assert not has_speech("A sentence no scenario has.")
    assert bundled_speech("A sentence no scenario has.", 1000) is None  # the tone then


@pytest.mark.parametrize("text", default_replies())
def test_the_bundled_reply_is_speech_not_the_tone(text: str) -> None:
    length = speech_duration_ms(text)
    pcm = bundled_speech(text, length)
    assert pcm is not None and len(pcm) == length * SAMPLE_RATE // 1000 * 2  # the sim's length
    speech, tone = samples(pcm), samples(synthesize(text, "alloy", length))
    assert high_band_share(speech) > 0.01 > high_band_share(tone)
    # About as long as the words take: pauses and a silent tail, unlike the steady tone.
    assert 0.4 * length < voiced_ms(speech) < 0.95 * length
    assert voiced_ms(tone) > 0.9 * length


def test_a_faster_voice_speeds_the_speech_up_to_fit() -> None:
    text = "The kitchen light is on."
    half = speech_duration_ms(text, speed=2.0)
    pcm = bundled_speech(text, half)
    assert pcm is not None and len(pcm) == half * SAMPLE_RATE // 1000 * 2
    assert voiced_ms(samples(pcm)) > 0.5 * half  # squeezed, not cut off
