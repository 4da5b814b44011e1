"""Wake-word engines, their built-in model names and the aliases users write: one definition.

Two engines: openWakeWord (pyopen-wakeword; custom models as `.tflite`) and microWakeWord
(pymicro-wakeword; custom models as a JSON manifest next to its `.tflite`). A wake word's
detection name is its built-in name or its file's stem, the same under either engine.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final, Literal, get_args

from pymicro_wakeword import Model as MicroModel
from pyopen_wakeword import Model

WakeEngine = Literal["openwakeword", "microwakeword"]
ENGINES: Final[tuple[WakeEngine, ...]] = get_args(WakeEngine)
OPENWAKEWORD: Final[WakeEngine] = "openwakeword"
MICROWAKEWORD: Final[WakeEngine] = "microwakeword"

BUILTIN_MODELS: Final[tuple[str, ...]] = tuple(sorted(model.value for model in Model))
"""openWakeWord models shipped in the pyopen-wakeword wheel, by name."""
MICRO_BUILTIN_MODELS: Final[tuple[str, ...]] = tuple(sorted(m.value for m in MicroModel))
"""microWakeWord models shipped in the pymicro-wakeword wheel, by name."""
BUILTINS: Final[dict[WakeEngine, tuple[str, ...]]] = {
    OPENWAKEWORD: BUILTIN_MODELS,
    MICROWAKEWORD: MICRO_BUILTIN_MODELS,
}
ALIASES: Final = {"ok_nabu": "okay_nabu", "hey_rhasspi": "hey_rhasspy"}
"""Spellings users write for a built-in model."""
#: Detection names become MQTT topic levels and HA object ids.
_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FILE_SUFFIX: Final[dict[WakeEngine, str]] = {OPENWAKEWORD: ".tflite", MICROWAKEWORD: ".json"}


def _key(spec: str) -> str:
    key = spec.strip().lower().replace("-", "_").replace(" ", "_")
    return ALIASES.get(key, key)


def builtin_name(spec: str, engine: WakeEngine = OPENWAKEWORD) -> str | None:
    """The built-in model of `engine` a name refers to (`Hey Jarvis` → `hey_jarvis`), or None."""
    key = _key(spec)
    return key if key in BUILTINS[engine] else None


def engine_for(spec: str, engine: WakeEngine | None = None) -> WakeEngine:
    """The engine that runs `spec`: the one given, else microWakeWord for a `.json` manifest."""
    if engine is not None:
        return engine
    return MICROWAKEWORD if spec.lower().endswith(".json") else OPENWAKEWORD


def detection_name(spec: str) -> str:
    """The name a model detects under: its built-in name, else its file's stem."""
    key = _key(spec)
    if key in BUILTIN_MODELS or key in MICRO_BUILTIN_MODELS:
        return key
    return Path(spec).stem


def spec_problem(spec: str, engine: WakeEngine) -> str | None:
    """Why `spec` cannot be a model of `engine` (a sentence naming what would do), or None."""
    if builtin_name(spec, engine) is not None:
        return None
    suffix = _FILE_SUFFIX[engine]
    if not spec.lower().endswith(suffix):
        kind = "a .tflite file" if engine == OPENWAKEWORD else "a .json manifest (with its .tflite)"
        return (
            f"unknown wake word model {spec!r}; built-in models: {', '.join(BUILTINS[engine])} "
            f"({engine}), or the path of {kind}"
        )
    if not _NAME.fullmatch(Path(spec).stem):
        return f"the file name of {spec!r} must be 1-64 letters, digits, '_' or '-'"
    return None


def is_model_spec(spec: str, engine: WakeEngine | None = None) -> bool:
    """Whether `spec` names a built-in model (or an alias of one) or a model file of its engine."""
    return spec_problem(spec, engine_for(spec, engine)) is None
