"""`config check` lists the runtime overrides `run` applies; `config reset` drops them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from edge_voice.cli.main import main
from edge_voice.config.loading import load_config
from edge_voice.config.state_location import STATE_FILE_NAME
from edge_voice.config.store import ConfigStore

SECRET = "sk-cli-SECRET-0042"


def _config(tmp_path: Path, voice: str = "ash") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"device_id: kitchen\nstate_dir: {tmp_path / 'state'}\n"
        f"openai:\n  api_key: {SECRET}\nvoice:\n  primary: {voice}\n"
    )
    return path


def _override(path: Path) -> ConfigStore:
    """What `run` does when HA publishes voice/set and config/set."""
    store = ConfigStore(load_config(path, env={}))
    store.set_voice("marin")
    store.apply_patch({"budget": {"daily_usd": 2.5}})
    return store


def test_check_without_overrides_says_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path)
    assert main(["config", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"# runtime overrides: none ({tmp_path / 'state' / STATE_FILE_NAME})" in out
    assert not (tmp_path / "state").exists()  # a check writes nothing


def test_check_lists_overrides_apart_from_the_file_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path)
    _override(path)
    state = (tmp_path / "state" / STATE_FILE_NAME).read_text()
    _config(tmp_path, voice="sage")  # the user edits the file afterwards
    assert main(["config", "check", str(path)]) == 0
    out = capsys.readouterr()
    effective = yaml.safe_load(out.out)  # the overrides are comments: stdout stays the file's
    assert effective["voice"]["primary"] == "sage"
    lines = [line for line in out.out.splitlines() if line.startswith("#   ")]
    assert lines[0].startswith('#   voice.primary = "marin" (mqtt:voice/set, ')
    assert lines[0].endswith('the config file says "sage" (edited since the last start, was "ash")')
    assert lines[1].startswith("#   budget.daily_usd = 2.5 (mqtt:config/set, ")
    assert "edge_voice/kitchen/config/reset" in lines[2] and "edge-voice config reset" in lines[2]
    assert "# runtime overrides: 2, kept in" in out.out
    assert SECRET not in out.out + out.err
    assert (tmp_path / "state" / STATE_FILE_NAME).read_text() == state


def test_check_warns_about_an_unusable_state_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / STATE_FILE_NAME).write_text("[]")
    assert main(["config", "check", str(path)]) == 0
    assert "is unusable" in capsys.readouterr().err


def test_reset_of_one_key_then_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path)
    _override(path)
    assert main(["config", "reset", "--config", str(path), "voice.primary"]) == 0
    out = capsys.readouterr().out
    assert "dropped 1 runtime override(s)" in out and 'voice.primary = "marin"' in out
    assert "kept: budget.daily_usd" in out
    store = ConfigStore(load_config(path, env={}))
    assert store.effective.voice.primary == "ash"
    assert store.runtime_overrides == {"budget": {"daily_usd": 2.5}}
    assert store.history()[-1].source == "cli:config reset"
    assert main(["config", "reset", "--config", str(path)]) == 0
    assert "dropped 1 runtime override(s)" in capsys.readouterr().out
    assert ConfigStore(load_config(path, env={})).runtime_overrides == {}
    assert main(["config", "reset", "--config", str(path)]) == 0
    assert "no runtime overrides in" in capsys.readouterr().out


def test_reset_of_an_unknown_key_fails_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path)
    _override(path)
    before = json.loads((tmp_path / "state" / STATE_FILE_NAME).read_text())
    assert main(["config", "reset", "--config", str(path), "voice", "budget.daily"]) == 2
    err = capsys.readouterr().err
    assert "'budget.daily' is not a config key" in err and "nothing changed" in err
    assert json.loads((tmp_path / "state" / STATE_FILE_NAME).read_text()) == before
