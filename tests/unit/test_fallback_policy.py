"""Candidate order per model selection, the circuit breaker and jittered backoff."""

from __future__ import annotations

import random

import pytest

from edge_voice.models.fallback import (
    Backoff,
    BreakerState,
    CircuitBreaker,
    candidate_models,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("selection", "state", "expected"),
    [
        ("auto", BreakerState.CLOSED, ["gpt-realtime", "gpt-4o-realtime-preview"]),
        ("auto", BreakerState.HALF_OPEN, ["gpt-realtime", "gpt-4o-realtime-preview"]),
        ("auto", BreakerState.OPEN, ["gpt-4o-realtime-preview", "gpt-realtime"]),
        ("new", BreakerState.OPEN, ["gpt-realtime"]),
        ("new", BreakerState.CLOSED, ["gpt-realtime"]),
        ("legacy", BreakerState.CLOSED, ["gpt-4o-realtime-preview"]),
    ],
)
def test_candidates(selection: str, state: BreakerState, expected: list[str]) -> None:
    assert candidate_models(selection, "gpt-realtime", "gpt-4o-realtime-preview", state) == expected  # type: ignore[arg-type]


def test_same_primary_and_legacy_is_tried_once() -> None:
    assert candidate_models("auto", "x", "x", BreakerState.OPEN) == ["x"]


def test_breaker_opens_on_failure_and_probes_after_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(cooldown_s=300, clock=clock)
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 299
    assert breaker.state is BreakerState.OPEN
    assert breaker.seconds_until_probe() == pytest.approx(1)
    clock.now += 1
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.record_failure()  # the probe failed: another full cool-down
    assert breaker.state is BreakerState.OPEN
    clock.now += 300
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_repeated_drops_open_the_breaker_only_within_the_window() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(cooldown_s=60, drop_threshold=3, drop_window_s=100, clock=clock)
    assert breaker.record_drop() is False
    clock.now += 150  # the first drop is forgotten
    assert breaker.record_drop() is False
    assert breaker.record_drop() is False
    assert breaker.state is BreakerState.CLOSED
    assert breaker.record_drop() is True
    assert breaker.state is BreakerState.OPEN


def test_backoff_grows_to_the_cap_with_full_jitter() -> None:
    backoff = Backoff(base_s=1, cap_s=8, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(50)]
    ceilings = [min(8, 2**i) for i in range(50)]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert max(delays[4:]) > 4  # reaches past the early ceilings
    assert len(set(delays)) == len(delays)  # jittered, not in lock-step
    backoff.reset()
    assert backoff.next_delay() <= 1
