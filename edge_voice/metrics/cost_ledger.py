"""An append-only JSON-lines ledger of response costs, so cost totals survive restarts.

The line format is in `ledger_format`. Durability: a line is appended with one `write()` on an
`O_APPEND` descriptor, then `fsync`. A process crash loses nothing that was written; a power cut
loses at most the line being written, and a torn line is skipped (and counted) on load, never
fatal. `fsync=False` saves the flush (tens of ms on an SD card) at the price of the lines the OS
had not yet written back when the power went.

One process owns a ledger file; a second writer would not corrupt it (appends are atomic) but
each would only know its own totals until it reloads.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

from edge_voice.metrics.cost import TokenUsage
from edge_voice.metrics.ledger_format import (
    PARSE_ERRORS,
    Accumulator,
    DayTotal,
    LedgerEntry,
    ParsedLine,
    conversation_record,
    false_wake_record,
    iso_utc,
    nusd_to_usd,
    parse_line,
    response_line,
    split_lines,
    summary_line,
)

__all__ = ["CostLedger", "DayTotal", "LedgerEntry"]

log = logging.getLogger(__name__)

#: Compact once the file holds more lines than this…
DEFAULT_COMPACT_ABOVE = 10_000
#: …keeping this many of the newest response lines verbatim (at most half the threshold).
DEFAULT_KEEP_RECENT = 1_000


class CostLedger:
    """Per-response costs on disk (or only in memory with `path=None`) and their totals."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        fsync: bool = True,
        compact_above: int = DEFAULT_COMPACT_ABOVE,
        keep_recent: int | None = None,
    ) -> None:
        if keep_recent is None:
            keep_recent = min(DEFAULT_KEEP_RECENT, compact_above // 2)
        if not 0 <= keep_recent < compact_above:
            raise ValueError("need 0 <= keep_recent < compact_above, or every append compacts")
        self._path = None if path is None else Path(path)
        self._fsync = fsync
        self._compact_above = compact_above
        self._keep_recent = keep_recent
        self.write_errors = 0
        self._reset()
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self.reload()

    def _reset(self) -> None:
        self._total = Accumulator()
        self._days: dict[dt.date, Accumulator] = {}
        self._last_conversation: tuple[str, int] | None = None
        self._lines = 0
        self._skipped = 0
        self._needs_newline = False

    @property
    def path(self) -> Path | None:
        """The ledger file, or None for a memory-only ledger."""
        return self._path

    @property
    def lines(self) -> int:
        """Non-blank lines in the file, readable or not."""
        return self._lines

    @property
    def skipped_lines(self) -> int:
        """Lines that could not be read at the last load (torn or corrupt)."""
        return self._skipped

    @property
    def total_usd(self) -> float:
        """Cost of every response ever recorded."""
        return nusd_to_usd(self._total.cost_nusd)

    @property
    def total_nusd(self) -> int:
        """Cost of every response ever recorded, in nano-dollars (exact)."""
        return self._total.cost_nusd

    @property
    def responses(self) -> int:
        """Responses ever recorded."""
        return self._total.responses

    @property
    def conversations(self) -> int:
        """Conversations ever begun."""
        return self._total.conversations

    @property
    def false_wakes(self) -> int:
        """Probable false wakes ever recorded."""
        return self._total.false_wakes

    def false_wakes_on(self, day: dt.date) -> int:
        """Probable false wakes counted against local date `day`."""
        acc = self._days.get(day)
        return 0 if acc is None else acc.false_wakes

    @property
    def tokens(self) -> TokenUsage:
        """Tokens of every response ever recorded, by class."""
        return self._total.usage()

    def cost_on(self, day: dt.date) -> float:
        """Cost of the responses counted against local date `day`."""
        acc = self._days.get(day)
        return 0.0 if acc is None else nusd_to_usd(acc.cost_nusd)

    def day(self, day: dt.date) -> DayTotal:
        """Cost, tokens and responses of local date `day`."""
        acc = self._days.get(day) or Accumulator()
        return DayTotal(day, nusd_to_usd(acc.cost_nusd), acc.responses, acc.usage())

    def days(self) -> list[dt.date]:
        """Dates with recorded responses, oldest first."""
        return sorted(self._days)

    @property
    def last_conversation(self) -> tuple[str, float] | None:
        """Id and cost so far of the newest conversation in the ledger, if any."""
        if self._last_conversation is None:
            return None
        conversation_id, nusd = self._last_conversation
        return conversation_id, nusd_to_usd(nusd)

    def _add(self, parsed: ParsedLine, *, to_total: bool = True) -> None:
        if to_total:
            self._total.add(parsed)
        self._days.setdefault(parsed.date, Accumulator()).add(parsed)
        if parsed.conversation_id is not None and not parsed.conversations:  # its responses
            last = self._last_conversation
            if last is not None and last[0] == parsed.conversation_id:
                self._last_conversation = (last[0], last[1] + parsed.cost_nusd)
            else:
                self._last_conversation = (parsed.conversation_id, parsed.cost_nusd)

    def reload(self) -> None:
        """Re-read the file, skipping unreadable lines; compact it if it has grown large."""
        self._reset()
        if self._path is None:
            return
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return
        # After a torn write the next line must not be glued onto the fragment.
        self._needs_newline = bool(data) and not data.endswith(b"\n")
        lines = split_lines(data)
        dates: dict[str, dt.date] = {}
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            self._lines += 1
            try:
                # The total is summed from the days below: half the work on a big file.
                self._add(parse_line(json.loads(raw), dates), to_total=False)
            except PARSE_ERRORS as exc:
                self._skipped += 1
                torn = number == len(lines) and self._needs_newline
                log.warning(
                    "cost ledger %s: skipping %s line %d (%s)",
                    self._path,
                    "torn last" if torn else "unreadable",
                    number,
                    exc,
                )
        for acc in self._days.values():
            self._total.merge(acc)
        log.debug(
            "cost ledger %s: %d lines, %d responses, total %.6f USD",
            self._path,
            self._lines,
            self._total.responses,
            self.total_usd,
        )
        if self._lines > self._compact_above:
            self._try_compact()

    def append(self, entry: LedgerEntry) -> bool:
        """Add a response to the totals and the file; False if it could not be written."""
        return self._record(entry.to_record(), entry.response_id)

    def begin_conversation(self, conversation_id: str, day: dt.date, ts: dt.datetime) -> bool:
        """Count a conversation that begins, in the totals and the file; False if not written."""
        return self._record(conversation_record(conversation_id, day, ts), conversation_id)

    def record_false_wake(
        self, conversation_id: str | None, wakeword: str, day: dt.date, ts: dt.datetime
    ) -> bool:
        """Count a probable false wake, in the totals and the file; False if not written."""
        record = false_wake_record(conversation_id, wakeword, day, ts)
        return self._record(record, f"a false wake of {wakeword}")

    def _record(self, record: dict[str, Any], what: str) -> bool:
        self._add(parse_line(record, {}))
        if self._path is None:
            return True
        data = response_line(record)
        if self._needs_newline:
            data = b"\n" + data
        try:
            self._write(data)
        except OSError as exc:
            # The totals in memory stay right; only a restart would lose this response.
            self.write_errors += 1
            self._needs_newline = True  # a partial write may have left a fragment
            log.error("cost ledger %s: could not append %s: %s", self._path, what, exc)
            return False
        self._needs_newline = False
        self._lines += 1
        if self._lines > self._compact_above:
            self._try_compact()
        return True

    def _write(self, data: bytes) -> None:
        assert self._path is not None
        created = not self._path.exists()
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:  # a regular file writes it all at once, barring a full disk
                view = view[os.write(fd, view) :]
            if self._fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if created and self._fsync:
            _fsync_dir(self._path.parent)

    def _try_compact(self) -> None:
        try:
            self.compact()
        except OSError as exc:
            # The old file is untouched (the rename never happened): try again next time.
            log.warning("cost ledger %s: compaction failed: %s", self._path, exc)

    def compact(self, keep_recent: int | None = None) -> bool:
        """Atomically rewrite the file as one line per day plus the newest response lines.

        Unreadable lines are dropped. Totals are unchanged (exactly: they are integers).
        Returns whether the file was rewritten.
        """
        if self._path is None:
            return False
        keep = self._keep_recent if keep_recent is None else keep_recent
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return False
        summaries: dict[dt.date, Accumulator] = {}
        entries: list[tuple[bytes, ParsedLine]] = []
        dates: dict[str, dt.date] = {}
        dropped = 0
        for raw in split_lines(data):
            if not raw.strip():
                continue
            try:
                parsed = parse_line(json.loads(raw), dates)
            except PARSE_ERRORS:
                dropped += 1
                continue
            if parsed.summary:
                summaries.setdefault(parsed.date, Accumulator()).add(parsed)
            else:
                entries.append((raw, parsed))
        cut = max(len(entries) - keep, 0)
        for _raw, parsed in entries[:cut]:
            summaries.setdefault(parsed.date, Accumulator()).add(parsed)
        now = iso_utc(dt.datetime.now(dt.UTC))
        out = [summary_line(day, acc, now) for day, acc in sorted(summaries.items())]
        out.extend(raw for raw, _parsed in entries[cut:])
        _atomic_write(self._path, b"".join(line + b"\n" for line in out), fsync=self._fsync)
        log.info(
            "cost ledger %s: compacted %d lines into %d (%d days; %d unreadable lines dropped)",
            self._path,
            self._lines,
            len(out),
            len(summaries),
            dropped,
        )
        self._lines = len(out)
        self._skipped = 0
        self._needs_newline = False
        return True


def _atomic_write(path: Path, data: bytes, *, fsync: bool) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp_file:
            # mkstemp makes the file 0600: keep the mode the ledger had.
            with suppress(FileNotFoundError):
                os.fchmod(tmp_file.fileno(), path.stat().st_mode & 0o777)
            tmp_file.write(data)
            tmp_file.flush()
            if fsync:
                os.fsync(tmp_file.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if fsync:
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Persist a directory entry (a new or renamed file); not every platform allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
