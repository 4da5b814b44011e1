"""HA discovery entities of the wake words: a number per wake word and setting, the active
profile and the probable false wakes (discovery.py publishes them with the fixed entities)."""

from __future__ import annotations

import json
from typing import Any, Final

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.mqtt.topics import Topics

#: Per setting: entity name suffix, HA `number` limits and unit (the commands' own limits).
_NUMBERS: Final[dict[str, dict[str, Any]]] = {
    "threshold": {"label": "threshold", "min": 0.01, "max": 0.99, "step": 0.01},
    "refractory_s": {
        "label": "refractory time",
        "min": 0,
        "max": 60,
        "step": 0.5,
        "unit_of_measurement": "s",
    },
}


def wakeword_entities(
    cfg: EdgeVoiceConfig, topics: Topics
) -> list[tuple[str, str, dict[str, Any]]]:
    """`(component, key, spec)` of the wake-word entities, in publishing order."""
    entities: list[tuple[str, str, dict[str, Any]]] = [
        ("sensor", "profile", _profile(topics)),
        ("sensor", "false_wakes_today", _false_wakes(topics, "false_wakes_today", "today")),
        ("sensor", "false_wakes", _false_wakes(topics, "false_wakes_total", None)),
    ]
    for entry in cfg.wakeword.entries():
        for setting in _NUMBERS:
            key = f"wakeword_{entry.name}_{'refractory' if setting != 'threshold' else setting}"
            entities.append(("number", key, _number(topics, entry.name, setting)))
    return entities


def _profile(topics: Topics) -> dict[str, Any]:
    # null while no profile is active: the conversation (if any) uses the global settings.
    return {
        "name": "Profile",
        "icon": "mdi:account-switch",
        "state_topic": topics.state,
        "value_template": "{{ value_json.profile or 'global' }}",
    }


def _false_wakes(topics: Topics, field: str, when: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "False wakes" + (f" {when}" if when else ""),
        "icon": "mdi:ear-hearing-off",
        # `today` resets at local midnight: total_increasing reads a drop as a new cycle.
        "state_class": "total_increasing",
        "state_topic": topics.metrics,
        "value_template": f"{{{{ value_json.{field} }}}}",
    }
    if when is None:
        spec["entity_category"] = "diagnostic"
    return spec


def _number(topics: Topics, name: str, setting: str) -> dict[str, Any]:
    limits = {k: v for k, v in _NUMBERS[setting].items() if k != "label"}
    quoted = json.dumps(name)  # a JSON string is a Jinja string literal
    # `None` (HA's payload_reset) when the engine's own default applies (microWakeWord).
    template = (
        f"{{% set w = value_json.wakewords.get({quoted}) %}}"
        f"{{{{ 'None' if w is none or w.{setting} is none else w.{setting} }}}}"
    )
    return {
        "name": f"{name.replace('_', ' ').capitalize()} {_NUMBERS[setting]['label']}",
        "icon": "mdi:tune-vertical",
        "entity_category": "config",
        "mode": "box",
        **limits,
        "state_topic": topics.state,
        "value_template": template,
        "command_topic": topics.wakeword(name, setting),
        "retain": False,
    }
