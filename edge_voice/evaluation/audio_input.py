"""The audio a case sends: its WAV file, or its phrase spoken by espeak-ng, at the API's rate.

espeak-ng is invoked exactly as the wake word eval does it (`wakeword_eval.corpus.render`);
the result is resampled to 24 kHz mono PCM16 and followed by silence, so the session's
server VAD hears the end of the turn as it would from a microphone.
"""

from __future__ import annotations

import wave
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np

from edge_voice.audio.resample import resample
from edge_voice.evaluation.suite import CaseInput
from edge_voice.realtime.session_builders import SAMPLE_RATE
from edge_voice.wakeword_eval.corpus import RATE as ESPEAK_RATE
from edge_voice.wakeword_eval.corpus import Utterance, render

#: Silence after the speech: longer than the default `silence_duration_ms` (500 ms).
TRAILING_SILENCE_S: Final = 1.2


def _wav_samples(path: Path) -> np.ndarray[tuple[int], np.dtype[np.int16]]:
    with wave.open(str(path), "rb") as source:
        if source.getsampwidth() != 2:
            raise ValueError(f"{path}: not PCM16 ({8 * source.getsampwidth()}-bit samples)")
        channels, rate = source.getnchannels(), source.getframerate()
        samples = np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16)
    if channels > 1:  # the first channel, as the service's file source does
        samples = samples[::channels].copy()
    return resample(samples, rate, SAMPLE_RATE)


@lru_cache(maxsize=256)
def _spoken(text: str, voice: str) -> bytes:
    samples = resample(render(Utterance(text, voice=voice), pad_s=0.3), ESPEAK_RATE, SAMPLE_RATE)
    return samples.tobytes()


def case_audio(spec: CaseInput, base_dir: Path | None) -> bytes:
    """24 kHz mono PCM16 of the case's speech with trailing silence (text cases: b"")."""
    if spec.text is not None:
        return b""
    if spec.speak is not None:
        speech = _spoken(spec.speak, spec.voice)
    else:
        assert spec.wav is not None
        path = Path(spec.wav)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        speech = _wav_samples(path).tobytes()
    return speech + bytes(2 * round(TRAILING_SILENCE_S * SAMPLE_RATE))
