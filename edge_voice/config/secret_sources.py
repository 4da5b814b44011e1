"""Reading a secret from a file or an environment variable: one way for every credential.

Errors name the key and the file or variable, never the value; each caller picks the exception
type its own callers expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def read_secret_file(path: Path, key: str, error: type[Exception]) -> str:
    """The stripped contents of the secret file `path` (configured at `key`); raises `error`."""
    file = path.expanduser()
    try:
        value = file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise error(f"{key}: cannot read {file}: {exc.strerror}") from None
    if not value:
        raise error(f"{key}: {file} is empty")
    return value


def read_secret_env(env: Mapping[str, str], var: str, key: str, error: type[Exception]) -> str:
    """The stripped value of the environment variable `var` (configured at `key`)."""
    value = env.get(var, "").strip()
    if not value:
        raise error(f"{key}: environment variable {var} is not set")
    return value
