"""Wilson intervals and percentiles of `edge-voice eval`, against published values."""

from __future__ import annotations

import pytest

from edge_voice.evaluation.stats import percentile, wilson


def test_wilson_matches_the_textbook_values() -> None:
    # Newcombe (1998), table I: 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605.
    a = wilson(81, 263)
    assert (a.low, a.high) == (pytest.approx(0.2553, abs=1e-4), pytest.approx(0.3662, abs=1e-4))
    b = wilson(15, 148)
    assert (b.low, b.high) == (pytest.approx(0.0624, abs=1e-4), pytest.approx(0.1605, abs=1e-4))


def test_wilson_at_the_edges_stays_inside_zero_and_one() -> None:
    none = wilson(0, 10)
    assert none.rate == 0 and none.low == 0 and none.high == pytest.approx(0.2775, abs=1e-4)
    every = wilson(10, 10)
    assert every.high == 1 and every.low == pytest.approx(0.7225, abs=1e-4)
    assert wilson(0, 0).rate is None and not wilson(0, 0).contains(0.5)


def test_wilson_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="successes"):
        wilson(3, 2)


def test_percentiles_interpolate() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(1, 101))), 95) == pytest.approx(95.05)
