"""Outgoing MQTT payloads: exactly the contract's fields, built from internal events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from edge_voice.events import (
    AnsweredBy,
    CallMode,
    MetricsUpdated,
    ServiceState,
    utc_now,
)
from edge_voice.metrics.cost import TokenUsage
from edge_voice.metrics.ledger_format import iso_utc
from edge_voice.metrics.records import ResponseLatency
from edge_voice.mqtt.commands import ArbitrationClaim, CommandError, dumps

#: QoS of everything we publish (contract: events and states are QoS 1).
QOS: Final = 1


class OutPayload(BaseModel):
    """Base of outgoing payloads: fixed fields, immutable; `ts` is always ISO-8601 UTC."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    #: Fields marked `?` in the contract are omitted when None; others are sent as null.
    omit_none: ClassVar[bool] = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the wire names; optional fields left out when unset."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=self.omit_none)


class WakeWordTuningPayload(OutPayload):
    """One wake word's detection settings in the state."""

    engine: str
    threshold: float | None
    refractory_s: float
    profile: bool


class StatePayload(OutPayload):
    """`<base>/state` (retained)."""

    status: str
    model: str
    active_model: str | None
    model_selection: str
    voice: str
    connected: bool
    fallback_active: bool
    #: The models the selection tries, in order; in `auto` dead ones replaced by successors.
    model_chain: list[str]
    #: true after the API key was refused, false after a connection; null before either.
    api_key_problem: bool | None
    #: The wake word whose profile the conversation now uses; null: the global settings.
    profile: str | None
    #: Per wake word: `engine`, `threshold` (null: the engine's default cutoff), `refractory_s`
    #: and whether it has a `profile`.
    wakewords: dict[str, WakeWordTuningPayload]
    #: The models a `model/set` may choose now (what Home Assistant's select offers).
    models: list[str]
    #: The voices the requested model speaks (a dashboard's voice options follow the model).
    voices: list[str]
    ts: str


class PercentilesPayload(OutPayload):
    """p50 and p95 of one latency measure in ms; null before its first sample."""

    p50: float | None
    p95: float | None


class MetricsPayload(OutPayload):
    """`<base>/metrics` (retained)."""

    cost_total_usd: float
    cost_today_usd: float
    cost_last_usd: float
    tokens_total: int
    latency_first_audio_ms: float | None
    latency_p95_ms: float | None
    #: Conversations ever begun: kept in the cost ledger with the totals, so a restart keeps it.
    conversations: int
    #: Wake words followed by no speech within `wakeword.no_speech_timeout_s` (also counted in
    #: `conversations`), today (local date) and ever; kept in the cost ledger too.
    false_wakes_today: int
    false_wakes_total: int
    fallbacks: int
    #: Per measure (`connect`, `session_ready`, `first_audio`, `audio_stream`,
    #: `function_call`, `response`) over the last samples.
    latency_ms: dict[str, PercentilesPayload]
    #: Successful share (0..1) of finished connection attempts, per model tried.
    connection_success_rate: dict[str, float | None]
    ts: str


class WakePayload(OutPayload):
    """`<base>/event/wake`; `event_type` is for the HA event entity; `score` 0-1, 3 decimals.

    `detected` when the wake word is heard; `false_wake` when its conversation then heard no
    speech within `wakeword.no_speech_timeout_s` and ended quietly (nothing was asked or billed);
    `yielded` when another device of the `wakeword.arbitration_group` heard it nearer and
    answers instead (`score` is then our peak score).
    `profile` is the wake word's name when it has a profile, else null.
    """

    event_type: Literal["detected", "false_wake", "yielded"] = "detected"
    wakeword: str
    score: float
    profile: str | None
    ts: str


class TranscriptPayload(OutPayload):
    """`<base>/event/transcript`."""

    role: Literal["user", "assistant"]
    text: str
    item_id: str | None
    response_id: str | None
    model: str | None
    ts: str


class FunctionCallPayload(OutPayload):
    """`<base>/event/function_call`: answer on `<base>/function_call/result` by the deadline.

    With `answered_by: "mcp"` the call runs on a local MCP server: nobody needs to answer.
    With `mode: "async"` (models with asynchronous function calls) the conversation goes on
    while the call is pending and a result that comes later, before the deadline, is still
    spoken; with `mode: "wait"` the answer pauses until the result (or the deadline).
    A call still queued at its deadline (`ts` + `deadline_ms`; the broker was away) is never
    published: the model was already told it failed, and its `function_call_timeout` follows.
    """

    call_id: str
    name: str
    arguments: str
    model: str
    deadline_ms: int
    answered_by: AnsweredBy = "mqtt"
    mode: CallMode = "wait"
    ts: str


class McpCallPayload(OutPayload):
    """`<base>/event/mcp_call`: a native MCP call (OpenAI calls the server; nothing to answer).

    `status` is `approved` or `denied` (an approval request answered by the server's
    `approved_tools`), then `completed` (with `output`) or `failed` (with `error`).
    """

    server_label: str
    name: str
    arguments: str
    status: Literal["approved", "denied", "completed", "failed"]
    output: str | None
    error: str | None
    item_id: str
    model: str
    ts: str


class ResponsePayload(OutPayload):
    """`<base>/event/response`: one finished response with usage, cost and latencies."""

    response_id: str
    model: str
    voice: str | None
    usage: TokenUsage
    cost_usd: float
    latency_ms: dict[ResponseLatency, float | None]
    kind: Literal["answer", "announcement", "summary"] = Field(
        default="answer",
        description="`announcement`: an out-of-band response of `say`; `summary`: the "
        "text-only summary kept by `memory`",
    )
    ts: str


class MemoryPayload(OutPayload):
    """`<base>/memory` (retained, published while `memory.enabled` and once when switched off):
    the summary kept across conversations (null: none)."""

    enabled: bool
    summary: str | None
    updated: str | None = Field(description="when the summary was written (ISO-8601)")
    ts: str


class FallbackPayload(OutPayload):
    """`<base>/event/fallback`."""

    from_model: str = Field(alias="from")
    to_model: str = Field(alias="to")
    reason: str
    ts: str


class ModelReplacedPayload(OutPayload):
    """`<base>/event/model_replaced`: once per replacement of a shut-down model in `auto`."""

    model: str
    role: str
    shutdown: str
    #: None: no live successor, so `auto` leaves the model out.
    replacement: str | None
    fix: str
    ts: str


class ErrorPayload(OutPayload):
    """`<base>/event/error`; `source_topic` and `transaction` only when a command caused it,
    `call_id`, `name` and `model` only when a function call failed."""

    omit_none: ClassVar[bool] = True
    code: str
    message: str
    source_topic: str | None = None
    transaction: JsonValue = None
    call_id: str | None = None
    name: str | None = None
    model: str | None = None
    ts: str


class CommandResponse(OutPayload):
    """`<base>/response`: the answer to every command, with its transaction echoed."""

    omit_none: ClassVar[bool] = True
    topic: str
    status: Literal["ok", "error"]
    error: str | None = None
    transaction: JsonValue = None
    ts: str


class ArbitrationPayload(ArbitrationClaim):
    """`<mqtt.base_topic>/arbitration/<group>` (same shape in and out)."""


@dataclass(frozen=True)
class Expiry:
    """When a queued publication is no use any more, and what it is (for the log)."""

    #: Wall-clock time (`time.time()`): the contract's deadlines count from the payload's `ts`.
    at: float
    what: str


@dataclass(frozen=True)
class Publication:
    """One message for the bridge to publish; one with an `expiry` is dropped once it passed."""

    topic: str
    payload: bytes
    retain: bool
    qos: int = QOS
    expiry: Expiry | None = None


def iso(ts: dt.datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds and `Z` (now when `ts` is None)."""
    return iso_utc(ts if ts is not None else utc_now())


def encode(payload: OutPayload | Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON of a payload model or dict."""
    return dumps(payload.to_dict() if isinstance(payload, OutPayload) else dict(payload))


def state_payload(state: ServiceState) -> dict[str, Any]:
    """The retained state (internal-only fields such as `pending` stay internal)."""
    return StatePayload(
        status=state.status,
        model=state.model,
        active_model=state.active_model,
        model_selection=state.model_selection,
        voice=state.voice,
        connected=state.connected,
        fallback_active=state.fallback_active,
        model_chain=list(state.model_chain),
        api_key_problem=state.api_key_problem,
        profile=state.profile,
        wakewords={
            name: WakeWordTuningPayload(
                engine=t.engine,
                threshold=t.threshold,
                refractory_s=t.refractory_s,
                profile=t.profile,
            )
            for name, t in state.wakewords.items()
        },
        models=list(state.models),
        voices=list(state.voices),
        ts=iso(state.ts),
    ).to_dict()


def metrics_payload(update: MetricsUpdated) -> dict[str, Any]:
    """The retained metrics, from the snapshot the event carries."""
    snap = update.metrics
    return MetricsPayload(
        cost_total_usd=snap.cost_total_usd,
        cost_today_usd=snap.cost_today_usd,
        cost_last_usd=snap.cost_last_usd,
        tokens_total=snap.tokens_total,
        latency_first_audio_ms=snap.latency_first_audio_ms,
        latency_p95_ms=snap.latency_p95_ms,
        conversations=snap.conversations,
        false_wakes_today=snap.false_wakes_today,
        false_wakes_total=snap.false_wakes_total,
        fallbacks=snap.fallbacks,
        latency_ms={
            name: PercentilesPayload(p50=q.p50, p95=q.p95) for name, q in snap.latency_ms.items()
        },
        connection_success_rate=dict(snap.connection_success_rate),
        ts=iso(update.ts),
    ).to_dict()


def response_payload(
    topic: str,
    error: CommandError | str | None = None,
    transaction: JsonValue = None,
    ts: dt.datetime | None = None,
) -> dict[str, Any]:
    """The `<base>/response` answer to the command received on `topic`."""
    if isinstance(error, CommandError):
        transaction = transaction if transaction is not None else error.transaction
        error = error.message
    return CommandResponse(
        topic=topic,
        status="ok" if error is None else "error",
        error=error,
        transaction=transaction,
        ts=iso(ts),
    ).to_dict()


def command_error_payload(
    error: CommandError, source_topic: str, ts: dt.datetime | None = None
) -> dict[str, Any]:
    """The `event/error` payload for a rejected command."""
    return ErrorPayload(
        code=error.code.value,
        message=error.message,
        source_topic=source_topic,
        transaction=error.transaction,
        ts=iso(ts),
    ).to_dict()


def arbitration_payload(
    device_id: str, score: float, ts: dt.datetime | None = None, energy_dbfs: float | None = None
) -> dict[str, Any]:
    """Our claim on the arbitration topic after hearing the wake word."""
    claim = ArbitrationPayload(
        device_id=device_id, score=score, energy_dbfs=energy_dbfs, ts=iso(ts)
    )
    return claim.model_dump(mode="json")
