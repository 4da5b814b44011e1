"""The Home Assistant release the test venv gets for each Python, and its pinned set on disk."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from tools import hass_release
from tools.hass_release import RELEASES, parse, pick

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("python", "release"),
    [
        ("3.11.2", "2024.3.3"),  # Debian 12
        ("3.11.7", "2024.3.3"),
        ("3.12.1", "2025.1.4"),
        ("3.12.12", "2025.1.4"),
        ("3.13.0", "2025.4.4"),
        ("3.13.1", "2025.4.4"),
        ("3.13.2", "2026.2.3"),
        ("3.13.5", "2026.2.3"),  # Debian 13
        ("3.13", "2025.4.4"),  # no micro: 3.13.0
    ],
)
def test_each_python_gets_the_newest_release_it_supports(python: str, release: str) -> None:
    assert pick(parse(python)).version == release


@pytest.mark.parametrize("python", ["3.10.13", "3.14.0", "2.7.18"])
def test_a_python_outside_the_table_is_refused(python: str) -> None:
    with pytest.raises(ValueError, match=f"no Home Assistant release for Python {python}"):
        pick(parse(python))


@pytest.mark.parametrize(
    ("text", "version"),
    [("3.13.0rc1", (3, 13, 0)), ("3.12", (3, 12, 0)), (" 3.11.2\n", (3, 11, 2))],
)
def test_versions_parse(text: str, version: tuple[int, int, int]) -> None:
    assert parse(text) == version


@pytest.mark.parametrize("text", ["", "3", "x.y", "3.x"])
def test_non_versions_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a Python version"):
        parse(text)


def test_the_table_has_no_gap_and_no_overlap() -> None:
    for newer, older in itertools.pairwise(RELEASES):
        assert older.high == newer.low, (older, newer)
        assert older.low < older.high


@pytest.mark.parametrize("release", RELEASES, ids=lambda r: r.version)
def test_each_release_has_its_pinned_set(release: hass_release.Release) -> None:
    text = (ROOT / "scripts/hass" / release.version / "constraints.txt").read_text()
    pins = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert f"homeassistant=={release.version}" in pins
    assert all("==" in pin for pin in pins), [p for p in pins if "==" not in p]
    # The frontend is critical: without it HA starts in recovery mode.
    assert any(pin.startswith("home-assistant-frontend==") for pin in pins)
    # An unverified set says so where a reader of the file sees it.
    assert ("resolved, not run" in text.lower()) is (not release.verified)


def test_the_command_line_answers_for_the_running_interpreter() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools/hass_release.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == pick(sys.version_info[:3]).version


def test_the_command_line_refuses_an_unsupported_python() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools/hass_release.py"), "3.9.18"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "no Home Assistant release for Python 3.9.18" in out.stderr


def test_an_interpreter_reports_its_version_and_a_missing_one_none() -> None:
    assert hass_release.version_of(sys.executable) == sys.version_info[:3]
    assert hass_release.version_of("/nonexistent/python3.99") is None


def test_a_newer_python_has_a_newer_release_or_there_is_none() -> None:
    # The newest release of the table has nothing newer above it, whatever is installed.
    assert hass_release.newer_python(RELEASES[0].low) is None
    found = hass_release.newer_python((3, 11, 7))
    if found is not None:  # which Pythons a machine has is its own business
        version = hass_release.version_of(found)
        assert version is not None
        assert pick(version).version != "2024.3.3"
