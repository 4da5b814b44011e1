"""The eval report as JSON (its schema ships as `report.schema.json`) and as Markdown."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Final

from jsonschema import Draft202012Validator

from edge_voice.evaluation.runner import BackendKind, CaseRun
from edge_voice.evaluation.summary import DIMENSIONS, LATENCIES, ModelSummary, Ratio
from edge_voice.models.catalog import TOKEN_CLASSES

#: Bumped when a field changes meaning or goes away (new fields keep the version).
REPORT_FORMAT: Final = "edge-voice-eval/1"
#: The migration spec's target cost of one interaction.
COST_TARGET_USD: Final = 0.008


@dataclass(frozen=True)
class BackendInfo:
    """Which service answered, and for the simulator how it was told to err."""

    kind: BackendKind
    base_url: str
    error_rate: float | None = None
    connect_failure_rate: float | None = None
    seed: int | None = None
    #: The simulator's calendar (set back to serve retired models), else None.
    calendar: dt.date | None = None


@dataclass(frozen=True)
class EvalReport:
    """Everything one `edge-voice eval` run found."""

    suite: str
    suite_source: str
    case_count: int
    repeat: int
    backend: BackendInfo
    models: Sequence[ModelSummary]
    ratios: Sequence[Ratio]
    runs: Sequence[CaseRun]
    generated_at: dt.datetime
    notes: Sequence[str] = field(default_factory=tuple)


def _rate(rate: Any) -> dict[str, Any]:
    out: dict[str, Any] = rate.as_dict()
    return out


def _model_json(s: ModelSummary) -> dict[str, Any]:
    return {
        "model": s.model,
        "protocol": s.protocol,
        "lifecycle": {
            "state": s.lifecycle,
            "shutdown": s.shutdown.isoformat() if s.shutdown else None,
            "successor": s.successor,
        },
        "runs": s.runs,
        "connection_success": _rate(s.connection),
        "fallbacks": s.fallbacks,
        "pass": {d: _rate(s.passed[d]) for d in DIMENSIONS},
        "by_category": {c: _rate(r) for c, r in s.by_category.items()},
        "by_input": {k: _rate(r) for k, r in s.by_input.items()},
        "partial": s.partial,
        "latency_ms": {
            n: {"p50": s.latency_ms[n].p50, "p95": s.latency_ms[n].p95, "n": s.latency_ms[n].n}
            for n in LATENCIES
        },
        "tokens": s.tokens.as_dict(),
        "cost_usd": {
            "total": s.cost_total_usd,
            "per_interaction": s.cost_per_interaction_usd,
            "per_case": dict(s.cost_per_case_usd),
        },
    }


def _run_json(r: CaseRun) -> dict[str, Any]:
    sc = r.score
    return {
        "case": r.case_id,
        "category": r.category,
        "model": r.model,
        "repeat": r.repeat,
        "input": r.input,
        "connected": r.connected,
        "error": r.error,
        "fallback": r.fallback,
        "passed": r.passed,
        "partial": bool(sc and sc.partial),
        "function_calling": None if sc is None else sc.function_calling,
        "instruction_following": None if sc is None else sc.instruction_following,
        "checks": [
            {"name": c.name, "passed": c.passed, "detail": c.detail}
            for c in (sc.checks if sc else ())
        ],
        "calls": [{"name": c.name, "arguments": c.arguments} for c in r.observed.calls],
        "said": r.observed.text,
        "latency_ms": dict(r.latency_ms),
        "responses": r.responses,
        "tokens": r.usage.as_dict(),
        "cost_usd": r.cost_usd,
    }


def to_json(report: EvalReport) -> dict[str, Any]:
    """The report as a JSON-ready dict, in the shape `report.schema.json` describes."""
    b = report.backend
    return {
        "format": REPORT_FORMAT,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "backend": {
            "kind": b.kind,
            "base_url": b.base_url,
            "error_rate": b.error_rate,
            "connect_failure_rate": b.connect_failure_rate,
            "seed": b.seed,
            "calendar": b.calendar.isoformat() if b.calendar else None,
        },
        "suite": {"name": report.suite, "source": report.suite_source, "cases": report.case_count},
        "repeat": report.repeat,
        "models": [_model_json(s) for s in report.models],
        "ratios": [
            {
                "model": r.model,
                "baseline": r.baseline,
                "cost_per_interaction": r.cost_per_interaction,
                "first_delta_p50": r.first_delta_p50,
                "response_done_p50": r.response_done_p50,
                "pass_rate_gain_pp": dict(r.pass_rate_gain_pp),
            }
            for r in report.ratios
        ],
        "notes": list(report.notes),
        "runs": [_run_json(r) for r in report.runs],
    }


@lru_cache(maxsize=1)
def report_schema() -> dict[str, Any]:
    """The JSON Schema of the report (shipped as edge_voice/evaluation/report.schema.json)."""
    text = resources.files("edge_voice.evaluation").joinpath("report.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_errors(document: Any) -> list[str]:
    """Where `document` breaks the report schema (empty: it is a valid report)."""
    validator = Draft202012Validator(report_schema())
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def _pct(rate: Any) -> str:
    if rate.rate is None:
        return "–"
    return f"{100 * rate.rate:.0f} % [{100 * rate.low:.0f}–{100 * rate.high:.0f}]"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _usd(value: float | None) -> str:
    return "–" if value is None else f"${value:.4f}"


def _times(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def table_rows(report: EvalReport) -> list[tuple[str, list[str]]]:
    """The side-by-side table: one row per figure, one column per model."""
    ms = report.models
    rows: list[tuple[str, list[str]]] = [
        ("lifecycle", [s.lifecycle.replace("_", " ") for s in ms]),
        ("connection success", [_pct(s.connection) for s in ms]),
        ("fallbacks", [str(s.fallbacks) for s in ms]),
        ("pass: all checks", [_pct(s.passed["all"]) for s in ms]),
        ("pass: function calling", [_pct(s.passed["function_calling"]) for s in ms]),
        ("pass: instruction following", [_pct(s.passed["instruction_following"]) for s in ms]),
        ("pass: text input", [_pct(s.by_input["text"]) for s in ms]),
        ("pass: audio input", [_pct(s.by_input["audio"]) for s in ms]),
        ("partial multi-call", [str(s.partial) for s in ms]),
    ]
    for name in LATENCIES:
        rows.append(
            (
                f"{name} p50 / p95 ms",
                [f"{_ms(s.latency_ms[name].p50)} / {_ms(s.latency_ms[name].p95)}" for s in ms],
            )
        )
    rows.append(
        (
            "tokens in / out",
            [
                f"{s.tokens.total - s.tokens.text_out - s.tokens.audio_out} / "
                f"{s.tokens.text_out + s.tokens.audio_out}"
                for s in ms
            ],
        )
    )
    rows.append(("cost per interaction", [_usd(s.cost_per_interaction_usd) for s in ms]))
    rows.append(("cost total", [_usd(s.cost_total_usd) for s in ms]))
    if report.ratios:
        by_model = {r.model: r for r in report.ratios}
        base = report.ratios[0].baseline
        rows.append(
            (
                f"cost ratio vs {base}",
                [
                    "1.00×" if s.model == base else _times(by_model[s.model].cost_per_interaction)
                    for s in ms
                ],
            )
        )
        rows.append(
            (
                f"first delta p50 ratio vs {base}",
                [
                    "1.00×" if s.model == base else _times(by_model[s.model].first_delta_p50)
                    for s in ms
                ],
            )
        )
    return rows


def _per_run(count: int, s: ModelSummary) -> str:
    connected = s.connection.successes
    return "–" if not connected else f"{count / connected:.0f}"


def _targets(s: ModelSummary) -> str:
    """Connection success > 99 % and under $0.008 per interaction (the migration spec's)."""
    conn = s.connection
    ok_conn = "yes" if conn.low is not None and conn.low > 0.99 else "not shown"
    cost = s.cost_per_interaction_usd
    ok_cost = "–" if cost is None else ("yes" if cost < COST_TARGET_USD else "no")
    return (
        f"- `{s.model}`: connection success > 99 % {ok_conn} ({_pct(conn)}; the interval's "
        f"low end must clear it); cost per interaction < ${COST_TARGET_USD} {ok_cost} "
        f"({_usd(cost)})"
    )


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(report: EvalReport) -> str:
    """The report as Markdown: what ran, the side-by-side table, categories, failures."""
    b = report.backend
    where = "the OpenAI Realtime API" if b.kind == "openai" else "the offline simulator"
    lines = [
        f"# edge-voice eval: {report.suite}",
        "",
        f"- backend: **{b.kind}** ({where}, `{b.base_url}`)",
        f"- suite: {report.suite} ({report.case_count} cases, {report.suite_source}), "
        f"repeat {report.repeat}",
        f"- generated: {report.generated_at.isoformat(timespec='seconds')}",
    ]
    if b.kind == "simulator":
        lines.append(
            f"- simulated error rate {b.error_rate:g}, connect failure rate "
            f"{b.connect_failure_rate:g}, seed {b.seed}"
            + (f", calendar {b.calendar.isoformat()}" if b.calendar else "")
        )
    lines += [f"- note: {n}" for n in report.notes]
    names = [s.model for s in report.models]
    lines += ["", "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label, cells in table_rows(report):
        lines.append(f"| {label} | " + " | ".join(_md_cell(c) for c in cells) + " |")
    categories = sorted({c for s in report.models for c in s.by_category})
    lines += ["", "## Pass rate by category (95 % Wilson interval)", ""]
    lines += ["| category | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for cat in categories:
        cells = [_pct(s.by_category[cat]) if cat in s.by_category else "–" for s in report.models]
        lines.append(f"| {cat} | " + " | ".join(cells) + " |")
    lines += ["", "## Tokens by class, per interaction", ""]
    lines += ["| class | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for cls in TOKEN_CLASSES:
        cells = [_per_run(getattr(s.tokens, cls), s) for s in report.models]
        lines.append(f"| {cls} | " + " | ".join(cells) + " |")
    lines += ["", "## Against the migration targets", ""]
    lines += [_targets(s) for s in report.models]
    failed = [r for r in report.runs if not r.passed]
    lines += ["", f"## Failed runs ({len(failed)})", ""]
    for r in failed:
        why = r.error or "; ".join(r.score.failures() if r.score else [])
        lines.append(f"- `{r.model}` `{r.case_id}` (repeat {r.repeat}): {_md_cell(why)}")
    return "\n".join(lines) + "\n"
