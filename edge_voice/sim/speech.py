"""The default scenario's replies as real speech: espeak-ng renderings bundled with the package.

`scripts/render_sim_speech.py` renders them (16 kHz mono PCM16 WAVs, small) with an index of
text → file. Here they are fitted to the length the simulator gives the reply (so usage and
timing stay what they were) and resampled to the Realtime API's 24 kHz. Text no bundled
rendering has keeps the synthetic tone.
"""

from __future__ import annotations

import functools
import io
import json
import wave
from importlib import resources

import numpy as np
import soxr
from numpy.typing import NDArray

from edge_voice.sim.audio_synth import SAMPLE_RATE

SPEECH_DIR = ("assets", "sim", "speech")
INDEX = "index.json"


@functools.cache
def _index() -> dict[str, str]:
    """Reply text → bundled WAV file name (empty when nothing is bundled)."""
    path = resources.files("edge_voice").joinpath(*SPEECH_DIR, INDEX)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text("utf-8"))
    return {str(k): str(v) for k, v in data.items()}


@functools.cache
def _samples(name: str) -> NDArray[np.float32]:
    """The bundled rendering at 24 kHz, as float samples."""
    data = resources.files("edge_voice").joinpath(*SPEECH_DIR, name).read_bytes()
    with wave.open(io.BytesIO(data), "rb") as wav:
        rate = wav.getframerate()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    audio = pcm.astype(np.float32) / 32768.0
    return np.asarray(soxr.resample(audio, rate, SAMPLE_RATE), dtype=np.float32)


def has_speech(text: str) -> bool:
    """Whether `text` has a bundled rendering."""
    return text.strip() in _index()


def bundled_speech(text: str, duration_ms: int) -> bytes | None:
    """`text` spoken, exactly `duration_ms` long (24 kHz PCM16), or None if none is bundled.

    Shorter renderings end in silence; a longer one (a faster `speed`) is sped up to fit.
    """
    name = _index().get(text.strip())
    if name is None:
        return None
    n = duration_ms * SAMPLE_RATE // 1000
    if n <= 0:
        return b""
    audio = _samples(name)
    if len(audio) > n:
        audio = np.asarray(soxr.resample(audio, len(audio), n), dtype=np.float32)[:n]
    out = np.zeros(n, dtype=np.float32)
    out[: len(audio)] = audio
    return (np.clip(out, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
