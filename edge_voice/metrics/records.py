"""The plain records `PerformanceMetrics` hands out: costs, the metrics snapshot, connections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from edge_voice.metrics.cost import TokenUsage

#: The latencies measured per response (`event/response.latency_ms`); one not taken is absent.
ResponseLatency = Literal["first_audio", "audio_stream", "response"]


@dataclass(frozen=True)
class ResponseCost:
    """What one `response.done` cost, and how long it took."""

    response_id: str
    model: str
    usage: TokenUsage
    cost_usd: float
    latency_ms: Mapping[ResponseLatency, float]
    ts: str
    conversation_id: str | None = None
    voice: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The `<base>/event/response` payload."""
        return {
            "response_id": self.response_id,
            "model": self.model,
            "voice": self.voice,
            "usage": self.usage.as_dict(),
            "cost_usd": self.cost_usd,
            "latency_ms": dict(self.latency_ms),
            "ts": self.ts,
        }


@dataclass(frozen=True)
class Percentiles:
    """The median and 95th percentile of one rolling latency window, in ms (None while empty)."""

    p50: float | None = None
    p95: float | None = None


@dataclass(frozen=True)
class MetricsSnapshot:
    """What `<base>/metrics` reports, at one moment (the event carrying it has the time)."""

    cost_total_usd: float
    cost_today_usd: float
    cost_last_usd: float
    tokens_total: int
    #: The newest first-audio latency (the headline figure) and its 95th percentile.
    latency_first_audio_ms: float | None
    latency_p95_ms: float | None
    conversations: int
    fallbacks: int
    #: Probable false wakes (a wake word, then no speech): today and ever (in the ledger).
    false_wakes_today: int = 0
    false_wakes_total: int = 0
    #: p50/p95 of every measure of `LATENCY_METRICS`, by name.
    latency_ms: Mapping[str, Percentiles] = field(default_factory=dict)
    #: Share of finished connection attempts that succeeded, per model tried (0..1).
    connection_success_rate: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionStats:
    """Connection attempts to one model (or all) and how they ended."""

    attempts: int = 0
    successes: int = 0
    failures: int = 0

    @property
    def success_rate(self) -> float | None:
        """Successes over finished attempts (one in progress counts neither way); None if none."""
        finished = self.successes + self.failures
        return self.successes / finished if finished else None

    def as_dict(self) -> dict[str, Any]:
        """Counts and success rate."""
        return asdict(self) | {"success_rate": self.success_rate}

    def __add__(self, other: ConnectionStats) -> ConnectionStats:
        return ConnectionStats(
            self.attempts + other.attempts,
            self.successes + other.successes,
            self.failures + other.failures,
        )


@dataclass(frozen=True)
class ConversationCost:
    """Cost and size of one finished conversation."""

    conversation_id: str
    cost_usd: float
    responses: int
    tokens: TokenUsage
    duration_s: float
