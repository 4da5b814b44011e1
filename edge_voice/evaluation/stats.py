"""Pass rates with Wilson 95 % intervals, and latency percentiles.

The Wilson score interval is used instead of the normal approximation because suites are small
(tens of cases) and pass rates sit near 0 or 1, where the normal interval leaves [0, 1] or
collapses to a point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

#: The two-sided 95 % normal quantile.
Z95: Final = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Rate:
    """`successes` of `trials`, the rate and its Wilson interval (None without trials)."""

    successes: int
    trials: int
    rate: float | None
    low: float | None
    high: float | None

    def contains(self, value: float) -> bool:
        """Whether `value` lies inside the interval."""
        return self.low is not None and self.high is not None and self.low <= value <= self.high

    def as_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "successes": self.successes,
            "trials": self.trials,
            "rate": self.rate,
            "ci95": None if self.low is None else [self.low, self.high],
        }


def wilson(successes: int, trials: int, z: float = Z95) -> Rate:
    """The rate of `successes` in `trials` with its Wilson score interval."""
    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    if trials == 0:
        return Rate(0, 0, None, None, None)
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    # At 0 and 1 the bound is exact; rounding would otherwise leave it a hair inside.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Rate(successes, trials, p, low, high)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q`-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
