"""Make the bundled earcons (edge_voice/assets/earcons/*.wav) from sine tones with numpy.

Run after changing a tone:  .venv/bin/python -m tools.make_earcons
Each is a 24 kHz mono PCM16 WAV (the sink's rate, so nothing is resampled when it plays):
`wake` two rising notes, `listen_end` the same falling, `error` two low, rougher notes.
Every note fades in and out over 6 ms, so the sound starts and ends without a click.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Final

import numpy as np

OUT: Final = Path(__file__).resolve().parents[1] / "edge_voice" / "assets" / "earcons"
RATE: Final = 24_000
FADE_S: Final = 0.006
#: (frequency Hz, seconds, third-harmonic share) per note, and the peak level (full scale 1).
EARCONS: Final[dict[str, tuple[list[tuple[float, float, float]], float]]] = {
    "wake": ([(659.25, 0.07, 0.0), (880.0, 0.09, 0.0)], 0.35),
    "listen_end": ([(880.0, 0.06, 0.0), (659.25, 0.08, 0.0)], 0.3),
    "error": ([(330.0, 0.12, 0.25), (247.0, 0.16, 0.25)], 0.35),
}


def note(freq: float, seconds: float, harmonic: float) -> np.ndarray:
    """One note with a raised-cosine fade at both ends (float, peak 1)."""
    t = np.arange(int(RATE * seconds)) / RATE
    wave_ = np.sin(2 * np.pi * freq * t) + harmonic * np.sin(2 * np.pi * 3 * freq * t)
    fade = int(RATE * FADE_S)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade))
    envelope = np.ones_like(t)
    envelope[:fade], envelope[-fade:] = ramp, ramp[::-1]
    out: np.ndarray = wave_ * envelope / (1 + harmonic)
    return out


def render(notes: list[tuple[float, float, float]], level: float) -> bytes:
    """The PCM16 bytes of the notes, one after the other."""
    samples = np.concatenate([note(*n) for n in notes]) * level
    return np.round(samples * 32767).astype("<i2").tobytes()


def main() -> None:
    """Write every earcon."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (notes, level) in EARCONS.items():
        with wave.open(str(OUT / f"{name}.wav"), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(render(notes, level))
        print(f"{OUT / name}.wav")


if __name__ == "__main__":
    main()
