"""Run audio files through the service's own audio path and record every model's score per frame.

A file is read by the service's WAV source (`parse_source("wav:…")`: resampling from the
file's rate, mono mixdown, 80 ms framing, the same silence padding `edge-voice run` adds), and
each frame is scored by the service's detector, one per engine with every selected model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from edge_voice.audio.pcm import FRAME_MS
from edge_voice.audio.sources import WavSource, parse_source
from edge_voice.audio.wakeword import WakeWordDetector
from edge_voice.audio.wakeword_names import (
    ALIASES,
    BUILTINS,
    ENGINES,
    MICROWAKEWORD,
    WakeEngine,
    builtin_name,
    detection_name,
    spec_problem,
)

#: What `edge-voice run` pads a WAV source with: the end of a file is a room gone quiet.
PAD_SILENCE_S: Final = 1.5
FRAME_S: Final = FRAME_MS / 1000
Scores = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """One model on one engine."""

    spec: str
    engine: WakeEngine
    threshold: float | None = None
    refractory_s: float = 0.0

    @property
    def name(self) -> str:
        """Its detection name."""
        return detection_name(self.spec)

    @property
    def key(self) -> str:
        """`name@engine`, unique in a run."""
        return f"{self.name}@{self.engine}"


def choose_models(specs: Sequence[str], engines: Sequence[WakeEngine]) -> list[ModelChoice]:
    """Every (model, engine) pair that can run; ValueError naming a model no engine can run."""
    choices = []
    for spec in specs:
        runnable = [e for e in engines if spec_problem(spec, e) is None]
        if not runnable:
            problems = "; ".join(p for e in engines if (p := spec_problem(spec, e)))
            raise ValueError(problems)
        choices += [ModelChoice(spec, e) for e in runnable]
    return choices


def all_builtins(engines: Sequence[WakeEngine] = ENGINES) -> list[str]:
    """Every built-in model name of these engines."""
    return sorted({name for engine in engines for name in BUILTINS[engine]})


def phrase_of(choice: ModelChoice, phrases: dict[str, str]) -> str:
    """What to say for a model: the known phrase, a manifest's `wake_word`, else its name."""
    if choice.name in phrases:
        return phrases[choice.name]
    if choice.engine == MICROWAKEWORD and builtin_name(choice.spec, MICROWAKEWORD) is None:
        manifest = json.loads(Path(choice.spec).expanduser().read_text(encoding="utf-8"))
        return str(manifest.get("wake_word", choice.name)).lower()
    return choice.name.replace("_", " ")


def _normal(label: str) -> str:
    key = label.strip().lower().replace("-", "_").replace(" ", "_")
    return ALIASES.get(key, key)


def label_of(path: Path, root: Path, names: Iterable[str]) -> str | None:
    """The wake word a positive file is of: its top folder's name, else its name's prefix.

    Case, `-` and spaces do not matter (`Hey-Jarvis/` is `hey_jarvis`).
    """
    parts = path.relative_to(root).parts
    known = {_normal(n): n for n in names}
    if len(parts) > 1:
        return known.get(_normal(parts[0]))
    stem = _normal(path.stem)
    return next(
        (known[k] for k in sorted(known, key=len, reverse=True) if stem.startswith(k)), None
    )


def wav_files(directory: Path) -> list[Path]:
    """Every .wav under `directory`, sorted."""
    return sorted(p for p in directory.rglob("*") if p.suffix.lower() == ".wav" and p.is_file())


@dataclass(slots=True)
class FileScores:
    """One file's per-frame scores for each model (`ModelChoice.key`)."""

    path: Path
    label: str | None
    duration_s: float
    scores: dict[str, Scores] = field(default_factory=dict)

    def best(self, key: str) -> float:
        """The model's highest score in the file."""
        trace = self.scores[key]
        return float(trace.max()) if trace.size else 0.0


class Scorer:
    """The service's detectors (one per engine) with refractory 0, fed file by file."""

    def __init__(self, choices: Sequence[ModelChoice]) -> None:
        self.choices = list(choices)
        self.detectors: dict[WakeEngine, WakeWordDetector] = {}
        try:
            for engine in dict.fromkeys(c.engine for c in choices):
                mine = [c for c in choices if c.engine == engine]
                self.detectors[engine] = WakeWordDetector(mine)
        except BaseException:
            self.close()
            raise
        self.audio_s = 0.0

    def default_threshold(self, choice: ModelChoice) -> float:
        """The threshold the service would use for this model by default."""
        return self.detectors[choice.engine].thresholds[choice.name]

    def scoring_ratio(self, engine: WakeEngine) -> float:
        """Wall-time seconds of scoring per second of audio, for the engine's models together."""
        spent = self.detectors[engine].engine_time_s[engine]
        return spent / self.audio_s if self.audio_s else 0.0

    async def score(self, path: Path, label: str | None = None) -> FileScores:
        """Every frame of the file, through the service's WAV source, scored by every model."""
        source = parse_source(f"wav:{path}", fast=True, pad_silence_s=PAD_SILENCE_S)
        assert isinstance(source, WavSource)
        result = FileScores(path, label, source.duration_s)
        traces: dict[str, list[float]] = {c.key: [] for c in self.choices}
        for detector in self.detectors.values():
            detector.reset()
        async with source:
            async for frame in source:
                for engine, detector in self.detectors.items():
                    detector.process(frame)
                    for name, value in detector.last_scores.items():
                        traces[f"{name}@{engine}"].append(value)
        self.audio_s += source.frames_read * FRAME_S
        result.scores = {k: np.asarray(v, dtype=np.float32) for k, v in traces.items()}
        return result

    async def score_all(
        self, files: Sequence[tuple[Path, str | None]], tick: Callable[[Path], None]
    ) -> list[FileScores]:
        """Score files in order, calling `tick` after each."""
        results = []
        for path, label in files:
            results.append(await self.score(path, label))
            tick(path)
        return results

    def close(self) -> None:
        """Free every detector."""
        for detector in self.detectors.values():
            detector.close()
