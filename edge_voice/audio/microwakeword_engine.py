"""microWakeWord through pymicro-wakeword (OHF's package: models, MicroFrontend and TFLite).

All models share one MicroFrontend (40 features per 10 ms step); each model runs every
`stride` steps (30 ms for the built-ins) and averages its last `sliding_window_size`
probabilities. CPU for 60 s of audio on a 2-core x86-64 VM: 0.12 s for one model, 0.29 s for
the four built-ins (openWakeWord: 3.6 s for one, 3.9 s for five).
A custom model is a JSON manifest (microWakeWord's format, as ESPHome uses it) naming its
`.tflite` next to it; the manifest's `probability_cutoff` is the default threshold.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import pymicro_wakeword
from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures
from pymicro_wakeword.wakeword import TfLiteWakeWord

from edge_voice.audio.wakeword_base import WakeWordModelError, check_tflite, tensor_shape
from edge_voice.audio.wakeword_names import MICROWAKEWORD, builtin_name

_PACKAGE: Final = Path(pymicro_wakeword.__file__).parent
_FEATURES: Final = 40  # MicroFrontend's features per 10 ms step
_QUANTIZED: Final = (3, 9)  # kTfLiteUInt8, kTfLiteInt8


def _error(spec: str, reason: str) -> WakeWordModelError:
    return WakeWordModelError(spec, reason, MICROWAKEWORD)


def _library() -> Path:
    found = next(iter(sorted((_PACKAGE / "lib").glob("*tensorflowlite_c.*"))), None)
    if found is None:
        raise RuntimeError("pymicro-wakeword ships no TFLite library for this platform")
    return found


def _manifest_path(spec: str) -> Path:
    name = builtin_name(spec, MICROWAKEWORD)
    if name is not None:
        return _PACKAGE / "models" / f"{name}.json"
    path = Path(spec).expanduser()
    if path.suffix.lower() != ".json":
        raise _error(spec, "not a built-in model name nor a .json manifest")
    if not path.is_file():
        raise _error(spec, f"file not found: {path}")
    return path


def _read_manifest(spec: str, path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        micro = manifest["micro"]
        model, cutoff, window = (
            manifest["model"],
            micro["probability_cutoff"],
            micro["sliding_window_size"],
        )
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _error(spec, f"not a JSON manifest ({exc})") from exc
    except (KeyError, TypeError) as exc:
        raise _error(
            spec,
            f"broken manifest: needs model, micro.probability_cutoff and "
            f"micro.sliding_window_size (missing {exc})",
        ) from exc
    if not isinstance(model, str) or not model:
        raise _error(spec, "broken manifest: model must name the .tflite file")
    if not isinstance(cutoff, int | float) or not 0 < cutoff < 1:
        raise _error(spec, f"broken manifest: probability_cutoff must be in (0, 1), got {cutoff}")
    if not isinstance(window, int) or window < 1:
        raise _error(spec, f"broken manifest: sliding_window_size must be >= 1, got {window}")
    return {
        "model": model,
        "cutoff": float(cutoff),
        "window": window,
        "wake_word": str(manifest.get("wake_word", path.stem)),
    }


def _check_model(spec: str, model: MicroWakeWord) -> None:
    lib = model.lib
    shape = tensor_shape(lib, model.input_tensor)
    outputs = lib.TfLiteTensorByteSize(model.output_tensor)
    if len(shape) != 3 or shape[2] != _FEATURES or outputs != 1:
        model.close()
        raise _error(spec, f"not a microWakeWord model (input shape {shape}, {outputs} outputs)")


def _tensor_types(spec: str, tflite: Path, lib: Any) -> tuple[int, int]:
    # pymicro-wakeword runs any model it is given; a float one fails deep in its quantizing.
    probe = lib.TfLiteModelCreateFromFile(str(tflite.resolve()).encode())
    interpreter = lib.TfLiteInterpreterCreate(probe, None)
    try:
        if not interpreter:
            raise _error(spec, f"TFLite cannot run {tflite}")
        return (
            lib.TfLiteTensorType(lib.TfLiteInterpreterGetInputTensor(interpreter, 0)),
            lib.TfLiteTensorType(lib.TfLiteInterpreterGetOutputTensor(interpreter, 0)),
        )
    finally:
        if interpreter:
            lib.TfLiteInterpreterDelete(interpreter)
        lib.TfLiteModelDelete(probe)


def load_model(spec: str, lib: Any, library: Path) -> tuple[str, MicroWakeWord]:
    """Load a built-in model by name or a manifest file; return its detection name and model."""
    path = _manifest_path(spec)
    manifest = _read_manifest(spec, path)
    tflite = path.parent / manifest["model"]
    check_tflite(spec, tflite, lib, MICROWAKEWORD)
    types = _tensor_types(spec, tflite, lib)
    if not all(t in _QUANTIZED for t in types):
        raise _error(spec, f"not a microWakeWord model (tensor types {types}, not int8/uint8)")
    model = MicroWakeWord(
        path.stem,
        wake_word=manifest["wake_word"],
        tflite_model=tflite,
        probability_cutoff=manifest["cutoff"],
        sliding_window_size=manifest["window"],
        trained_languages=[],
        libtensorflowlite_c_path=library,
    )
    _check_model(spec, model)
    return path.stem, model


class MicroWakeWordEngine:
    """microWakeWord models behind one MicroFrontend."""

    engine: Final = MICROWAKEWORD

    def __init__(self, specs: Sequence[str]) -> None:
        library = _library()
        lib = TfLiteWakeWord(library).lib  # the library with its argtypes declared
        self._features = MicroWakeWordFeatures()
        self._models: dict[str, MicroWakeWord] = {}
        try:
            for spec in specs:
                name, model = load_model(spec, lib, library)
                if name in self._models:
                    model.close()
                    raise _error(spec, f"a model named {name!r} is already loaded")
                self._models[name] = model
        except BaseException:
            self.close()
            raise

    @property
    def names(self) -> tuple[str, ...]:
        """Detection names of the loaded models, in load order."""
        return tuple(self._models)

    @property
    def default_thresholds(self) -> dict[str, float | None]:
        """Each manifest's `probability_cutoff`."""
        return {n: float(m.probability_cutoff) for n, m in self._models.items()}

    @property
    def wake_words(self) -> dict[str, str]:
        """Each model's phrase as its manifest spells it (`Okay Nabu`)."""
        return {n: m.wake_word for n, m in self._models.items()}

    def score(self, frame: bytes) -> dict[str, float]:
        """Each model's highest windowed probability over the 10 ms steps of this frame."""
        scores = dict.fromkeys(self._models, 0.0)
        for features in self._features.process_streaming(frame):
            for name, model in self._models.items():
                probability = model.process_streaming_prob(features)
                if probability is not None and probability > scores[name]:
                    scores[name] = float(probability)
        return scores

    def reset(self) -> None:
        """A fresh front end and fresh interpreters (pymicro reloads one in ~0.5 ms)."""
        self._features.reset()
        for model in self._models.values():
            model.reset()

    def close(self) -> None:
        """Free the TFLite interpreters (again: nothing happens)."""
        for model in self._models.values():
            model.close()
