"""The built-in wake-word names and the aliases the detector accepts: one definition for all."""

from __future__ import annotations

from typing import Final

from pyopen_wakeword import Model

BUILTIN_MODELS: Final[tuple[str, ...]] = tuple(sorted(model.value for model in Model))
"""Models shipped in the pyopen-wakeword wheel, by name."""
ALIASES: Final = {"ok_nabu": "okay_nabu", "hey_rhasspi": "hey_rhasspy"}
"""Spellings users write for a built-in model."""


def builtin_name(spec: str) -> str | None:
    """The built-in model a name refers to (`Hey Jarvis`, `hey-jarvis` → `hey_jarvis`), or None."""
    key = spec.strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    return key if key in BUILTIN_MODELS else None


def is_model_spec(spec: str) -> bool:
    """Whether `spec` names a built-in model (or an alias of one) or a `.tflite` file."""
    return builtin_name(spec) is not None or spec.endswith(".tflite")
