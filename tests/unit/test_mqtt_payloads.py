"""Outgoing payloads: exactly the contract's fields, ISO timestamps, compact UTF-8, no secrets."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from edge_voice.events import (
    AnsweredBy,
    ErrorOccurred,
    Event,
    FallbackOccurred,
    FunctionCallRequested,
    MetricsUpdated,
    ModelReplaced,
    ResponseCompleted,
    ServiceState,
    Transcript,
    WakeDetected,
)
from edge_voice.metrics.records import MetricsSnapshot, Percentiles
from edge_voice.models.lifecycle import Replacement
from edge_voice.models.migration import FallbackEvent
from edge_voice.mqtt.commands import CommandError, ErrorCode
from edge_voice.mqtt.event_payloads import event_payload, publication_for
from edge_voice.mqtt.payloads import (
    Publication,
    arbitration_payload,
    command_error_payload,
    encode,
    metrics_payload,
    response_payload,
    state_payload,
)
from edge_voice.mqtt.topics import Topics

TS = dt.datetime(2026, 11, 24, 18, 30, 5, 123456, tzinfo=dt.UTC)
ISO = "2026-11-24T18:30:05.123Z"
TOPICS = Topics("edge_voice", "kitchen")

STATE = ServiceState(
    status="listening",
    model="gpt-realtime",
    active_model=None,
    model_selection="auto",
    voice="cedar",
    connected=False,
    fallback_active=False,
    model_chain=("gpt-realtime", "gpt-realtime-1.5"),
    pending={"voice": "marin"},
    models=("gpt-realtime", "gpt-realtime-2.1"),
    voices=("alloy", "cedar"),
    ts=TS,
)
METRICS = MetricsSnapshot(
    cost_total_usd=1.5,
    cost_today_usd=0.25,
    cost_last_usd=0.01,
    tokens_total=1234,
    latency_first_audio_ms=512.3,
    latency_p95_ms=None,
    conversations=3,
    fallbacks=1,
    latency_ms={"first_audio": Percentiles(480.0, 700.5), "connect": Percentiles()},
    connection_success_rate={"gpt-realtime": 0.995, "gpt-4o-realtime-preview": None},
)


def test_state_payload_has_exactly_the_contract_fields() -> None:
    assert state_payload(STATE) == {
        "status": "listening",
        "model": "gpt-realtime",
        "active_model": None,
        "model_selection": "auto",
        "voice": "cedar",
        "connected": False,
        "fallback_active": False,
        "model_chain": ["gpt-realtime", "gpt-realtime-1.5"],
        "api_key_problem": None,
        "profile": None,
        "wakewords": {},
        "models": ["gpt-realtime", "gpt-realtime-2.1"],
        "voices": ["alloy", "cedar"],
        "ts": ISO,
    }


def test_metrics_payload_carries_the_snapshot_with_percentiles_and_success_rates() -> None:
    assert metrics_payload(MetricsUpdated(metrics=METRICS, ts=TS)) == {
        "cost_total_usd": 1.5,
        "cost_today_usd": 0.25,
        "cost_last_usd": 0.01,
        "tokens_total": 1234,
        "latency_first_audio_ms": 512.3,
        "latency_p95_ms": None,
        "conversations": 3,
        "false_wakes_today": 0,
        "false_wakes_total": 0,
        "fallbacks": 1,
        "latency_ms": {
            "first_audio": {"p50": 480.0, "p95": 700.5},
            "connect": {"p50": None, "p95": None},
        },
        "connection_success_rate": {"gpt-realtime": 0.995, "gpt-4o-realtime-preview": None},
        "ts": ISO,
    }


def test_the_fallback_payload_is_modelmigrations_record() -> None:
    record = FallbackEvent("gpt-realtime", "gpt-4o-realtime-preview", "http_403")
    kind, payload = event_payload(FallbackOccurred(fallback=record, ts=TS))
    assert (kind, payload) == (
        "fallback",
        {"from": record.from_model, "to": record.to_model, "reason": record.reason, "ts": ISO},
    )


def test_the_model_replaced_payload_names_model_date_replacement_and_fix() -> None:
    record = Replacement(
        "openai.legacy_model", "gpt-4o-realtime-preview", dt.date(2026, 5, 7), "gpt-realtime-1.5"
    )
    assert event_payload(ModelReplaced(replaced=record, ts=TS)) == (
        "model_replaced",
        {
            "model": "gpt-4o-realtime-preview",
            "role": "openai.legacy_model",
            "shutdown": "2026-05-07",
            "replacement": "gpt-realtime-1.5",
            "fix": "set openai.legacy_model: gpt-realtime-1.5",
            "ts": ISO,
        },
    )


@pytest.mark.parametrize(
    ("event", "kind", "payload"),
    [
        (
            # The model's raw float (0.9341872334480286) rounded to what a person reads.
            WakeDetected(wakeword="hey_jarvis", score=0.9341872334480286, ts=TS),
            "wake",
            {
                "event_type": "detected",
                "wakeword": "hey_jarvis",
                "score": 0.934,
                "profile": None,
                "ts": ISO,
            },
        ),
        (
            Transcript(role="assistant", text="Done.", response_id="r1", ts=TS),
            "transcript",
            {
                "role": "assistant",
                "text": "Done.",
                "item_id": None,
                "response_id": "r1",
                "model": None,
                "ts": ISO,
            },
        ),
        (
            FunctionCallRequested(
                call_id="c1",
                name="set_light",
                arguments="{}",
                model="gpt-realtime",
                deadline_ms=8000,
                ts=TS,
            ),
            "function_call",
            {
                "call_id": "c1",
                "name": "set_light",
                "arguments": "{}",
                "model": "gpt-realtime",
                "deadline_ms": 8000,
                "answered_by": "mqtt",
                "mode": "wait",
                "ts": ISO,
            },
        ),
        (
            FunctionCallRequested(
                call_id="c2",
                name="mcp_ha_HassTurnOn",
                arguments="{}",
                model="gpt-realtime",
                deadline_ms=8000,
                answered_by="mcp",
                mode="async",
                ts=TS,
            ),
            "function_call",
            {
                "call_id": "c2",
                "name": "mcp_ha_HassTurnOn",
                "arguments": "{}",
                "model": "gpt-realtime",
                "deadline_ms": 8000,
                "answered_by": "mcp",
                "mode": "async",
                "ts": ISO,
            },
        ),
        (
            ResponseCompleted(
                response_id="r1",
                model="gpt-realtime",
                voice=None,
                usage={"audio_in": 6, "text_out": 1, "audio_out": 3},
                cost_usd=0.001,
                latency_ms={"first_audio": 500.0, "response": None},
                status="cancelled",
                ts=TS,
            ),
            "response",
            {
                "response_id": "r1",
                "model": "gpt-realtime",
                "voice": None,
                "usage": {
                    "text_in": 0,
                    "cached_text_in": 0,
                    "audio_in": 6,
                    "cached_audio_in": 0,
                    "image_in": 0,
                    "cached_image_in": 0,
                    "text_out": 1,
                    "audio_out": 3,
                },
                "cost_usd": 0.001,
                "latency_ms": {"first_audio": 500.0, "response": None},
                "kind": "answer",
                "ts": ISO,
            },
        ),
        (
            FallbackOccurred(fallback=FallbackEvent("a", "b", "model_not_found"), ts=TS),
            "fallback",
            {"from": "a", "to": "b", "reason": "model_not_found", "ts": ISO},
        ),
        (
            ErrorOccurred(code="x", message="m", ts=TS),
            "error",
            {"code": "x", "message": "m", "ts": ISO},
        ),
        (
            ErrorOccurred(code="x", message="m", source_topic="t", transaction=[1], ts=TS),
            "error",
            {"code": "x", "message": "m", "source_topic": "t", "transaction": [1], "ts": ISO},
        ),
    ],
)
def test_event_payloads(event: Event, kind: str, payload: dict[str, object]) -> None:
    assert event_payload(event) == (kind, payload)
    pub = publication_for(event, TOPICS)
    expected = Publication(f"edge_voice/kitchen/event/{kind}", encode(payload), retain=False)
    assert dataclasses.replace(pub, expiry=None) == expected
    assert json.loads(pub.payload) == payload


def test_a_call_for_mqtt_to_answer_expires_at_its_deadline_after_ts_others_never() -> None:
    def call(answered_by: AnsweredBy) -> FunctionCallRequested:
        return FunctionCallRequested(
            call_id="c1",
            name="set_light",
            arguments="{}",
            model="gpt-realtime",
            deadline_ms=8000,
            answered_by=answered_by,
            ts=TS,
        )

    expiry = publication_for(call("mqtt"), TOPICS).expiry
    assert expiry is not None and expiry.at == TS.timestamp() + 8.0
    assert "c1 (set_light" in expiry.what
    # An MCP call runs here under its deadline: its event is a record, nobody acts on it.
    assert publication_for(call("mcp"), TOPICS).expiry is None
    assert publication_for(Transcript(role="user", text="hi", ts=TS), TOPICS).expiry is None


def test_states_are_retained_and_not_events() -> None:
    assert publication_for(STATE, TOPICS).topic == "edge_voice/kitchen/state"
    assert publication_for(STATE, TOPICS).retain
    metrics = publication_for(MetricsUpdated(metrics=METRICS, ts=TS), TOPICS)
    assert (metrics.topic, metrics.retain, metrics.qos) == ("edge_voice/kitchen/metrics", True, 1)
    with pytest.raises(TypeError, match="ServiceState has no event"):
        event_payload(STATE)


def test_encoding_is_compact_utf8() -> None:
    raw = encode({"text": "Küche an", "n": 1})
    assert raw == '{"text":"Küche an","n":1}'.encode()
    with pytest.raises(ValueError):
        encode({"x": float("nan")})


def test_response_payloads() -> None:
    ok = response_payload("edge_voice/kitchen/model/set", transaction="t", ts=TS)
    assert ok == {
        "topic": "edge_voice/kitchen/model/set",
        "status": "ok",
        "transaction": "t",
        "ts": ISO,
    }
    err = CommandError(ErrorCode.UNKNOWN_VALUE, "voice/set: unknown voice 'x'", transaction=5)
    assert response_payload("edge_voice/kitchen/voice/set", err, ts=TS) == {
        "topic": "edge_voice/kitchen/voice/set",
        "status": "error",
        "error": "voice/set: unknown voice 'x'",
        "transaction": 5,
        "ts": ISO,
    }
    assert response_payload("t", "busy", ts=TS) == {
        "topic": "t",
        "status": "error",
        "error": "busy",
        "ts": ISO,
    }
    assert command_error_payload(err, "edge_voice/kitchen/voice/set", TS) == {
        "code": "unknown_value",
        "message": "voice/set: unknown voice 'x'",
        "source_topic": "edge_voice/kitchen/voice/set",
        "transaction": 5,
        "ts": ISO,
    }


def test_arbitration_payload() -> None:
    assert arbitration_payload("kitchen", 0.9, TS) == {
        "device_id": "kitchen",
        "score": 0.9,
        "energy_dbfs": None,
        "ts": ISO,
    }
    claim = arbitration_payload("kitchen", 0.9, TS, energy_dbfs=-31.5)
    assert claim["energy_dbfs"] == -31.5


def test_naive_and_now_timestamps_are_utc() -> None:
    naive = ServiceState(**{**STATE.__dict__, "ts": dt.datetime(2026, 1, 2, 3, 4, 5)})
    assert state_payload(naive)["ts"] == "2026-01-02T03:04:05.000Z"
    assert response_payload("t")["ts"].endswith("Z")
