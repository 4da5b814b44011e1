"""Home Assistant discovery payloads: exact JSON, HA's rules, options per model, no clashes."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from edge_voice.config.choices import current_model, model_options, voice_options
from edge_voice.config.loading import validate_config
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.metrics.latency_stats import LATENCY_METRICS
from edge_voice.mqtt.discovery import (
    ENTITIES,
    LATENCY_SENSORS,
    discovery_configs,
    stale_topics,
)
from edge_voice.mqtt.parsing import parse_command
from edge_voice.mqtt.topics import CommandKind, Topics

TODAY = dt.date(2026, 11, 24)
PREFIX = "homeassistant/{}/edge_voice_kitchen/{}/config"
DEVICE = {
    "identifiers": ["edge_voice_kitchen"],
    "name": "Edge Voice kitchen",
    "manufacturer": "edge_voice",
    "model": "Realtime voice assistant",
    "sw_version": "1.2.3",
}
COMMON = {
    "device": DEVICE,
    "origin": {"name": "edge_voice", "sw_version": "1.2.3"},
    "availability_topic": "edge_voice/kitchen/availability",
    "payload_available": "online",
    "payload_not_available": "offline",
    "qos": 1,
}
GA_VOICES = [
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
]
#: HA's abbreviations of keys we use: never mixed with the full names.
ABBREVIATIONS = {
    "stat_t", "cmd_t", "val_tpl", "uniq_id", "obj_id", "dev_cla", "stat_cla", "unit_of_meas",
    "sug_dsp_prc", "json_attr_t", "json_attr_tpl", "avty", "avty_t", "pl_avail", "pl_not_avail",
    "pl_prs", "ops", "evt_typ", "ent_cat", "ic", "ret", "dev", "o", "~",
}  # fmt: skip


def _cfg(**extra: Any) -> EdgeVoiceConfig:
    return validate_config({"device_id": "kitchen", **extra})


def _configs(cfg: EdgeVoiceConfig | None = None, **kw: Any) -> dict[str, dict[str, Any]]:
    return discovery_configs(cfg or _cfg(), today=TODAY, sw_version="1.2.3", **kw)


def test_topics_and_entity_list() -> None:
    configs = _configs()
    wakeword = [
        ("sensor", "profile"),
        ("sensor", "false_wakes_today"),
        ("sensor", "false_wakes"),
        ("number", "wakeword_hey_jarvis_threshold"),
        ("number", "wakeword_hey_jarvis_refractory"),
    ]
    assistant = [("notify", "announce")]
    assert list(configs) == [PREFIX.format(c, k) for c, k in [*ENTITIES, *wakeword, *assistant]]
    assert len(configs) == 39  # with the reset_overrides button and the API key problem


def test_notify_entity_speaks_on_say() -> None:
    announce = _configs()[PREFIX.format("notify", "announce")]
    assert announce["command_topic"] == "edge_voice/kitchen/say"
    assert announce["retain"] is False and announce["name"] == "Announce"
    assert announce["availability_topic"] == "edge_voice/kitchen/availability"


def test_full_payloads_of_some_entities() -> None:
    configs = _configs()
    assert configs[PREFIX.format("select", "model")] == {
        "unique_id": "edge_voice_kitchen_model",
        "name": "Model",
        "icon": "mdi:brain",
        "options": [
            "gpt-realtime",
            "gpt-realtime-mini",
            "gpt-realtime-1.5",
            "gpt-realtime-2",
            "gpt-realtime-2.1",
            "gpt-realtime-2.1-mini",
            "gpt-4o-realtime-preview",
        ],
        "state_topic": "edge_voice/kitchen/state",
        "value_template": "{{ value_json.model }}",
        "command_topic": "edge_voice/kitchen/model/set",
        "retain": False,
        **COMMON,
    }
    assert configs[PREFIX.format("select", "voice")] == {
        "unique_id": "edge_voice_kitchen_voice",
        "name": "Voice",
        "icon": "mdi:account-voice",
        "options": GA_VOICES,
        "state_topic": "edge_voice/kitchen/state",
        "value_template": "{{ value_json.voice }}",
        "command_topic": "edge_voice/kitchen/voice/set",
        "retain": False,
        **COMMON,
    }
    assert configs[PREFIX.format("sensor", "cost_total")] == {
        "unique_id": "edge_voice_kitchen_cost_total",
        "name": "Cost",
        "device_class": "monetary",
        "unit_of_measurement": "USD",
        "state_class": "total",
        "suggested_display_precision": 4,
        "state_topic": "edge_voice/kitchen/metrics",
        "value_template": "{{ value_json.cost_total_usd }}",
        **COMMON,
    }
    assert configs[PREFIX.format("sensor", "last_transcript")] == {
        "unique_id": "edge_voice_kitchen_last_transcript",
        "name": "Last transcript",
        "icon": "mdi:text-box-outline",
        "state_topic": "edge_voice/kitchen/event/transcript",
        "value_template": "{{ value_json.text[:255] }}",
        "json_attributes_topic": "edge_voice/kitchen/event/transcript",
        **COMMON,
    }
    assert configs[PREFIX.format("binary_sensor", "connected")] == {
        "unique_id": "edge_voice_kitchen_connected",
        "name": "Connected",
        "device_class": "connectivity",
        "entity_category": "diagnostic",
        "state_topic": "edge_voice/kitchen/state",
        "value_template": "{{ 'ON' if value_json.connected else 'OFF' }}",
        **COMMON,
    }
    assert configs[PREFIX.format("event", "wake_word")] == {
        "unique_id": "edge_voice_kitchen_wake_word",
        "name": "Wake word",
        "icon": "mdi:microphone-message",
        "state_topic": "edge_voice/kitchen/event/wake",
        "event_types": ["detected", "false_wake", "yielded"],
        **COMMON,
    }
    assert configs[PREFIX.format("button", "rollback")] == {
        "unique_id": "edge_voice_kitchen_rollback",
        "name": "Roll back config",
        "icon": "mdi:restore",
        "entity_category": "config",
        "payload_press": "last_good",
        "command_topic": "edge_voice/kitchen/config/rollback",
        "retain": False,
        **COMMON,
    }


def test_key_properties_of_every_entity() -> None:
    expected = {
        "model_selection": ("edge_voice/kitchen/state", "edge_voice/kitchen/model_selection/set"),
        "start_conversation": (None, "edge_voice/kitchen/conversation/start"),
        "status": ("edge_voice/kitchen/state", None),
        "active_model": ("edge_voice/kitchen/state", None),
        "cost_today": ("edge_voice/kitchen/metrics", None),
        "cost_last": ("edge_voice/kitchen/metrics", None),
        "latency": ("edge_voice/kitchen/metrics", None),
        "latency_p95": ("edge_voice/kitchen/metrics", None),
        "tokens": ("edge_voice/kitchen/metrics", None),
        "model_shutdown": ("edge_voice/kitchen/state", None),
        "fallback_active": ("edge_voice/kitchen/state", None),
        "api_key_problem": ("edge_voice/kitchen/state", None),
    }
    configs = _configs()
    fixed = list(configs.items())[: len(ENTITIES)]
    for (component, key), (topic, payload) in zip(ENTITIES, fixed, strict=True):
        assert topic == PREFIX.format(component, key)
        assert payload["unique_id"] == f"edge_voice_kitchen_{key}"
        assert {k: payload[k] for k in COMMON} == COMMON
        assert payload["name"] and not payload["name"].lower().startswith("edge voice")
        if key in expected:
            assert (payload.get("state_topic"), payload.get("command_topic")) == expected[key]
    select = configs[PREFIX.format("select", "model_selection")]
    assert select["options"] == ["auto", "new", "legacy"]
    assert select["value_template"] == "{{ value_json.model_selection }}"
    start = configs[PREFIX.format("button", "start_conversation")]
    assert start["payload_press"] == "start"
    today = configs[PREFIX.format("sensor", "cost_today")]
    assert (today["device_class"], today["unit_of_measurement"]) == ("monetary", "USD")
    assert "state_class" not in today
    latency = configs[PREFIX.format("sensor", "latency")]
    assert (latency["device_class"], latency["unit_of_measurement"], latency["state_class"]) == (
        "duration",
        "ms",
        "measurement",
    )
    assert latency["value_template"] == "{{ value_json.latency_first_audio_ms }}"
    tokens = configs[PREFIX.format("sensor", "tokens")]
    assert (tokens["state_class"], tokens["unit_of_measurement"]) == ("total_increasing", "tokens")
    shutdown = configs[PREFIX.format("sensor", "model_shutdown")]
    assert shutdown["device_class"] == "timestamp"
    assert '"gpt-realtime": "2027-01-20T00:00:00+00:00"' in shutdown["value_template"]
    assert '"gpt-realtime": "gpt-realtime-2.1"' in shutdown["json_attributes_template"]
    assert shutdown["json_attributes_topic"] == "edge_voice/kitchen/state"


def test_home_assistant_rules_hold_for_every_entity() -> None:
    numeric = {"device_class", "state_class", "unit_of_measurement", "suggested_display_precision"}
    for topic, payload in _configs().items():
        assert re.fullmatch(r"homeassistant/\w+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/config", topic)
        assert not ABBREVIATIONS & set(payload), topic
        assert "object_id" not in payload and "default_entity_id" not in payload
        assert payload["device"]["name"] and payload["device"]["identifiers"]
        if payload.get("device_class") == "monetary":
            assert payload.get("state_class") in (None, "total")
        if payload.get("device_class") == "timestamp":
            assert not numeric - {"device_class"} & set(payload)
        if topic.endswith(("/status/config", "/active_model/config", "/last_transcript/config")):
            assert not numeric & set(payload), topic
        if "/select/" in topic:
            assert payload["options"] and len(payload["options"]) == len(set(payload["options"]))
        if "/button/" in topic or "/select/" in topic:
            assert payload["retain"] is False and payload["command_topic"]
        json.dumps(payload, allow_nan=False)


def test_voice_options_follow_the_model() -> None:
    cfg = _cfg()
    key = PREFIX.format("select", "voice")
    assert _configs(cfg)[key]["options"] == GA_VOICES
    assert len(_configs(cfg, model="gpt-realtime")[key]["options"]) == 10
    preview = _configs(cfg, model="gpt-4o-realtime-preview")[key]["options"]
    assert preview == ["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse"]
    legacy = _cfg(openai={"model_selection": "legacy"})
    assert current_model(legacy) == "gpt-4o-realtime-preview"
    assert len(_configs(legacy)[key]["options"]) == 8
    catalog = cfg.catalog()
    assert voice_options(catalog, "gpt-4o-realtime-preview-2024-10-01") == [
        "alloy",
        "echo",
        "shimmer",
    ]
    assert voice_options(catalog, "not-in-catalog") == catalog.all_voices()


def test_model_options_always_include_configured_models() -> None:
    cfg = _cfg()
    assert "gpt-4o-mini-realtime-preview" not in model_options(cfg, TODAY)
    assert "gpt-4o-mini-realtime-preview" in model_options(cfg, dt.date(2025, 1, 1))
    pinned = _cfg(openai={"model": "gpt-realtime-2025-08-28"})
    assert "gpt-realtime-2025-08-28" in model_options(pinned, TODAY)
    assert "gpt-realtime-2025-08-28" not in model_options(cfg, TODAY)
    assert "gpt-4o-realtime-preview-2024-12-17" in model_options(
        cfg, TODAY, current="gpt-4o-realtime-preview-2024-12-17"
    )
    added = _cfg(models={"my-proxy": {"like": "gpt-realtime"}})
    assert model_options(added, TODAY)[-1] == "my-proxy"
    configs = _configs(cfg, model="gpt-4o-realtime-preview-2024-12-17")
    assert (
        "gpt-4o-realtime-preview-2024-12-17" in configs[PREFIX.format("select", "model")]["options"]
    )


def test_two_devices_never_share_ids_or_topics() -> None:
    a = _configs(_cfg())
    b = _configs(validate_config({"device_id": "hall"}))
    assert not set(a) & set(b)
    ids_a = {p["unique_id"] for p in a.values()}
    ids_b = {p["unique_id"] for p in b.values()}
    assert len(ids_a) == len(a) and not ids_a & ids_b
    topics_a = {v for p in a.values() for k, v in p.items() if k.endswith("_topic")}
    topics_b = {v for p in b.values() for k, v in p.items() if k.endswith("_topic")}
    assert not topics_a & topics_b
    assert {p["device"]["identifiers"][0] for p in b.values()} == {"edge_voice_hall"}


def test_custom_prefix_base_topic_and_support_url() -> None:
    cfg = validate_config(
        {"device_id": "hall", "mqtt": {"base_topic": "home/ev", "discovery_prefix": "ha"}}
    )
    configs = discovery_configs(cfg, today=TODAY, support_url="https://example.org/ev")
    topic = "ha/sensor/edge_voice_hall/status/config"
    assert configs[topic]["state_topic"] == "home/ev/hall/state"
    assert configs[topic]["origin"]["support_url"] == "https://example.org/ev"


def test_stale_topics_only_ever_name_this_devices_configs() -> None:
    current = _configs()
    old = "homeassistant/sensor/edge_voice_kitchen/removed_thing/config"
    others = [
        "homeassistant/sensor/edge_voice_hall/cost_total/config",
        "homeassistant/sensor/0x00158d0001/temperature/config",
        "homeassistant/sensor/edge_voice_kitchen/x/state",
    ]
    assert stale_topics([*current, old, *others], current) == [old]
    assert stale_topics(current, current) == []


def test_what_home_assistant_sends_is_a_valid_command() -> None:
    cfg = _cfg()
    topics = Topics.for_config(cfg)
    catalog = cfg.catalog()
    for payload in _configs(cfg).values():
        if "command_topic" not in payload:
            continue
        route = topics.classify(payload["command_topic"])
        assert route is not None
        if "min" in payload:  # a number: HA sends the value as plain text
            sent = [str(payload["min"]), str(payload["max"])]
        elif route.kind is CommandKind.SAY:  # notify: the message as it is
            sent = ["The garage door is open [north side]", '"quoted" text']
        else:
            sent = payload["options"] if "options" in payload else [payload["payload_press"]]
        for value in sent:
            parse_command(route, value.encode(), catalog=catalog)


def test_templates_render_like_home_assistant() -> None:
    jinja2 = pytest.importorskip("jinja2.sandbox")
    env = jinja2.ImmutableSandboxedEnvironment()
    configs = _configs()
    state = {"model": "gpt-realtime", "active_model": None, "connected": True, "voice": "cedar"}

    def render(key: str, template: str, value: dict[str, Any]) -> str:
        return str(env.from_string(configs[key][template]).render(value_json=value))

    shutdown = PREFIX.format("sensor", "model_shutdown")
    assert render(shutdown, "value_template", state) == "2027-01-20T00:00:00+00:00"
    attrs = json.loads(render(shutdown, "json_attributes_template", state))
    assert attrs == {
        "model": "gpt-realtime",
        "shutdown": "2027-01-20T00:00:00+00:00",
        "successor": "gpt-realtime-2.1",
    }
    newest = {**state, "active_model": "gpt-realtime-2.1"}
    assert render(shutdown, "value_template", newest) == "None"
    active = PREFIX.format("sensor", "active_model")
    assert configs[active]["json_attributes_topic"] == "edge_voice/kitchen/state"
    chain = {**state, "model_chain": ["gpt-realtime", "gpt-realtime-1.5"]}
    assert json.loads(render(active, "json_attributes_template", chain)) == {
        "model_chain": ["gpt-realtime", "gpt-realtime-1.5"]
    }
    assert render(PREFIX.format("binary_sensor", "connected"), "value_template", state) == "ON"
    key = PREFIX.format("binary_sensor", "api_key_problem")
    assert configs[key]["device_class"] == "problem"
    assert configs[key]["name"] == "API key problem"
    # Unknown before the first connection attempt; ON from a refused key to a connection.
    assert render(key, "value_template", {**state, "api_key_problem": None}) == "None"
    assert render(key, "value_template", {**state, "api_key_problem": True}) == "ON"
    assert render(key, "value_template", {**state, "api_key_problem": False}) == "OFF"
    assert render(key, "value_template", state) == "OFF"  # a state retained by an older version
    text = {"text": "x" * 300}
    assert len(render(PREFIX.format("sensor", "last_transcript"), "value_template", text)) == 255
    profile = PREFIX.format("sensor", "profile")
    assert render(profile, "value_template", {**state, "profile": None}) == "global"
    assert render(profile, "value_template", {**state, "profile": "alexa"}) == "alexa"
    tuned = {"hey_jarvis": {"threshold": 0.62, "refractory_s": 2.0}}
    threshold = PREFIX.format("number", "wakeword_hey_jarvis_threshold")
    assert render(threshold, "value_template", {**state, "wakewords": tuned}) == "0.62"
    # The engine's own cutoff (microWakeWord without a threshold): unknown in HA.
    default = {"hey_jarvis": {"threshold": None, "refractory_s": 2.0}}
    assert render(threshold, "value_template", {**state, "wakewords": default}) == "None"
    refractory = PREFIX.format("number", "wakeword_hey_jarvis_refractory")
    assert render(refractory, "value_template", {**state, "wakewords": tuned}) == "2.0"
    assert (
        configs[threshold]["command_topic"]
        == "edge_voice/kitchen/wakeword/hey_jarvis/threshold/set"
    )
    assert (configs[threshold]["min"], configs[threshold]["max"]) == (0.01, 0.99)


#: What `<base>/metrics` carries (see test_mqtt_payloads): the figures the new sensors read.
METRICS = {
    "latency_first_audio_ms": 612.4,
    "latency_p95_ms": 980.0,
    "latency_ms": {
        "connect": {"p50": 182.0, "p95": 240.5},
        "session_ready": {"p50": 305.1, "p95": 410.0},
        "first_audio": {"p50": 590.2, "p95": 980.0},
        "audio_stream": {"p50": None, "p95": None},
        "function_call": {"p50": 140.0, "p95": 310.8},
        "response": {"p50": 2890.6, "p95": 5620.0},
    },
    "connection_success_rate": {"gpt-realtime": 0.99312, "gpt-4o-realtime-preview": None},
}


def test_latency_p50_p95_of_every_measure_is_a_duration_sensor() -> None:
    jinja2 = pytest.importorskip("jinja2.sandbox")
    env = jinja2.ImmutableSandboxedEnvironment()
    configs = _configs()
    expected = {
        "latency_p50": "590.2",
        "latency_p95": "980.0",
        "latency_function_call_p50": "140.0",
        "latency_function_call_p95": "310.8",
        "latency_response_p50": "2890.6",
        "latency_response_p95": "5620.0",
        "latency_connect_p50": "182.0",
        "latency_connect_p95": "240.5",
        "latency_session_ready_p50": "305.1",
        "latency_session_ready_p95": "410.0",
        "latency_audio_stream_p50": "None",  # HA reads None as unknown
        "latency_audio_stream_p95": "None",
    }
    for key, shown in expected.items():
        sensor = configs[PREFIX.format("sensor", key)]
        assert sensor["unique_id"] == f"edge_voice_kitchen_{key}"
        assert (sensor["device_class"], sensor["unit_of_measurement"]) == ("duration", "ms")
        assert sensor["state_class"] == "measurement"
        assert sensor["state_topic"] == "edge_voice/kitchen/metrics"
        assert env.from_string(sensor["value_template"]).render(value_json=METRICS) == shown
    assert set(LATENCY_SENSORS) | {"first_audio"} == set(LATENCY_METRICS), "every measure"
    # The key figures are on the device page; the rest are diagnostics.
    for key in ("latency_p50", "latency_function_call_p50"):
        assert "entity_category" not in configs[PREFIX.format("sensor", key)]
    assert configs[PREFIX.format("sensor", "latency_connect_p95")]["entity_category"] == (
        "diagnostic"
    )


def test_connection_success_rate_per_model_is_a_percentage_sensor() -> None:
    jinja2 = pytest.importorskip("jinja2.sandbox")
    env = jinja2.ImmutableSandboxedEnvironment()
    configs = _configs()
    for key, model, shown in [
        ("connection_success", "gpt-realtime", "99.31"),
        ("connection_success_legacy", "gpt-4o-realtime-preview", "None"),
    ]:
        sensor = configs[PREFIX.format("sensor", key)]
        assert sensor["unique_id"] == f"edge_voice_kitchen_{key}"
        assert (sensor["unit_of_measurement"], sensor["state_class"]) == ("%", "measurement")
        assert sensor["state_topic"] == sensor["json_attributes_topic"]
        assert sensor["state_topic"] == "edge_voice/kitchen/metrics"
        assert env.from_string(sensor["value_template"]).render(value_json=METRICS) == shown
        attributes = env.from_string(sensor["json_attributes_template"]).render(value_json={})
        assert json.loads(attributes) == {"model": model}
    # A model not tried yet (nothing in the payload) is unknown, not an error.
    sensor = configs[PREFIX.format("sensor", "connection_success")]
    empty = {"connection_success_rate": {}}
    assert env.from_string(sensor["value_template"]).render(value_json=empty) == "None"
    # It follows the configured model.
    mini = _configs(_cfg(openai={"model": "gpt-realtime-mini"}))
    attributes = mini[PREFIX.format("sensor", "connection_success")]["json_attributes_template"]
    assert json.loads(env.from_string(attributes).render(value_json={})) == {
        "model": "gpt-realtime-mini"
    }


def test_memory_entities_only_with_memory_enabled() -> None:
    assert PREFIX.format("sensor", "memory") not in _configs()
    cfg = _cfg(memory={"enabled": True})
    configs = _configs(cfg)
    sensor = configs[PREFIX.format("sensor", "memory")]
    button = configs[PREFIX.format("button", "forget")]
    assert sensor["state_topic"] == sensor["json_attributes_topic"] == "edge_voice/kitchen/memory"
    assert sensor["device_class"] == "timestamp"
    assert button["command_topic"] == "edge_voice/kitchen/memory/clear"
    route = Topics.for_config(cfg).classify(button["command_topic"])
    assert route is not None and route.kind is CommandKind.MEMORY_CLEAR
    parse_command(route, button["payload_press"].encode())
    jinja2 = pytest.importorskip("jinja2.sandbox")
    env = jinja2.ImmutableSandboxedEnvironment()
    env.filters["tojson"] = json.dumps
    value = {"summary": "Ada likes tea.", "updated": "2026-12-02T10:00:00Z"}
    state = env.from_string(sensor["value_template"]).render(value_json=value)
    attributes = env.from_string(sensor["json_attributes_template"]).render(value_json=value)
    assert state == value["updated"] and json.loads(attributes) == {"summary": "Ada likes tea."}
    none = env.from_string(sensor["value_template"]).render(value_json={"updated": None})
    assert none == "None"  # unknown in HA
