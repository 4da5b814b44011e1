"""PerformanceMetrics: latencies, rolling percentiles, cost accounting, restarts, budget."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_voice.metrics import performance as pm
from edge_voice.metrics.cost_ledger import CostLedger
from edge_voice.metrics.performance import (
    TokenUsage,
    calculate_cost,
)
from edge_voice.metrics.records import MetricsSnapshot, Percentiles
from edge_voice.models.catalog import UnknownModelError, default_catalog
from edge_voice.models.migration import FallbackEvent
from tests.unit.metrics_support import FakeClock, FakeDay, make

METRICS_FIELDS = {
    "cost_total_usd",
    "cost_today_usd",
    "cost_last_usd",
    "tokens_total",
    "latency_first_audio_ms",
    "latency_p95_ms",
    "conversations",
    "fallbacks",
    "false_wakes_today",
    "false_wakes_total",
    "latency_ms",
    "connection_success_rate",
}
RESPONSE_FIELDS = {"response_id", "model", "voice", "usage", "cost_usd", "latency_ms", "ts"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def day() -> FakeDay:
    return FakeDay()


def test_reexports_cost_api() -> None:
    assert {"TokenUsage", "calculate_cost"} <= set(pm.__all__)
    assert calculate_cost({"input": 1000, "output": 500}, "gpt-realtime") == pytest.approx(0.064)
    assert TokenUsage(audio_in=1).total == 1


# -- cost ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "usage", "expected"),
    [
        # 1000 * 32e-6 + 500 * 64e-6
        ("gpt-realtime", {"input": 1000, "output": 500}, 0.064),
        # 1000 * 10e-6 + 500 * 20e-6
        ("gpt-realtime-mini", {"input": 1000, "output": 500}, 0.02),
        # GA usage: text 100*4e-6 + cached text 100*0.4e-6 + audio 800*32e-6
        # + cached audio 200*0.4e-6 + text out 50*16e-6 + audio out 400*64e-6
        (
            "gpt-realtime",
            {
                "total_tokens": 1650,
                "input_tokens": 1200,
                "output_tokens": 450,
                "input_token_details": {
                    "text_tokens": 200,
                    "audio_tokens": 1000,
                    "cached_tokens": 300,
                    "cached_tokens_details": {"text_tokens": 100, "audio_tokens": 200},
                },
                "output_token_details": {"text_tokens": 50, "audio_tokens": 400},
            },
            0.0004 + 0.00004 + 0.0256 + 0.00008 + 0.0008 + 0.0256,
        ),
        ("gpt-realtime", None, 0.0),
    ],
)
def test_record_response_cost_by_hand(
    clock: FakeClock, day: FakeDay, model: str, usage: dict[str, object] | None, expected: float
) -> None:
    metrics = make(clock, day)
    result = metrics.record_response("resp_1", model, usage, voice="marin")
    assert result.cost_usd == pytest.approx(expected, abs=1e-12)
    assert metrics.cost_total_usd == pytest.approx(expected, abs=1e-12)
    payload = result.as_dict()
    assert set(payload) == RESPONSE_FIELDS
    assert payload["voice"] == "marin"
    assert payload["ts"] == "2026-03-01T12:00:00.000Z"
    assert payload["usage"] == result.usage.as_dict()


def test_record_response_uses_catalog_price_overrides(clock: FakeClock, day: FakeDay) -> None:
    catalog = default_catalog().with_overrides({"gpt-realtime": {"prices": {"audio_in": 16.0}}})
    metrics = make(clock, day, catalog=catalog)
    result = metrics.record_response("r", "gpt-realtime", {"input": 1000, "output": 500})
    assert result.cost_usd == pytest.approx(1000 * 16e-6 + 500 * 64e-6)
    assert result.usage == TokenUsage(audio_in=1000, audio_out=500)


def test_unknown_model_raises_before_changing_anything(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day)
    metrics.speech_stopped()
    with pytest.raises(UnknownModelError):
        metrics.record_response("r", "gpt-nonexistent", {"input": 1, "output": 1})
    with pytest.raises(ValueError, match="unrecognised usage"):
        metrics.record_response("r", "gpt-realtime", {"bogus": 1})
    assert metrics.ledger.responses == 0
    clock.advance(1)
    assert metrics.record_response("r", "gpt-realtime", None).latency_ms == {"response": 1000.0}


def test_totals_restored_from_the_ledger(tmp_path: Path, clock: FakeClock, day: FakeDay) -> None:
    path = tmp_path / "ledger.jsonl"
    metrics = make(clock, day, CostLedger(path))
    metrics.begin_conversation("c1")
    metrics.record_response("r1", "gpt-realtime", {"input": 1000, "output": 500})
    metrics.record_response("r2", "gpt-realtime", {"input": 1000, "output": 0})
    metrics.end_conversation()
    day.date += dt.timedelta(days=1)
    metrics.record_response("r3", "gpt-realtime-mini", {"input": 1000, "output": 500})
    before = metrics.snapshot()

    restarted = make(clock, day, CostLedger(path))
    after = restarted.snapshot()
    assert after.cost_total_usd == pytest.approx(0.064 + 0.032 + 0.02)
    assert after.cost_total_usd == before.cost_total_usd
    assert after.cost_today_usd == pytest.approx(0.02)
    assert after.tokens_total == before.tokens_total == 4000
    assert after.cost_last_usd == pytest.approx(0.096)
    assert after.conversations == before.conversations == 1  # kept in the ledger too


def test_false_wakes_are_counted_per_day_and_survive_restarts_and_compaction(
    tmp_path: Path, clock: FakeClock, day: FakeDay
) -> None:
    path = tmp_path / "ledger.jsonl"
    metrics = make(clock, day, CostLedger(path))
    metrics.begin_conversation("c1")
    metrics.record_response("r1", "gpt-realtime", {"input": 1000, "output": 500})
    metrics.end_conversation()
    metrics.begin_conversation("c2")
    metrics.false_wake("hey_jarvis")
    metrics.end_conversation()
    day.date += dt.timedelta(days=1)
    metrics.begin_conversation("c3")
    metrics.false_wake("alexa")
    metrics.end_conversation()
    snap = metrics.snapshot()
    assert (snap.false_wakes_today, snap.false_wakes_total) == (1, 2)
    assert snap.cost_last_usd == 0.0  # a false wake costs nothing

    restarted = make(clock, day, CostLedger(path))
    after = restarted.snapshot()
    assert (after.false_wakes_today, after.false_wakes_total) == (1, 2)
    assert after.conversations == 3
    assert after.cost_total_usd == pytest.approx(0.064)
    restarted.ledger.compact(keep_recent=0)
    compacted = make(clock, day, CostLedger(path)).snapshot()
    assert (compacted.false_wakes_today, compacted.false_wakes_total) == (1, 2)
    assert compacted.conversations == 3


def test_day_rollover_resets_today_not_total(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day)
    metrics.record_response("r1", "gpt-realtime", {"input": 1000, "output": 500})
    assert metrics.cost_today_usd == pytest.approx(0.064)
    assert metrics.over_budget(0.05)
    assert not metrics.over_budget(0.10)
    assert not metrics.over_budget(None)

    day.date = dt.date(2026, 3, 2)  # midnight
    assert metrics.cost_today_usd == 0.0
    assert metrics.cost_total_usd == pytest.approx(0.064)
    assert not metrics.over_budget(0.05)
    metrics.record_response("r2", "gpt-realtime", {"input": 1000, "output": 0})
    assert metrics.cost_today_usd == pytest.approx(0.032)
    assert metrics.cost_total_usd == pytest.approx(0.096)
    assert metrics.ledger.cost_on(dt.date(2026, 3, 1)) == pytest.approx(0.064)


def test_conversations(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day)
    assert metrics.end_conversation() is None
    cid = metrics.begin_conversation()
    assert metrics.conversation_id == cid
    metrics.record_response("r1", "gpt-realtime", {"input": 1000, "output": 500})
    metrics.record_response("r2", "gpt-realtime", {"input": 0, "output": 500})
    clock.advance(12.5)
    done = metrics.end_conversation()
    assert done is not None
    assert (done.conversation_id, done.responses, done.duration_s) == (cid, 2, 12.5)
    assert done.cost_usd == pytest.approx(0.096)
    assert done.tokens == TokenUsage(audio_in=1000, audio_out=1000)
    assert metrics.cost_last_usd == pytest.approx(0.096)

    metrics.begin_conversation("a")
    metrics.record_response("r3", "gpt-realtime", {"input": 1000, "output": 0})
    assert metrics.cost_last_usd == pytest.approx(0.096)  # until "a" ends
    metrics.begin_conversation("b")  # ends "a"
    assert metrics.cost_last_usd == pytest.approx(0.032)
    assert metrics.ledger.last_conversation == pytest.approx(("a", 0.032))
    metrics.record_response("in_b", "gpt-realtime", None)
    metrics.end_conversation()
    metrics.record_response("outside", "gpt-realtime", None)
    assert metrics.cost_last_usd == 0.0
    assert metrics.ledger.last_conversation == ("b", 0.0)
    assert metrics.snapshot().conversations == 3


# -- connections, fallbacks, reporting -------------------------------------------------------


def test_connection_success_rate(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day)
    assert metrics.success_rate() is None
    for _ in range(99):
        metrics.connect_started("gpt-realtime")
        clock.advance(0.2)
        metrics.connected()
        clock.advance(0.1)
        metrics.session_ready()
    metrics.connect_started("gpt-realtime")
    metrics.connect_failed("timeout")
    assert metrics.success_rate("gpt-realtime") == pytest.approx(0.99)
    assert metrics.latency("connect").quantile(0.5) == pytest.approx(200.0)
    assert metrics.latency("session_ready").last == pytest.approx(300.0)

    metrics.connect_started("gpt-4o-realtime-preview")
    metrics.connect_started("gpt-4o-realtime-preview")  # the first one never finished
    metrics.disconnected()  # neither did this one
    legacy = metrics.connection_stats("gpt-4o-realtime-preview")
    assert (legacy.attempts, legacy.successes, legacy.failures) == (2, 0, 2)
    assert legacy.success_rate == 0.0
    overall = metrics.connection_stats()
    assert (overall.attempts, overall.successes, overall.failures) == (102, 99, 3)
    metrics.connect_started("gpt-realtime")
    assert metrics.success_rate() == pytest.approx(99 / 102)  # in progress counts neither way
    assert metrics.connection_stats("never-tried").success_rate is None
    metrics.session_ready()
    metrics.session_ready()  # without an attempt: ignored
    metrics.connect_failed()
    assert metrics.connection_stats().successes == 100


def test_fallbacks(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day)
    metrics.record_fallback(FallbackEvent("gpt-realtime", "gpt-4o-realtime-preview", "x"))
    assert metrics.snapshot().fallbacks == 1
    assert metrics.details()["recent_fallbacks"] == [
        {
            "from": "gpt-realtime",
            "to": "gpt-4o-realtime-preview",
            "reason": "x",
            "ts": "2026-03-01T12:00:00.000Z",
        }
    ]


def test_snapshot_has_exactly_the_metrics_fields(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day)
    snap = metrics.snapshot()
    assert {f.name for f in dataclasses.fields(snap)} == METRICS_FIELDS
    assert snap == MetricsSnapshot(
        cost_total_usd=0.0,
        cost_today_usd=0.0,
        cost_last_usd=0.0,
        tokens_total=0,
        latency_first_audio_ms=None,
        latency_p95_ms=None,
        conversations=0,
        fallbacks=0,
        latency_ms=dict.fromkeys(pm.LATENCY_METRICS, Percentiles()),
        connection_success_rate={},
    )


def test_snapshot_has_p50_p95_per_measure_and_success_rate_per_model(
    clock: FakeClock, day: FakeDay
) -> None:
    metrics = make(clock, day)
    for ms in (100.0, 200.0, 300.0):
        metrics.latency("function_call").add(ms)
    for ok in (True, True, True, False):
        metrics.record_attempt("gpt-realtime", ok, ready_s=0.5 if ok else None)
    metrics.record_attempt("gpt-4o-realtime-preview", True, ready_s=0.25)
    metrics.connect_started("gpt-realtime-mini")  # in progress: no rate yet
    snap = metrics.snapshot()
    assert snap.latency_ms["function_call"] == Percentiles(p50=200.0, p95=290.0)
    assert snap.latency_ms["session_ready"] == Percentiles(p50=500.0, p95=500.0)
    assert snap.latency_ms["first_audio"] == Percentiles()
    assert snap.connection_success_rate == {
        "gpt-4o-realtime-preview": 1.0,
        "gpt-realtime": 0.75,
        "gpt-realtime-mini": None,
    }


def test_details(clock: FakeClock, day: FakeDay) -> None:
    metrics = make(clock, day)
    metrics.connect_started("gpt-realtime")
    metrics.session_ready()
    metrics.record_response("r1", "gpt-realtime", {"input": 1000, "output": 500})
    details = metrics.details()
    assert set(details["latency_ms"]) == set(pm.LATENCY_METRICS)
    assert details["connections"]["gpt-realtime"] == {
        "attempts": 1,
        "successes": 1,
        "failures": 0,
        "success_rate": 1.0,
    }
    assert details["tokens"]["audio_in"] == 1000
    assert details["tokens"]["audio_out"] == 500
    assert details["tokens_total"] == 1500
    assert details["cost_by_day_usd"] == {"2026-03-01": pytest.approx(0.064)}
    assert details["ledger"]["path"] is None


def test_one_info_line_per_response(
    clock: FakeClock, day: FakeDay, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = make(clock, day)
    metrics.speech_stopped()
    clock.advance(0.5)
    metrics.audio_delta("r1")
    with caplog.at_level(logging.INFO, logger=pm.__name__):
        metrics.record_response("r1", "gpt-realtime", {"input": 1000, "output": 500})
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(lines) == 1
    assert "r1" in lines[0]
    assert "first_audio 500 ms" in lines[0]
    assert "tokens 1500" in lines[0]
    assert "0.064000 USD" in lines[0]


# -- property: the ledger restores what record_response charged ------------------------------

USAGES = st.fixed_dictionaries(
    {
        "input": st.integers(0, 50_000),
        "output": st.integers(0, 50_000),
    }
) | st.builds(
    TokenUsage,
    text_in=st.integers(0, 10_000),
    cached_text_in=st.integers(0, 10_000),
    audio_in=st.integers(0, 10_000),
    cached_audio_in=st.integers(0, 10_000),
    image_in=st.integers(0, 1_000),
    text_out=st.integers(0, 10_000),
    audio_out=st.integers(0, 10_000),
)
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["gpt-realtime", "gpt-realtime-mini", "gpt-4o-realtime-preview"]),
        USAGES,
        st.booleans(),  # next day after this response
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(steps=STEPS, compact_above=st.integers(3, 50))
def test_restored_total_equals_sum_of_recorded_costs(
    steps: list[tuple[str, dict[str, int] | TokenUsage, bool]], compact_above: int
) -> None:
    clock, day = FakeClock(), FakeDay()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.jsonl"
        metrics = make(clock, day, CostLedger(path, compact_above=compact_above, fsync=False))
        charged = []
        by_day: dict[dt.date, float] = {}
        for n, (model, usage, next_day) in enumerate(steps):
            cost = metrics.record_response(f"r{n}", model, usage).cost_usd
            assert cost == pytest.approx(calculate_cost(usage, model), abs=1e-9)
            charged.append(cost)
            by_day[day.date] = by_day.get(day.date, 0.0) + cost
            if next_day:
                day.date += dt.timedelta(days=1)
        restored = CostLedger(path)
        assert restored.total_usd == pytest.approx(sum(charged), rel=1e-12, abs=1e-12)
        assert restored.total_usd == metrics.cost_total_usd
        assert restored.responses == len(steps)
        for date, cost in by_day.items():
            assert restored.cost_on(date) == pytest.approx(cost, rel=1e-12, abs=1e-12)
        assert make(clock, day, restored).cost_today_usd == metrics.cost_today_usd
