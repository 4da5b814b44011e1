"""The MQTT contract: topics, command parsing, outgoing payloads and HA discovery (pure code).

docs/MQTT_API.md documents it; the bridge (aiomqtt client) only wires these to a broker.
"""

from edge_voice.mqtt.commands import Command, CommandError, ErrorCode
from edge_voice.mqtt.discovery import discovery_configs, stale_topics
from edge_voice.mqtt.parsing import extract_transaction, parse_command
from edge_voice.mqtt.payloads import Publication, publication_for, response_payload
from edge_voice.mqtt.topics import CommandKind, Route, Topics

__all__ = [
    "Command",
    "CommandError",
    "CommandKind",
    "ErrorCode",
    "Publication",
    "Route",
    "Topics",
    "discovery_configs",
    "extract_transaction",
    "parse_command",
    "publication_for",
    "response_payload",
    "stale_topics",
]
