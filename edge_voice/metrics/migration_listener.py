"""Feeds ModelMigration's events into PerformanceMetrics (attempts, fallbacks)."""

from __future__ import annotations

from collections.abc import Callable

from edge_voice.metrics.performance import PerformanceMetrics
from edge_voice.models.migration import (
    ConnectAttempt,
    FallbackEvent,
    MigrationEvent,
)


def metrics_listener(
    metrics: PerformanceMetrics, then: Callable[[MigrationEvent], None] | None = None
) -> Callable[[MigrationEvent], None]:
    """An `on_event` for ModelMigration that records into `metrics`, then calls `then`."""

    def listen(event: MigrationEvent) -> None:
        if isinstance(event, ConnectAttempt):
            metrics.record_attempt(
                event.model, event.ok, ready_s=event.duration_s if event.ok else None
            )
        elif isinstance(event, FallbackEvent):
            metrics.record_fallback(event)
        if then is not None:
            then(event)

    return listen
