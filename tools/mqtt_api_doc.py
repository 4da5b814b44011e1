"""Generated sections of docs/MQTT_API.md (a unit test keeps the doc in step with the code).

Rewrite them with `python -m tools.mqtt_api_doc [docs/MQTT_API.md]`; `--check` only
reports whether the file is current (exit 1 when stale).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Final, cast

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from edge_voice.config.loading import validate_config
from edge_voice.mqtt import commands as cmd
from edge_voice.mqtt import discovery
from edge_voice.mqtt import payloads as out
from edge_voice.mqtt.topics import CommandKind, EventKind, Topics
from tools import generated
from tools.error_codes_doc import error_codes_table
from tools.mqtt_api_examples import BASE, EXAMPLE_CFG, EXAMPLE_TS, examples

_DIRECTIONS: Final[tuple[tuple[str, str, str, str], ...]] = (
    # (topic attribute or command, direction, retained, payload)
    ("availability", "out", "yes (LWT)", "`online` / `offline` (plain)"),
    ("state", "out", "yes", "StatePayload"),
    ("metrics", "out", "yes", "MetricsPayload"),
    ("config", "out", "yes", "effective config without secrets, plus `version`, `ts`"),
    ("config_last_good", "out", "yes", "last known good config (same shape)"),
    ("memory", "out", "yes", "MemoryPayload"),
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
    ("cmd:say", "in", "ignored", "plain text, or Say"),
    ("cmd:memory/clear", "in", "ignored", "empty/`clear`, or MemoryClear"),
    ("wakeword:threshold", "in", "ignored", "a number in (0, 1), or WakewordThresholdSet"),
    ("wakeword:refractory_s", "in", "ignored", "seconds 0-60, or WakewordRefractorySet"),
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
    cmd.Say,
    cmd.MemoryClear,
    cmd.WakewordThresholdSet,
    cmd.WakewordRefractorySet,
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
    out.MemoryPayload,
    out.FallbackPayload,
    out.ModelReplacedPayload,
    out.ErrorPayload,
    out.CommandResponse,
)


def _generic(topic: str) -> str:
    return topic.replace(BASE, "<base>").replace("edge_voice/", "<mqtt.base_topic>/")


def _topic_of(topics: Topics, ref: str) -> str:
    prefix, _, arg = ref.partition(":")
    if prefix == "event":
        return topics.event(cast(EventKind, arg))
    if prefix == "cmd":
        return topics.command(CommandKind(arg))
    if prefix == "wakeword":
        return topics.wakeword("NAME", arg).replace("/NAME/", "/<name>/")
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
    topics = Topics.for_config(validate_config(EXAMPLE_CFG))
    return "\n".join(f"- `{f}`" for f in topics.subscriptions())


def discovery_example() -> str:
    """The full discovery payload of one entity, exactly as published."""
    cfg = validate_config(EXAMPLE_CFG)
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
    "discovery_example": discovery_example,
    "schemas": schemas,
}


def render(text: str) -> str:
    """`text` with every generated section replaced by the current output."""
    return generated.render(text, SECTIONS)


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or `--check`) the generated sections of docs/MQTT_API.md."""
    return generated.rewrite_main(argv, "docs/MQTT_API.md", SECTIONS)


if __name__ == "__main__":
    raise SystemExit(main())
