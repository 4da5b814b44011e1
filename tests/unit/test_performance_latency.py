"""PerformanceMetrics latencies: turn timers, function calls, rolling windows, percentiles."""

from __future__ import annotations

import pytest

from edge_voice.metrics.latency_stats import MAX_PENDING, RollingWindow
from edge_voice.metrics.records import Percentiles
from tests.unit.metrics_support import FakeClock, FakeDay, make


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def day() -> FakeDay:
    return FakeDay()


# -- latency ---------------------------------------------------------------------------------


def test_turn_latencies(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day)
    metrics.speech_stopped()
    clock.advance(0.45)
    metrics.audio_delta("r1")
    clock.advance(0.5)
    metrics.audio_delta("r1")
    clock.advance(0.5)
    metrics.audio_delta("r1")
    clock.advance(0.05)
    result = metrics.record_response("r1", "gpt-realtime", {"input": 10, "output": 10})
    assert result.latency_ms == {"first_audio": 450.0, "audio_stream": 1000.0, "response": 1500.0}
    snap = metrics.snapshot()
    assert snap.latency_first_audio_ms == 450.0
    assert snap.latency_p95_ms == 450.0

    # Audio without a preceding speech_stopped (a greeting) has no first-audio latency.
    metrics.response_requested()
    clock.advance(0.2)
    metrics.audio_delta("r2")
    clock.advance(0.3)
    result = metrics.record_response("r2", "gpt-realtime", None)
    assert result.latency_ms == {"audio_stream": 0.0, "response": 500.0}
    assert metrics.latency("first_audio").count == 1


def test_first_audio_spans_a_function_call(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day)
    metrics.speech_stopped()
    clock.advance(0.3)
    first = metrics.record_response("call_resp", "gpt-realtime", None)  # the function call
    assert first.latency_ms == {"response": 300.0}
    metrics.function_call_published("call_1")
    clock.advance(0.8)
    assert metrics.function_call_result("call_1") == pytest.approx(800.0)
    assert metrics.function_call_result("call_1") is None
    metrics.response_requested()
    clock.advance(0.4)
    metrics.audio_delta("answer")
    clock.advance(0.1)
    answer = metrics.record_response("answer", "gpt-realtime", None)
    assert answer.latency_ms == {"first_audio": 1500.0, "audio_stream": 0.0, "response": 500.0}


def test_audio_without_response_id_and_disconnect(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day)
    metrics.speech_stopped()
    clock.advance(0.25)
    metrics.audio_delta()
    result = metrics.record_response("resp_x", "gpt-realtime", None)
    assert result.latency_ms["first_audio"] == 250.0

    metrics.speech_stopped()
    metrics.disconnected()  # stale timers must not leak into the next session
    clock.advance(9)
    metrics.audio_delta("later")
    assert metrics.record_response("later", "gpt-realtime", None).latency_ms == {
        "audio_stream": 0.0
    }
    assert metrics.latency("first_audio").count == 1


def test_pending_timers_are_bounded(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day)
    for n in range(MAX_PENDING + 1):
        metrics.function_call_published(f"call_{n}")
    assert metrics.function_call_result("call_0") is None
    assert metrics.function_call_result(f"call_{MAX_PENDING}") == 0.0


def window_of(values: list[float]) -> RollingWindow:
    window = RollingWindow(size=max(len(values), 1))
    for value in values:
        window.add(value)
    return window


def test_quantiles_interpolate_linearly_between_ranks() -> None:
    values = window_of([float(v) for v in range(1, 101)])
    assert values.quantile(0.5) == pytest.approx(50.5)
    assert values.quantile(0.95) == pytest.approx(95.05)
    assert values.quantile(0.0) == 1.0
    assert values.quantile(1.0) == 100.0
    assert values.percentiles() == Percentiles(p50=50.5, p95=95.0)  # 95.05, to 0.1 ms
    assert window_of([7.0]).quantile(0.95) == 7.0
    assert window_of([100.0, 200.0]).quantile(0.95) == pytest.approx(195.0)
    assert window_of([]).percentiles() == Percentiles()
    with pytest.raises(ValueError):
        values.quantile(95)


def test_rolling_window_evicts_oldest() -> None:
    window = RollingWindow(3)
    assert window.quantile(0.5) is None
    assert window.summary() == {
        "count": 0,
        "last": None,
        "p50": None,
        "p95": None,
        "min": None,
        "max": None,
    }
    for value in (1000.0, 1.0, 2.0, 3.0):
        window.add(value)
    assert window.values() == [1.0, 2.0, 3.0]
    assert (window.count, len(window), window.size, window.last) == (4, 3, 3, 3.0)
    assert window.quantile(0.5) == 2.0
    assert window.summary()["max"] == 3.0
    with pytest.raises(ValueError):
        RollingWindow(0)


def test_snapshot_p95_follows_the_window(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day, window=10)
    for n in range(20):  # 0, 100, … 1900 ms; only the last 10 (1000…1900) count
        metrics.speech_stopped()
        clock.advance(n / 10)
        metrics.audio_delta(f"r{n}")
        metrics.record_response(f"r{n}", "gpt-realtime", None)
    snap = metrics.snapshot()
    assert snap.latency_first_audio_ms == 1900.0
    assert snap.latency_p95_ms == pytest.approx(1855.0)  # 1800 + 0.55 * 100
    details = metrics.details()["latency_ms"]["first_audio"]
    assert details == {
        "count": 20,
        "last": 1900.0,
        "p50": 1450.0,
        "p95": 1855.0,
        "min": 1000.0,
        "max": 1900.0,
    }
