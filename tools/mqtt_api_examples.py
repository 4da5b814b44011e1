"""The example payloads of docs/MQTT_API.md, made by the code that publishes them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from edge_voice.config.choices import model_options, voice_options
from edge_voice.config.loading import validate_config
from edge_voice.conversation.error_codes import ConversationErrorCode
from edge_voice.events import (
    ErrorOccurred,
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
from edge_voice.metrics.cost import TokenUsage, calculate_cost
from edge_voice.metrics.records import MetricsSnapshot, Percentiles
from edge_voice.models.lifecycle import Replacement
from edge_voice.models.migration import FallbackEvent
from edge_voice.mqtt import commands as cmd
from edge_voice.mqtt import payloads as out
from edge_voice.mqtt.event_payloads import publication_for
from edge_voice.mqtt.topics import CommandKind, Topics

EXAMPLE_TS: Final = dt.datetime(2026, 11, 24, 18, 30, 5, 123000, tzinfo=dt.UTC)
EXAMPLE_CFG: Final = {"device_id": "kitchen", "wakeword": {"arbitration_group": "downstairs"}}
BASE: Final = "edge_voice/kitchen"
#: A GA `response.done` usage object as the real service sends it.
_GA_USAGE: Final = {
    "total_tokens": 1010,
    "input_tokens": 850,
    "output_tokens": 160,
    "input_token_details": {
        "text_tokens": 420,
        "audio_tokens": 430,
        "image_tokens": 0,
        "cached_tokens": 256,
        "cached_tokens_details": {"text_tokens": 256, "audio_tokens": 0, "image_tokens": 0},
    },
    "output_token_details": {"text_tokens": 40, "audio_tokens": 120},
}


def _example_events() -> list[Any]:
    ts = EXAMPLE_TS
    cfg = validate_config(EXAMPLE_CFG)
    return [
        ServiceState(
            status="idle",
            model="gpt-realtime",
            active_model="gpt-realtime",
            model_selection="auto",
            voice="cedar",
            connected=True,
            fallback_active=False,
            model_chain=("gpt-realtime", "gpt-realtime-1.5"),
            models=tuple(model_options(cfg, ts.date())),
            voices=tuple(voice_options(cfg.catalog(), "gpt-realtime")),
            ts=ts,
        ),
        MetricsUpdated(
            metrics=MetricsSnapshot(
                cost_total_usd=1.2345,
                cost_today_usd=0.0812,
                cost_last_usd=0.0121,
                tokens_total=48210,
                latency_first_audio_ms=612.4,
                latency_p95_ms=980.0,
                conversations=17,
                fallbacks=1,
                latency_ms={
                    "connect": Percentiles(182.0, 240.5),
                    "session_ready": Percentiles(305.1, 410.0),
                    "first_audio": Percentiles(590.2, 980.0),
                    "audio_stream": Percentiles(2140.0, 4820.3),
                    "function_call": Percentiles(140.0, 310.8),
                    "response": Percentiles(2890.6, 5620.0),
                },
                connection_success_rate={"gpt-4o-realtime-preview": 1.0, "gpt-realtime": 0.9931},
            ),
            ts=ts,
        ),
        WakeDetected(wakeword="hey_jarvis", score=0.93, ts=ts),
        Transcript(
            role="user",
            text="Turn on the kitchen light",
            item_id="item_1",
            response_id=None,
            model="gpt-realtime",
            ts=ts,
        ),
        FunctionCallRequested(
            call_id="call_1",
            name="set_light",
            arguments='{"room":"kitchen","state":"on"}',
            model="gpt-realtime",
            deadline_ms=8000,
            mode="async",
            ts=ts,
        ),
        McpCallReported(
            server_label="deepwiki",
            name="ask_question",
            arguments='{"question":"What is MQTT?"}',
            status="completed",
            output="MQTT is a lightweight publish/subscribe protocol.",
            model="gpt-realtime-2.1",
            item_id="mcp_1",
            ts=ts,
        ),
        ResponseCompleted(
            response_id="resp_1",
            model="gpt-realtime",
            voice="cedar",
            usage=TokenUsage.from_usage(_GA_USAGE).as_dict(),  # as the service converts it
            cost_usd=round(calculate_cost(_GA_USAGE, "gpt-realtime"), 6),
            latency_ms={"first_audio": 612.4, "audio_stream": 2140.0, "response": 2890.6},
            ts=ts,
        ),
        MemoryChanged(
            enabled=True,
            summary="The user asked to turn on the kitchen light; it is on. They prefer short "
            "answers.",
            updated=ts,
            ts=ts,
        ),
        FallbackOccurred(
            fallback=FallbackEvent("gpt-realtime", "gpt-4o-realtime-preview", "model_not_found"),
            ts=ts,
        ),
        ModelReplaced(
            replaced=Replacement(
                "openai.legacy_model",
                "gpt-4o-realtime-preview",
                dt.date(2026, 5, 7),
                "gpt-realtime-1.5",
            ),
            ts=ts,
        ),
        ErrorOccurred(
            code="unknown_value",
            message="voice/set: unknown voice 'robot'; known: auto, alloy, …",
            source_topic=f"{BASE}/voice/set",
            transaction="t-42",
            ts=ts,
        ),
        ErrorOccurred(
            code=ConversationErrorCode.FUNCTION_CALL_TIMEOUT,
            message="function call call_1 (set_light) on gpt-realtime: no result within 8000 ms "
            "(no flow answered on function_call/result)",
            call_id="call_1",
            name="set_light",
            model="gpt-realtime",
            ts=ts,
        ),
    ]


def examples() -> str:
    """One example message per topic, produced by the code itself."""
    topics = Topics.for_config(validate_config(EXAMPLE_CFG))
    lines: list[tuple[str, bytes]] = []
    for event in _example_events():
        publication = publication_for(event, topics)
        lines.append((publication.topic, publication.payload))
    lines.append(
        (
            topics.response,
            out.encode(out.response_payload(f"{BASE}/model/set", None, 7, EXAMPLE_TS)),
        )
    )
    commands: list[tuple[str, bytes]] = [
        (topics.command(CommandKind.MODEL_SET), b"gpt-realtime-mini"),
        (
            topics.command(CommandKind.MODEL_SET),
            cmd.ModelSet(model="gpt-realtime", transaction=7).to_payload(),
        ),
        (topics.command(CommandKind.MODEL_SELECTION_SET), b"legacy"),
        (topics.command(CommandKind.VOICE_SET), b"marin"),
        (
            topics.command(CommandKind.CONFIG_SET),
            b'{"voice":{"primary":"marin"},"budget":{"daily_usd":2.5},"transaction":"t-1"}',
        ),
        (topics.command(CommandKind.CONFIG_ROLLBACK), b"last_good"),
        (
            topics.command(CommandKind.CONFIG_RESET),
            cmd.ConfigReset(keys=("voice.primary",), transaction="t-2").to_payload(),
        ),
        (
            topics.command(CommandKind.FUNCTION_CALL_RESULT),
            cmd.FunctionCallResult(call_id="call_1", output='{"ok":true}').to_payload(),
        ),
        # `output` takes any JSON: a flow may send the object itself.
        (
            topics.command(CommandKind.FUNCTION_CALL_RESULT),
            b'{"call_id":"call_1","output":{"ok":true}}',
        ),
        (topics.command(CommandKind.CONVERSATION_START), b""),
        (topics.command(CommandKind.SAY), b"The washing machine is done."),
        (topics.command(CommandKind.MEMORY_CLEAR), b""),
        (
            topics.command(CommandKind.SAY),
            cmd.Say(
                text="The garage door is open. Shall I close it?", start_conversation=True
            ).to_payload(),
        ),
        (
            topics.tool("set_light"),
            cmd.ToolPayload(
                description="Turn a light in a room on or off.",
                parameters={
                    "type": "object",
                    "properties": {"room": {"type": "string"}, "state": {"enum": ["on", "off"]}},
                    "required": ["room", "state"],
                },
            ).to_payload(),
        ),
        (topics.shared_tool("read_sensor"), b""),
        (
            topics.arbitration(),
            out.encode(out.arbitration_payload("kitchen", 0.93, EXAMPLE_TS, energy_dbfs=-31.4)),
        ),
    ]
    body = [f"{topic}  {payload.decode() or '(empty)'}" for topic, payload in lines + commands]
    return "```text\n" + "\n".join(body) + "\n```"
