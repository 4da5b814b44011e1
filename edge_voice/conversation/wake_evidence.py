"""What a device claims in wake word arbitration: how well and how loud it heard the word.

The first frame over the threshold says little about distance: louder audio (the nearest
device) crosses earlier, at a lower score. So the claim waits for the score's peak (a few
frames, bounded) and carries the wake word's energy too; `mqtt.arbitration.beats` combines them.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final

import numpy as np

#: Frames scored after the first crossing while looking for the peak (4 x 80 ms = 320 ms).
PEAK_FRAMES: Final = 4
#: Frames before the crossing that hold the wake word itself (~1 s at 80 ms).
LOOKBACK_FRAMES: Final = 12
#: The energy floor: digital silence is this loud, not minus infinity.
FLOOR_DBFS: Final = -96.0
_FULL_SCALE_POWER: Final = 32768.0**2


def frame_power(frame: bytes) -> float:
    """The mean square of one PCM16 frame (0 for an empty one)."""
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    return float(np.mean(samples * samples)) if samples.size else 0.0


def dbfs(power: float) -> float:
    """A mean square as dB relative to full scale, floored at FLOOR_DBFS."""
    if power <= 0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 10 * math.log10(power / _FULL_SCALE_POWER))


class RecentPower:
    """The power of the last LOOKBACK_FRAMES frames (the wake word, once it is detected)."""

    def __init__(self) -> None:
        self._powers: deque[float] = deque(maxlen=LOOKBACK_FRAMES)

    def add(self, frame: bytes) -> float:
        """Remember one frame's power; return it."""
        power = frame_power(frame)
        self._powers.append(power)
        return power

    def snapshot(self) -> list[float]:
        """The powers remembered, oldest first."""
        return list(self._powers)


class WakeEvidence:
    """The wake word's peak score and energy, gathered from its first crossing on."""

    def __init__(self, first_score: float, lookback: list[float]) -> None:
        self.peak = first_score
        self._powers = lookback
        self._after = 0
        self.done = False

    def add(self, power: float, score: float) -> None:
        """One more frame after the crossing: done once the score falls or PEAK_FRAMES passed."""
        self._powers.append(power)
        self._after += 1
        if score > self.peak:
            self.peak = score
        elif score < self.peak:
            self.done = True  # past the peak
        if self._after >= PEAK_FRAMES:
            self.done = True

    @property
    def energy_dbfs(self) -> float:
        """The mean energy of the wake word's frames, in dBFS."""
        if not self._powers:
            return FLOOR_DBFS
        return dbfs(sum(self._powers) / len(self._powers))
