"""Per-model figures from the case runs, and the ratios between models.

Pass rates count the runs that connected (a refused connection is counted once, in the
connection success rate, not again as a failed case). Cost per interaction is the mean cost of
a connected run (one case = one interaction); prices come from the model catalog through
`metrics.cost`, so a `models:` price override in the config applies here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from edge_voice.evaluation.runner import CaseRun
from edge_voice.evaluation.stats import Rate, percentile, wilson
from edge_voice.metrics.cost import TokenUsage
from edge_voice.models.catalog import LifecycleState, ModelCatalog

LATENCIES: Final = ("session_ready", "first_delta", "response_done")
DIMENSIONS: Final = ("all", "function_calling", "instruction_following")
INPUTS: Final = ("text", "audio")


@dataclass(frozen=True)
class Latency:
    """p50/p95 of one latency over the runs that measured it, in ms."""

    p50: float | None
    p95: float | None
    n: int


@dataclass(frozen=True)
class ModelSummary:
    """One model's figures over every case and repetition."""

    model: str
    protocol: str
    lifecycle: str
    shutdown: dt.date | None
    successor: str | None
    runs: int
    connection: Rate
    fallbacks: int
    passed: dict[str, Rate]
    by_category: dict[str, Rate]
    #: Pass rate (all checks) by how the case went in: `text` or `audio`.
    by_input: dict[str, Rate]
    partial: int
    latency_ms: dict[str, Latency]
    tokens: TokenUsage
    cost_total_usd: float
    cost_per_interaction_usd: float | None
    cost_per_case_usd: dict[str, float] = field(default_factory=dict)

    @property
    def retired(self) -> bool:
        """Past its shutdown date: the real service no longer serves it."""
        return self.lifecycle == LifecycleState.SHUT_DOWN.value


@dataclass(frozen=True)
class Ratio:
    """A model against the baseline (the first model): cost and latency ratios, rate gains."""

    model: str
    baseline: str
    cost_per_interaction: float | None
    first_delta_p50: float | None
    response_done_p50: float | None
    #: Pass-rate differences in percentage points, by dimension.
    pass_rate_gain_pp: dict[str, float | None]


def _rate(runs: Sequence[CaseRun], dimension: str) -> Rate:
    verdicts: list[bool] = []
    for run in runs:
        if run.score is None:
            continue
        if dimension == "all":
            verdicts.append(run.passed)
        else:
            value = getattr(run.score, dimension)
            if value is not None:
                verdicts.append(bool(value) and run.error is None)
    return wilson(sum(verdicts), len(verdicts))


def _latency(runs: Sequence[CaseRun], name: str) -> Latency:
    values = [r.latency_ms[name] for r in runs if name in r.latency_ms and r.error is None]
    return Latency(percentile(values, 50), percentile(values, 95), len(values))


def summarize(
    model: str, runs: Sequence[CaseRun], catalog: ModelCatalog, today: dt.date
) -> ModelSummary:
    """The figures of `model` from its runs."""
    info = catalog.get(model)
    mine = [r for r in runs if r.model == model]
    connected = [r for r in mine if r.connected]
    tokens = sum((r.usage for r in connected), TokenUsage())
    per_case: dict[str, list[float]] = {}
    for run in connected:
        per_case.setdefault(run.case_id, []).append(run.cost_usd)
    total = sum(r.cost_usd for r in connected)
    categories = sorted({r.category for r in mine})
    return ModelSummary(
        model=model,
        protocol=info.protocol,
        lifecycle=info.lifecycle.state(today).value,
        shutdown=info.lifecycle.shutdown,
        successor=info.lifecycle.successor,
        runs=len(mine),
        connection=wilson(len(connected), len(mine)),
        fallbacks=sum(r.fallback for r in mine),
        passed={d: _rate(connected, d) for d in DIMENSIONS},
        by_category={
            c: _rate([r for r in connected if r.category == c], "all") for c in categories
        },
        by_input={k: _rate([r for r in connected if r.input == k], "all") for k in INPUTS},
        partial=sum(1 for r in connected if r.score is not None and r.score.partial),
        latency_ms={name: _latency(connected, name) for name in LATENCIES},
        tokens=tokens,
        cost_total_usd=total,
        cost_per_interaction_usd=total / len(connected) if connected else None,
        cost_per_case_usd={k: sum(v) / len(v) for k, v in per_case.items()},
    )


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _gain(a: Rate, b: Rate) -> float | None:
    return None if a.rate is None or b.rate is None else 100 * (a.rate - b.rate)


def ratios(summaries: Sequence[ModelSummary]) -> list[Ratio]:
    """Every model after the first against the first."""
    if len(summaries) < 2:
        return []
    base = summaries[0]
    return [
        Ratio(
            model=s.model,
            baseline=base.model,
            cost_per_interaction=_ratio(s.cost_per_interaction_usd, base.cost_per_interaction_usd),
            first_delta_p50=_ratio(
                s.latency_ms["first_delta"].p50, base.latency_ms["first_delta"].p50
            ),
            response_done_p50=_ratio(
                s.latency_ms["response_done"].p50, base.latency_ms["response_done"].p50
            ),
            pass_rate_gain_pp={d: _gain(s.passed[d], base.passed[d]) for d in DIMENSIONS},
        )
        for s in summaries[1:]
    ]
