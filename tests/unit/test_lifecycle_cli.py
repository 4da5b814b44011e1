"""`config check`, start-up and `edge-voice models` say what to change to make a move permanent."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_voice.cli.main import main
from edge_voice.config.loading import ConfigError, validate_config


def check(tmp_path: Path, text: str, today: str, capsys: pytest.CaptureFixture[str]) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    assert main(["config", "check", str(path), "--today", today]) == 0
    return capsys.readouterr().err


def test_default_config_today_names_what_auto_does_and_the_lines_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = check(tmp_path, "device_id: test\n", "2026-12-02", capsys)
    assert (
        "openai.legacy_model gpt-4o-realtime-preview was shut down on 2026-05-07; "
        "successor: gpt-realtime-1.5; model_selection auto uses gpt-realtime-1.5 instead "
        "(to move: set openai.legacy_model: gpt-realtime-1.5 in the file" in err
    )
    assert (
        "openai.model gpt-realtime shuts down on 2027-01-20 (49 days left); successor: "
        "gpt-realtime-2.1; from then on model_selection auto uses gpt-realtime-2.1 "
        "(to move: set openai.model: gpt-realtime-2.1 in the file" in err
    )
    assert "budget.cheaper_model" not in err  # no daily budget: the cheaper model is never used


def test_fallback_models_and_the_budget_model_are_checked_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "openai:\n  fallback_models: [gpt-realtime-mini-2025-10-06]\nbudget:\n  daily_usd: 1.0\n"
    err = check(tmp_path, text, "2027-01-21", capsys)
    assert (
        "openai.fallback_models[0] gpt-realtime-mini-2025-10-06 was shut down on 2026-07-23; "
        "successor: gpt-realtime-2.1-mini; model_selection auto uses gpt-realtime-2.1-mini "
        "instead (to move: replace gpt-realtime-mini-2025-10-06 with gpt-realtime-2.1-mini "
        "in openai.fallback_models)" in err
    )
    assert "budget.cheaper_model gpt-realtime-mini was shut down on 2027-01-20" in err
    assert "set budget.cheaper_model: gpt-realtime-2.1-mini in the file" in err


def test_a_pinned_dead_model_is_kept_and_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = check(tmp_path, "openai:\n  model_selection: legacy\n", "2026-12-02", capsys)
    assert (
        "model_selection legacy keeps it (only a proxy may still serve it) "
        "(to move: set openai.legacy_model: gpt-realtime-1.5" in err
    )


def test_an_unknown_fallback_model_is_a_config_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config({"openai": {"fallback_models": ["gpt-realtime-2.1", "gpt-nope"]}})
    text = str(caught.value)
    assert "openai.fallback_models[1]: unknown model 'gpt-nope'" in text
    assert "gpt-realtime-2.1" in text


@pytest.mark.parametrize(
    ("today", "chain"),
    [
        ("2026-05-01", "gpt-realtime, gpt-4o-realtime-preview"),
        ("2026-12-02", "gpt-realtime, gpt-realtime-1.5"),
        ("2027-01-21", "gpt-realtime-2.1, gpt-realtime-1.5"),
    ],
)
def test_models_prints_the_effective_chain_of_a_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], today: str, chain: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("device_id: test\n")
    assert main(["models", "--config", str(path), "--today", today]) == 0
    out = capsys.readouterr().out
    assert f"model_selection auto tries, in order: {chain}\n" in out
    if today == "2027-01-21":
        assert (
            "openai.model gpt-realtime was shut down on 2027-01-20: model_selection auto uses "
            "gpt-realtime-2.1 instead; to make it permanent: set openai.model: gpt-realtime-2.1"
            in out
        )
