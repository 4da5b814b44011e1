"""`edge-voice eval` against the simulator: configured error rates come back out, within the CI.

Every case runs through RealtimeSession on the in-process simulator, which answers from the
suite (tests/support has no double here: the simulator is the project's own).
"""

from __future__ import annotations

import datetime as dt

import pytest

from edge_voice.evaluation.audio_input import case_audio
from edge_voice.evaluation.report import BackendInfo, EvalReport, schema_errors, to_json
from edge_voice.evaluation.runner import run_suite
from edge_voice.evaluation.simulated import SimulatedBackend, sim_calendar
from edge_voice.evaluation.suite import default_suite
from edge_voice.evaluation.summary import ratios, summarize
from edge_voice.models.catalog import default_catalog
from tests.support.speech import require_espeak

pytestmark = pytest.mark.timeout(120)

CATALOG = default_catalog()
TODAY = dt.date(2026, 12, 2)


async def test_a_simulated_error_rate_is_measured_within_its_interval() -> None:
    suite = default_suite()
    text_only = suite.select([c.id for c in suite.cases if c.input.kind == "text"])
    models = [CATALOG.get("gpt-realtime"), CATALOG.get("gpt-realtime-mini")]
    rate = 0.2
    async with SimulatedBackend(text_only, error_rate=rate, seed=7, today=TODAY) as sim:
        runs = await run_suite(text_only, models, sim, catalog=CATALOG, audio={}, repeat=2)
    n = len(text_only.cases)
    for model in models:
        summary = summarize(model.name, runs, CATALOG, TODAY)
        fail = summary.passed["all"]
        assert fail.trials == 2 * n
        # Exactly round(rate × n) wrong answers per repetition, and only those fail.
        assert fail.trials - fail.successes == 2 * round(rate * n)
        assert summary.passed["all"].contains(1 - rate)
        failed = {(r.repeat, r.case_id) for r in runs if r.model == model.name and not r.passed}
        planted = {(rep, cid) for (m, rep, cid) in sim.mistakes if m == model.name}
        assert failed == planted
        assert summary.connection.rate == 1 and summary.fallbacks == 0
    # The seeded choice differs per model (so the two are not the same sample).
    assert {k[1:] for k in sim.mistakes if k[0] == "gpt-realtime"} != {
        k[1:] for k in sim.mistakes if k[0] == "gpt-realtime-mini"
    }


async def test_refused_connections_count_as_connection_failures_and_fallbacks() -> None:
    suite = default_suite()
    small = suite.select([c.id for c in suite.cases if c.input.kind == "text"][:20])
    model = CATALOG.get("gpt-realtime")
    async with SimulatedBackend(small, connect_failure_rate=0.25, seed=3, today=TODAY) as sim:
        runs = await run_suite(small, [model], sim, catalog=CATALOG, audio={})
    summary = summarize(model.name, runs, CATALOG, TODAY)
    assert summary.connection.successes == 15 and summary.connection.trials == 20
    assert summary.fallbacks == 5  # model_not_found: the service would try its fallback
    assert summary.passed["all"].trials == 15 and summary.passed["all"].rate == 1
    refused = [r for r in runs if not r.connected]
    assert all(
        "model_not_found" in (r.error or "") or "ModelRefused" in (r.error or "") for r in refused
    )


async def test_spoken_cases_cost_a_fifth_less_on_gpt_realtime_than_on_the_preview() -> None:
    require_espeak()
    suite = default_suite()
    spoken = suite.select(["speak_brief_capital", "speak_refuse_unlock"])
    audio = {c.id: case_audio(c.input, None) for c in spoken.cases}
    models = [CATALOG.get("gpt-4o-realtime-preview"), CATALOG.get("gpt-realtime")]
    calendar = sim_calendar(models, CATALOG, TODAY)
    assert calendar == dt.date(2026, 5, 6)  # the preview's shutdown is 2026-05-07
    async with SimulatedBackend(spoken, today=calendar) as sim:
        runs = await run_suite(spoken, models, sim, catalog=CATALOG, audio=audio)
        base_url = sim.endpoint.base_url
    assert all(r.passed and r.input == "audio" for r in runs), [r.error for r in runs]
    assert all(r.usage.audio_in > 0 and r.usage.audio_out > 0 for r in runs)
    # One response each, nothing cached: every priced class is 20 % cheaper on gpt-realtime.
    assert all(r.usage.cached_text_in == r.usage.cached_audio_in == 0 for r in runs)
    summaries = [summarize(m.name, runs, CATALOG, TODAY) for m in models]
    (ratio,) = ratios(summaries)
    assert ratio.cost_per_interaction == pytest.approx(0.8)
    assert summaries[0].latency_ms["first_delta"].n == 2
    report = EvalReport(
        suite=spoken.name,
        suite_source="bundled default",
        case_count=2,
        repeat=1,
        backend=BackendInfo("simulator", base_url, 0.0, 0.0, 0, calendar),
        models=summaries,
        ratios=[ratio],
        runs=runs,
        generated_at=dt.datetime.now(dt.UTC),
    )
    assert schema_errors(to_json(report)) == []
