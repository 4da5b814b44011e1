#!/usr/bin/env python3
"""Render the default scenario's replies with espeak-ng into edge_voice/assets/sim/speech/.

Run once after changing edge_voice/assets/sim/default.yaml:
    .venv/bin/python scripts/render_sim_speech.py
Each reply becomes a 16 kHz mono PCM16 WAV (the simulator resamples to 24 kHz), spoken fast
enough to fit the length the simulator gives it (70 ms per character), plus index.json.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import soxr

from edge_voice.sim.audio_synth import speech_duration_ms
from edge_voice.sim.scenario import Scenario, default_scenario

OUT = Path(__file__).resolve().parents[1] / "edge_voice" / "assets" / "sim" / "speech"
RATE = 16_000
VOICE = "en-us"


def replies(scenario: Scenario) -> list[str]:
    """Every text the scenario speaks."""
    texts: list[str] = []
    for turn in [*scenario.turns, scenario.fallback]:
        texts += [t for t in (turn.say, turn.after_call, turn.otherwise) if t]
    texts += [scenario.idle_reply, scenario.waiting_reply]
    return list(dict.fromkeys(t.strip() for t in texts))


def render(text: str, speed: int) -> np.ndarray:
    """espeak-ng's rendering of `text` at `speed` words per minute, at RATE."""
    wav_bytes = subprocess.run(
        ["espeak-ng", "-v", VOICE, "-s", str(speed), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        rate = wav.getframerate()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    audio = soxr.resample(pcm.astype(np.float32) / 32768.0, rate, RATE)
    return np.asarray(audio, dtype=np.float32)


def fitted(text: str) -> np.ndarray:
    """The slowest natural rendering that fits the simulator's length for `text`."""
    limit = speech_duration_ms(text) * RATE // 1000
    for speed in range(160, 261, 10):
        audio = render(text, speed)
        if len(audio) <= limit:
            return audio
    return audio


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.wav"):
        old.unlink()
    index: dict[str, str] = {}
    for text in replies(default_scenario()):
        audio = fitted(text)
        peak = float(np.max(np.abs(audio))) or 1.0
        pcm = (audio * (0.7 / peak) * 32767.0).astype("<i2")
        name = hashlib.sha1(text.encode()).hexdigest()[:12] + ".wav"
        with wave.open(str(OUT / name), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(pcm.tobytes())
        index[text] = name
        print(f"{name}  {len(pcm) / RATE:.2f} s  {text}")
    (OUT / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
