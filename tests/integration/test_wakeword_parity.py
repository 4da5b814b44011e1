"""Parity: the service's audio path loses no detections against the bare engines.

One corpus (both engines' wake words, several voices and speeds, some with noise) is written at
16, 44.1 and 48 kHz, mono and stereo. The service reads each file with its WAV source
(streaming resampling, mono mixdown, 80 ms framing) into its detector; the bare engines
(pyopen-wakeword, pymicro-wakeword, nothing of ours) get the same file mixed down and resampled
at once with soxr. Each word's detections through the service are at least 0.99× the bare ones.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soxr
from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures
from pymicro_wakeword import Model as MicroModel
from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

from edge_voice.audio.sources import parse_source
from edge_voice.audio.wakeword import WakeWordDetector
from edge_voice.config.schema import WakewordConfig
from edge_voice.wakeword_eval.corpus import PHRASES, RATE, Utterance, render, write_wav
from tests.support.speech import require_espeak

REFRACTORY_S = 1.5  # utterances are >= 2 s apart
VARIANTS = [(rate, channels) for rate in (16_000, 44_100, 48_000) for channels in (1, 2)]
UTTERANCES = [
    Utterance(PHRASES[word], voice, speed, pitch, snr)
    for word in ("hey_jarvis", "okay_nabu")
    for voice, speed, pitch, snr in [
        ("en-us", 160, 50, None),
        ("en", 130, 35, 10.0),
        ("en-gb-scotland", 190, 70, None),
        ("en-gb-x-rp", 160, 50, 5.0),
    ]
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[int, int], Path]]:
    """The corpus as one WAV per (rate, channels)."""
    require_espeak()
    gap = np.zeros(RATE, dtype=np.int16)
    audio = np.concatenate(
        [gap, *(np.concatenate([render(u, seed=i), gap]) for i, u in enumerate(UTTERANCES))]
    )
    directory = tmp_path_factory.mktemp("parity")
    files = {}
    for rate, channels in VARIANTS:
        mono = soxr.resample(audio, RATE, rate, quality="VHQ")
        # The right channel is quieter and slightly late, so the mixdown is not a no-op.
        samples = (
            mono
            if channels == 1
            else np.stack([mono, (0.6 * np.roll(mono, 7)).astype(np.int16)], axis=1).reshape(-1)
        )
        files[(rate, channels)] = write_wav(
            directory / f"corpus_{rate}_{channels}.wav", samples, rate, channels
        )
    yield files


def _refractory(times: list[float]) -> int:
    count, blocked = 0, -1.0
    for t in times:
        if t >= blocked:
            count, blocked = count + 1, t + REFRACTORY_S
    return count


def bare(path: Path) -> dict[str, int]:
    """Detections of the bare engines on the file mixed down and resampled with soxr at once."""
    with wave.open(str(path), "rb") as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    mono = raw.reshape(-1, channels).mean(axis=1)
    pcm = np.round(soxr.resample(mono, rate, 16_000)).astype(np.int16).tobytes()
    features, jarvis = (
        OpenWakeWordFeatures.from_builtin(),
        OpenWakeWord.from_builtin(Model.HEY_JARVIS),
    )
    ow_times, step = [], 2560
    for i in range(0, len(pcm), step):
        for embedding in features.process_streaming(pcm[i : i + step]):
            if any(p >= 0.5 for p in jarvis.process_streaming(embedding)):
                ow_times.append((i + step) / 32_000)
    micro_features, nabu = MicroWakeWordFeatures(), MicroWakeWord.from_builtin(MicroModel.OKAY_NABU)
    micro_times = [
        (step + 1) * 0.01
        for step, chunk in enumerate(micro_features.process_streaming(pcm))
        if nabu.process_streaming(chunk)
    ]
    jarvis.close()
    features.close()
    nabu.close()
    return {"hey_jarvis": _refractory(ow_times), "okay_nabu": _refractory(micro_times)}


async def service(path: Path) -> dict[str, int]:
    """Detections of the service's detector on the file read by the service's WAV source."""
    config = WakewordConfig(
        models=["hey_jarvis", "okay_nabu"],
        refractory_s=REFRACTORY_S,
        words={"okay_nabu": {"engine": "microwakeword"}},
    )
    counts = {"hey_jarvis": 0, "okay_nabu": 0}
    with WakeWordDetector.from_config(config) as detector:
        async with parse_source(f"wav:{path}", fast=True) as source:
            async for frame in source:
                for detection in detector.process(frame):
                    counts[detection.name] += 1
    return counts


@pytest.mark.parametrize(("rate", "channels"), VARIANTS)
async def test_the_service_path_detects_as_much_as_the_bare_engines(
    rate: int, channels: int, corpus: dict[tuple[int, int], Path]
) -> None:
    path = corpus[(rate, channels)]
    ours, theirs = await service(path), bare(path)
    print(f"{rate} Hz × {channels}: service {ours}, bare {theirs}")
    for word in ("hey_jarvis", "okay_nabu"):
        assert theirs[word] >= 3, f"the corpus must be heard at all: {theirs}"
        assert ours[word] >= 0.99 * theirs[word], (
            f"{rate} Hz × {channels}: ours {ours}, bare {theirs}"
        )
        assert ours[word] <= len(UTTERANCES) // 2, f"more detections than utterances: {ours}"
