"""`edge-voice run` setup errors: one clear line and exit 2, never a traceback or the key."""

from __future__ import annotations

import pytest

from edge_voice.cli.main import main


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
