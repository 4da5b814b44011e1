"""Internal events as MQTT publications: which topic, which payload, retained or not."""

from __future__ import annotations

from typing import Any

from edge_voice.events import (
    ErrorOccurred,
    Event,
    FallbackOccurred,
    FunctionCallRequested,
    McpCallReported,
    MemoryChanged,
    MetricsUpdated,
    ModelReplaced,
    ResponseCompleted,
    ServiceState,
    Transcript,
    WakeDetected,
)
from edge_voice.metrics.cost import TokenUsage
from edge_voice.mqtt.payloads import (
    ErrorPayload,
    Expiry,
    FallbackPayload,
    FunctionCallPayload,
    McpCallPayload,
    MemoryPayload,
    ModelReplacedPayload,
    OutPayload,
    Publication,
    ResponsePayload,
    TranscriptPayload,
    WakePayload,
    encode,
    iso,
    metrics_payload,
    state_payload,
)
from edge_voice.mqtt.topics import EventKind, Topics


def event_payload(event: Event) -> tuple[EventKind, dict[str, Any]]:
    """The `event/<kind>` and payload of an internal event; TypeError for states/metrics."""
    ts = iso(event.ts)
    payload: OutPayload
    kind: EventKind
    match event:
        case WakeDetected():
            kind = "wake"
            # Three decimals: what a flow compares to a threshold (arbitration keeps it all).
            payload = WakePayload(
                event_type=event.event_type,
                wakeword=event.wakeword,
                score=round(event.score, 3),
                profile=event.profile,
                ts=ts,
            )
        case Transcript():
            kind = "transcript"
            payload = TranscriptPayload(
                role=event.role,
                text=event.text,
                item_id=event.item_id,
                response_id=event.response_id,
                model=event.model,
                ts=ts,
            )
        case FunctionCallRequested():
            kind = "function_call"
            payload = FunctionCallPayload(
                call_id=event.call_id,
                name=event.name,
                arguments=event.arguments,
                model=event.model,
                deadline_ms=event.deadline_ms,
                answered_by=event.answered_by,
                mode=event.mode,
                ts=ts,
            )
        case McpCallReported():
            kind = "mcp_call"
            payload = McpCallPayload(
                server_label=event.server_label,
                name=event.name,
                arguments=event.arguments,
                status=event.status,
                output=event.output,
                error=event.error,
                item_id=event.item_id,
                model=event.model,
                ts=ts,
            )
        case ResponseCompleted():
            kind = "response"
            payload = ResponsePayload(
                response_id=event.response_id,
                model=event.model,
                voice=event.voice,
                usage=TokenUsage(**event.usage),
                cost_usd=event.cost_usd,
                latency_ms=dict(event.latency_ms),
                kind=event.kind if event.kind in ("announcement", "summary") else "answer",
                ts=ts,
            )
        case FallbackOccurred(fallback=fallback):
            kind = "fallback"
            payload = FallbackPayload(
                from_model=fallback.from_model,
                to_model=fallback.to_model,
                reason=fallback.reason,
                ts=ts,
            )
        case ModelReplaced(replaced=r):
            kind = "model_replaced"
            payload = ModelReplacedPayload(
                model=r.model,
                role=r.role,
                shutdown=r.shutdown.isoformat(),
                replacement=r.replacement,
                fix=r.fix,
                ts=ts,
            )
        case ErrorOccurred():
            kind = "error"
            # The event's fields are exactly the payload's.
            payload = ErrorPayload.model_validate({**vars(event), "ts": ts})
        case _:
            raise TypeError(f"{type(event).__name__} has no event/* topic")
    return kind, payload.to_dict()


def publication_for(event: Event, topics: Topics) -> Publication:
    """Topic, payload and retain flag of any internal event the bridge forwards."""
    if isinstance(event, ServiceState):
        return Publication(topics.state, encode(state_payload(event)), retain=True)
    if isinstance(event, MetricsUpdated):
        return Publication(topics.metrics, encode(metrics_payload(event)), retain=True)
    if isinstance(event, MemoryChanged):
        updated = iso(event.updated) if event.updated is not None else None
        memory = MemoryPayload(
            enabled=event.enabled, summary=event.summary, updated=updated, ts=iso(event.ts)
        )
        return Publication(topics.memory, encode(memory.to_dict()), retain=True)
    kind, payload = event_payload(event)
    return Publication(topics.event(kind), encode(payload), retain=False, expiry=expiry_of(event))


def expiry_of(event: Event) -> Expiry | None:
    """A call for MQTT to answer is void at its deadline: the model was told it failed."""
    # Delivered later (queued while the broker was away), a flow would still act on it.
    if not isinstance(event, FunctionCallRequested) or event.answered_by != "mqtt":
        return None
    return Expiry(
        at=event.ts.timestamp() + event.deadline_ms / 1000,
        what=f"function call {event.call_id} ({event.name}, deadline {event.deadline_ms} ms)",
    )
