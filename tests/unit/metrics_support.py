"""Fake clocks and a PerformanceMetrics factory shared by the metrics tests."""

from __future__ import annotations

import datetime as dt

from edge_voice.metrics.cost_ledger import CostLedger
from edge_voice.metrics.performance import PerformanceMetrics

WALL = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


class FakeClock:
    """A monotonic clock the test advances."""

    def __init__(self) -> None:
        self.t = 5000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class FakeDay:
    """Today's date, set by the test."""

    def __init__(self) -> None:
        self.date = dt.date(2026, 3, 1)

    def __call__(self) -> dt.date:
        return self.date


def make(
    clock: FakeClock, day: FakeDay, ledger: CostLedger | None = None, **kwargs: object
) -> PerformanceMetrics:
    """Metrics on the fake clocks."""
    return PerformanceMetrics(
        ledger=ledger,
        clock=clock,
        now=lambda: WALL,
        today=day,
        **kwargs,  # type: ignore[arg-type]
    )
