"""What every wake-word engine shares: the detection record, the model error, the engine shape.

An engine scores 80 ms PCM16 16 kHz frames with all its models at once (its front end computed
once per frame); the detector (audio/wakeword.py) applies each word's threshold and refractory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from edge_voice.audio.wakeword_names import BUILTINS, OPENWAKEWORD, WakeEngine

_FILE_HINT = {
    OPENWAKEWORD: "or give the path of an openWakeWord .tflite model",
    "microwakeword": "or give the path of a microWakeWord .json manifest (next to its .tflite)",
}


class WakeWordModelError(ValueError):
    """A wake word model cannot be loaded; the message names it and the built-in models."""

    def __init__(self, spec: str, reason: str, engine: WakeEngine = OPENWAKEWORD) -> None:
        super().__init__(
            f"wake word model {spec!r} ({engine}): {reason}. Built-in models: "
            f"{', '.join(BUILTINS[engine])}; {_FILE_HINT[engine]}"
        )
        self.spec = spec
        self.engine = engine


@dataclass(frozen=True, slots=True)
class Detection:
    """A wake word heard: which model, its score, when in the audio stream, and by which engine."""

    name: str
    score: float
    time_s: float
    """Audio time at the end of the detecting frame, since the detector started."""
    engine: WakeEngine = OPENWAKEWORD


class Engine(Protocol):
    """One engine's models behind one shared front end."""

    @property
    def names(self) -> tuple[str, ...]:
        """Detection names of the loaded models, in load order."""

    @property
    def default_thresholds(self) -> dict[str, float | None]:
        """Each model's own threshold (microWakeWord's manifest cutoff), or None: the caller's."""

    def score(self, frame: bytes) -> dict[str, float]:
        """Each model's highest score over one 80 ms frame."""

    def reset(self) -> None:
        """Forget the audio heard so far: afterwards the engine scores like a fresh one."""

    def close(self) -> None:
        """Free the TFLite interpreters (again: nothing happens)."""


def check_tflite(spec: str, path: Path, lib: Any, engine: WakeEngine) -> None:
    """Refuse a missing file or one TFLite's flatbuffer verifier rejects (pyopen-wakeword and
    pymicro-wakeword would hand the NULL model to the interpreter, and the process segfaults)."""
    if not path.is_file():
        raise WakeWordModelError(spec, f"file not found: {path}", engine)
    probe = lib.TfLiteModelCreateFromFile(str(path.resolve()).encode())
    if not probe:
        raise WakeWordModelError(spec, f"not a valid TFLite model: {path}", engine)
    lib.TfLiteModelDelete(probe)


def tensor_shape(lib: Any, tensor: Any) -> list[int]:
    """The dimensions of a TFLite tensor."""
    return [lib.TfLiteTensorDim(tensor, i) for i in range(lib.TfLiteTensorNumDims(tensor))]
