"""Which Home Assistant release the test venv gets for a Python version (the one table of it).

Each release is the newest one whose `requires-python` the interpreter meets; its exact package
set is scripts/hass/<release>/constraints.txt. Standard library only: the install script runs it
with the interpreter the venv is made from, before anything is installed.

    python3 tools/hass_release.py            # the release for the running interpreter
    python3 tools/hass_release.py 3.13.5     # ... for that Python version
    python3 tools/hass_release.py --table    # the whole table
    python3 tools/hass_release.py --newer-python  # an interpreter here whose release is newer

`--newer-python` prints the path of the newest Python found on PATH or under pyenv whose release
is newer than the running interpreter's (exit 1 when there is none): `scripts/test` installs that
release as a second Home Assistant for the tests that need HA >= 2024.5.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

Version = tuple[int, int, int]


@dataclass(frozen=True)
class Release:
    """One Home Assistant release and the Python versions [low, high) it is installed for."""

    version: str
    low: Version
    high: Version
    #: True when the pinned set was installed and the e2e tests ran against it here; False
    #: when it was only resolved by pip (no such Python on the machine that made it).
    verified: bool


#: Newest first. Each `high` is the next row's `low`: HA 2024.3 is the last for 3.11, 2025.1 for
#: 3.12, 2025.4 for 3.13.0-3.13.1 (2025.5 requires 3.13.2), 2026.2 the last for 3.13.
RELEASES: tuple[Release, ...] = (
    Release("2026.2.3", (3, 13, 2), (3, 14, 0), verified=False),
    Release("2025.4.4", (3, 13, 0), (3, 13, 2), verified=True),
    Release("2025.1.4", (3, 12, 0), (3, 13, 0), verified=True),
    Release("2024.3.3", (3, 11, 0), (3, 12, 0), verified=True),
)


def parse(text: str) -> Version:
    """`3.13` or `3.13.5` (a suffix such as `3.13.0rc1` ends the number) as a 3-tuple."""
    parts: list[int] = []
    for part in text.strip().split(".")[:3]:
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            raise ValueError(f"not a Python version: {text!r}")
        parts.append(int(digits))
        if len(digits) < len(part):
            break
    if len(parts) < 2:
        raise ValueError(f"not a Python version: {text!r}")
    major, minor, *micro = parts
    return major, minor, micro[0] if micro else 0


def pick(python: Version) -> Release:
    """The release for `python`; ValueError when no release in the table supports it."""
    for release in RELEASES:
        if release.low <= python < release.high:
            return release
    supported = ", ".join(f"{_dotted(r.low)}-{_dotted(r.high)}" for r in reversed(RELEASES))
    raise ValueError(f"no Home Assistant release for Python {_dotted(python)} (table: {supported})")


def _dotted(version: Version) -> str:
    return ".".join(map(str, version))


def candidates() -> list[str]:
    """Interpreters that may be at hand: python3.N on PATH, then pyenv's (newest first)."""
    found: list[str] = []
    for minor in range(RELEASES[0].high[1], RELEASES[-1].low[1] - 1, -1):
        on_path = shutil.which(f"python3.{minor}")
        found += [on_path] if on_path else []
        root = Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser()
        pyenv = root.glob(f"versions/3.{minor}.*/bin/python3.{minor}")
        found += [str(p) for p in sorted(pyenv, key=_pyenv_version, reverse=True)]
    return found


def _pyenv_version(interpreter: Path) -> Version:
    try:
        return parse(interpreter.parents[1].name)
    except ValueError:
        return (0, 0, 0)


def version_of(interpreter: str) -> Version | None:
    """The version `interpreter` reports, or None when it does not run (e.g. a pyenv shim)."""
    try:
        out = subprocess.run(  # noqa: S603 (an interpreter found on PATH or under pyenv)
            [interpreter, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return parse(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def newer_python(current: Version) -> str | None:
    """The first candidate whose release is newer than `current`'s (or that `current` lacks)."""
    try:
        have = pick(current).version
    except ValueError:
        have = ""
    for interpreter in candidates():
        version = version_of(interpreter)
        if version is None:
            continue
        try:
            release = pick(version).version
        except ValueError:
            continue
        if _release_key(release) > _release_key(have):
            return interpreter
    return None


def _release_key(release: str) -> tuple[int, ...]:
    return tuple(int(p) for p in release.split(".")) if release else ()


def main(argv: list[str]) -> int:
    """Print the release for the Python version given (default: this interpreter)."""
    if argv[:1] == ["--table"]:
        for r in RELEASES:
            note = "" if r.verified else "  (resolved, not run)"
            print(f"{_dotted(r.low):>8} <= Python < {_dotted(r.high):<8} {r.version}{note}")
        return 0
    if argv[:1] == ["--newer-python"]:
        found = newer_python(sys.version_info[:3])
        if found is None:
            return 1
        print(found)
        return 0
    try:
        python = parse(argv[0]) if argv else sys.version_info[:3]
        print(pick(python).version)
    except ValueError as err:
        print(f"hass_release: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
