"""What makes a configured MQTT topic name valid: one owner for the schema and mqtt.topics.

The schema refuses a config that breaks these rules (so `config check`, `config/set` and `run`
agree); `mqtt.topics.Topics` applies the same rules to the topics it is built from. Every
check raises ValueError with a message that does not name the key: the caller knows the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

#: device_id, node_id, tool names and arbitration groups are single topic levels.
_SEGMENT: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: These device ids would put `<base>` on top of the shared `<mqtt.base_topic>/<x>/...` topics.
RESERVED_DEVICE_IDS: Final = frozenset({"tools", "arbitration"})


def check_topic(topic: str) -> str:
    """`topic` if it is a publishable topic name (no wildcards, no empty level), else ValueError."""
    if not topic or any(c in topic for c in "+#\0"):
        raise ValueError(f"{topic!r} must be a non-empty topic without '+', '#' or NUL")
    if topic.startswith("$") or "" in topic.split("/"):
        # `$...` topics belong to the broker; an empty level is nearly always a typo ("a//b").
        raise ValueError(f"{topic!r} must not start with '$' or contain an empty level")
    return topic


def check_segment(value: str) -> str:
    """`value` if it is one safe topic level (letters, digits, '_', '-'), else ValueError."""
    if not _SEGMENT.match(value):
        raise ValueError(f"{value!r} must be 1-64 characters of letters, digits, '_' or '-'")
    return value


def check_device_id(device_id: str) -> str:
    """`device_id` if it is a topic level that no shared topic uses, else ValueError."""
    check_segment(device_id)
    if device_id in RESERVED_DEVICE_IDS:
        raise ValueError(
            f"{device_id!r} is reserved: <mqtt.base_topic>/{device_id}/... is shared by every "
            "device; choose another device_id"
        )
    return device_id


def check_roots(base_topic: str, discovery_prefix: str) -> None:
    """ValueError (for mqtt.discovery_prefix) if the two topic roots are equal."""
    # Like zigbee2mqtt: with equal roots HA's discovery tree and our state would interleave.
    if discovery_prefix == base_topic:
        raise ValueError(f"must differ from mqtt.base_topic (both are {base_topic!r})")


def check_ha_status_topic(ha_status_topic: str, base: str) -> None:
    """ValueError (for mqtt.ha_status_topic) if it lies under this device's `<base>/`."""
    if ha_status_topic.startswith(f"{base}/"):
        raise ValueError(f"must not be one of this device's topics ({base}/...)")


def keyed(key: str, check: Callable[..., object], *args: str) -> None:
    """Run `check(*args)`; its ValueError is raised again with `key: ` in front."""
    try:
        check(*args)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None
