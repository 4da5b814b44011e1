"""The eval's numbers: recall and false accepts per hour per model, engine and threshold.

A positive file counts as detected at threshold t when the model's score reaches t anywhere in
it. False accepts are counted on the negative files as the detector counts detections: a score
at or over t fires, then the model is silent for its refractory time of audio.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from edge_voice.wakeword_eval.scoring import FRAME_S, FileScores, ModelChoice, Scores

SWEEP: Final = tuple(round(0.01 * i, 2) for i in range(1, 100))
"""Thresholds of the full sweep (JSON and DET curve)."""
SHOWN: Final = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
"""Thresholds in the printed table, with each model's default."""


def false_accepts(trace: Scores, threshold: float, refractory_s: float) -> int:
    """Detections in one file's score trace at `threshold` with the refractory time."""
    hits = np.flatnonzero(trace >= threshold)
    count, blocked_until = 0, -1.0
    for index in hits:
        now = (int(index) + 1) * FRAME_S
        if now >= blocked_until:
            count += 1
            blocked_until = now + refractory_s
    return count


@dataclass(frozen=True, slots=True)
class Point:
    """One threshold's result for one model."""

    threshold: float
    detected: int
    positives: int
    false_accepts: int
    recall: float | None
    false_accepts_per_hour: float | None


@dataclass(slots=True)
class ModelReport:
    """One model on one engine over the corpus."""

    model: str
    engine: str
    spec: str
    default_threshold: float
    refractory_s: float
    positives: int
    negative_hours: float
    scoring_s_per_audio_s: float
    points: list[Point] = field(default_factory=list)

    def at(self, threshold: float) -> Point:
        """The point at (the nearest swept) threshold."""
        return min(self.points, key=lambda p: abs(p.threshold - threshold))


def evaluate(
    choice: ModelChoice,
    *,
    positives: Sequence[FileScores],
    negatives: Sequence[FileScores],
    default_threshold: float,
    refractory_s: float,
    scoring_s_per_audio_s: float,
    thresholds: Sequence[float] = SWEEP,
) -> ModelReport:
    """Recall on the model's own positives and false accepts per hour, per threshold."""
    own = [f.best(choice.key) for f in positives if f.label == choice.name]
    hours = sum(f.duration_s for f in negatives) / 3600
    report = ModelReport(
        choice.name,
        choice.engine,
        choice.spec,
        default_threshold,
        refractory_s,
        len(own),
        hours,
        scoring_s_per_audio_s,
    )
    for t in sorted({*thresholds, default_threshold}):
        detected = sum(best >= t for best in own)
        fa = sum(false_accepts(f.scores[choice.key], t, refractory_s) for f in negatives)
        report.points.append(
            Point(
                t,
                detected,
                len(own),
                fa,
                detected / len(own) if own else None,
                fa / hours if hours else None,
            )
        )
    return report


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(reports: Sequence[ModelReport], shown: Sequence[float] = SHOWN) -> str:
    """The sweep as a fixed-width text table; `*` marks each model's default threshold."""
    lines = [
        f"{'model':<14} {'engine':<14} {'threshold':>9} {'recall':>15} {'FA':>4} {'FA/hour':>8}"
    ]
    for r in reports:
        for t in sorted({*shown, r.default_threshold}):
            p = r.at(t)
            mark = "*" if p.threshold == r.default_threshold else " "
            hits = f"{_pct(p.recall)} ({p.detected}/{p.positives})"
            lines.append(
                f"{r.model:<14} {r.engine:<14} {p.threshold:>8.2f}{mark} {hits:>15} "
                f"{p.false_accepts:>4} {_rate(p.false_accepts_per_hour):>8}"
            )
    return "\n".join(lines)


def summary(reports: Sequence[ModelReport]) -> str:
    """One line per model: its corpus, default threshold and the engine's scoring time."""
    return "\n".join(
        f"{r.model}@{r.engine}: {r.positives} positives, {r.negative_hours * 60:.1f} min of "
        f"negatives, default threshold {r.default_threshold:g}; {r.engine} scored "
        f"{r.scoring_s_per_audio_s * 1000:.1f} ms per s of audio (wall time, its models together)"
        for r in reports
    )


def to_json(reports: Sequence[ModelReport], corpus: dict[str, Any]) -> str:
    """The whole report as JSON."""
    return json.dumps({"corpus": corpus, "models": [asdict(r) for r in reports]}, indent=2)


def det_curve(reports: Sequence[ModelReport], path: Path) -> str | None:
    """Write a DET curve (miss rate against false accepts per hour) as PNG; None, or why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return (
            "no DET curve: matplotlib is not installed (pip install 'edge-voice[eval]'); "
            "the table above has the same numbers"
        )
    figure, axes = plt.subplots(figsize=(7, 5))
    for r in reports:
        curve = [
            (p.false_accepts_per_hour, 100 * (1 - p.recall))
            for p in r.points
            if p.recall is not None and p.false_accepts_per_hour is not None
        ]
        if curve:
            xs, ys = zip(*curve, strict=True)
            axes.plot(xs, ys, marker=".", label=f"{r.model} ({r.engine})")
    axes.set_xscale("symlog", linthresh=0.1)
    axes.set_xlabel("false accepts per hour")
    axes.set_ylabel("false rejects (%)")
    axes.set_title("wake word DET curve (lower left is better)")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return None
