"""HA discovery entities of what the assistant does besides conversations: the `notify` entity
that speaks announcements (discovery.py publishes them with the fixed entities)."""

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
    return [("notify", "announce", announce)]
