"""Retained publications built from the config store: config, last good, HA discovery."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from edge_voice.config.rules import ConfigChangeError
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.state_file import ConfigChange
from edge_voice.mqtt.connection import OFFLINE, ONLINE
from edge_voice.mqtt.discovery import discovery_configs, stale_topics
from edge_voice.mqtt.payloads import Publication, encode, iso
from edge_voice.mqtt.topics import Topics

log = logging.getLogger(__name__)


class ConfigSource(Protocol):
    """The part of `ConfigStore` the bridge uses (so tests and tools can pass any store)."""

    @property
    def effective(self) -> EdgeVoiceConfig:
        """The config in force."""

    @property
    def can_adopt(self) -> bool:
        """Whether a retained `<base>/config` would be adopted (a device without state)."""

    def set_model(self, name: str) -> ConfigChange:
        """`model/set`."""

    def set_model_selection(self, selection: str) -> ConfigChange:
        """`model_selection/set`."""

    def set_voice(self, name: str) -> ConfigChange:
        """`voice/set`."""

    def apply_patch(
        self, partial: Mapping[str, Any], *, source: str = "mqtt:config/set"
    ) -> ConfigChange:
        """`config/set` (and the wake word commands, which are patches too)."""

    def rollback(self, target: str = "last_good") -> ConfigChange:
        """`config/rollback`."""

    def reset_overrides(self, keys: Sequence[str] = ()) -> ConfigChange:
        """`config/reset`."""

    def adopt_retained(self, payload: Mapping[str, Any], *, adopt: bool) -> ConfigChange | None:
        """A retained `<base>/config` found on the broker: adopted (`adopt`) or replaced."""

    def public_config(self) -> dict[str, Any]:
        """The `<base>/config` payload."""

    def public_last_good(self) -> dict[str, Any] | None:
        """The `<base>/config/last_good` payload, None before the first good config."""


class RetainedConfig:
    """`config`, `config/last_good` and HA discovery publications, and what changed since."""

    def __init__(self, store: ConfigSource, topics: Topics) -> None:
        self.store = store
        self.topics = topics
        self._last_good: dict[str, Any] | None = None
        self._discovery: dict[str, Publication] = {}

    def config(self) -> Publication:
        """Retained `<base>/config` (always new: its version or ts moved)."""
        return Publication(self.topics.config, encode(self.store.public_config()), retain=True)

    def last_good(self, *, only_if_changed: bool = False) -> Publication | None:
        """Retained `<base>/config/last_good`; None while there is none (or it is unchanged)."""
        payload = self.store.public_last_good()
        if payload is None or (only_if_changed and payload == self._last_good):
            return None
        self._last_good = payload
        # The store's payload has no `ts`; every payload of the contract has one.
        return Publication(
            self.topics.config_last_good, encode({**payload, "ts": iso()}), retain=True
        )

    def discovery(self, *, only_if_changed: bool = False) -> list[Publication]:
        """HA discovery configs (none when `mqtt.discovery` is off), remembered for comparison."""
        cfg = self.store.effective
        if not cfg.mqtt.discovery:
            return []
        current = discovery(cfg)
        changed = [p for t, p in current.items() if self._discovery.get(t) != p]
        self._discovery = current
        return changed if only_if_changed else list(current.values())

    def discovery_topics(self) -> dict[str, Publication]:
        """The config of every entity that exists now, by topic."""
        return discovery(self.store.effective)

    def on_connect(self, found: Mapping[str, bytes] | None = None) -> list[Publication]:
        """Discovery for a (re)connect; with the start-up scan's `found`, stale ones cleared."""
        pubs = self.discovery()
        if found is not None:
            discovered = [t for t, payload in found.items() if payload and t != self.topics.config]
            for topic in stale_topics(discovered, self.discovery_topics()):
                log.info("HA discovery: clearing %s (the entity no longer exists)", topic)
                pubs.append(cleared(topic))
        return pubs

    def adopt(self, payload: bytes | None) -> ConfigChange | None:
        """A retained `<base>/config` found at start-up: adopted if `mqtt.adopt_retained_config`
        says so, else replaced by the file's; None if absent, refused or already ours."""
        if not payload:
            return None
        try:
            data = json.loads(payload)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            # The store logs what it did, and the change ("… from mqtt:config (retained): …").
            return self.store.adopt_retained(
                data, adopt=self.store.effective.mqtt.adopt_retained_config
            )
        except (ConfigChangeError, ValueError) as exc:
            log.warning("MQTT: not adopting the retained %s: %s", self.topics.config, exc)
            return None

    def after_change(self, *, discovery: bool = True) -> list[Publication]:
        """What to publish after the config changed: config, and last_good/HA if they moved."""
        pubs = [self.config()]
        last_good = self.last_good(only_if_changed=True)
        if last_good is not None:
            pubs.append(last_good)
        if discovery:
            pubs.extend(self.discovery(only_if_changed=True))
        return pubs


def availability(topics: Topics, *, online: bool) -> Publication:
    """Retained `online` / `offline` on `<base>/availability`."""
    return Publication(topics.availability, ONLINE if online else OFFLINE, retain=True)


def discovery(cfg: EdgeVoiceConfig) -> dict[str, Publication]:
    """Every HA discovery config, retained, keyed by topic."""
    return {
        topic: Publication(topic, encode(payload), retain=True)
        for topic, payload in discovery_configs(cfg).items()
    }


def cleared(topic: str) -> Publication:
    """An empty retained payload: HA removes the entity and the broker forgets the config."""
    return Publication(topic, b"", retain=True)
