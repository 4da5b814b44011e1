"""The eval report: cost ratios from the catalog's prices, JSON against its schema, Markdown."""

from __future__ import annotations

import datetime as dt

import pytest

from edge_voice.evaluation.report import (
    BackendInfo,
    EvalReport,
    schema_errors,
    to_json,
    to_markdown,
)
from edge_voice.evaluation.runner import CaseRun
from edge_voice.evaluation.scoring import Observed, ObservedCall, score
from edge_voice.evaluation.suite import default_suite
from edge_voice.evaluation.summary import ratios, summarize
from edge_voice.metrics.cost import TokenUsage, calculate_cost
from edge_voice.models.catalog import default_catalog

SUITE = default_suite()
TODAY = dt.date(2026, 12, 2)
AUDIO_ONLY = (TokenUsage(audio_in=120, audio_out=260), TokenUsage(audio_in=80, audio_out=410))


def runs_for(model: str) -> list[CaseRun]:
    """The same two cases with the same audio-only usage, priced for `model`."""
    out = []
    for case, usage in zip(SUITE.cases[:2], AUDIO_ONLY, strict=True):
        observed = Observed(
            (ObservedCall("set_light", '{"room": "kitchen", "state": "on"}'),), "On."
        )
        run = CaseRun(case.id, case.category, model, 0, "audio", connected=True)
        run.observed, run.usage = observed, usage
        run.score = score(case, observed, SUITE)
        run.cost_usd = calculate_cost(usage, model)
        run.latency_ms = {"session_ready": 300.0, "first_delta": 500.0, "response_done": 900.0}
        out.append(run)
    return out


def report(models: list[str]) -> EvalReport:
    runs = [r for m in models for r in runs_for(m)]
    summaries = [summarize(m, runs, default_catalog(), TODAY) for m in models]
    return EvalReport(
        suite="default",
        suite_source="bundled default",
        case_count=2,
        repeat=1,
        backend=BackendInfo("simulator", "ws://127.0.0.1:1/v1/realtime", 0.0, 0.0, 0, None),
        models=summaries,
        ratios=ratios(summaries),
        runs=runs,
        generated_at=dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
    )


def test_audio_only_usage_costs_a_fifth_less_on_gpt_realtime_than_on_the_preview() -> None:
    r = report(["gpt-4o-realtime-preview", "gpt-realtime"])
    (ratio,) = r.ratios
    assert ratio.baseline == "gpt-4o-realtime-preview" and ratio.model == "gpt-realtime"
    assert ratio.cost_per_interaction == pytest.approx(0.8)
    preview, ga = r.models
    assert ga.cost_total_usd / preview.cost_total_usd == pytest.approx(0.8)
    assert preview.retired and not ga.retired


def test_the_json_report_validates_against_its_schema() -> None:
    document = to_json(report(["gpt-realtime", "gpt-realtime-mini"]))
    assert schema_errors(document) == []
    assert document["models"][0]["pass"]["all"]["ci95"][1] <= 1


def test_the_schema_catches_a_broken_report() -> None:
    document = to_json(report(["gpt-realtime"]))
    document["models"][0]["connection_success"]["rate"] = 1.5
    del document["backend"]["kind"]
    errors = schema_errors(document)
    assert any("models/0/connection_success/rate" in e for e in errors)
    assert any("'kind' is a required property" in e for e in errors)


def test_markdown_has_the_side_by_side_table_and_the_backend() -> None:
    text = to_markdown(report(["gpt-realtime", "gpt-4o-realtime-preview"]))
    assert "| | gpt-realtime | gpt-4o-realtime-preview |" in text
    assert "backend: **simulator**" in text
    assert "| cost ratio vs gpt-realtime | 1.00× | 1.25× |" in text
