"""Generated sections of docs/MQTT_API.md (a unit test keeps the doc in step with the code).

Rewrite them with `python -m tools.mqtt_api_doc [docs/MQTT_API.md]`; `--check` only
reports whether the file is current (exit 1 when stale).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, cast

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from edge_voice.config.loading import validate_config
from edge_voice.conversation.error_codes import ConversationErrorCode
from edge_voice.events import (
    ErrorOccurred,
    FallbackOccurred,
    FunctionCallRequested,
    McpCallReported,
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
from edge_voice.mqtt import discovery
from edge_voice.mqtt import payloads as out
from edge_voice.mqtt.event_payloads import publication_for
from edge_voice.mqtt.topics import CommandKind, EventKind, Topics
from tools import generated
from tools.error_codes_doc import error_codes_table

EXAMPLE_TS: Final = dt.datetime(2026, 11, 24, 18, 30, 5, 123000, tzinfo=dt.UTC)
_EXAMPLE_CFG: Final = {"device_id": "kitchen", "wakeword": {"arbitration_group": "downstairs"}}
_BASE: Final = "edge_voice/kitchen"
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


_DIRECTIONS: Final[tuple[tuple[str, str, str, str], ...]] = (
    # (topic attribute or command, direction, retained, payload)
    ("availability", "out", "yes (LWT)", "`online` / `offline` (plain)"),
    ("state", "out", "yes", "StatePayload"),
    ("metrics", "out", "yes", "MetricsPayload"),
    ("config", "out", "yes", "effective config without secrets, plus `version`, `ts`"),
    ("config_last_good", "out", "yes", "last known good config (same shape)"),
    ("event:wake", "out", "no", "WakePayload"),
    ("event:transcript", "out", "no", "TranscriptPayload"),
    ("event:function_call", "out", "no", "FunctionCallPayload"),
    ("event:mcp_call", "out", "no", "McpCallPayload"),
    ("event:response", "out", "no", "ResponsePayload"),
    ("event:fallback", "out", "no", "FallbackPayload"),
    ("event:model_replaced", "out", "no", "ModelReplacedPayload"),
    ("event:error", "out", "no", "ErrorPayload"),
    ("response", "out", "no", "CommandResponse"),
    ("cmd:model/set", "in", "ignored", "model name, or ModelSet"),
    ("cmd:model_selection/set", "in", "ignored", "`auto`/`new`/`legacy`, or ModelSelectionSet"),
    ("cmd:voice/set", "in", "ignored", "voice name or `auto`, or VoiceSet"),
    ("cmd:config/set", "in", "ignored", "partial config object (+ `transaction`)"),
    ("cmd:config/rollback", "in", "ignored", "empty/`last_good`/`legacy`, or ConfigRollback"),
    ("cmd:config/reset", "in", "ignored", "empty/`all`/`{}` (every override), or ConfigReset"),
    ("cmd:function_call/result", "in", "ignored", "FunctionCallResult"),
    ("cmd:conversation/start", "in", "ignored", "empty/`start`, or ConversationStart"),
    ("cmd:conversation/stop", "in", "ignored", "empty/`stop`, or ConversationStop"),
    ("tool:<name>", "in", "yes (expected)", "ToolPayload; empty removes the tool"),
    ("shared_tool:<name>", "in", "yes (expected)", "ToolPayload; empty removes the tool"),
    ("arbitration", "in/out", "no", "ArbitrationClaim"),
)

INCOMING_MODELS: Final[tuple[type[BaseModel], ...]] = (
    cmd.ModelSet,
    cmd.ModelSelectionSet,
    cmd.VoiceSet,
    cmd.ConfigRollback,
    cmd.ConfigReset,
    cmd.FunctionCallResult,
    cmd.ConversationStart,
    cmd.ConversationStop,
    cmd.ToolPayload,
    cmd.ArbitrationClaim,
)
OUTGOING_MODELS: Final[tuple[type[BaseModel], ...]] = (
    out.StatePayload,
    out.MetricsPayload,
    out.WakePayload,
    out.TranscriptPayload,
    out.FunctionCallPayload,
    out.McpCallPayload,
    out.ResponsePayload,
    out.FallbackPayload,
    out.ModelReplacedPayload,
    out.ErrorPayload,
    out.CommandResponse,
)


def _generic(topic: str) -> str:
    return topic.replace(_BASE, "<base>").replace("edge_voice/", "<mqtt.base_topic>/")


def _topic_of(topics: Topics, ref: str) -> str:
    prefix, _, arg = ref.partition(":")
    if prefix == "event":
        return topics.event(cast(EventKind, arg))
    if prefix == "cmd":
        return topics.command(CommandKind(arg))
    if prefix == "tool":
        return f"{topics.base}/tools/{arg}"
    if prefix == "shared_tool":
        return f"{topics.base_topic}/tools/{arg}"
    if prefix == "arbitration":
        return f"{topics.base_topic}/arbitration/<group>"
    value: str = getattr(topics, prefix)
    return value


def topics_table() -> str:
    """Every topic with direction, retain flag, QoS and payload."""
    topics = Topics("edge_voice", "kitchen")
    rows = ["| topic | dir | retained | QoS | payload |", "|---|---|---|---|---|"]
    for ref, direction, retained, payload in _DIRECTIONS:
        rows.append(
            f"| `{_generic(_topic_of(topics, ref))}` | {direction} | {retained} | 1 | {payload} |"
        )
    return "\n".join(rows)


def subscriptions_list() -> str:
    """The filters the bridge subscribes to, for the example device."""
    topics = Topics.for_config(validate_config(_EXAMPLE_CFG))
    return "\n".join(f"- `{f}`" for f in topics.subscriptions())


def _example_events() -> list[Any]:
    ts = EXAMPLE_TS
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
            source_topic=f"{_BASE}/voice/set",
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
    topics = Topics.for_config(validate_config(_EXAMPLE_CFG))
    lines: list[tuple[str, bytes]] = []
    for event in _example_events():
        publication = publication_for(event, topics)
        lines.append((publication.topic, publication.payload))
    lines.append(
        (
            topics.response,
            out.encode(out.response_payload(f"{_BASE}/model/set", None, 7, EXAMPLE_TS)),
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
        (topics.arbitration(), out.encode(out.arbitration_payload("kitchen", 0.93, EXAMPLE_TS))),
    ]
    body = [f"{topic}  {payload.decode() or '(empty)'}" for topic, payload in lines + commands]
    return "```text\n" + "\n".join(body) + "\n```"


def entities_table() -> str:
    """The Home Assistant entities of one device (example device_id `kitchen`)."""
    cfg = validate_config(_EXAMPLE_CFG)
    configs = discovery.discovery_configs(cfg, today=EXAMPLE_TS.date())
    rows = [
        "| component | key | name | reads | commands | class / unit |",
        "|---|---|---|---|---|---|",
    ]
    for topic, p in configs.items():
        component, key = topic.split("/")[1], topic.split("/")[3]
        source = p.get("state_topic", "")
        found = re.search(r"value_json\.(\w+(?:\.\w+)*)", p.get("value_template", ""))
        field = found.group(1).removesuffix(".get") if found else None
        reads = f"`{_generic(source)}`" + (f" `{field}`" if field else "") if source else "–"
        command = p.get("command_topic")
        press = f" `{p['payload_press']}`" if "payload_press" in p else ""
        commands = f"`{_generic(command)}`{press}" if command else "–"
        klass = " ".join(
            str(p[k]) for k in ("device_class", "state_class", "unit_of_measurement") if k in p
        )
        rows.append(
            f"| {component} | `{key}` | {p['name']} | {reads} | {commands} | {klass or '–'} |"
        )
    return "\n".join(rows)


def discovery_example() -> str:
    """The full discovery payload of one entity, exactly as published."""
    cfg = validate_config(_EXAMPLE_CFG)
    configs = discovery.discovery_configs(cfg, today=EXAMPLE_TS.date(), sw_version="0.1.0")
    topic = "homeassistant/sensor/edge_voice_kitchen/cost_total/config"
    return f"`{topic}` (retained):\n\n```json\n{json.dumps(configs[topic], indent=2)}\n```"


def schemas() -> str:
    """JSON schemas of every payload model, generated by pydantic."""
    parts: list[str] = []
    groups: tuple[tuple[str, Sequence[type[BaseModel]], JsonSchemaMode], ...] = (
        ("Incoming", INCOMING_MODELS, "validation"),
        ("Outgoing (field names as sent)", OUTGOING_MODELS, "serialization"),
    )
    for heading, models, mode in groups:
        parts.append(f"#### {heading}")
        for model in models:
            schema = model.model_json_schema(mode=mode)
            parts.append(f"`{model.__name__}`\n\n```json\n{json.dumps(schema, indent=1)}\n```")
    return "\n\n".join(parts)


SECTIONS: Final[dict[str, Callable[[], str]]] = {
    "topics_table": topics_table,
    "subscriptions": subscriptions_list,
    "examples": examples,
    "error_codes": error_codes_table,
    "entities_table": entities_table,
    "discovery_example": discovery_example,
    "schemas": schemas,
}


def render(text: str) -> str:
    """`text` with every generated section replaced by the current output."""
    return generated.render(text, SECTIONS)


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or `--check`) the generated sections of docs/MQTT_API.md."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    path = Path(paths[0] if paths else "docs/MQTT_API.md")
    text = path.read_text(encoding="utf-8")
    new = render(text)
    if check:
        return 0 if new == text else 1
    if new != text:
        path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
