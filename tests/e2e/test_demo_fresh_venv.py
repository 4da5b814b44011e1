"""`edge-voice demo` from a fresh virtualenv, installed as a newcomer would: it exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import wave
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(600)


def test_demo_runs_offline_from_a_fresh_venv(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # A regular (non-editable) install: proves the catalog, scenario and WAVs ship in the package.
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"{ROOT}[demo]"],
        capture_output=True,
        text=True,
        check=False,
        timeout=540,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "OPENAI_API_KEY" and not k.startswith("EDGE_VOICE")
    }
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    work = tmp_path / "cwd"  # not the source tree: the installed package must stand alone
    work.mkdir()
    demo = subprocess.run(
        [str(env_dir / "bin" / "edge-voice"), "demo", "--fast", "--mqtt-port", "1"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "using the bundled Realtime simulator" in demo.stdout
    assert "embedded broker" in demo.stdout
    assert "assistant: The kitchen light is on." in demo.stdout
    assert "/event/function_call" in demo.stdout
    with wave.open(str(work / "edge_voice_demo_reply.wav")) as wav:
        assert wav.getnframes() > 24000
    assert sys.executable not in demo.stdout
