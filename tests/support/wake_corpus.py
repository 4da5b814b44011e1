"""The wake-word test corpora, made once per test session with the eval's own espeak-ng corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from edge_voice.wakeword_eval import corpus
from tests.support.speech import require_espeak

#: 4 voices × 2 speeds × 2 pitches, clean: 16 utterances per wake word (the issue used 72).
RECALL_SIZE: Final = corpus.CorpusSize(
    ("en-us", "en", "en-gb-scotland", "en-gb-x-rp"), (130, 190), (35, 70), (None,), 0.0
)
#: About ten minutes of other speech (a third of it with noise at 15 dB SNR) and noise.
NEGATIVE_SIZE: Final = corpus.CorpusSize(negative_s=600.0)


def _made(directory: Path) -> bool:
    return (directory / ".done").exists()


def positives(factory: pytest.TempPathFactory) -> Path:
    """`<dir>/<wake word>/*.wav` at 22.05 kHz for every built-in phrase."""
    require_espeak()
    directory = factory.getbasetemp() / "wake_positives"
    if not _made(directory):
        corpus.make_positives(directory, corpus.PHRASES, RECALL_SIZE)
        (directory / ".done").touch()
    return directory


def negatives(factory: pytest.TempPathFactory) -> Path:
    """About ten minutes of WAVs without a wake word."""
    require_espeak()
    directory = factory.getbasetemp() / "wake_negatives"
    if not _made(directory):
        corpus.make_negatives(directory, NEGATIVE_SIZE)
        (directory / ".done").touch()
    return directory
