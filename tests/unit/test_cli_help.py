"""`--help` is written for users: every option of `edge-voice`, `demo` and `sim` explained."""

from __future__ import annotations

import argparse

import pytest

from edge_voice.cli.main import build_parser


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found: argparse.ArgumentParser = sub.choices[name]
    return found


def test_the_top_level_help_says_what_it_is_and_where_to_start() -> None:
    text = " ".join(build_parser().format_help().split())
    assert "voice assistant for the smart home" in text
    assert "edge-voice demo" in text
    assert "handler" not in text  # not the module's docstring for developers


@pytest.mark.parametrize("command", ["demo", "sim"])
def test_every_option_has_a_help_text(command: str) -> None:
    parser = _subparser(build_parser(), command)
    bare = [
        a.option_strings[0]
        for a in parser._actions
        # Hidden on purpose (argparse.SUPPRESS): --today and --realtime-url, hooks for tests.
        if a.option_strings and a.help in (None, "")
    ]
    assert bare == []


def test_the_demo_explains_itself() -> None:
    text = " ".join(_subparser(build_parser(), "demo").format_help().split())
    assert "Without OPENAI_API_KEY it uses the bundled Realtime simulator" in text


def test_the_simulator_says_what_key_it_accepts() -> None:
    text = " ".join(_subparser(build_parser(), "sim").format_help().split())
    assert "accepts any non-empty API key unless --api-key is given" in text


def test_every_option_of_wakeword_eval_has_a_help_text() -> None:
    parser = _subparser(_subparser(build_parser(), "wakeword"), "eval")
    bare = [a.option_strings[0] for a in parser._actions if a.option_strings and not a.help]
    assert bare == []
    text = " ".join(parser.format_help().split())
    assert "DIR/hey_jarvis/*.wav" in text and "made on the spot with espeak-ng" in text
