"""`edge-voice config check` and `config migrate` on old and new files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edge_voice.cli.main import main
from edge_voice.config.loading import load_config

SECRET = "sk-old-secret-123456"
OLD = f"""\
openai:
  model: gpt-4o-realtime-preview
  voice: alloy
  api_key: {SECRET}
mqtt:
  host: broker.lan
  password: hunter2-secret
"""


def test_check_prints_redacted_effective_config_and_lifecycle_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path = tmp_path / "config.yaml"
    path.write_text(OLD)
    assert main(["config", "check", str(path), "--today", "2026-11-24"]) == 0
    out = capsys.readouterr()
    effective = yaml.safe_load(out.out)
    assert effective["openai"]["model"] == "gpt-4o-realtime-preview"
    assert effective["openai"]["api_key"] == "<redacted>"
    assert effective["mqtt"]["password"] == "<redacted>"
    assert SECRET not in out.out + out.err and "hunter2-secret" not in out.out + out.err
    assert (
        "gpt-4o-realtime-preview was shut down on 2026-05-07; successor: gpt-realtime-1.5"
        in out.err
    )
    assert "openai.api_key is set in the file (deprecated)" in out.err


def test_check_warns_that_gpt_realtime_is_within_90_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("openai:\n  model_selection: new\n")
    assert main(["config", "check", str(path), "--today", "2026-11-24"]) == 0
    err = capsys.readouterr().err
    assert (
        "gpt-realtime shuts down on 2027-01-20 (57 days left); successor: gpt-realtime-2.1" in err
    )
    assert "legacy_model" not in err  # model_selection: new never connects to the legacy model
    assert main(["config", "check", str(path), "--today", "2026-06-01"]) == 0
    assert "shuts down" not in capsys.readouterr().err  # 233 days left: no warning yet


def test_check_explains_voice_mapping_on_the_legacy_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("voice:\n  primary: cedar\n  fallback: marin\n")
    assert main(["config", "check", str(path)]) == 0
    err = capsys.readouterr().err
    assert "gpt-4o-realtime-preview has no voice cedar; using ash" in err


def test_migrate_in_place_keeps_choices_and_a_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(OLD)
    assert main(["config", "migrate", str(path)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "config.yaml.bak").read_text() == OLD
    migrated = yaml.safe_load(path.read_text())
    assert migrated["voice"] == {"primary": "alloy"}
    assert "voice" not in migrated["openai"]
    assert migrated["openai"]["model"] == "gpt-4o-realtime-preview"
    assert migrated["openai"]["api_key"] == SECRET  # the user's file keeps the user's key
    assert "openai.voice: alloy → voice.primary: alloy (kept)" in out
    assert "openai.model: gpt-4o-realtime-preview kept" in out
    assert SECRET not in out
    old_cfg = load_config(tmp_path / "config.yaml.bak", env={})
    assert load_config(path, env={}) == old_cfg  # the same effective config before and after


def test_migrate_to_a_new_file_leaves_the_old_one(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text("openai:\n  voice: sage\n")
    assert main(["config", "migrate", str(old), str(new)]) == 0
    assert old.read_text() == "openai:\n  voice: sage\n"
    assert yaml.safe_load(new.read_text()) == {"voice": {"primary": "sage"}}
    assert load_config(new, env={}).openai.model == "gpt-realtime"
    assert main(["config", "migrate", str(old), str(new)]) == 0
    assert (tmp_path / "new.yaml.bak").exists()  # an existing target is backed up too


def test_python_dash_m_runs_the_cli() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "edge_voice", "models", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"model": "gpt-realtime"' in done.stdout
