"""The append-only cost ledger: format, restart, torn lines, compaction."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from edge_voice.metrics.cost import TokenUsage
from edge_voice.metrics.cost_ledger import CostLedger, LedgerEntry
from edge_voice.metrics.ledger_format import nusd_to_usd, usd_to_nusd

DAY1 = dt.date(2026, 3, 1)
DAY2 = dt.date(2026, 3, 2)
TS = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


def entry(
    n: int,
    *,
    day: dt.date = DAY1,
    cost: float = 0.01,
    conversation: str | None = None,
    tokens: TokenUsage | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        response_id=f"resp_{n}",
        model="gpt-realtime",
        tokens=tokens or TokenUsage(audio_in=100 + n, audio_out=50),
        cost_usd=cost,
        date=day,
        ts=TS + dt.timedelta(seconds=n),
        conversation_id=conversation,
    )


def test_missing_file_is_an_empty_ledger_and_parent_dirs_are_created(tmp_path: Path) -> None:
    path = tmp_path / "state" / "deep" / "ledger.jsonl"
    ledger = CostLedger(path)
    assert path.parent.is_dir()
    assert not path.exists()
    assert (ledger.total_usd, ledger.responses, ledger.lines, ledger.skipped_lines) == (0, 0, 0, 0)
    assert ledger.last_conversation is None
    assert ledger.append(entry(1))
    assert path.exists()


def test_line_format(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = CostLedger(path)
    ledger.append(entry(1, cost=0.064000000000000001, conversation="c1"))
    ledger.append(entry(2, tokens=TokenUsage(text_in=7)))
    lines = path.read_text().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first == {
        "ts": "2026-03-01T12:00:01.000Z",
        "date": "2026-03-01",
        "response_id": "resp_1",
        "conversation_id": "c1",
        "model": "gpt-realtime",
        "tokens": {"audio_in": 101, "audio_out": 50},
        "cost_usd": 0.064,
    }
    assert "conversation_id" not in second
    assert second["tokens"] == {"text_in": 7}


def test_totals_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = CostLedger(path)
    ledger.append(entry(1, cost=0.25, conversation="a"))
    ledger.append(entry(2, cost=0.5, day=DAY2, conversation="b"))
    ledger.append(entry(3, cost=0.125, day=DAY2, conversation="b"))

    again = CostLedger(path)
    assert again.total_usd == pytest.approx(0.875)
    assert again.total_nusd == ledger.total_nusd
    assert again.cost_on(DAY1) == pytest.approx(0.25)
    assert again.cost_on(DAY2) == pytest.approx(0.625)
    assert again.cost_on(dt.date(2026, 3, 3)) == 0.0
    assert again.days() == [DAY1, DAY2]
    assert again.responses == 3
    assert again.tokens == TokenUsage(audio_in=101 + 102 + 103, audio_out=150)
    assert again.day(DAY2).responses == 2
    assert again.last_conversation == pytest.approx(("b", 0.625))


def test_torn_last_line_is_skipped_and_the_next_append_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = CostLedger(path)
    ledger.append(entry(1, cost=0.1))
    ledger.append(entry(2, cost=0.2))
    with path.open("ab") as f:  # a crash in the middle of a write
        f.write(b'{"ts":"2026-03-01T12:00:03.000Z","date":"2026-03-01","respo')

    restored = CostLedger(path)
    assert restored.responses == 2
    assert restored.total_usd == pytest.approx(0.3)
    assert restored.skipped_lines == 1

    restored.append(entry(3, cost=0.4))
    after = CostLedger(path)
    assert after.responses == 3
    assert after.total_usd == pytest.approx(0.7)
    assert after.skipped_lines == 1  # the fragment stays on its own line until compaction


def test_corrupt_lines_anywhere_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    good = [json.dumps(entry(n).to_record()) for n in range(3)]
    bad = [
        "not json",
        "[1, 2]",
        '{"date": "2026-03-01"}',
        '{"date": "yesterday", "cost_usd": 1}',
        '{"date": "2026-03-01", "cost_usd": 1, "tokens": {"bogus_in": 1}}',
        '{"date": "2026-03-01", "cost_usd": "NaN"}',
        '{"date": "2026-03-01", "cost_usd": 1, "kind": "future_kind"}',
    ]
    path.write_text("\n".join([good[0], *bad, good[1], "", "  ", good[2]]) + "\n")
    ledger = CostLedger(path)
    assert ledger.responses == 3
    assert ledger.skipped_lines == len(bad)
    assert ledger.total_usd == pytest.approx(0.03)


def test_write_failure_keeps_memory_totals_and_reports_false(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = CostLedger(path)
    ledger.append(entry(1, cost=0.1))

    def full_disk(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", full_disk)
        assert ledger.append(entry(2, cost=0.2)) is False
    assert ledger.write_errors == 1
    assert ledger.total_usd == pytest.approx(0.3)
    assert ledger.append(entry(3, cost=0.4))
    assert CostLedger(path).total_usd == pytest.approx(0.5)


def test_memory_only_ledger(tmp_path: Path) -> None:
    ledger = CostLedger(None)
    ledger.append(entry(1, cost=0.5))
    assert ledger.total_usd == 0.5
    assert ledger.path is None
    assert ledger.compact() is False


def test_fsync_can_be_turned_off(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    CostLedger(path, fsync=False).append(entry(1, cost=0.5))
    assert CostLedger(path).total_usd == 0.5


def test_keep_recent_must_be_below_the_compaction_threshold(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="keep_recent"):
        CostLedger(tmp_path / "x.jsonl", compact_above=10, keep_recent=10)


def _fill(ledger: CostLedger, count: int) -> None:
    # Awkward binary fractions, so a float sum in another order would differ.
    for n in range(count):
        day = DAY1 + dt.timedelta(days=n // 7)
        ledger.append(entry(n, day=day, cost=0.1 + n * 1e-7 / 3, conversation=f"c{n // 4}"))


def _state(ledger: CostLedger) -> tuple[object, ...]:
    days = [ledger.day(d) for d in ledger.days()]
    return ledger.total_nusd, ledger.total_usd, ledger.responses, ledger.tokens, days


def test_compaction_keeps_totals_exactly(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(b"{torn")  # dropped by compaction
    ledger = CostLedger(path, compact_above=100_000)
    _fill(ledger, 50)
    before = _state(ledger)
    assert CostLedger(path).skipped_lines == 1

    assert ledger.compact(keep_recent=5)
    lines = path.read_text().splitlines()
    # 7 responses a day: the 45 folded lines cover 7 days; the 5 kept ones are verbatim.
    assert len(lines) == 7 + 5
    assert all(json.loads(line)["kind"] == "day_total" for line in lines[:7])
    assert [json.loads(line)["response_id"] for line in lines[7:]] == [
        f"resp_{n}" for n in range(45, 50)
    ]
    assert ledger.lines == len(lines)
    assert _state(ledger) == before
    restored = CostLedger(path)
    assert _state(restored) == before
    assert restored.skipped_lines == 0
    assert restored.last_conversation == ledger.last_conversation

    # Compacting again merges the old summaries with the newly folded lines.
    _fill(restored, 9)
    twice = _state(restored)
    assert restored.compact(keep_recent=0)
    assert _state(CostLedger(path)) == twice


def test_compaction_happens_on_append_and_on_load(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = CostLedger(path, compact_above=20, keep_recent=5)
    _fill(ledger, 20)
    assert ledger.lines == 20
    ledger.append(entry(99, day=DAY2))
    assert ledger.lines <= 5 + 4  # at most 4 distinct days + the 5 recent lines
    assert CostLedger(path).total_nusd == ledger.total_nusd

    big = CostLedger(path, compact_above=1_000)
    _fill(big, 30)
    total = big.total_nusd
    small = CostLedger(path, compact_above=10, keep_recent=2)
    assert small.lines < 10
    assert small.total_nusd == total
    assert CostLedger(path).total_nusd == total


def test_compaction_keeps_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = CostLedger(path)
    _fill(ledger, 3)
    path.chmod(0o640)
    ledger.compact(keep_recent=1)
    assert path.stat().st_mode & 0o777 == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_nano_dollar_round_trip() -> None:
    for usd in (0.0, 0.064, 1e-9, 123.456789123, 2_000_000.0):
        assert usd_to_nusd(nusd_to_usd(usd_to_nusd(usd))) == usd_to_nusd(usd)


def test_conversations_are_counted_across_restarts_and_compaction(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = CostLedger(path, compact_above=100_000)
    for n in range(3):
        assert ledger.begin_conversation(f"c{n}", DAY1 + dt.timedelta(days=n), TS)
        ledger.append(entry(n, day=DAY1 + dt.timedelta(days=n), conversation=f"c{n}"))
    assert ledger.begin_conversation("c3", DAY2, TS)  # begun, nothing said yet
    assert (ledger.conversations, ledger.responses) == (4, 3)
    assert ledger.last_conversation == ("c2", 0.01)  # the newest with a response
    assert json.loads(path.read_text().splitlines()[0]) == {
        "kind": "conversation",
        "ts": "2026-03-01T12:00:00.000Z",
        "date": "2026-03-01",
        "conversation_id": "c0",
    }
    before = _state(ledger)

    restarted = CostLedger(path)
    assert (restarted.conversations, _state(restarted)) == (4, before)
    assert restarted.compact(keep_recent=1)
    compacted = CostLedger(path)
    assert (compacted.conversations, _state(compacted)) == (4, before)
