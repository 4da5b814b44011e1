"""`edge-voice wakeword eval`: both engines side by side on the same files, per threshold.

Positives: `--positive DIR` holds WAV files of each wake word, in a folder named after it
(`DIR/hey_jarvis/*.wav`) or with its name as the file name's prefix (`DIR/hey_jarvis_03.wav`).
Negatives: every WAV under `--negative DIR` (an hour of your TV). A folder not given is made on
the spot with espeak-ng. Files go through the service's own audio path (see wakeword_eval).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from edge_voice.audio.wakeword_names import ENGINES, WakeEngine
from edge_voice.wakeword_eval import corpus
from edge_voice.wakeword_eval.report import (
    ModelReport,
    det_curve,
    evaluate,
    summary,
    table,
    to_json,
)
from edge_voice.wakeword_eval.scoring import (
    FileScores,
    ModelChoice,
    Scorer,
    all_builtins,
    choose_models,
    label_of,
    phrase_of,
    wav_files,
)

EVAL_DESCRIPTION = __doc__


def add_wakeword_arguments(parser: argparse.ArgumentParser) -> None:
    """The `wakeword` command and its `eval` sub-command."""
    sub = parser.add_subparsers(dest="wakeword_command", required=True)
    ev = sub.add_parser(
        "eval",
        help="recall and false accepts per hour per model, engine and threshold",
        description=EVAL_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ev.add_argument("--positive", type=Path, metavar="DIR", help="recordings of the wake words")
    ev.add_argument("--negative", type=Path, metavar="DIR", help="audio without any wake word")
    ev.add_argument(
        "--model",
        action="append",
        metavar="SPEC",
        help="a built-in name, an openWakeWord .tflite or a microWakeWord .json; repeatable "
        "(default: every built-in model of the engines)",
    )
    ev.add_argument(
        "--engine",
        action="append",
        choices=ENGINES,
        help="run the models on this engine; repeatable (default: every engine that can)",
    )
    ev.add_argument("--refractory", type=float, default=2.0, metavar="S", help="default: 2 s")
    ev.add_argument(
        "--quick", action="store_true", help="a small synthetic corpus (seconds, not minutes)"
    )
    ev.add_argument("--corpus-dir", type=Path, help="keep the synthetic corpus here")
    ev.add_argument("--json", type=Path, metavar="FILE", help="write the whole report as JSON")
    ev.add_argument(
        "--det", type=Path, metavar="PNG", help="write a DET curve (needs the `eval` extra)"
    )
    ev.add_argument("--progress", action="store_true", help="a progress bar even if not a TTY")
    ev.set_defaults(handler=cmd_wakeword_eval)


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int, stream: TextIO, *, enabled: bool) -> None:
        self.total, self.done, self.stream, self.enabled = total, 0, stream, enabled

    def tick(self, path: Path) -> None:
        """One more file scored."""
        self.done += 1
        if not self.enabled:
            return
        filled = round(30 * self.done / max(1, self.total))
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {path.name[:40]:<40}")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def _corpus(args: argparse.Namespace, choices: Sequence[ModelChoice], work: Path) -> list[str]:
    """Make the synthetic folders the user did not give; say what was made."""
    notes = []
    size = corpus.QUICK if args.quick else corpus.CorpusSize()
    if args.positive is None:
        phrases = {c.name: phrase_of(c, corpus.PHRASES) for c in choices}
        args.positive = corpus.make_positives(work / "positive", phrases, size)
        notes.append(f"synthetic positives (espeak-ng) in {args.positive}")
    if args.negative is None:
        args.negative = corpus.make_negatives(work / "negative", size)
        notes.append(f"synthetic negatives (espeak-ng speech and noise) in {args.negative}")
    return notes


def _positives(root: Path, names: Sequence[str]) -> tuple[list[tuple[Path, str | None]], int]:
    files: list[tuple[Path, str | None]] = []
    skipped = 0
    for path in wav_files(root):
        label = label_of(path, root, names)
        if label is None:
            skipped += 1
        else:
            files.append((path, label))
    return files, skipped


async def _score(
    scorer: Scorer,
    positives: list[tuple[Path, str | None]],
    negatives: list[tuple[Path, str | None]],
    tick: Callable[[Path], None],
) -> tuple[list[FileScores], list[FileScores]]:
    return await scorer.score_all(positives, tick), await scorer.score_all(negatives, tick)


def run_eval(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The eval as the command runs it; 2 on bad arguments."""
    engines: list[WakeEngine] = args.engine or list(ENGINES)
    try:
        choices = [
            ModelChoice(c.spec, c.engine, None, args.refractory)
            for c in choose_models(args.model or all_builtins(engines), engines)
        ]
    except ValueError as exc:
        print(f"error: {exc}", file=err)
        return 2
    for folder in (args.positive, args.negative):
        if folder is not None and not folder.is_dir():
            print(f"error: {folder}: no such folder", file=err)
            return 2
    scorer = Scorer(choices)  # a bad model file fails here, before any corpus is made
    try:
        with tempfile.TemporaryDirectory(prefix="edge-voice-eval-") as tmp:
            pos, neg = _run(args, scorer, Path(args.corpus_dir or tmp), err)
        reports = [_report(scorer, c, pos, neg) for c in choices]
    finally:
        scorer.close()
    _print(args, reports, out, err, {"positive_files": len(pos), "negative_files": len(neg)})
    return 0


def _run(
    args: argparse.Namespace, scorer: Scorer, work: Path, err: TextIO
) -> tuple[list[FileScores], list[FileScores]]:
    for note in _corpus(args, scorer.choices, work):
        print(f"# {note}", file=err)
    positives, skipped = _positives(args.positive, [c.name for c in scorer.choices])
    negatives: list[tuple[Path, str | None]] = [(p, None) for p in wav_files(args.negative)]
    if skipped:
        print(f"# {skipped} positive files named after no selected model: skipped", file=err)
    progress = Progress(len(positives) + len(negatives), err, enabled=args.progress or err.isatty())
    return asyncio.run(_score(scorer, positives, negatives, progress.tick))


def _report(
    scorer: Scorer, choice: ModelChoice, pos: list[FileScores], neg: list[FileScores]
) -> ModelReport:
    return evaluate(
        choice,
        positives=pos,
        negatives=neg,
        default_threshold=scorer.default_threshold(choice),
        refractory_s=choice.refractory_s,
        scoring_s_per_audio_s=scorer.scoring_ratio(choice.engine),
    )


def _print(
    args: argparse.Namespace,
    reports: list[ModelReport],
    out: TextIO,
    err: TextIO,
    counts: dict[str, Any],
) -> None:
    print(table(reports), file=out)
    print(summary(reports), file=out)
    print("* the model's default threshold (the service uses it unless configured)", file=out)
    if args.json is not None:
        corpus_info = {**counts, "positive": str(args.positive), "negative": str(args.negative)}
        args.json.write_text(to_json(reports, corpus_info) + "\n", encoding="utf-8")
    if args.det is not None:
        note = det_curve(reports, args.det)
        print(f"# {note}" if note else f"# DET curve: {args.det}", file=err)


def cmd_wakeword_eval(args: argparse.Namespace) -> int:
    """Run `edge-voice wakeword eval`."""
    try:
        return run_eval(args, sys.stdout, sys.stderr)
    except (RuntimeError, ValueError, OSError) as exc:  # no espeak-ng, a bad WAV, a bad model
        print(f"error: {exc}", file=sys.stderr)
        return 2
