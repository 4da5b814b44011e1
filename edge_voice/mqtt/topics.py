"""Every MQTT topic of the contract (docs/MQTT_API.md), derived from the config in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Literal, get_args

from edge_voice.config.topic_rules import (
    check_device_id,
    check_ha_status_topic,
    check_roots,
    check_segment,
    check_topic,
    keyed,
)

if TYPE_CHECKING:
    from edge_voice.config.schema import EdgeVoiceConfig

EventKind = Literal[
    "wake",
    "transcript",
    "function_call",
    "mcp_call",
    "response",
    "fallback",
    "model_replaced",
    "error",
]
EVENT_KINDS: Final[tuple[EventKind, ...]] = get_args(EventKind)


class CommandKind(StrEnum):
    """What an incoming topic means; the value is the topic suffix (for the `response` payload)."""

    MODEL_SET = "model/set"
    MODEL_SELECTION_SET = "model_selection/set"
    VOICE_SET = "voice/set"
    CONFIG_SET = "config/set"
    CONFIG_ROLLBACK = "config/rollback"
    CONFIG_RESET = "config/reset"
    FUNCTION_CALL_RESULT = "function_call/result"
    CONVERSATION_START = "conversation/start"
    CONVERSATION_STOP = "conversation/stop"
    SAY = "say"  # an announcement: the device speaks the text
    MEMORY_CLEAR = "memory/clear"  # forget the summary kept across conversations
    #: `<base>/wakeword/<name>/threshold/set`, `.../refractory_s/set`: one wake word's tuning.
    WAKEWORD_THRESHOLD = "wakeword/<name>/threshold/set"
    WAKEWORD_REFRACTORY = "wakeword/<name>/refractory_s/set"
    TOOL = "tools"  # <base>/tools/<name>: a tool for this device
    SHARED_TOOL = "shared_tools"  # <mqtt.base_topic>/tools/<name>: a tool for every device
    ARBITRATION = "arbitration"  # <mqtt.base_topic>/arbitration/<group>
    HA_STATUS = "ha_status"  # Home Assistant's birth/will


#: Requests whose topic names a wake word (`Topics.wakeword`: no fixed topic), by setting.
WAKEWORD_KINDS: Final = {
    "threshold": CommandKind.WAKEWORD_THRESHOLD,
    "refractory_s": CommandKind.WAKEWORD_REFRACTORY,
}
#: Commands on a fixed topic answered on `<base>/response` (tools, arbitration and HA status
#: are not requests; the wake word commands are, on topics of their own: ANSWERED_KINDS).
REQUEST_KINDS: Final = frozenset(
    k
    for k in CommandKind
    if k
    not in (
        CommandKind.TOOL,
        CommandKind.SHARED_TOOL,
        CommandKind.ARBITRATION,
        CommandKind.HA_STATUS,
        *WAKEWORD_KINDS.values(),
    )
)
#: Every command answered on `<base>/response`.
ANSWERED_KINDS: Final = REQUEST_KINDS | frozenset(WAKEWORD_KINDS.values())


@dataclass(frozen=True)
class Route:
    """An incoming topic, classified: the kind and, for tools/arbitration, the name in the topic."""

    kind: CommandKind
    name: str | None = None


def validate_topic(topic: str, what: str) -> str:
    """`topic` if it is a publishable topic name (no wildcards, no empty level), else ValueError."""
    keyed(what, check_topic, topic)
    return topic


def validate_segment(value: str, what: str) -> str:
    """`value` if it is one safe topic level (letters, digits, '_', '-'), else ValueError."""
    keyed(what, check_segment, value)
    return value


@dataclass(frozen=True)
class Topics:
    """All topics of one device; build it with `Topics.for_config(cfg)`."""

    base_topic: str
    device_id: str
    discovery_prefix: str = "homeassistant"
    ha_status_topic: str = "homeassistant/status"
    arbitration_group: str | None = None
    base: str = field(init=False)

    def __post_init__(self) -> None:
        # The schema refuses a config that breaks these rules; a Topics built by hand is
        # checked by the same functions (edge_voice.config.topic_rules).
        validate_topic(self.base_topic, "mqtt.base_topic")
        validate_topic(self.discovery_prefix, "mqtt.discovery_prefix")
        validate_topic(self.ha_status_topic, "mqtt.ha_status_topic")
        keyed("device_id", check_device_id, self.device_id)
        if self.arbitration_group is not None:
            validate_segment(self.arbitration_group, "wakeword.arbitration_group")
        keyed("mqtt.discovery_prefix", check_roots, self.base_topic, self.discovery_prefix)
        object.__setattr__(self, "base", f"{self.base_topic}/{self.device_id}")
        keyed("mqtt.ha_status_topic", check_ha_status_topic, self.ha_status_topic, self.base)

    @classmethod
    def for_config(cls, cfg: EdgeVoiceConfig) -> Topics:
        """The topics of the device configured by `cfg`."""
        return cls(
            base_topic=cfg.mqtt.base_topic,
            device_id=cfg.device_id,
            discovery_prefix=cfg.mqtt.discovery_prefix,
            ha_status_topic=cfg.mqtt.ha_status_topic,
            arbitration_group=cfg.wakeword.arbitration_group,
        )

    # -- outputs ---------------------------------------------------------------------------

    @property
    def availability(self) -> str:
        """Retained `online`/`offline`, also the LWT."""
        return f"{self.base}/availability"

    @property
    def state(self) -> str:
        """Retained service state."""
        return f"{self.base}/state"

    @property
    def metrics(self) -> str:
        """Retained metrics."""
        return f"{self.base}/metrics"

    @property
    def config(self) -> str:
        """Retained effective config (secrets removed)."""
        return f"{self.base}/config"

    @property
    def config_last_good(self) -> str:
        """Retained last known good config."""
        return f"{self.base}/config/last_good"

    @property
    def memory(self) -> str:
        """Retained summary kept across conversations (`memory.enabled`)."""
        return f"{self.base}/memory"

    @property
    def response(self) -> str:
        """Answers to commands."""
        return f"{self.base}/response"

    def event(self, kind: EventKind) -> str:
        """`<base>/event/<kind>`."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}; known: {', '.join(EVENT_KINDS)}")
        return f"{self.base}/event/{kind}"

    # -- inputs ----------------------------------------------------------------------------

    def command(self, kind: CommandKind) -> str:
        """The topic of a request command (`<base>/model/set`, ...)."""
        if kind not in REQUEST_KINDS:
            raise ValueError(f"{kind.name} has no fixed command topic")
        return f"{self.base}/{kind.value}"

    def wakeword(self, name: str, setting: str) -> str:
        """`<base>/wakeword/<name>/<setting>/set`: tune one wake word (`threshold`,
        `refractory_s`)."""
        if setting not in WAKEWORD_KINDS:
            raise ValueError(
                f"no wake word setting {setting!r}; known: {', '.join(WAKEWORD_KINDS)}"
            )
        return f"{self.base}/wakeword/{validate_segment(name, 'wake word name')}/{setting}/set"

    def tool(self, name: str) -> str:
        """`<base>/tools/<name>`: a tool declared for this device only."""
        return f"{self.base}/tools/{validate_segment(name, 'tool name')}"

    def shared_tool(self, name: str) -> str:
        """`<mqtt.base_topic>/tools/<name>`: a tool declared for every device."""
        return f"{self.base_topic}/tools/{validate_segment(name, 'tool name')}"

    def arbitration(self, group: str | None = None) -> str:
        """`<mqtt.base_topic>/arbitration/<group>` (the configured group by default)."""
        group = group if group is not None else self.arbitration_group
        if group is None:
            raise ValueError("no arbitration group configured (wakeword.arbitration_group)")
        return f"{self.base_topic}/arbitration/{validate_segment(group, 'arbitration group')}"

    @property
    def sync_prefix(self) -> str:
        """`<base>/_sync/`: where the bridge's replay sentinels go (see mqtt/replay.py)."""
        return f"{self.base}/_sync/"

    def subscriptions(self) -> tuple[str, ...]:
        """The filters the bridge subscribes to (QoS 1)."""
        # All of `<base>/#`, so that any typo (`<base>/config/rolback`) reaches the bridge and
        # is answered with `unknown_command` instead of silence. It also brings back what we
        # publish ourselves: `is_output` tells those apart (MQTT 5's no_local would avoid the
        # echo; v3.1.1 brokers lack it).
        filters = [f"{self.base}/#", f"{self.base_topic}/tools/+", self.ha_status_topic]
        # Arbitration is shared in/out: our own claim comes back and the bridge drops it by
        # its device_id.
        if self.arbitration_group is not None:
            filters.append(self.arbitration())
        return tuple(filters)

    def is_output(self, topic: str) -> bool:
        """Whether `topic` is one of ours to publish (never a command, whoever sent it)."""
        outputs = (
            self.availability,
            self.state,
            self.metrics,
            self.config,
            self.config_last_good,
            self.memory,
            self.response,
        )
        return topic in outputs or topic.startswith((f"{self.base}/event/", self.sync_prefix))

    def expects_answer(self, topic: str) -> bool:
        """Whether a message on `topic` is answered on `response` (a command or a typo of one)."""
        route = self.classify(topic)
        if route is not None:
            return route.kind in ANSWERED_KINDS
        return topic.startswith(f"{self.base}/") and not self.is_output(topic)

    def classify(self, topic: str) -> Route | None:
        """The route of an incoming topic, or None when the topic is not one we handle."""
        if topic == self.ha_status_topic:
            return Route(CommandKind.HA_STATUS)
        prefix = f"{self.base}/"
        if topic.startswith(prefix):
            rest = topic[len(prefix) :]
            if rest.startswith("tools/"):
                return _named(CommandKind.TOOL, rest[len("tools/") :])
            if rest.startswith("wakeword/"):
                return _wakeword(rest.split("/"))
            try:
                kind = CommandKind(rest)
            except ValueError:
                return None
            return Route(kind) if kind in REQUEST_KINDS else None
        shared = f"{self.base_topic}/tools/"
        if topic.startswith(shared):
            return _named(CommandKind.SHARED_TOOL, topic[len(shared) :])
        arbitration = f"{self.base_topic}/arbitration/"
        if topic.startswith(arbitration):
            return _named(CommandKind.ARBITRATION, topic[len(arbitration) :])
        return None

    # -- Home Assistant discovery ------------------------------------------------------------

    @property
    def discovery_node_id(self) -> str:
        """The `<node_id>` level of our discovery topics; it contains the device_id."""
        return f"edge_voice_{self.device_id}"

    def discovery(self, component: str, key: str) -> str:
        """`<discovery_prefix>/<component>/<node_id>/<key>/config`."""
        validate_segment(component, "HA component")
        validate_segment(key, "entity key")
        return f"{self.discovery_prefix}/{component}/{self.discovery_node_id}/{key}/config"

    @property
    def discovery_filter(self) -> str:
        """Matches every discovery config of this device: only for the start-up stale scan."""
        return f"{self.discovery_prefix}/+/{self.discovery_node_id}/+/config"


def _wakeword(levels: list[str]) -> Route | None:
    # wakeword/<name>/<setting>/set; anything else under wakeword/ is answered unknown_command.
    if len(levels) != 4 or levels[3] != "set" or levels[2] not in WAKEWORD_KINDS:
        return None
    return _named(WAKEWORD_KINDS[levels[2]], levels[1])


def _named(kind: CommandKind, name: str) -> Route | None:
    # A deeper topic (`tools/a/b`) is not ours; a bad but single-level name is routed so the
    # parser can reject it with a message.
    if not name or "/" in name:
        return None
    return Route(kind, name)
