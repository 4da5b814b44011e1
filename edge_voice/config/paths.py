"""Paths a config may name: what the operating system can open at all."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator


def _openable(value: Path) -> Path:
    # A NUL byte passes pydantic but makes every open() raise ValueError, not a ConfigError.
    if "\x00" in str(value):
        raise ValueError("a path cannot contain a NUL byte")
    return value


#: A filesystem path the OS accepts (no NUL byte).
FsPath = Annotated[Path, AfterValidator(_openable)]
