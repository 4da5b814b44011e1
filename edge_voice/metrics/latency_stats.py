"""Latency timers, rolling windows and their percentiles (numpy) for the performance metrics."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

import numpy as np

from edge_voice.metrics.records import Percentiles, ResponseLatency

log = logging.getLogger(__name__)

#: Samples kept per metric unless configured otherwise.
DEFAULT_WINDOW = 100
#: The percentiles reported per measure. numpy's default ("linear", Hyndman & Fan type 7,
#: Excel's PERCENTILE.INC): on a window of 100 samples nearest-rank would jump by whole
#: samples; interpolation moves smoothly as samples come and go.
QUANTILES: Final = (0.50, 0.95)


class RollingWindow:
    """The last `size` samples of one latency, in milliseconds."""

    def __init__(self, size: int = DEFAULT_WINDOW) -> None:
        if size < 1:
            raise ValueError(f"window size must be at least 1, got {size}")
        self._samples: deque[float] = deque(maxlen=size)
        self.count = 0  # all samples ever, not just the ones still in the window

    @property
    def size(self) -> int:
        """How many samples the window keeps."""
        assert self._samples.maxlen is not None
        return self._samples.maxlen

    def __len__(self) -> int:
        return len(self._samples)

    def add(self, value_ms: float) -> None:
        """Add a sample, evicting the oldest once the window is full."""
        self._samples.append(float(value_ms))
        self.count += 1

    def values(self) -> list[float]:
        """The samples in the window, oldest first."""
        return list(self._samples)

    @property
    def last(self) -> float | None:
        """The newest sample, or None before the first."""
        return self._samples[-1] if self._samples else None

    def quantile(self, q: float) -> float | None:
        """The q-th quantile (0..1) of the window, or None while it is empty."""
        if not self._samples:
            return None
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile must be within 0..1, got {q}")
        return float(np.quantile(self._samples, q))

    def percentiles(self) -> Percentiles:
        """p50 and p95 of the window, rounded to 0.1 ms; None while it is empty."""
        if not self._samples:
            return Percentiles()
        p50, p95 = np.quantile(self._samples, QUANTILES)
        return Percentiles(p50=_ms(p50), p95=_ms(p95))

    def summary(self) -> dict[str, float | int | None]:
        """Count, last, p50, p95, min and max, rounded to 0.1 ms; None where undefined."""
        if not self._samples:
            return {"count": self.count} | dict.fromkeys(("last", "p50", "p95", "min", "max"))
        quantiles = self.percentiles()
        return {
            "count": self.count,
            "last": _ms(self._samples[-1]),
            "p50": quantiles.p50,
            "p95": quantiles.p95,
            "min": _ms(min(self._samples)),
            "max": _ms(max(self._samples)),
        }


def _ms(value: float) -> float:
    return round(float(value), 1)


#: Latencies kept in rolling windows, in milliseconds.
LATENCY_METRICS: tuple[str, ...] = (
    "connect",  # connect_started → WebSocket open
    "session_ready",  # connect_started → session configured
    "first_audio",  # speech stopped → first audio delta (the headline latency)
    "audio_stream",  # first → last audio delta of a response
    "function_call",  # call published → result received
    "response",  # speech stopped or response.create → response.done
)

#: Timers waiting for their end event; beyond this the oldest is dropped (its end never came).
MAX_PENDING = 256

_V = TypeVar("_V")


@dataclass
class _AudioSpan:
    first: float
    last: float
    first_audio_ms: float | None


class LatencyTracker:
    """Start/stop timers of a session's turns, feeding one rolling window per metric."""

    def __init__(self, clock: Callable[[], float], window: int = DEFAULT_WINDOW) -> None:
        self._clock = clock
        self.windows = {name: RollingWindow(window) for name in LATENCY_METRICS}
        self._speech_stopped_at: float | None = None
        self._response_started_at: float | None = None
        self._audio: dict[str, _AudioSpan] = {}
        self._calls: dict[str, float] = {}

    def sample(self, name: str, start: float, end: float | None = None) -> float:
        """Add `end - start` (monotonic seconds; end defaults to now) to a window; returns ms."""
        value = ((self._clock() if end is None else end) - start) * 1000.0
        self.windows[name].add(value)
        log.debug("latency %s: %.1f ms", name, value)
        return value

    def reset_turn(self) -> None:
        """Forget the timers of the turn in progress (the connection is gone)."""
        self._speech_stopped_at = None
        self._response_started_at = None
        self._audio.clear()

    def speech_stopped(self) -> None:
        """Start the first-audio timer, and the response timer unless one is running."""
        now = self._clock()
        # The newest utterance is what the user waits on, so it replaces an unanswered one.
        self._speech_stopped_at = now
        if self._response_started_at is None:
            self._response_started_at = now

    def response_requested(self) -> None:
        """Start the response timer unless one is running."""
        if self._response_started_at is None:
            self._response_started_at = self._clock()

    def audio_delta(self, response_id: str) -> None:
        """Note an audio delta; the first after speech stopped samples `first_audio`."""
        now = self._clock()
        span = self._audio.get(response_id)
        if span is not None:
            span.last = now
            return
        first_audio = None
        if self._speech_stopped_at is not None:
            # Measured to the first audio after the speech even when a function-call response
            # came in between: that is the silence the user hears.
            first_audio = self.sample("first_audio", self._speech_stopped_at, now)
            self._speech_stopped_at = None
        _bounded_put(self._audio, response_id, _AudioSpan(now, now, first_audio))

    def function_call_published(self, call_id: str) -> None:
        """Start the round-trip timer of a function call."""
        _bounded_put(self._calls, call_id, self._clock())

    def function_call_result(self, call_id: str) -> float | None:
        """Stop it; returns the round trip in ms, or None for an unknown call."""
        started = self._calls.pop(call_id, None)
        return None if started is None else self.sample("function_call", started)

    def finish_response(self, response_id: str) -> dict[ResponseLatency, float]:
        """Stop a response's timers; returns its latencies in ms, rounded to 0.1."""
        end = self._clock()
        latency: dict[ResponseLatency, float] = {}
        span = self._audio.pop(response_id, None) or self._audio.pop("", None)
        if span is not None:
            if span.first_audio_ms is not None:
                latency["first_audio"] = _ms(span.first_audio_ms)
            latency["audio_stream"] = _ms(self.sample("audio_stream", span.first, span.last))
        if self._response_started_at is not None:
            latency["response"] = _ms(self.sample("response", self._response_started_at, end))
            self._response_started_at = None
        return latency


def _bounded_put(pending: dict[str, _V], key: str, value: _V) -> None:
    pending.pop(key, None)  # re-insert so the newest key is last
    pending[key] = value
    while len(pending) > MAX_PENDING:
        dropped = next(iter(pending))
        del pending[dropped]
        log.debug("dropping timer %r: its end never arrived", dropped)
