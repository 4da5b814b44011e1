"""`edge-voice run` setup errors: one clear line and exit 2, never a traceback or the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_voice.cli.main import main
from edge_voice.config.loading import load_config
from edge_voice.config.store import ConfigStore


def test_no_api_key_for_the_official_endpoint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["run", "--source", "wav:x.wav", "--sink", "null"]) == 2
    assert "no OpenAI API key: set OPENAI_API_KEY" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("wav:/nonexistent/audio.wav", "/nonexistent/audio.wav: no such file"),
        ("bogus:x", "unknown audio source 'bogus:x'; expected one of: mic[:DEVICE], wav:PATH"),
    ],
)
def test_bad_source_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], source: str, message: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unit-secret-0001")
    assert main(["run", "--source", source, "--sink", "null"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and "sk-unit-secret-0001" not in err


def test_a_state_file_of_another_device_stops_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unit-secret-0001")
    shared = tmp_path / "shared"
    for device in ("kitchen", "hall"):
        (tmp_path / f"{device}.yaml").write_text(f"device_id: {device}\nstate_dir: {shared}\n")
    ConfigStore(load_config(tmp_path / "kitchen.yaml", env={}))
    assert (
        main(
            ["run", "--config", str(tmp_path / "hall.yaml"), "--sink", "null", "--source", "stdin"]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "written for device 'kitchen', not 'hall'" in err
    assert "Traceback" not in err
