"""Render the spoken offline notice (edge_voice/assets/earcons/offline.wav) with espeak-ng.

Run after changing the text:  .venv/bin/python -m tools.make_offline_notice
espeak-ng's 22.05 kHz output is resampled to the sink's 24 kHz mono PCM16 (soxr), trimmed of
leading and trailing silence and normalised to -3 dBFS peak, so it plays as loud as an answer.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from pathlib import Path
from typing import Final

import numpy as np

from edge_voice.audio.pcm import to_mono_int16
from edge_voice.audio.resample import resample

OUT: Final = Path(__file__).resolve().parents[1] / "edge_voice" / "assets" / "earcons"
TEXT: Final = "I can't reach the assistant right now."
VOICE: Final = "en-us"
RATE: Final = 24_000
PEAK: Final = 10 ** (-3 / 20)


def speak(text: str) -> np.ndarray:
    """`text` spoken by espeak-ng, as 24 kHz int16 samples."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("needs espeak-ng (apt-get install espeak-ng)")
    wav_bytes = subprocess.run(  # noqa: S603 - our own argv, no shell
        [espeak, "-v", VOICE, "-s", "150", "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav_bytes), "rb") as wav:
        raw = wav.readframes(wav.getnframes())
        samples = to_mono_int16(raw, wav.getsampwidth(), wav.getnchannels())
        rate = wav.getframerate()
    out: np.ndarray = resample(samples, rate, RATE)
    return out


def trimmed(samples: np.ndarray, floor: int = 200) -> np.ndarray:
    """Without the silence before the first and after the last sample above `floor`."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > floor)
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples


def main() -> None:
    """Write offline.wav."""
    samples = trimmed(speak(TEXT)).astype(np.float64)
    samples *= PEAK * 32767 / max(1.0, float(np.abs(samples).max()))
    OUT.mkdir(parents=True, exist_ok=True)
    with wave.open(str(OUT / "offline.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(np.round(samples).astype("<i2").tobytes())
    print(OUT / "offline.wav")


if __name__ == "__main__":
    main()
