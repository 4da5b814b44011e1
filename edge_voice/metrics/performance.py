"""Latency timers, token and cost accounting and rolling stats of the realtime session.

`PerformanceMetrics` is fed by the session as events happen (connect, speech stopped, audio
deltas, function calls, `response.done`) and answers with the `<base>/metrics` snapshot and the
`<base>/event/response` payloads. It is plain synchronous code: every timestamp comes from the
injected monotonic `clock`, wall time from `now` and the local date from `today`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edge_voice.metrics.cost import TokenUsage, calculate_cost
from edge_voice.metrics.cost_ledger import CostLedger
from edge_voice.metrics.latency_stats import (
    DEFAULT_WINDOW,
    LATENCY_METRICS,
    LatencyTracker,
    RollingWindow,
)
from edge_voice.metrics.ledger_format import LedgerEntry, iso_utc, nusd_to_usd, usd_to_nusd
from edge_voice.metrics.records import (
    ConnectionStats,
    ConversationCost,
    MetricsSnapshot,
    ResponseCost,
)
from edge_voice.models.catalog import ModelCatalog
from edge_voice.models.migration import FallbackEvent

__all__ = [
    "LATENCY_METRICS",
    "ConnectionStats",
    "ConversationCost",
    "MetricsSnapshot",
    "PerformanceMetrics",
    "ResponseCost",
    "TokenUsage",
    "calculate_cost",
]

log = logging.getLogger(__name__)

#: Fallbacks kept for `details()`.
RECENT_FALLBACKS = 20


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class _Conversation:
    conversation_id: str
    started_at: float
    cost_nusd: int = 0
    responses: int = 0
    tokens: TokenUsage = field(default_factory=TokenUsage)


@dataclass
class _Attempt:
    model: str
    started_at: float


class PerformanceMetrics:
    """Latencies, connection success, fallbacks, tokens and cost of the realtime session."""

    def __init__(
        self,
        *,
        catalog: ModelCatalog | None = None,
        ledger: CostLedger | None = None,
        window: int = DEFAULT_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = _utc_now,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self._catalog = catalog
        # A memory-only ledger keeps one accounting path whether or not totals persist.
        self._ledger = ledger if ledger is not None else CostLedger(None)
        self._clock = clock
        self._now = now
        self._today = today
        self._timers = LatencyTracker(clock, window)
        self._connections: dict[str, ConnectionStats] = {}
        self._attempt: _Attempt | None = None
        self._conversation: _Conversation | None = None
        self._fallbacks = 0
        self._recent_fallbacks: deque[tuple[dt.datetime, FallbackEvent]] = deque(
            maxlen=RECENT_FALLBACKS
        )
        last = self._ledger.last_conversation
        self._cost_last_nusd = 0 if last is None else usd_to_nusd(last[1])

    @property
    def ledger(self) -> CostLedger:
        """The ledger costs are recorded in."""
        return self._ledger

    def latency(self, name: str) -> RollingWindow:
        """The rolling window of one of LATENCY_METRICS."""
        return self._timers.windows[name]

    # -- connection ------------------------------------------------------------------------

    def _count(self, model: str, **delta: int) -> None:
        stats = self._connections.get(model, ConnectionStats())
        self._connections[model] = stats + ConnectionStats(**delta)

    def connect_started(self, model: str) -> None:
        """A connection attempt to `model` begins (an unfinished previous one counts as failed)."""
        if self._attempt is not None:
            self.connect_failed("superseded by a new attempt")
        self._count(model, attempts=1)
        self._attempt = _Attempt(model, self._clock())
        log.debug("connecting to %s", model)

    def connected(self) -> None:
        """The WebSocket of the current attempt is open."""
        if self._attempt is not None:
            self._timers.sample("connect", self._attempt.started_at)

    def session_ready(self) -> None:
        """The session is configured: the attempt succeeded."""
        attempt, self._attempt = self._attempt, None
        if attempt is None:
            return
        self._timers.sample("session_ready", attempt.started_at)
        self._count(attempt.model, successes=1)

    def connect_failed(self, reason: str = "") -> None:
        """The current attempt failed (refused, timed out, dropped before ready)."""
        attempt, self._attempt = self._attempt, None
        if attempt is None:
            return
        self._count(attempt.model, failures=1)
        log.debug("connection to %s failed: %s", attempt.model, reason or "no reason given")

    def record_attempt(
        self, model: str, ok: bool, *, connect_s: float | None = None, ready_s: float | None = None
    ) -> None:
        """Count a finished attempt measured elsewhere (ModelMigration's ConnectAttempt)."""
        self._count(model, attempts=1, **({"successes": 1} if ok else {"failures": 1}))
        if connect_s is not None:
            self._timers.windows["connect"].add(connect_s * 1000.0)
        if ready_s is not None:
            self._timers.windows["session_ready"].add(ready_s * 1000.0)

    def disconnected(self) -> None:
        """The connection is gone: drop per-turn timers, fail an attempt still in progress."""
        if self._attempt is not None:
            self.connect_failed("disconnected before the session was ready")
        self._timers.reset_turn()

    def connection_stats(self, model: str | None = None) -> ConnectionStats:
        """Attempts, successes and failures for `model`, or summed over every model."""
        if model is not None:
            return self._connections.get(model, ConnectionStats())
        return sum(self._connections.values(), ConnectionStats())

    def success_rate(self, model: str | None = None) -> float | None:
        """Share of finished connection attempts that succeeded (the spec wants > 0.99)."""
        return self.connection_stats(model).success_rate

    def record_fallback(self, fallback: FallbackEvent) -> None:
        """Count a switch to another model (ModelMigration's record of it)."""
        self._fallbacks += 1
        self._recent_fallbacks.append((self._now(), fallback))
        log.info("fallback %s → %s: %s", fallback.from_model, fallback.to_model, fallback.reason)

    # -- turn timers -----------------------------------------------------------------------

    def speech_stopped(self) -> None:
        """The user stopped speaking: starts the first-audio and response timers."""
        self._timers.speech_stopped()

    def response_requested(self) -> None:
        """A `response.create` was sent: starts the response timer unless speech already did."""
        self._timers.response_requested()

    def audio_delta(self, response_id: str = "") -> None:
        """An audio delta of `response_id` arrived (the first after speech is the headline)."""
        self._timers.audio_delta(response_id)

    def function_call_published(self, call_id: str) -> None:
        """A function call went out on MQTT."""
        self._timers.function_call_published(call_id)

    def function_call_result(self, call_id: str) -> float | None:
        """Its result came back; returns the round trip in ms (None for an unknown call)."""
        return self._timers.function_call_result(call_id)

    # -- cost ------------------------------------------------------------------------------

    def record_response(
        self,
        response_id: str,
        model: str,
        usage: Mapping[str, Any] | TokenUsage | None,
        *,
        voice: str | None = None,
    ) -> ResponseCost:
        """Account a `response.done`: cost from the catalog, ledger line, latencies, log line.

        Raises UnknownModelError or ValueError (bad usage) before changing anything.
        """
        tokens = TokenUsage() if usage is None else TokenUsage.from_usage(usage)
        cost_nusd = usd_to_nusd(calculate_cost(tokens, model, self._catalog))
        cost_usd = nusd_to_usd(cost_nusd)
        latency = self._timers.finish_response(response_id)
        wall = self._now()
        conversation = self._conversation
        if conversation is not None:
            conversation.cost_nusd += cost_nusd
            conversation.responses += 1
            conversation.tokens += tokens
        self._ledger.append(
            LedgerEntry(
                response_id=response_id,
                model=model,
                tokens=tokens,
                cost_usd=cost_usd,
                date=self._today(),
                ts=wall,
                conversation_id=conversation.conversation_id if conversation else None,
            )
        )
        log.info(
            "response %s on %s: %s; tokens %d (in %d, out %d); cost %.6f USD, today %.4f USD",
            response_id,
            model,
            ", ".join(f"{k} {v:.0f} ms" for k, v in latency.items()) or "no latency measured",
            tokens.total,
            tokens.total - tokens.text_out - tokens.audio_out,
            tokens.text_out + tokens.audio_out,
            cost_usd,
            self.cost_today_usd,
        )
        return ResponseCost(
            response_id=response_id,
            model=model,
            usage=tokens,
            cost_usd=cost_usd,
            latency_ms=latency,
            ts=iso_utc(wall),
            conversation_id=conversation.conversation_id if conversation else None,
            voice=voice,
        )

    def begin_conversation(self, conversation_id: str | None = None) -> str:
        """Start accounting a conversation (ending one still open); returns its id."""
        if self._conversation is not None:
            self.end_conversation()
        cid = conversation_id or uuid.uuid4().hex
        self._conversation = _Conversation(cid, self._clock())
        self._ledger.begin_conversation(cid, self._today(), self._now())
        log.debug("conversation %s begins", cid)
        return cid

    def end_conversation(self) -> ConversationCost | None:
        """Finish the open conversation; its cost becomes `cost_last_usd`. None if none is open."""
        conversation, self._conversation = self._conversation, None
        if conversation is None:
            return None
        self._cost_last_nusd = conversation.cost_nusd
        result = ConversationCost(
            conversation.conversation_id,
            nusd_to_usd(conversation.cost_nusd),
            conversation.responses,
            conversation.tokens,
            self._clock() - conversation.started_at,
        )
        log.debug(
            "conversation %s ends: %d responses, %.6f USD, %.1f s",
            result.conversation_id,
            result.responses,
            result.cost_usd,
            result.duration_s,
        )
        return result

    def false_wake(self, wakeword: str) -> None:
        """The open conversation began with `wakeword` and heard no speech: count it."""
        cid = self.conversation_id
        self._ledger.record_false_wake(cid, wakeword, self._today(), self._now())
        log.info("probable false wake: %s, then no speech", wakeword)

    @property
    def conversation_id(self) -> str | None:
        """The open conversation, if any."""
        return None if self._conversation is None else self._conversation.conversation_id

    @property
    def cost_total_usd(self) -> float:
        """Cost of every response in the ledger (survives restarts)."""
        return self._ledger.total_usd

    @property
    def cost_today_usd(self) -> float:
        """Cost counted against today's local date; what a daily budget compares against."""
        return self._ledger.cost_on(self._today())

    @property
    def cost_last_usd(self) -> float:
        """Cost of the last completed conversation."""
        return nusd_to_usd(self._cost_last_nusd)

    def over_budget(self, daily_usd: float | None) -> bool:
        """Whether today's cost has reached `daily_usd` (None: no budget)."""
        return daily_usd is not None and self.cost_today_usd >= daily_usd

    # -- reporting -------------------------------------------------------------------------

    def snapshot(self) -> MetricsSnapshot:
        """The `<base>/metrics` figures (totals and `conversations` persist in the ledger)."""
        first_audio = self._timers.windows["first_audio"]
        p95 = first_audio.quantile(0.95)
        last = first_audio.last
        return MetricsSnapshot(
            cost_total_usd=self.cost_total_usd,
            cost_today_usd=self.cost_today_usd,
            cost_last_usd=self.cost_last_usd,
            tokens_total=self._ledger.tokens.total,
            latency_first_audio_ms=None if last is None else round(last, 1),
            latency_p95_ms=None if p95 is None else round(p95, 1),
            conversations=self._ledger.conversations,
            fallbacks=self._fallbacks,
            false_wakes_today=self._ledger.false_wakes_on(self._today()),
            false_wakes_total=self._ledger.false_wakes,
            latency_ms={name: w.percentiles() for name, w in self._timers.windows.items()},
            connection_success_rate={
                model: None if rate is None else round(rate, 4)
                for model, stats in sorted(self._connections.items())
                for rate in [stats.success_rate]
            },
        )

    def details(self) -> dict[str, Any]:
        """Everything behind the snapshot: per-metric stats, per-model connections, tokens."""
        ledger = self._ledger
        return {
            "latency_ms": {name: w.summary() for name, w in self._timers.windows.items()},
            "connections": {m: s.as_dict() for m, s in sorted(self._connections.items())},
            "connection_success_rate": self.success_rate(),
            "tokens": ledger.tokens.as_dict(),
            "tokens_total": ledger.tokens.total,
            "responses": ledger.responses,
            "cost_total_usd": self.cost_total_usd,
            "cost_today_usd": self.cost_today_usd,
            "cost_last_usd": self.cost_last_usd,
            "cost_by_day_usd": {d.isoformat(): ledger.cost_on(d) for d in ledger.days()[-7:]},
            "conversations": self._ledger.conversations,
            "false_wakes": self._ledger.false_wakes,
            "conversation_active": self.conversation_id,
            "fallbacks": self._fallbacks,
            "recent_fallbacks": [
                {"from": f.from_model, "to": f.to_model, "reason": f.reason, "ts": iso_utc(ts)}
                for ts, f in self._recent_fallbacks
            ],
            "ledger": {
                "path": None if ledger.path is None else str(ledger.path),
                "lines": ledger.lines,
                "skipped_lines": ledger.skipped_lines,
                "write_errors": ledger.write_errors,
            },
        }
