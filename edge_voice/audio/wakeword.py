"""The wake word detector: several models of either engine, one `process(frame)` for them all.

Each engine computes its front end once per frame for all its models (openWakeWord: mel and
embedding, in audio/openwakeword_engine.py; microWakeWord: MicroFrontend features, in
audio/microwakeword_engine.py); the detector applies each word's threshold and refractory time.
`process(frame)` is synchronous and cheap enough for the event loop: 5-6 ms per 80 ms frame for
openWakeWord models (shared: one or five cost about the same), ~0.2 ms per microWakeWord
model, on a 2-core x86-64 host.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from edge_voice.audio.microwakeword_engine import MicroWakeWordEngine
from edge_voice.audio.openwakeword_engine import OpenWakeWordEngine
from edge_voice.audio.pcm import SAMPLE_WIDTH, SOURCE_RATE
from edge_voice.audio.wakeword_base import Detection, Engine, WakeWordModelError
from edge_voice.audio.wakeword_names import OPENWAKEWORD, WakeEngine, engine_for

__all__ = [
    "Detection",
    "WakeWordDetector",
    "WakeWordModelError",
    "WakeWordSettings",
    "WakeWordSpec",
    "detect_stream",
]


class WakeWordSpec(Protocol):
    """One listening model (config's `WakeWordEntry` is one)."""

    @property
    def spec(self) -> str:
        """A built-in model name or a model file."""

    @property
    def engine(self) -> WakeEngine:
        """The engine that runs it."""

    @property
    def threshold(self) -> float | None:
        """Its threshold; None: the engine's own (microWakeWord's manifest cutoff)."""

    @property
    def refractory_s(self) -> float:
        """Seconds after a detection in which it does not fire again."""


class WakeWordSettings(Protocol):
    """The `wakeword` config section as the detector reads it."""

    def entries(self) -> Sequence[WakeWordSpec]:
        """Every listening model with its options resolved."""


@dataclass(frozen=True, slots=True)
class _Model:
    spec: str
    engine: WakeEngine
    threshold: float | None
    refractory_s: float


@dataclass(slots=True)
class _Word:
    engine: WakeEngine
    threshold: float
    refractory_s: float
    blocked_until: float = 0.0


def _check_threshold(value: float) -> float:
    if not 0 < value < 1:
        raise ValueError(f"threshold must be between 0 and 1, got {value}")
    return value


def _check_refractory(value: float) -> float:
    if value < 0:
        raise ValueError(f"refractory_s must be >= 0, got {value}")
    return value


def _build(engine: WakeEngine, specs: list[str]) -> Engine:
    return OpenWakeWordEngine(specs) if engine == OPENWAKEWORD else MicroWakeWordEngine(specs)


class WakeWordDetector:
    """Scores 80 ms PCM16 16 kHz frames with one or more models of either engine.

    `models` are names or files (`.json` runs on microWakeWord with its manifest's cutoff,
    anything else on openWakeWord with `threshold`; both with `refractory_s`) or entries
    carrying their own engine and options (config's `WakewordConfig.entries()`).
    A word detects when its score reaches its threshold; it then stays silent for its refractory
    time in audio time (frames processed, not wall time, so a fast WAV behaves like a live mic).
    """

    def __init__(
        self,
        models: Sequence[str | WakeWordSpec] = ("hey_jarvis",),
        *,
        threshold: float = 0.5,
        refractory_s: float = 2.0,
    ) -> None:
        if not models:
            raise ValueError("at least one wake word model is needed")
        _check_threshold(threshold)
        _check_refractory(refractory_s)
        wanted = [
            _Model(m, engine_for(m), None, refractory_s)
            if isinstance(m, str)
            else _Model(m.spec, m.engine, m.threshold, _check_refractory(m.refractory_s))
            for m in models
        ]
        self._engines: dict[WakeEngine, Engine] = {}
        self._words: dict[str, _Word] = {}
        try:
            self._load(wanted, threshold)
        except BaseException:
            self.close()
            raise
        self._samples = 0
        self.last_scores: dict[str, float] = dict.fromkeys(self._words, 0.0)
        """Each model's highest score in the last processed frame."""
        self.frames = 0
        self.process_time_s = 0.0
        self.engine_time_s: dict[WakeEngine, float] = dict.fromkeys(self._engines, 0.0)
        """Wall time of `process()` spent in each engine (front end and models)."""
        self.closed = False
        """Whether `close()` freed the interpreters (the detector cannot score any more)."""

    def _load(self, wanted: list[_Model], threshold: float) -> None:
        for engine in dict.fromkeys(m.engine for m in wanted):
            self._engines[engine] = _build(engine, [m.spec for m in wanted if m.engine == engine])
        loaded = {e: iter(eng.names) for e, eng in self._engines.items()}
        for model in wanted:
            name = next(loaded[model.engine])
            if name in self._words:
                raise WakeWordModelError(
                    model.spec, f"a model named {name!r} is already loaded", model.engine
                )
            own = self._engines[model.engine].default_thresholds[name]
            value = model.threshold if model.threshold is not None else own
            self._words[name] = _Word(
                model.engine,
                _check_threshold(threshold if value is None else value),
                model.refractory_s,
            )

    @classmethod
    def from_config(cls, config: WakeWordSettings) -> Self:
        """A detector for the `wakeword` config section (`entries()`: engines, per-word options)."""
        return cls(config.entries())

    @property
    def names(self) -> tuple[str, ...]:
        """Detection names of the loaded models, in load order."""
        return tuple(self._words)

    @property
    def engines(self) -> dict[str, WakeEngine]:
        """The engine of each word."""
        return {name: word.engine for name, word in self._words.items()}

    @property
    def thresholds(self) -> dict[str, float]:
        """The threshold in force for each word."""
        return {name: word.threshold for name, word in self._words.items()}

    @property
    def refractory(self) -> dict[str, float]:
        """The refractory time in force for each word, in seconds."""
        return {name: word.refractory_s for name, word in self._words.items()}

    def set_threshold(self, name: str, value: float) -> None:
        """Change one word's threshold from the next frame on (no reload)."""
        self._word(name).threshold = _check_threshold(value)

    def set_refractory(self, name: str, value: float) -> None:
        """Change one word's refractory time from its next detection on (no reload)."""
        self._word(name).refractory_s = _check_refractory(value)

    def _word(self, name: str) -> _Word:
        try:
            return self._words[name]
        except KeyError:
            raise ValueError(
                f"no wake word {name!r} is loaded ({', '.join(self._words)})"
            ) from None

    @property
    def audio_time_s(self) -> float:
        """Seconds of audio processed since the detector was made."""
        return self._samples / SOURCE_RATE

    @property
    def mean_process_ms(self) -> float:
        """Mean wall time of `process()` per frame so far."""
        return 1000 * self.process_time_s / self.frames if self.frames else 0.0

    def _score(self, frame: bytes) -> dict[str, float]:
        scores: dict[str, float] = {}
        for engine, scorer in self._engines.items():
            started = time.perf_counter()
            scores.update(scorer.score(frame))
            self.engine_time_s[engine] += time.perf_counter() - started
        return {name: scores[name] for name in self._words}

    def process(self, frame: bytes) -> list[Detection]:
        """Score one frame (80 ms, PCM16 mono 16 kHz); return the models that detected."""
        if len(frame) % SAMPLE_WIDTH:
            raise ValueError(f"PCM16 frames have an even number of bytes, got {len(frame)}")
        if self.closed:  # the interpreters are gone: TFLite would crash the process
            raise RuntimeError("the wake word detector is closed")
        started = time.perf_counter()
        self._samples += len(frame) // SAMPLE_WIDTH
        now = self.audio_time_s
        self.last_scores = scores = self._score(frame)
        detections = []
        for name, score in scores.items():
            word = self._words[name]
            if score >= word.threshold and now >= word.blocked_until:
                word.blocked_until = now + word.refractory_s
                detections.append(Detection(name, score, now, word.engine))
        self.frames += 1
        self.process_time_s += time.perf_counter() - started
        return detections

    def reset(self) -> None:
        """Forget the audio heard so far (e.g. the wake word itself after a detection).

        Every engine then scores like a fresh one. Refractory periods keep running: they are
        about time since the last detection.
        """
        for engine in self._engines.values():
            engine.reset()

    def close(self) -> None:
        """Free the TFLite interpreters (again: nothing happens)."""
        self.closed = True
        for engine in self._engines.values():
            engine.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def detect_stream(
    detector: WakeWordDetector, frames: AsyncIterable[bytes]
) -> AsyncIterator[tuple[bytes, list[Detection]]]:
    """Run the detector in the loop on every frame; yield each frame with its detections.

    The caller routes frames: while idle they go nowhere (the wake word is never sent to the
    API), after a detection it forwards the following frames and calls `detector.reset()`.
    """
    async for frame in frames:
        yield frame, detector.process(frame)
