"""What ModelMigration reports about its attempts: fallbacks, recoveries, attempts, failures."""

from __future__ import annotations

from dataclasses import dataclass

from edge_voice.realtime.errors import (
    ConnectTimeout,
    HandshakeError,
    RealtimeError,
    ServerClosedError,
)


@dataclass(frozen=True)
class FallbackEvent:
    """The service moved from one model to another because the first failed."""

    from_model: str
    to_model: str
    reason: str


@dataclass(frozen=True)
class ModelRecovered:
    """The primary answered again after a fallback."""

    model: str
    after_fallback_to: str


@dataclass(frozen=True)
class ConnectAttempt:
    """One connection attempt, for success-rate metrics."""

    model: str
    ok: bool
    duration_s: float
    error_code: str | None = None


class AllModelsFailedError(RealtimeError):
    """Every candidate model refused; `.failures` has each model's error."""

    default_code = "all_models_failed"
    fallback_worthy = True

    def __init__(self, failures: list[tuple[str, RealtimeError]]) -> None:
        self.failures = failures
        detail = "; ".join(f"{m}: {fallback_reason(e)}" for m, e in failures)
        super().__init__(f"no model could be reached ({detail})", code="all_models_failed")


def fallback_reason(exc: RealtimeError) -> str:
    """A short machine-friendly reason for a failed attempt."""
    if isinstance(exc, HandshakeError):
        return f"http_{exc.status_code}"
    if isinstance(exc, ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, ServerClosedError) and exc.code is None and exc.close_code:
        return f"closed_{exc.close_code}"
    return exc.error_code


def spent_models(exc: RealtimeError) -> set[str]:
    """Models that retrying the same connect cannot help after `exc`.

    A model that refused for good would refuse again, and one that timed out has used its
    connect timeout: trying it again would only make the user wait another one.
    """
    failures = exc.failures if isinstance(exc, AllModelsFailedError) else [(exc.model, exc)]
    return {
        model
        for model, error in failures
        if model is not None and (isinstance(error, ConnectTimeout) or not error.retryable)
    }
