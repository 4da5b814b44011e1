"""The wake word's evidence for arbitration: its peak score (bounded wait) and its energy."""

from __future__ import annotations

import numpy as np
import pytest

from edge_voice.conversation.wake_evidence import (
    FLOOR_DBFS,
    PEAK_FRAMES,
    RecentPower,
    WakeEvidence,
    dbfs,
    frame_power,
)


def tone(amplitude: float) -> bytes:
    """80 ms of a 440 Hz sine at `amplitude` (0-1 of full scale)."""
    t = np.arange(1280) / 16000
    return (np.sin(2 * np.pi * 440 * t) * amplitude * 32767).astype("<i2").tobytes()


def test_the_peak_is_kept_and_the_wait_ends_when_the_score_falls() -> None:
    evidence = WakeEvidence(0.6, [])
    evidence.add(0.0, 0.8)
    evidence.add(0.0, 0.9)
    assert not evidence.done and evidence.peak == 0.9
    evidence.add(0.0, 0.85)
    assert evidence.done and evidence.peak == 0.9


def test_the_wait_for_the_peak_is_bounded() -> None:
    evidence = WakeEvidence(0.5, [])
    for i in range(PEAK_FRAMES):
        assert not evidence.done
        evidence.add(0.0, 0.5 + 0.1 * (i + 1))
    assert evidence.done, f"at most {PEAK_FRAMES} frames after the crossing"


def test_energy_follows_the_gain() -> None:
    loud, quiet = RecentPower(), RecentPower()
    for _ in range(3):
        loud.add(tone(0.5))
        quiet.add(tone(0.25))
    near = WakeEvidence(0.9, loud.snapshot()).energy_dbfs
    far = WakeEvidence(0.9, quiet.snapshot()).energy_dbfs
    assert near - far == pytest.approx(6.02, abs=0.05), "half the gain is 6 dB less"
    assert near == pytest.approx(-9.03, abs=0.1), "a sine at half scale: -3 dB - 6 dB"


def test_silence_has_a_floor() -> None:
    assert dbfs(frame_power(bytes(2560))) == FLOOR_DBFS
    assert WakeEvidence(0.9, []).energy_dbfs == FLOOR_DBFS
