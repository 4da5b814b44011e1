"""HA discovery entities of what the assistant does besides conversations: the `notify` entity
that speaks announcements and, with `memory.enabled`, the kept summary and the button that
forgets it (discovery.py publishes them with the fixed entities)."""

from __future__ import annotations

from typing import Any

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.mqtt.topics import CommandKind, Topics


def assistant_entities(
    cfg: EdgeVoiceConfig, topics: Topics
) -> list[tuple[str, str, dict[str, Any]]]:
    """`(component, key, spec)` of the announcement (and memory) entities, in publishing order."""
    # HA's MQTT notify (HA >= 2024.5) publishes the message as it is: plain text on `say`.
    announce = {
        "name": "Announce",
        "icon": "mdi:bullhorn",
        "command_topic": topics.command(CommandKind.SAY),
        "retain": False,
    }
    entities: list[tuple[str, str, dict[str, Any]]] = [("notify", "announce", announce)]
    if cfg.memory.enabled:
        entities += [("sensor", "memory", _memory(topics)), ("button", "forget", _forget(topics))]
    return entities


def _memory(topics: Topics) -> dict[str, Any]:
    # The state is when the summary was written (255 characters would not hold it); the
    # summary itself is an attribute.
    return {
        "name": "Memory",
        "icon": "mdi:head-cog",
        "device_class": "timestamp",
        "state_topic": topics.memory,
        "value_template": "{{ value_json.updated or 'None' }}",
        "json_attributes_topic": topics.memory,
        "json_attributes_template": "{{ {'summary': value_json.summary} | tojson }}",
    }


def _forget(topics: Topics) -> dict[str, Any]:
    return {
        "name": "Forget conversations",
        "icon": "mdi:head-remove",
        "payload_press": "clear",
        "command_topic": topics.command(CommandKind.MEMORY_CLEAR),
        "retain": False,
    }
