"""The memory's file and bound: atomic round trip, an unreadable file ignored, cut at a word."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from edge_voice.conversation.memory import MemoryFile, Remembered, bounded


def test_bounded_cuts_at_a_word_and_marks_the_cut() -> None:
    assert bounded("  Ada   likes\ntea. ", 50) == "Ada likes tea."
    cut = bounded("The user asked about the weather in Paris tomorrow", 30)
    assert len(cut) <= 30 and cut == "The user asked about the…"


def test_the_file_round_trips_and_a_broken_one_is_ignored(tmp_path: Path) -> None:
    file = MemoryFile(tmp_path / "memory.json")
    assert file.load() is None
    kept = Remembered("Ada likes tea.", dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC))
    file.save(kept)
    assert file.load() == kept and not list(tmp_path.glob("*.tmp"))
    file.path.write_text("{not json")
    assert file.load() is None
    file.clear()
    file.clear()  # twice: nothing to forget is fine
    assert not file.path.exists()
