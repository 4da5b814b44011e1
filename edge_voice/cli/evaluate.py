"""`edge-voice eval`: models side by side on a suite, against the real API or the simulator.

With OPENAI_API_KEY (or a config's key) the sessions go to the real service at the config's
`openai.base_url`; without, or with `--sim`, to the simulator started in-process, which answers
from the suite's reference answers with the `--sim-*` error rates. The report says which.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from edge_voice.config.loading import load_config, resolve_api_key
from edge_voice.evaluation.audio_input import case_audio
from edge_voice.evaluation.report import BackendInfo, EvalReport, table_rows, to_json, to_markdown
from edge_voice.evaluation.runner import CaseRun, Endpoint, run_suite
from edge_voice.evaluation.simulated import SimulatedBackend, sim_calendar
from edge_voice.evaluation.suite import Case, Suite, SuiteError, default_suite, load_suite
from edge_voice.evaluation.summary import ratios, summarize
from edge_voice.models.catalog import LifecycleState, ModelCatalog, ModelInfo, default_catalog
from edge_voice.realtime.protocol import DEFAULT_BASE_URL

EXIT_USAGE = 2
DEFAULT_MODELS = "gpt-realtime,gpt-realtime-2.1"


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not within [0, 1]")
    return value


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `edge-voice eval`."""
    parser.add_argument(
        "--models",
        default=DEFAULT_MODELS,
        help=f"comma-separated models to compare (default: {DEFAULT_MODELS})",
    )
    parser.add_argument(
        "--suite", metavar="FILE", help="a suite YAML file (default: the bundled one)"
    )
    parser.add_argument("--cases", metavar="ID,…", help="run only these case ids")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run every case N times per model (default: 1)",
    )
    parser.add_argument("--report", metavar="OUT.json", help="write the JSON report here")
    parser.add_argument("--markdown", metavar="OUT.md", help="write the Markdown report here")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="take openai.base_url, the API key and `models:` overrides from it",
    )
    parser.add_argument(
        "--sim", action="store_true", help="use the simulator even when an API key is set"
    )
    parser.add_argument(
        "--sim-error-rate",
        type=_rate,
        default=0.0,
        metavar="R",
        help="simulator: share of cases answered wrongly per model (default: 0)",
    )
    parser.add_argument(
        "--sim-connect-failure-rate",
        type=_rate,
        default=0.0,
        metavar="R",
        help="simulator: share of sessions refused with model_not_found (default: 0)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="simulator: which cases err (default: 0)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds one case may take (default: 60)",
    )
    parser.add_argument(
        "--progress", action="store_true", help="a progress bar on stderr even if not a TTY"
    )
    parser.add_argument("--today", help=argparse.SUPPRESS)  # pin the date for lifecycle checks
    parser.set_defaults(handler=cmd_eval)


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int, out: TextIO, *, enabled: bool, width: int = 30) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.out, self.width, self.enabled = out, width, enabled

    def __call__(self, run: CaseRun) -> None:
        """Advance by one finished run."""
        self.done += 1
        self.failed += not run.passed
        if not self.enabled:
            return
        filled = round(self.width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        self.out.write(
            f"\r[{bar}] {self.done}/{self.total} failed {self.failed} "
            f"{run.model[:24]:<24} {run.case_id[:28]:<28}"
        )
        if self.done == self.total:
            self.out.write("\n")
        self.out.flush()


def _models(spec: str, catalog: ModelCatalog) -> list[ModelInfo]:
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise SuiteError("--models: give at least one model")
    return [catalog.get(n) for n in dict.fromkeys(names)]


def _suite(args: argparse.Namespace) -> tuple[Suite, str]:
    suite = load_suite(args.suite) if args.suite else default_suite()
    if args.cases:
        suite = suite.select([c.strip() for c in args.cases.split(",") if c.strip()])
    return suite, args.suite or "bundled default"


def _audio(suite: Suite) -> dict[str, bytes]:
    """Every audio case rendered (espeak-ng) or read before the sessions start."""
    out: dict[str, bytes] = {}
    for case in suite.cases:
        if case.input.kind == "audio":
            out[case.id] = case_audio(case.input, suite.base_dir)
    return out


class _RealBackend:
    """The OpenAI service: nothing to prepare per case."""

    def __init__(self, base_url: str, key: SecretStr) -> None:
        self.endpoint = Endpoint("openai", base_url, key)

    def before_case(self, case: Case, model: str, repeat: int) -> None:
        """Nothing to do: the real model answers for itself."""


def _print_table(report: EvalReport, out: TextIO) -> None:
    rows = table_rows(report)
    names = [s.model for s in report.models]
    label_w = max(len(r[0]) for r in rows)
    widths = [max(len(n), *(len(r[1][i]) for r in rows)) for i, n in enumerate(names)]
    out.write(
        f"{'':<{label_w}}  "
        + "  ".join(f"{n:>{w}}" for n, w in zip(names, widths, strict=True))
        + "\n"
    )
    for label, cells in rows:
        out.write(
            f"{label:<{label_w}}  "
            + "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))
            + "\n"
        )


async def _run(
    args: argparse.Namespace,
    suite: Suite,
    models: list[ModelInfo],
    catalog: ModelCatalog,
    key: SecretStr | None,
    base_url: str,
    today: dt.date,
) -> tuple[list[CaseRun], BackendInfo]:
    audio = _audio(suite)
    total = len(suite.cases) * len(models) * args.repeat
    progress = Progress(total, sys.stderr, enabled=args.progress or sys.stderr.isatty())
    common = {
        "catalog": catalog,
        "audio": audio,
        "repeat": args.repeat,
        "timeout_s": args.timeout,
        "progress": progress,
    }
    if key is not None and not args.sim:
        runs = await run_suite(suite, models, _RealBackend(base_url, key), **common)
        return runs, BackendInfo("openai", base_url)
    calendar = sim_calendar(models, catalog, today)
    async with SimulatedBackend(
        suite,
        error_rate=args.sim_error_rate,
        connect_failure_rate=args.sim_connect_failure_rate,
        seed=args.seed,
        today=calendar,
        catalog=catalog,
    ) as sim:
        runs = await run_suite(suite, models, sim, **common)
        return runs, BackendInfo(
            "simulator",
            sim.endpoint.base_url,
            args.sim_error_rate,
            args.sim_connect_failure_rate,
            args.seed,
            calendar if calendar != today else None,
        )


def _retired(
    models: list[ModelInfo], today: dt.date, *, real: bool
) -> tuple[list[ModelInfo], list[str]]:
    """The models to run and a note per retired one (the real service no longer serves them)."""
    notes, keep = [], []
    for m in models:
        if m.lifecycle.state(today) is not LifecycleState.SHUT_DOWN:
            keep.append(m)
            continue
        successor = f" (successor: {m.lifecycle.successor})" if m.lifecycle.successor else ""
        gone = f"{m.name} is retired: shut down on {m.lifecycle.shutdown}{successor}; "
        if real:
            notes.append(gone + "not run against the real service")
        else:
            notes.append(gone + "simulated as it was served before")
            keep.append(m)
    return keep, notes


def _service(config: str | None) -> tuple[ModelCatalog, SecretStr | None, str]:
    """Catalog, API key and endpoint: from the config file, else the defaults and the env."""
    if config is None:
        env_key = os.environ.get("OPENAI_API_KEY", "").strip()
        return default_catalog(), SecretStr(env_key) if env_key else None, DEFAULT_BASE_URL
    cfg = load_config(config)
    return cfg.catalog(), resolve_api_key(cfg), cfg.openai.base_url


def cmd_eval(args: argparse.Namespace) -> int:
    """Run the suite on each model and print, and write, the side-by-side report."""
    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    catalog, key, base_url = _service(args.config)
    if args.repeat < 1:
        print("error: --repeat must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        suite, source = _suite(args)
        models = _models(args.models, catalog)
    except (SuiteError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    real = key is not None and not args.sim
    models, notes = _retired(models, today, real=real)
    if not models:
        print("error: every model given is retired; " + "; ".join(notes), file=sys.stderr)
        return EXIT_USAGE
    try:
        runs, backend = asyncio.run(_run(args, suite, models, catalog, key, base_url, today))
    except (RuntimeError, OSError, ValueError) as exc:  # no espeak-ng, an unreadable WAV
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summaries = [summarize(m.name, runs, catalog, today) for m in models]
    report = EvalReport(
        suite=suite.name,
        suite_source=source,
        case_count=len(suite.cases),
        repeat=args.repeat,
        backend=backend,
        models=summaries,
        ratios=ratios(summaries),
        runs=runs,
        generated_at=dt.datetime.now(dt.UTC),
        notes=tuple(notes),
    )
    _output(report, args, len(models))
    return 0


def _output(report: EvalReport, args: argparse.Namespace, model_count: int) -> None:
    """The table on stdout, and the files asked for."""
    backend, suite_name, cases = report.backend, report.suite, report.case_count
    where = "OpenAI Realtime API" if backend.kind == "openai" else "simulator (offline)"
    print(
        f"edge-voice eval: suite {suite_name}, {cases} cases × {model_count} "
        f"models × {args.repeat}, backend: {where}"
    )
    for note in report.notes:
        print(f"note: {note}")
    _print_table(report, sys.stdout)
    if args.report:
        Path(args.report).write_text(json.dumps(to_json(report), indent=2) + "\n", "utf-8")
        print(f"JSON report: {args.report}")
    if args.markdown:
        Path(args.markdown).write_text(to_markdown(report), "utf-8")
        print(f"Markdown report: {args.markdown}")
