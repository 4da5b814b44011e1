"""A synthetic wake-word corpus made on the spot with espeak-ng, so the eval runs anywhere.

Positives: each wake word said by several voices at several speeds and pitches, clean and with
noise at several SNRs. Negatives: ordinary household speech by the same voices, and noise.
Files are written at espeak-ng's own rate (22.05 kHz), so the eval resamples them exactly as the
service resamples a file or a microphone.
"""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from edge_voice.audio.pcm import Int16Array

#: How espeak-ng says each built-in wake word best (spelled as said where it misreads).
PHRASES: Final = {
    "hey_jarvis": "hey jarvis",
    "okay_nabu": "okay naboo",  # en-us says "nabu" as /n'abu:/ when spelled so
    "alexa": "alexa",
    "hey_mycroft": "hey my croft",  # espeak-ng reads "mycroft" as "mick-roft"
    "hey_rhasspy": "hey rhasspy",
}
VOICES: Final = ("en-us", "en", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us-nyc")
SPEEDS: Final = (130, 160, 190)
PITCHES: Final = (35, 50, 70)
SNRS_DB: Final = (None, 20.0, 10.0)
"""Noise levels: None is clean."""
OTHER_SPEECH: Final = (
    "the weather is nice today, I will go for a walk",
    "could you put the kettle on, please",
    "the children are doing their homework in the kitchen",
    "we need to buy milk, bread and some apples",
    "the news said the train will be late tomorrow morning",
    "turn the page and read the next chapter aloud",
    "my sister is visiting us next weekend with her dog",
    "the football match starts at eight in the evening",
    "dinner is almost ready, wash your hands",
    "I think the garden needs watering after this heat",
    "the meeting was moved to Thursday afternoon",
    "please close the window, it is getting cold",
)
RATE: Final = 22_050  # espeak-ng's output rate


@dataclass(frozen=True, slots=True)
class Utterance:
    """One rendering: text, espeak-ng voice, speed (words per minute), pitch (0-99), noise."""

    text: str
    voice: str = "en-us"
    speed: int = 160
    pitch: int = 50
    snr_db: float | None = None

    @property
    def stem(self) -> str:
        """A file name for it."""
        noise = "clean" if self.snr_db is None else f"snr{self.snr_db:g}"
        slug = "".join(c if c.isalnum() else "_" for c in self.text)[:24]
        return f"{slug}-{self.voice}-s{self.speed}-p{self.pitch}-{noise}"


@dataclass(frozen=True, slots=True)
class CorpusSize:
    """How many renderings: voices × speeds × pitches × noise levels, and negative minutes."""

    voices: Sequence[str] = VOICES
    speeds: Sequence[int] = SPEEDS
    pitches: Sequence[int] = PITCHES
    snrs_db: Sequence[float | None] = SNRS_DB
    negative_s: float = 300.0


QUICK: Final = CorpusSize(("en-us", "en"), (160,), (50,), (None, 10.0), 40.0)


def espeak() -> str:
    """The espeak-ng executable, or RuntimeError saying how to get it."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise RuntimeError(
            "the synthetic corpus needs espeak-ng (apt-get install espeak-ng); "
            "or give --positive/--negative folders of your own recordings"
        )
    return path


def render(utterance: Utterance, *, pad_s: float = 0.5, seed: int = 0) -> Int16Array:
    """The utterance as int16 samples at `RATE`, `pad_s` of silence around it, noise added."""
    u = utterance
    argv = [espeak(), "-v", u.voice, "-s", str(u.speed), "-p", str(u.pitch), "--stdout", u.text]
    out = subprocess.run(  # noqa: S603 - our own argv, no shell
        argv,
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(out), "rb") as source:
        speech = np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16)
    silence = np.zeros(round(pad_s * RATE), dtype=np.int16)
    samples = np.concatenate([silence, speech, silence])
    if utterance.snr_db is None:
        return samples
    return add_noise(samples, utterance.snr_db, np.random.default_rng(seed))


def add_noise(samples: Int16Array, snr_db: float, rng: np.random.Generator) -> Int16Array:
    """Pink-ish noise at `snr_db` below the signal's power (measured where it is not silent)."""
    signal = samples.astype(np.float64)
    voiced = signal[np.abs(signal) > 100]
    power = float(np.mean(voiced**2)) if voiced.size else 1.0
    white = rng.standard_normal(len(signal))
    pink = np.cumsum(white) * 0.02 + white  # a little low end, like a room
    pink -= np.convolve(pink, np.ones(256) / 256, mode="same")  # no DC drift
    pink *= np.sqrt(power / 10 ** (snr_db / 10) / np.mean(pink**2))
    mixed: Int16Array = np.clip(signal + pink, -32768, 32767).astype(np.int16)
    return mixed


def write_wav(path: Path, samples: Int16Array, rate: int = RATE, channels: int = 1) -> Path:
    """Write int16 samples (interleaved if `channels` > 1) as a PCM16 WAV."""
    with wave.open(str(path), "wb") as sink:
        sink.setnchannels(channels)
        sink.setsampwidth(2)
        sink.setframerate(rate)
        sink.writeframes(samples.tobytes())
    return path


def utterances(text: str, size: CorpusSize) -> Iterator[Utterance]:
    """Every rendering of `text` the size asks for."""
    for voice, speed, pitch, snr in itertools.product(
        size.voices, size.speeds, size.pitches, size.snrs_db
    ):
        yield Utterance(text, voice, speed, pitch, snr)


def make_positives(directory: Path, phrases: dict[str, str], size: CorpusSize) -> Path:
    """`directory/<wake word>/*.wav` for every phrase; returns `directory`."""
    for seed, (word, text) in enumerate(phrases.items()):
        folder = directory / word
        folder.mkdir(parents=True, exist_ok=True)
        for i, utterance in enumerate(utterances(text, size)):
            write_wav(folder / f"{utterance.stem}.wav", render(utterance, seed=seed * 1000 + i))
    return directory


def make_negatives(directory: Path, size: CorpusSize, *, seed: int = 7) -> Path:
    """About `size.negative_s` seconds of other speech (some noisy) and plain noise."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    total, chunk, n = 0.0, [], 0
    # Text changes fastest, then voice, speed and pitch: 648 different renderings.
    combos = itertools.product(PITCHES, SPEEDS, VOICES, OTHER_SPEECH)
    for i, (pitch, speed, voice, text) in enumerate(itertools.cycle(combos)):
        snr = 15.0 if i % 3 == 2 else None
        if total >= size.negative_s * 0.9:
            break
        samples = render(Utterance(text, voice, speed, pitch, snr), pad_s=0.3, seed=seed + i)
        chunk.append(samples)
        total += len(samples) / RATE
        if sum(len(c) for c in chunk) >= 60 * RATE:  # one file per minute of speech
            write_wav(directory / f"speech_{n:03d}.wav", np.concatenate(chunk))
            chunk, n = [], n + 1
    if chunk:
        write_wav(directory / f"speech_{n:03d}.wav", np.concatenate(chunk))
    write_wav(directory / "noise.wav", room_noise(size.negative_s * 0.1, rng))
    return directory


def room_noise(seconds: float, rng: np.random.Generator, rms: float = 2000.0) -> Int16Array:
    """Pink-ish noise with a mains hum, louder and softer by turns (a fan, a fridge, a street)."""
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3))
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * t / 7.0)
    white = rng.standard_normal(n)
    pink = np.cumsum(white) * 0.02 + white
    pink -= np.convolve(pink, np.ones(256) / 256, mode="same")
    signal = (pink / np.std(pink) + 0.3 * hum) * swell * rms
    noise: Int16Array = np.clip(signal, -32768, 32767).astype(np.int16)
    return noise
