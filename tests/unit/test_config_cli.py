"""`edge-voice config check` and `config migrate` on old and new files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from edge_voice.cli.main import main
from edge_voice.config.legacy import migrate_file
from edge_voice.config.loading import load_config
from edge_voice.config.successors import SuccessorOffer

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
        "warning: openai.model gpt-4o-realtime-preview was shut down on 2026-05-07: "
        "model_selection auto uses gpt-realtime-1.5 instead" in out.err
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
        "warning: openai.model gpt-realtime shuts down on 2027-01-20 (57 days left): "
        "model_selection new keeps it (only a proxy may still serve it); "
        "to move: set openai.model: gpt-realtime-2.1" in err
    )
    # Named, so said (a switch to `legacy` would use it), but as a note: `new` never uses it.
    assert (
        "note: openai.legacy_model gpt-4o-realtime-preview was shut down on 2026-05-07: "
        "model_selection new does not use it" in err
    )
    assert "warning: openai.legacy_model" not in err
    assert main(["config", "check", str(path), "--today", "2026-06-01"]) == 0
    assert "shuts down" not in capsys.readouterr().err  # 233 days left: no warning yet


def test_check_explains_voice_mapping_on_the_legacy_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("voice:\n  primary: cedar\n  fallback: marin\n")
    assert main(["config", "check", str(path), "--today", "2026-05-01"]) == 0
    err = capsys.readouterr().err
    # Expected on a fallback model: a note, not a warning.
    assert "note: openai.legacy_model: gpt-4o-realtime-preview has no voice cedar; using ash" in err


def test_migrate_in_place_keeps_choices_and_a_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(OLD)
    # Before the preview models' shutdown, so nothing but the schema moves.
    assert main(["config", "migrate", str(path), "--today", "2026-04-01"]) == 0
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


def test_migrate_offers_the_live_successor_of_each_shut_down_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "openai:\n  model: gpt-4o-realtime-preview-2024-10-01\n"
        "  legacy_model: gpt-4o-realtime-preview\n"
        "budget:\n  daily_usd: 2.0\n  cheaper_model: gpt-realtime-mini\n"
    )
    assert main(["config", "migrate", str(path), "--today", "2027-01-21"]) == 0
    out = capsys.readouterr().out
    migrated = yaml.safe_load(path.read_text())
    # The 2024-10-01 snapshot's successor gpt-realtime is dead too: the chain is followed.
    assert migrated["openai"]["model"] == "gpt-realtime-2.1"
    assert migrated["openai"]["legacy_model"] == "gpt-realtime-1.5"
    assert migrated["budget"] == {"daily_usd": 2.0, "cheaper_model": "gpt-realtime-2.1-mini"}
    assert (
        "openai.legacy_model: gpt-4o-realtime-preview → gpt-realtime-1.5 "
        "(gpt-4o-realtime-preview was shut down on 2026-05-07; "
        "`--keep openai.legacy_model` keeps it)"
    ) in out
    assert "kept (an explicit choice is never changed)" not in out
    assert "2024-10-01" in (tmp_path / "config.yaml.bak").read_text()


def test_migrate_keeps_a_shut_down_model_where_the_user_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("openai:\n  model: gpt-4o-realtime-preview\n  legacy_model: gpt-realtime\n")
    argv = ["config", "migrate", str(path), "--keep", "openai.model", "--today", "2026-12-02"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    migrated = yaml.safe_load(path.read_text())
    assert migrated["openai"] == {
        "model": "gpt-4o-realtime-preview",
        "legacy_model": "gpt-realtime",  # alive until 2027-01-20: not offered
    }
    assert "openai.model: gpt-4o-realtime-preview kept as you asked" in out
    assert "in `auto` the service uses gpt-realtime-1.5 instead" in out


def test_a_declined_offer_keeps_the_files_choice(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("openai:\n  legacy_model: gpt-4o-mini-realtime-preview\n")
    asked: list[str] = []

    def decline(offer: SuccessorOffer) -> bool:
        asked.append(offer.question())
        return False

    result = migrate_file(path, today=dt.date(2026, 12, 2), confirm=decline)
    assert asked == [
        "openai.legacy_model: gpt-4o-mini-realtime-preview was shut down on 2026-05-07; "
        "use gpt-realtime-mini instead?"
    ]
    assert load_config(path, env={}).openai.legacy_model == "gpt-4o-mini-realtime-preview"
    assert any("kept as you asked" in line for line in result.changes)


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
