"""openWakeWord through pyopen-wakeword (models and TFLite in the wheel).

All models share the mel and embedding front end, which is most of the cost: 5-6 ms per 80 ms
frame (p99 under 9 ms) on a 2-core x86-64 host, with one model or five. The one expensive step,
openWakeWord's start-up fill of 8 s of silence (~0.5 s of CPU), runs once in the constructor;
`reset()` restores the state saved right after it, so it costs a copy, not a recompute.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

from edge_voice.audio.pcm import SILENCE_FRAME
from edge_voice.audio.wakeword_base import WakeWordModelError, check_tflite, tensor_shape
from edge_voice.audio.wakeword_names import OPENWAKEWORD, builtin_name

_WW_FEATURES: Final = 96  # embedding size every openWakeWord classifier takes
_TFLITE_FLOAT32: Final = 1


def _check_file(spec: str, path: Path, lib: Any) -> None:
    if path.suffix.lower() == ".onnx":
        raise WakeWordModelError(
            spec, "ONNX models are not supported by pyopen-wakeword, use the .tflite export"
        )
    if path.suffix.lower() != ".tflite":
        raise WakeWordModelError(spec, "not a built-in model name nor a .tflite file")
    check_tflite(spec, path, lib, OPENWAKEWORD)


def _check_classifier(spec: str, model: OpenWakeWord) -> None:
    lib = model.lib
    tensor = model.input_tensor
    shape = tensor_shape(lib, tensor)
    outputs = lib.TfLiteTensorByteSize(model.output_tensor) // 4
    if (
        len(shape) != 3
        or shape[2] != _WW_FEATURES
        or lib.TfLiteTensorType(tensor) != _TFLITE_FLOAT32
        or outputs != 1
    ):
        model.close()
        raise WakeWordModelError(
            spec, f"not an openWakeWord classifier (input shape {shape}, {outputs} outputs)"
        )


def load_model(spec: str, lib: Any) -> tuple[str, OpenWakeWord]:
    """Load a built-in model by name or a .tflite file; return its detection name and model."""
    name = builtin_name(spec)
    if name is not None:
        return name, OpenWakeWord.from_builtin(Model(name))
    path = Path(spec).expanduser()
    _check_file(spec, path, lib)
    model = OpenWakeWord.from_model(path)
    _check_classifier(spec, model)
    return path.stem, model


class _Snapshot:
    """The engine's state after hearing only silence, to restore on reset."""

    # Attribute names of pyopen-wakeword 1.x's streaming state (pinned <2 in pyproject).
    _FEATURE_ARRAYS: Final = ("audio", "mels")
    _FEATURE_COUNTS: Final = ("new_audio_samples", "new_mels")

    def __init__(self, features: OpenWakeWordFeatures, models: dict[str, OpenWakeWord]) -> None:
        self._features = {a: getattr(features, a).copy() for a in self._FEATURE_ARRAYS}
        self._counts = {a: int(getattr(features, a)) for a in self._FEATURE_COUNTS}
        self._models = {n: (m.embeddings.copy(), int(m.new_embeddings)) for n, m in models.items()}

    def restore(self, features: OpenWakeWordFeatures, models: dict[str, OpenWakeWord]) -> None:
        for attr, saved in self._features.items():
            np.copyto(getattr(features, attr), saved)
        for attr, count in self._counts.items():
            setattr(features, attr, count)
        for name, (embeddings, count) in self._models.items():
            np.copyto(models[name].embeddings, embeddings)
            models[name].new_embeddings = count


class OpenWakeWordEngine:
    """openWakeWord models behind one mel + embedding front end."""

    engine: Final = OPENWAKEWORD

    def __init__(self, specs: Sequence[str]) -> None:
        self._features = OpenWakeWordFeatures.from_builtin()
        self._models: dict[str, OpenWakeWord] = {}
        try:
            for spec in specs:
                name, model = load_model(spec, self._features.lib)
                if name in self._models:
                    model.close()
                    raise WakeWordModelError(spec, f"a model named {name!r} is already loaded")
                self._models[name] = model
        except BaseException:
            self.close()
            raise
        # openWakeWord fills 8 s of silence into its buffers on the first chunk: pay that here.
        self.score(SILENCE_FRAME)
        self._silence = _Snapshot(self._features, self._models)

    @property
    def names(self) -> tuple[str, ...]:
        """Detection names of the loaded models, in load order."""
        return tuple(self._models)

    @property
    def default_thresholds(self) -> dict[str, float | None]:
        """openWakeWord models carry no threshold: the configured one applies."""
        return dict.fromkeys(self._models)

    def score(self, frame: bytes) -> dict[str, float]:
        """Each model's highest probability over the embeddings this frame completes."""
        scores = dict.fromkeys(self._models, 0.0)
        for embedding in self._features.process_streaming(frame):
            for name, model in self._models.items():
                for probability in model.process_streaming(embedding):
                    scores[name] = max(scores[name], float(probability))
        return scores

    def reset(self) -> None:
        """Back to the state right after the start-up silence."""
        self._silence.restore(self._features, self._models)

    def close(self) -> None:
        """Free the TFLite interpreters (again: nothing happens)."""
        for model in self._models.values():
            model.close()
        self._features.close()
