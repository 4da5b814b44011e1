"""Real speech for tests: espeak-ng renders text, soxr resamples it to 16 kHz mono PCM16 WAV."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from edge_voice.audio.pcm import FRAME_BYTES, SOURCE_RATE
from edge_voice.audio.resample import resample

SKIP_REASON = "espeak-ng is not installed (apt-get install espeak-ng; CI installs it)"


def require_espeak() -> str:
    """The espeak-ng executable, or skip the calling test with the reason."""
    path = shutil.which("espeak-ng")
    if path is None:
        pytest.skip(SKIP_REASON)
    return path


@dataclass(frozen=True)
class Speech:
    """One utterance: text, espeak-ng voice and speed (words per minute), silence around it."""

    text: str
    voice: str = "en-us"
    speed: int = 150
    pad_s: float = 0.5

    @property
    def key(self) -> str:
        """A file-name-safe cache key."""
        digest = hashlib.sha1(repr(self).encode(), usedforsecurity=False).hexdigest()[:12]
        slug = "".join(c if c.isalnum() else "_" for c in self.text)[:32]
        return f"{slug}-{self.voice}-{self.speed}-{digest}"


class SpeechCache:
    """Renders utterances once into a directory (use one per test session) and reads them back."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.espeak = require_espeak()

    def wav(self, speech: Speech) -> Path:
        """A 16 kHz mono PCM16 WAV of the utterance with `pad_s` of silence on both sides."""
        out = self.directory / f"{speech.key}.wav"
        if out.exists():
            return out
        raw = self.directory / f"{speech.key}.espeak.wav"
        subprocess.run(
            [self.espeak, "-v", speech.voice, "-s", str(speech.speed), "-w", str(raw), speech.text],
            check=True,
            capture_output=True,
        )
        with wave.open(str(raw), "rb") as source:
            rate = source.getframerate()
            samples = np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16)
        silence = np.zeros(round(speech.pad_s * SOURCE_RATE), dtype=np.int16)
        audio = np.concatenate([silence, resample(samples, rate, SOURCE_RATE), silence])
        with wave.open(str(out), "wb") as sink:
            sink.setnchannels(1)
            sink.setsampwidth(2)
            sink.setframerate(SOURCE_RATE)
            sink.writeframes(audio.tobytes())
        raw.unlink()
        return out

    def pcm(self, speech: Speech) -> bytes:
        """The utterance as raw PCM16 mono 16 kHz bytes."""
        with wave.open(str(self.wav(speech)), "rb") as source:
            return source.readframes(source.getnframes())

    def frames(self, speech: Speech) -> list[bytes]:
        """The utterance as 80 ms frames, the last one padded with silence."""
        pcm = self.pcm(speech)
        return [
            pcm[i : i + FRAME_BYTES].ljust(FRAME_BYTES, b"\x00")
            for i in range(0, len(pcm), FRAME_BYTES)
        ]
