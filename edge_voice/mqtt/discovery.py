"""Home Assistant MQTT discovery payloads: pure functions of the config and the model in use.

Per-entity discovery topics (`<prefix>/<component>/edge_voice_<device_id>/<key>/config`),
because device-based discovery needs HA >= 2024.11. Full key names throughout, never the
abbreviations. No `object_id`/`default_entity_id`: `object_id` is deprecated and
`default_entity_id` unknown to older HA, while the default entity id, a slug of
"<device name> <entity name>", already contains the device_id (`sensor.edge_voice_kitchen_cost`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from edge_voice import __version__
from edge_voice.config.choices import current_model, model_options, voice_options
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.models.catalog import ModelCatalog
from edge_voice.models.fallback import MODEL_SELECTIONS
from edge_voice.mqtt.discovery_assistant import assistant_entities
from edge_voice.mqtt.discovery_wakeword import wakeword_entities
from edge_voice.mqtt.topics import CommandKind, Topics

#: Rendered by a template for "no value": HA's MQTT platforms read it as unknown.
_NONE: Final = "None"

#: Measures of `LATENCY_METRICS` with p50/p95 sensors of their own (`latency_<measure>_<q>`),
#: by name; the first audio has `latency` (newest), `latency_p50` and `latency_p95`.
LATENCY_SENSORS: Final = {
    "function_call": "Function call round trip",
    "response": "Response time",
    "connect": "Connect time",
    "session_ready": "Session setup time",
    "audio_stream": "Answer audio length",
}
#: Shown on the device page; every other latency sensor is a diagnostic.
_KEY_LATENCIES: Final = frozenset({"latency", "latency_p50", "latency_function_call_p50"})

#: (component, key) of every entity, in the order they are published.
ENTITIES: Final[tuple[tuple[str, str], ...]] = (
    ("select", "model"),
    ("select", "voice"),
    ("select", "model_selection"),
    ("sensor", "status"),
    ("sensor", "active_model"),
    ("sensor", "cost_total"),
    ("sensor", "cost_today"),
    ("sensor", "cost_last"),
    ("sensor", "latency"),
    ("sensor", "latency_p50"),
    ("sensor", "latency_p95"),
    *(("sensor", f"latency_{m}_{q}") for m in LATENCY_SENSORS for q in ("p50", "p95")),
    ("sensor", "connection_success"),
    ("sensor", "connection_success_legacy"),
    ("sensor", "tokens"),
    ("sensor", "last_transcript"),
    ("sensor", "model_shutdown"),
    ("binary_sensor", "connected"),
    ("binary_sensor", "fallback_active"),
    ("binary_sensor", "api_key_problem"),
    ("event", "wake_word"),
    ("button", "rollback"),
    ("button", "reset_overrides"),
    ("button", "start_conversation"),
)


def unique_id(device_id: str, key: str) -> str:
    """`edge_voice_<device_id>_<key>`: stable, and distinct for every device on the broker."""
    return f"edge_voice_{device_id}_{key}"


def device_block(cfg: EdgeVoiceConfig, sw_version: str = __version__) -> dict[str, Any]:
    """The HA device shared by all entities of one device_id (name in every entity, as HA asks)."""
    return {
        "identifiers": [f"edge_voice_{cfg.device_id}"],
        "name": f"Edge Voice {cfg.device_id}",
        "manufacturer": "edge_voice",
        "model": "Realtime voice assistant",
        "sw_version": sw_version,
    }


def origin_block(sw_version: str = __version__, support_url: str | None = None) -> dict[str, Any]:
    """Who published the config (HA logs it); `support_url` only when one is known."""
    origin: dict[str, Any] = {"name": "edge_voice", "sw_version": sw_version}
    if support_url:
        origin["support_url"] = support_url
    return origin


def discovery_configs(
    cfg: EdgeVoiceConfig,
    *,
    model: str | None = None,
    today: dt.date | None = None,
    sw_version: str = __version__,
    support_url: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Every discovery config `{config_topic: payload}`; re-publish when the model changes."""
    topics = Topics.for_config(cfg)
    catalog = cfg.catalog()
    model = model or current_model(cfg)
    common = {
        "device": device_block(cfg, sw_version),
        "origin": origin_block(sw_version, support_url),
        "availability_topic": topics.availability,
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
    }
    specs = _entity_specs(cfg, topics, catalog, model, today)
    entities = [(c, k, specs[k]) for c, k in ENTITIES]
    entities += wakeword_entities(cfg, topics) + assistant_entities(cfg, topics)
    return {
        topics.discovery(component, key): {
            "unique_id": unique_id(cfg.device_id, key),
            **spec,
            **common,
        }
        for component, key, spec in entities
    }


def stale_topics(previous_keys: Iterable[str], current: Mapping[str, object]) -> list[str]:
    """Config topics published before but not now: clear each with an empty retained payload.
    Only topics under the node ids of `current` count (never another device's entities)."""
    nodes = {_node_of(topic) for topic in current}
    return sorted(t for t in set(previous_keys) - set(current) if _node_of(t) in nodes)


def _node_of(topic: str) -> str | None:
    parts = topic.split("/")
    return parts[-3] if len(parts) >= 4 and parts[-1] == "config" else None


def _state(topics: Topics, template: str) -> dict[str, Any]:
    return {"state_topic": topics.state, "value_template": template}


def _metric(topics: Topics, field: str) -> dict[str, Any]:
    return {"state_topic": topics.metrics, "value_template": f"{{{{ value_json.{field} }}}}"}


def _command(topics: Topics, kind: CommandKind) -> dict[str, Any]:
    # Commands are never retained: the service ignores retained commands anyway.
    return {"command_topic": topics.command(kind), "retain": False}


def _entity_specs(
    cfg: EdgeVoiceConfig,
    topics: Topics,
    catalog: ModelCatalog,
    model: str,
    today: dt.date | None,
) -> dict[str, dict[str, Any]]:
    usd = {"device_class": "monetary", "unit_of_measurement": "USD"}
    transcript = topics.event("transcript")
    shutdown_value, shutdown_attributes = _shutdown_templates(catalog)
    return {
        "model": {
            "name": "Model",
            "icon": "mdi:brain",
            "options": model_options(cfg, today, model),
            **_state(topics, "{{ value_json.model }}"),
            **_command(topics, CommandKind.MODEL_SET),
        },
        "voice": {
            "name": "Voice",
            "icon": "mdi:account-voice",
            "options": voice_options(catalog, model),
            **_state(topics, "{{ value_json.voice }}"),
            **_command(topics, CommandKind.VOICE_SET),
        },
        "model_selection": {
            "name": "Model selection",
            "icon": "mdi:swap-horizontal",
            "entity_category": "config",
            "options": list(MODEL_SELECTIONS),
            **_state(topics, "{{ value_json.model_selection }}"),
            **_command(topics, CommandKind.MODEL_SELECTION_SET),
        },
        "status": {
            "name": "Status",
            "icon": "mdi:list-status",
            **_state(topics, "{{ value_json.status }}"),
        },
        "active_model": {
            "name": "Active model",
            "icon": "mdi:brain",
            "entity_category": "diagnostic",
            **_state(topics, "{{ value_json.active_model }}"),
            # The effective fallback chain (dead models replaced) shown as an attribute.
            "json_attributes_topic": topics.state,
            "json_attributes_template": "{{ {'model_chain': value_json.model_chain} | tojson }}",
        },
        # monetary allows only state_class total; a cumulative total needs no last_reset.
        "cost_total": {
            "name": "Cost",
            **usd,
            "state_class": "total",
            "suggested_display_precision": 4,
            **_metric(topics, "cost_total_usd"),
        },
        # Resets at local midnight: without a state_class, so no bogus negative statistics
        # (long-term cost comes from cost_total).
        "cost_today": {
            "name": "Cost today",
            **usd,
            "suggested_display_precision": 4,
            **_metric(topics, "cost_today_usd"),
        },
        "cost_last": {
            "name": "Cost of last conversation",
            **usd,
            "suggested_display_precision": 4,
            **_metric(topics, "cost_last_usd"),
        },
        **_latencies(topics),
        # Per model of the configured chain: the migration holds while these stay above 99%.
        "connection_success": _success_rate(topics, "Connection success", cfg.openai.model),
        "connection_success_legacy": _success_rate(
            topics, "Connection success legacy", cfg.openai.legacy_model
        ),
        "tokens": {
            "name": "Tokens",
            "icon": "mdi:counter",
            "unit_of_measurement": "tokens",
            "state_class": "total_increasing",
            **_metric(topics, "tokens_total"),
        },
        # HA keeps at most 255 characters of state; the full text is in the attributes.
        "last_transcript": {
            "name": "Last transcript",
            "icon": "mdi:text-box-outline",
            "state_topic": transcript,
            "value_template": "{{ value_json.text[:255] }}",
            "json_attributes_topic": transcript,
        },
        "model_shutdown": {
            "name": "Model shutdown",
            "device_class": "timestamp",
            "entity_category": "diagnostic",
            **_state(topics, shutdown_value),
            "json_attributes_topic": topics.state,
            "json_attributes_template": shutdown_attributes,
        },
        "connected": {
            "name": "Connected",
            "device_class": "connectivity",
            "entity_category": "diagnostic",
            **_state(topics, "{{ 'ON' if value_json.connected else 'OFF' }}"),
        },
        "fallback_active": {
            "name": "Fallback active",
            "icon": "mdi:swap-horizontal-bold",
            **_state(topics, "{{ 'ON' if value_json.fallback_active else 'OFF' }}"),
        },
        # Unknown until the first connection attempt; ON from a refused key to a connection.
        "api_key_problem": {
            "name": "API key problem",
            "device_class": "problem",
            "entity_category": "diagnostic",
            **_state(
                topics,
                "{% set p = value_json.api_key_problem %}"
                f"{{{{ '{_NONE}' if p is none else ('ON' if p else 'OFF') }}}}",
            ),
        },
        "wake_word": {
            "name": "Wake word",
            "icon": "mdi:microphone-message",
            "state_topic": topics.event("wake"),
            "event_types": ["detected", "false_wake", "yielded"],
        },
        "rollback": {
            "name": "Roll back config",
            "icon": "mdi:restore",
            "entity_category": "config",
            "payload_press": "last_good",
            **_command(topics, CommandKind.CONFIG_ROLLBACK),
        },
        "reset_overrides": {
            "name": "Reset runtime overrides",
            "icon": "mdi:file-restore",
            "entity_category": "config",
            "payload_press": "all",
            **_command(topics, CommandKind.CONFIG_RESET),
        },
        "start_conversation": {
            "name": "Start conversation",
            "icon": "mdi:microphone",
            "payload_press": "start",
            **_command(topics, CommandKind.CONVERSATION_START),
        },
    }


def _latencies(topics: Topics) -> dict[str, dict[str, Any]]:
    """Duration sensors of `<base>/metrics`: first audio (newest, p50, p95), p50/p95 of others."""
    fields = {
        "latency": ("Latency", "latency_first_audio_ms"),
        "latency_p50": ("Latency p50", "latency_ms.first_audio.p50"),
        "latency_p95": ("Latency p95", "latency_p95_ms"),
    }
    for measure, name in LATENCY_SENSORS.items():
        for q in ("p50", "p95"):
            fields[f"latency_{measure}_{q}"] = (f"{name} {q}", f"latency_ms.{measure}.{q}")
    return {
        key: {
            "name": name,
            "device_class": "duration",
            "unit_of_measurement": "ms",
            "state_class": "measurement",
            "suggested_display_precision": 0,
            **({} if key in _KEY_LATENCIES else {"entity_category": "diagnostic"}),
            **_metric(topics, path),
        }
        for key, (name, path) in fields.items()
    }


def _success_rate(topics: Topics, name: str, model: str) -> dict[str, Any]:
    """A percentage of `connection_success_rate[model]`; the model is an attribute."""
    quoted = json.dumps(model)  # a JSON string is a Jinja string literal
    rate = f"value_json.connection_success_rate.get({quoted})"
    return {
        "name": name,
        "icon": "mdi:lan-check",
        "unit_of_measurement": "%",
        "state_class": "measurement",
        "suggested_display_precision": 1,
        "state_topic": topics.metrics,
        "value_template": (
            f"{{% set r = {rate} %}}{{{{ '{_NONE}' if r is none else (r * 100) | round(2) }}}}"
        ),
        "json_attributes_topic": topics.metrics,
        "json_attributes_template": f"{{{{ {{'model': {quoted}}} | tojson }}}}",
    }


def _shutdown_templates(catalog: ModelCatalog) -> tuple[str, str]:
    """Value and attribute templates mapping the model in use to its shutdown and successor.

    The state payload stays as the contract has it; the catalog's dates ride in the template,
    which is rebuilt with every discovery publish. Midnight UTC stands for the shutdown day.
    """
    dates = {
        m.name: f"{m.lifecycle.shutdown.isoformat()}T00:00:00+00:00"
        for m in catalog.models()
        if m.lifecycle.shutdown is not None
    }
    successors = {m.name: m.lifecycle.successor for m in catalog.models() if m.lifecycle.successor}
    # JSON objects of strings are valid Jinja dict literals.
    dates_js, successors_js = json.dumps(dates), json.dumps(successors)
    in_use = "{% set m = value_json.active_model or value_json.model %}"
    value = f"{in_use}{{{{ {dates_js}.get(m, '{_NONE}') }}}}"
    attributes = (
        f"{in_use}{{{{ {{'model': m, 'shutdown': {dates_js}.get(m), "
        f"'successor': {successors_js}.get(m)}} | tojson }}}}"
    )
    return value, attributes
