"""The cost ledger's line format, money unit and per-day accumulators (no I/O here).

A response line::

    {"ts": "2026-05-01T12:00:00.000Z", "date": "2026-05-01", "response_id": "resp_1",
     "conversation_id": "c1", "model": "gpt-realtime", "tokens": {"audio_in": 1000},
     "cost_usd": 0.032}

`date` is the local date the response counts against (the daily budget's day); `tokens` lists
the non-zero token classes; `conversation_id` is absent outside a conversation. A conversation
that begins is a line of its own, so the count survives restarts:
``{"kind": "conversation", "ts", "date", "conversation_id"}``; so is a probable false wake (a wake
word, then no speech): ``{"kind": "false_wake", "ts", "date", "conversation_id", "wakeword"}``.
Compaction folds old lines into one line per day: ``{"kind": "day_total", "ts", "date",
"responses", "conversations", "false_wakes", "tokens", "cost_usd"}``.

Totals are summed in whole nano-dollars, so they are exact integers: compaction and restarts
give exactly the same totals whatever the order of addition.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from edge_voice.metrics.cost import TokenUsage
from edge_voice.models.catalog import TOKEN_CLASSES

NUSD_PER_USD = 1_000_000_000
DAY_TOTAL = "day_total"
CONVERSATION = "conversation"
FALSE_WAKE = "false_wake"

#: What a corrupt line can raise while being parsed; anything else is a bug and propagates.
PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError)

_TOKEN_CLASS_SET = frozenset(TOKEN_CLASSES)


def usd_to_nusd(usd: float) -> int:
    """USD as whole nano-dollars (the unit totals are summed in)."""
    return round(usd * NUSD_PER_USD)


def nusd_to_usd(nusd: int) -> float:
    """Nano-dollars back to USD."""
    return nusd / NUSD_PER_USD


def iso_utc(ts: dt.datetime) -> str:
    """An ISO-8601 UTC timestamp with milliseconds and a `Z`; naive times are taken as UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    return ts.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class LedgerEntry:
    """One response's cost, as a ledger line records it."""

    response_id: str
    model: str
    tokens: TokenUsage
    cost_usd: float
    date: dt.date
    ts: dt.datetime
    conversation_id: str | None = None

    def to_record(self) -> dict[str, Any]:
        """The JSON object of the ledger line (cost rounded to the nano-dollar)."""
        record: dict[str, Any] = {
            "ts": iso_utc(self.ts),
            "date": self.date.isoformat(),
            "response_id": self.response_id,
        }
        if self.conversation_id is not None:
            record["conversation_id"] = self.conversation_id
        record["model"] = self.model
        record["tokens"] = {k: v for k, v in self.tokens.as_dict().items() if v}
        record["cost_usd"] = nusd_to_usd(usd_to_nusd(self.cost_usd))
        return record


@dataclass(frozen=True)
class DayTotal:
    """Cost, tokens and response count of one local day."""

    date: dt.date
    cost_usd: float
    responses: int
    tokens: TokenUsage


class ParsedLine(NamedTuple):
    """A validated ledger line: one response, or a compacted day."""

    summary: bool
    date: dt.date
    cost_nusd: int
    responses: int
    tokens: dict[str, int]
    conversation_id: str | None
    conversations: int = 0
    false_wakes: int = 0


@dataclass
class Accumulator:
    """Running cost, responses and tokens by class."""

    cost_nusd: int = 0
    responses: int = 0
    conversations: int = 0
    false_wakes: int = 0
    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TOKEN_CLASSES, 0))

    def add(self, line: ParsedLine) -> None:
        """Add one line's figures."""
        self.cost_nusd += line.cost_nusd
        self.responses += line.responses
        self.conversations += line.conversations
        self.false_wakes += line.false_wakes
        for name, count in line.tokens.items():
            self.tokens[name] += count

    def merge(self, other: Accumulator) -> None:
        """Add another accumulator's figures."""
        self.cost_nusd += other.cost_nusd
        self.responses += other.responses
        self.conversations += other.conversations
        self.false_wakes += other.false_wakes
        for name, count in other.tokens.items():
            self.tokens[name] += count

    def usage(self) -> TokenUsage:
        """The tokens as a TokenUsage."""
        return TokenUsage(**self.tokens)


def parse_line(record: Any, dates: dict[str, dt.date]) -> ParsedLine:
    """Validate one decoded line completely, so a bad line adds nothing; raises PARSE_ERRORS.

    `dates` caches parsed dates across calls (a 100k-line ledger has a few hundred).
    """
    if not isinstance(record, dict):
        raise TypeError("a ledger line must be a JSON object")
    kind = record.get("kind")
    if kind not in (None, DAY_TOTAL, CONVERSATION, FALSE_WAKE):
        raise ValueError(f"unknown ledger line kind {kind!r}")
    day_text = record["date"]
    day = dates.get(day_text)
    if day is None:
        day = dates[day_text] = dt.date.fromisoformat(day_text)
    if kind == CONVERSATION:
        return ParsedLine(False, day, 0, 0, {}, str(record["conversation_id"]), 1)
    if kind == FALSE_WAKE:
        # No conversation_id here: the line must not start a "last conversation" of its own.
        return ParsedLine(False, day, 0, 0, {}, None, 0, 1)
    tokens: Mapping[str, Any] = record.get("tokens") or {}
    counts = {k: int(v) for k, v in tokens.items()}  # JSON keys are strings
    if not counts.keys() <= _TOKEN_CLASS_SET:
        raise ValueError(f"unknown token classes {sorted(counts.keys() - _TOKEN_CLASS_SET)}")
    cost = usd_to_nusd(float(record["cost_usd"]))
    if kind == DAY_TOTAL:
        responses, conversations = int(record["responses"]), int(record.get("conversations", 0))
        false_wakes = int(record.get("false_wakes", 0))
        return ParsedLine(True, day, cost, responses, counts, None, conversations, false_wakes)
    conversation = record.get("conversation_id")
    conversation_id = None if conversation is None else str(conversation)
    return ParsedLine(False, day, cost, 1, counts, conversation_id)


def summary_line(day: dt.date, acc: Accumulator, ts: str) -> bytes:
    """The compacted line for one day, without its newline."""
    record = {
        "kind": DAY_TOTAL,
        "ts": ts,
        "date": day.isoformat(),
        "responses": acc.responses,
        "conversations": acc.conversations,
        "false_wakes": acc.false_wakes,
        "tokens": {k: v for k, v in acc.tokens.items() if v},
        # Reads back to exactly cost_nusd below 2**51 nano-dollars (2.2 million USD).
        "cost_usd": nusd_to_usd(acc.cost_nusd),
    }
    return json.dumps(record, separators=(",", ":")).encode()


def conversation_record(conversation_id: str, day: dt.date, ts: dt.datetime) -> dict[str, Any]:
    """The line recording that a conversation began."""
    return {
        "kind": CONVERSATION,
        "ts": iso_utc(ts),
        "date": day.isoformat(),
        "conversation_id": conversation_id,
    }


def false_wake_record(
    conversation_id: str | None, wakeword: str, day: dt.date, ts: dt.datetime
) -> dict[str, Any]:
    """The line recording a probable false wake (a wake word, then no speech)."""
    record: dict[str, Any] = {"kind": FALSE_WAKE, "ts": iso_utc(ts), "date": day.isoformat()}
    if conversation_id is not None:
        record["conversation_id"] = conversation_id
    record["wakeword"] = wakeword
    return record


def response_line(record: Mapping[str, Any]) -> bytes:
    """A response record as a ledger line, with its newline."""
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def split_lines(data: bytes) -> list[bytes]:
    """The file's lines without their newlines (a final fragment is kept)."""
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines
