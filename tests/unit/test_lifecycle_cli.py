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


def test_default_config_today_prints_each_fact_once_expected_ones_as_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = check(tmp_path, "device_id: test\n", "2026-12-02", capsys)
    lines = err.splitlines()
    assert lines[0] == (
        "warning: openai.model gpt-realtime shuts down on 2027-01-20 (49 days left): "
        "from then on model_selection auto uses gpt-realtime-2.1; "
        "to move: set openai.model: gpt-realtime-2.1"
    )
    # Its own default legacy model, replaced while the primary lives: what the defaults plan for.
    assert lines[1] == (
        "note: openai.legacy_model gpt-4o-realtime-preview was shut down on 2026-05-07: "
        "model_selection auto uses gpt-realtime-1.5 instead; "
        "to make it permanent: set openai.legacy_model: gpt-realtime-1.5"
    )
    # Named, so checked, even without a daily budget: it is what a budget switch would use.
    assert lines[2].startswith(
        "warning: budget.cheaper_model gpt-realtime-mini shuts down on 2027-01-20"
    )
    assert lines[3].startswith("note: the beta interface (used by gpt-4o-realtime-preview)")
    assert lines[4] == (
        f"note: `edge-voice config migrate {tmp_path / 'config.yaml'}` offers the live "
        "successor of each shut-down model the file names"
    )
    assert len(lines) == 5
    assert err.count("config migrate") == 1


def test_fallback_models_and_the_budget_model_are_checked_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "openai:\n  fallback_models: [gpt-realtime-mini-2025-10-06]\nbudget:\n  daily_usd: 1.0\n"
    err = check(tmp_path, text, "2027-01-21", capsys)
    assert (
        "warning: openai.fallback_models[0] gpt-realtime-mini-2025-10-06 was shut down on "
        "2026-07-23: model_selection auto uses gpt-realtime-2.1-mini instead; to make it "
        "permanent: replace gpt-realtime-mini-2025-10-06 with gpt-realtime-2.1-mini in "
        "openai.fallback_models" in err
    )
    assert (
        "warning: budget.cheaper_model gpt-realtime-mini was shut down on 2027-01-20: "
        "model_selection auto uses gpt-realtime-2.1-mini instead; "
        "to make it permanent: set budget.cheaper_model: gpt-realtime-2.1-mini" in err
    )


def test_a_pinned_dead_model_is_kept_and_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = check(tmp_path, "openai:\n  model_selection: legacy\n", "2026-12-02", capsys)
    assert (
        "warning: openai.legacy_model gpt-4o-realtime-preview was shut down on 2026-05-07: "
        "model_selection legacy keeps it (only a proxy may still serve it); "
        "to move: set openai.legacy_model: gpt-realtime-1.5" in err
    )
    # Pinned, the voice mapping is not expected: the user hears another voice than asked.
    assert "warning: openai.legacy_model: gpt-4o-realtime-preview has no voice cedar" in err
    # `legacy` never switches to the budget's model: it is named, but not used.
    assert (
        "budget.cheaper_model gpt-realtime-mini shuts down on 2027-01-20 (49 days left): "
        "model_selection legacy does not use it" in err
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
