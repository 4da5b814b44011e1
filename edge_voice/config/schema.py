"""The configuration schema: pydantic models for every section, validated as a whole."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from edge_voice.config.audio_schema import AudioConfig
from edge_voice.config.mcp import McpServerConfig
from edge_voice.config.mcp_schema import McpBridgeConfig
from edge_voice.config.memory_schema import MemoryConfig
from edge_voice.config.paths import FsPath
from edge_voice.config.section import Section
from edge_voice.config.topic_rules import (
    check_device_id,
    check_ha_status_topic,
    check_roots,
    check_topic,
    keyed,
)
from edge_voice.config.truncation import RetentionRatio
from edge_voice.config.wakeword_schema import WakewordConfig
from edge_voice.models.catalog import (
    KNOWN_FEATURES,
    TOKEN_CLASSES,
    ModelCatalog,
    UnknownModelError,
    default_catalog,
)
from edge_voice.models.fallback import ModelSelection
from edge_voice.models.voices import AUTO, is_custom_voice
from edge_voice.realtime.model_spec import WireProtocol
from edge_voice.realtime.session_builders import ReasoningEffort, TurnDetection

#: Stands for the device_id in `state_dir`, so that devices on one host never share state.
DEVICE_PLACEHOLDER = "{device_id}"
#: A device_id is one lowercase topic level (it also names HA unique ids and the state dir).
_DEVICE_ID = re.compile(r"[a-z0-9_-]{1,64}")
DEFAULT_STATE_DIR = Path("~/.local/state/edge_voice") / DEVICE_PLACEHOLDER
DEFAULT_MODEL = "gpt-realtime"
DEFAULT_LEGACY_MODEL = "gpt-4o-realtime-preview"
_SLUG = re.compile(r"[^a-z0-9_-]+")
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def move_legacy_voice(data: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The old service's `openai.voice` moved to `voice.primary`, and a line saying what it did."""
    # It is the user's explicit choice, so it wins over the new default (`cedar`), but not
    # over a voice.primary the file also sets. Loading and `config migrate` both use this.
    openai = data.get("openai")
    if not isinstance(openai, dict) or "voice" not in openai:
        return data, None
    openai = dict(openai)
    old_voice = openai.pop("voice")
    data = {**data, "openai": openai}
    section = data.get("voice")
    if old_voice is None or not isinstance(section, dict | None):
        return data, None  # nothing to keep, or a broken section that validation explains
    if section and "primary" in section:
        return data, f"openai.voice: {old_voice} dropped: voice.primary is already set"
    data["voice"] = {"primary": old_voice, **(section or {})}
    return data, f"openai.voice: {old_voice} → voice.primary: {old_voice} (kept)"


def hostname_slug(hostname: str | None = None) -> str:
    """A topic-safe slug of the host name, the default `device_id`."""
    slug = _SLUG.sub("_", (hostname or socket.gethostname()).lower()).strip("_")
    return slug or "edge_voice"


class OpenAIConfig(Section):
    """Which realtime model to use, how to reach it and how to fall back."""

    model: str = DEFAULT_MODEL
    legacy_model: str = DEFAULT_LEGACY_MODEL
    #: Further `auto` candidates after legacy_model, in order.
    fallback_models: list[str] = Field(default_factory=list)
    model_selection: ModelSelection = "auto"
    disable_new_features: bool = False
    base_url: str = "wss://api.openai.com/v1/realtime"
    api_key_file: Path | None = None
    api_key: SecretStr | None = Field(default=None, description="deprecated: use OPENAI_API_KEY")
    instructions: str = (
        "You are a helpful voice assistant in a smart home. Answer briefly and naturally."
    )
    connect_timeout_s: float = Field(default=10.0, gt=0, le=120)
    fallback_cooldown_s: float = Field(default=300.0, ge=0)
    transcription_model: str | None = "gpt-4o-mini-transcribe"
    temperature: float | None = Field(default=None, ge=0.6, le=1.2, description="beta models only")
    #: Sent as `reasoning.effort` to models with the `reasoning` feature (the 2.x models).
    reasoning_effort: ReasoningEffort | None = None
    #: Remote MCP servers the model calls itself (models with the `mcp` feature).
    mcp_servers: list[McpServerConfig] = Field(default_factory=list)
    #: How the service cuts a conversation that outgrows the context (GA models only).
    truncation: Literal["auto", "disabled"] | RetentionRatio = "auto"

    def truncation_wire(self) -> str | dict[str, Any]:
        """`truncation` as the GA session.update carries it."""
        return self.truncation if isinstance(self.truncation, str) else self.truncation.wire()

    @field_validator("base_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value.rstrip("/")


class VoiceConfig(Section):
    """Preferred voice, the fallback voice and whether to pick the best one automatically."""

    primary: str = "cedar"
    fallback: str = "alloy"
    auto_select: bool = True
    speed: float = Field(default=1.0, ge=0.25, le=1.5)


class TlsConfig(Section):
    """TLS for the MQTT connection."""

    enabled: bool = True
    ca_file: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    insecure: bool = False


class MqttConfig(Section):
    """Broker address, credentials and topic roots."""

    host: str = "localhost"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    tls: TlsConfig | None = None
    base_topic: str = "edge_voice"
    discovery_prefix: str = "homeassistant"
    discovery: bool = True
    ha_status_topic: str = "homeassistant/status"
    keepalive_s: int = Field(default=60, ge=5, le=3600)
    max_payload_bytes: int = Field(default=65536, ge=1024)
    queue_size: int = Field(default=1000, ge=1)
    #: A device without state (`state_dir` wiped, new hardware) takes the config an earlier run
    #: left retained on `<base>/config`: its runtime changes come back, but over any edit of the
    #: file since. False: the file wins and replaces the retained config.
    adopt_retained_config: bool = False

    @field_validator("tls", mode="before")
    @classmethod
    def _tls_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return {"enabled": True} if value else None
        return value

    @field_validator("base_topic", "discovery_prefix")
    @classmethod
    def _topic_root(cls, value: str) -> str:
        return check_topic(value.rstrip("/"))

    @field_validator("ha_status_topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        return check_topic(value)


class ConversationConfig(Section):
    """How long a conversation stays open and how function calls are timed."""

    follow_up_s: float = Field(default=8.0, ge=0)
    idle_timeout_s: float = Field(default=120.0, gt=0)
    function_deadline_ms: int = Field(default=8000, ge=100)
    #: Largest decoded image a function result may carry (PNG/JPEG; models with image input).
    max_image_bytes: int = Field(default=524288, ge=1024, le=8 * 1024 * 1024)
    session_renew_s: float = Field(default=3300.0, gt=0, le=3600)
    #: Reconnects after a dropped or expired session per conversation; then `realtime_unstable`.
    max_reconnects: int = Field(default=3, ge=0, le=100)
    #: Answers cut off by a drop and asked for again (billed again) per conversation.
    max_resumed_responses: int = Field(default=3, ge=0, le=100)
    turn_detection: TurnDetection = "server_vad"


class ToolConfig(Section):
    """A function the model may call; Node-RED or Home Assistant answers it over MQTT."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _TOOL_NAME.match(value):
            raise ValueError("must be 1-64 characters of letters, digits, '_' or '-'")
        return value

    @field_validator("parameters")
    @classmethod
    def _schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("type") != "object":
            raise ValueError('must be a JSON schema with "type": "object"')
        props = value.get("properties", {})
        if not isinstance(props, dict):
            raise ValueError('"properties" must be an object')
        return value


class BudgetConfig(Section):
    """A daily spending limit and what to do once it is reached."""

    daily_usd: float | None = Field(default=None, gt=0)
    action: Literal["switch_model", "refuse"] = "switch_model"
    cheaper_model: str = "gpt-realtime-mini"


class ModelEntry(Section):
    """A catalog addition (with `like:`) or an override of an existing model's fields."""

    like: str | None = None
    protocol: WireProtocol | None = None
    voices: list[str] | None = None
    features: list[str] | None = None
    prices: dict[str, float] | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    shutdown: str | None = None
    successor: str | None = None

    @field_validator("features")
    @classmethod
    def _features(cls, value: list[str] | None) -> list[str] | None:
        unknown = set(value or ()) - KNOWN_FEATURES
        if unknown:
            raise ValueError(
                f"unknown features {sorted(unknown)}; known: {', '.join(sorted(KNOWN_FEATURES))}"
            )
        return value

    @field_validator("prices")
    @classmethod
    def _prices(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for key, price in (value or {}).items():
            if key not in TOKEN_CLASSES:
                raise ValueError(f"unknown token class {key!r}; known: {', '.join(TOKEN_CLASSES)}")
            if price < 0:
                raise ValueError(f"{key}: a price cannot be negative")
        return value


class EdgeVoiceConfig(Section):
    """The whole configuration of one edge_voice device."""

    device_id: str = Field(default_factory=hostname_slug)
    state_dir: FsPath = DEFAULT_STATE_DIR
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    openai: OpenAIConfig = Field(default_factory=OpenAIConfig)
    voice: VoiceConfig = Field(default_factory=VoiceConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    audio: AudioConfig = Field(default_factory=AudioConfig)
    wakeword: WakewordConfig = Field(default_factory=WakewordConfig)
    conversation: ConversationConfig = Field(default_factory=ConversationConfig)
    tools: list[ToolConfig] = Field(default_factory=list)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    mcp_bridge: McpBridgeConfig = Field(default_factory=McpBridgeConfig)
    models: dict[str, ModelEntry] = Field(default_factory=dict)

    @field_validator("device_id")
    @classmethod
    def _device_id(cls, value: str) -> str:
        if not _DEVICE_ID.fullmatch(value):
            raise ValueError(
                f"{value!r} cannot name the MQTT topics: use 1 to 64 lowercase letters, digits, "
                f"'_' or '-', no spaces (e.g. {hostname_slug(value)[:64]!r})"
            )
        return check_device_id(value)

    @model_validator(mode="before")
    @classmethod
    def _legacy_voice(cls, data: Any, info: ValidationInfo) -> Any:
        return move_legacy_voice(data)[0] if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _cross_checks(self) -> EdgeVoiceConfig:
        mqtt = self.mqtt
        keyed("mqtt.discovery_prefix", check_roots, mqtt.base_topic, mqtt.discovery_prefix)
        base = f"{mqtt.base_topic}/{self.device_id}"
        keyed("mqtt.ha_status_topic", check_ha_status_topic, mqtt.ha_status_topic, base)
        catalog = self.catalog()
        for path, name in (
            ("openai.model", self.openai.model),
            ("openai.legacy_model", self.openai.legacy_model),
            ("budget.cheaper_model", self.budget.cheaper_model),
            *(
                (f"openai.fallback_models[{i}]", n)
                for i, n in enumerate(self.openai.fallback_models)
            ),
            *self.wakeword.profile_choices("model"),
        ):
            if name not in catalog:
                raise ValueError(f"{path}: {UnknownModelError(name, catalog.names())}")
        voices = catalog.all_voices()
        for path, voice in (
            ("voice.primary", self.voice.primary),
            ("voice.fallback", self.voice.fallback),
            *self.wakeword.profile_choices("voice"),
        ):
            primary = path != "voice.fallback"
            if voice not in voices and not (primary and (voice == AUTO or is_custom_voice(voice))):
                raise ValueError(
                    f"{path}: unknown voice {voice!r}; known voices: {', '.join(voices)}"
                )
        for name, profile in self.wakeword.profiles().items():
            _check_profile_voice(name, profile.model, profile.voice, catalog)
        labels = [server.server_label for server in self.openai.mcp_servers]
        if len(set(labels)) != len(labels):
            raise ValueError(f"openai.mcp_servers: duplicate server_label in {labels}")
        names = [tool.name for tool in self.tools]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"tools: duplicate tool names {dupes}")
        return self

    def catalog(self) -> ModelCatalog:
        """The built-in model catalog with this config's `models:` section applied."""
        if not self.models:
            return default_catalog()
        try:
            return default_catalog().with_overrides(
                {name: entry.model_dump(exclude_none=True) for name, entry in self.models.items()}
            )
        except (UnknownModelError, ValueError) as exc:
            raise ValueError(f"models: {exc}") from None

    def resolved_state_dir(self) -> Path:
        """`state_dir` with `{device_id}` replaced by this device's id and `~` expanded."""
        return Path(str(self.state_dir).replace(DEVICE_PLACEHOLDER, self.device_id)).expanduser()


def _check_profile_voice(
    name: str, model: str | None, voice: str | None, catalog: ModelCatalog
) -> None:
    """A profile naming its model and voice: the model must have the voice (as voice/set)."""
    if model is None or voice is None or voice == AUTO or is_custom_voice(voice):
        return
    allowed = catalog.get(model).voices
    if voice not in allowed:
        raise ValueError(
            f"wakeword.words.{name}.profile.voice: {model} has no voice {voice!r}; "
            f"allowed: {', '.join(allowed)}, or auto"
        )
