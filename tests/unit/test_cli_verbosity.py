"""-v/-q before or after the sub-command win over log_level; frame dumps only at -vv."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_voice.cli.main import build_parser, main
from edge_voice.cli.verbosity import DUMP_LOGGERS, TRACE

NAMES = ("", *DUMP_LOGGERS)


@pytest.fixture(autouse=True)
def _restore_levels() -> Iterator[None]:
    saved = {name: logging.getLogger(name).level for name in NAMES}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def levels() -> list[int]:
    """The root's level, then each frame-dump logger's."""
    return [logging.getLogger(name).level for name in NAMES]


@pytest.mark.parametrize(
    "argv",
    [["-v", "models"], ["models", "-v"], ["-v", "run", "--sink", "null"], ["run", "-v"]],
)
def test_v_is_accepted_before_and_after_the_sub_command(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).verbose == 1


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], [logging.ERROR, logging.ERROR, logging.ERROR]),  # the file's log_level: ERROR
        (["-v"], [logging.DEBUG, logging.INFO, logging.INFO]),  # debug, no frame dumps
        (["-vv"], [logging.DEBUG, logging.DEBUG, logging.DEBUG]),  # TRACE: the dumps too
        (["-q"], [logging.WARNING, logging.WARNING, logging.WARNING]),
    ],
)
def test_flags_win_over_the_config_log_level(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    expected: list[int],
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config = tmp_path / "config.yaml"
    config.write_text(f"log_level: ERROR\nstate_dir: {tmp_path}\n")
    # `run` applies the level, then stops at once: no key for the official endpoint.
    assert main(["run", "--config", str(config), *flags]) == 2
    assert "no OpenAI API key" in capsys.readouterr().err
    assert levels() == expected


def test_trace_is_a_named_level() -> None:
    assert logging.getLevelName(TRACE) == "TRACE"
