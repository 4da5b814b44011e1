"""Time for audio that has no device: pacing a file like a mic, simulating a speaker's position.

Both take the clock and sleep as arguments so tests can drive them without waiting.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
"""A monotonic clock in seconds (`time.monotonic`)."""
Sleep = Callable[[float], Awaitable[None]]
"""An async sleep in seconds (`asyncio.sleep`)."""


class Pacer:
    """Releases one frame per frame period against a monotonic clock, without drift."""

    def __init__(
        self,
        period_s: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.period_s = period_s
        self._clock = clock
        self._sleep = sleep
        self._start: float | None = None
        self._released = 0

    async def wait(self) -> None:
        """Wait until the next frame is due, as if a microphone had just recorded it."""
        now = self._clock()
        if self._start is None:
            self._start = now
        self._released += 1
        # Deadlines come from the start, not the previous frame, so sleep jitter never adds up.
        delay = self._start + self._released * self.period_s - now
        if delay > 0:
            await self._sleep(delay)


class SimulatedPlayback:
    """The position of a virtual device that plays queued audio at 1x and idles when empty."""

    def __init__(self, rate: int, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._busy_until = -math.inf

    def queue(self, samples: int) -> None:
        """Add audio after what is queued (or start now if the device is idle)."""
        self._busy_until = max(self._clock(), self._busy_until) + samples / self.rate

    def remaining_s(self) -> float:
        """Seconds until the queue is empty."""
        return max(0.0, self._busy_until - self._clock())

    def pending(self) -> int:
        """Samples queued but not yet played."""
        # The epsilon keeps float noise from turning "just finished" into one pending sample.
        return max(0, math.ceil(self.remaining_s() * self.rate - 1e-6))

    def discard(self) -> None:
        """Empty the queue now."""
        self._busy_until = min(self._busy_until, self._clock())
