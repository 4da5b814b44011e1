"""The realtime model catalog: protocol, voices, features, prices and lifecycle per model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from edge_voice.realtime.model_spec import WireProtocol

#: Token classes priced separately, in the order tables print them.
TOKEN_CLASSES: tuple[str, ...] = (
    "text_in",
    "cached_text_in",
    "audio_in",
    "cached_audio_in",
    "image_in",
    "cached_image_in",
    "text_out",
    "audio_out",
)

#: Features a model may lack; the session drops what needs a missing one.
KNOWN_FEATURES: frozenset[str] = frozenset(
    {"async_functions", "mcp", "image_input", "semantic_vad", "reasoning", "parallel_tool_calls"}
)

#: A model within this many days of its shutdown gets a warning.
SHUTDOWN_WARNING_DAYS = 90


class UnknownModelError(ValueError):
    """A model name that is not in the catalog."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown model {name!r}; known models: {', '.join(self.known)}")


@dataclass(frozen=True)
class Prices:
    """USD per 1M tokens for each token class."""

    text_in: float
    cached_text_in: float
    audio_in: float
    cached_audio_in: float
    image_in: float
    cached_image_in: float
    text_out: float
    audio_out: float

    def per_token(self, token_class: str) -> float:
        """USD for one token of this class."""
        return float(getattr(self, token_class)) / 1_000_000


class LifecycleState(StrEnum):
    """Where a model stands in OpenAI's deprecation process on a given day."""

    ACTIVE = "active"
    DEPRECATED = "deprecated"
    SHUTDOWN_SOON = "shutdown_soon"
    SHUT_DOWN = "shut_down"


@dataclass(frozen=True)
class Lifecycle:
    """Release, deprecation notice, shutdown date and successor of a model or protocol."""

    released: dt.date | None = None
    deprecated: dt.date | None = None
    shutdown: dt.date | None = None
    successor: str | None = None

    def state(self, today: dt.date) -> LifecycleState:
        """The lifecycle state on `today`."""
        if self.shutdown is not None:
            if today >= self.shutdown:
                return LifecycleState.SHUT_DOWN
            if (self.shutdown - today).days <= SHUTDOWN_WARNING_DAYS:
                return LifecycleState.SHUTDOWN_SOON
        if self.deprecated is not None and today >= self.deprecated:
            return LifecycleState.DEPRECATED
        return LifecycleState.ACTIVE


@dataclass(frozen=True)
class ModelInfo:
    """Everything the service needs to know about one realtime model."""

    name: str
    protocol: WireProtocol
    voices: tuple[str, ...]
    features: frozenset[str]
    prices: Prices
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    alias_of: str | None = None
    context_window: int | None = None
    #: The most a response may write; input is limited to context_window minus this.
    max_output_tokens: int | None = None

    def has_voice(self, voice: str) -> bool:
        """Whether the model can speak with `voice`."""
        return voice in self.voices

    def has_feature(self, feature: str) -> bool:
        """Whether the model supports `feature`."""
        return feature in self.features


@dataclass(frozen=True)
class LifecycleWarning:
    """A configured model (or its protocol) that is past or near its shutdown."""

    subject: str
    role: str
    state: LifecycleState
    shutdown: dt.date
    successor: str | None

    def message(self, today: dt.date) -> str:
        """A one-line human message naming the successor."""
        days = (self.shutdown - today).days
        when = (
            f"was shut down on {self.shutdown.isoformat()}"
            if days <= 0
            else f"shuts down on {self.shutdown.isoformat()} ({days} days left)"
        )
        move = f"; successor: {self.successor}" if self.successor else ""
        return f"{self.role} {self.subject} {when}{move}"


class ModelCatalog:
    """An immutable set of models, with config additions and overrides applied."""

    def __init__(
        self, models: Mapping[str, ModelInfo], protocols: Mapping[str, Lifecycle] | None = None
    ) -> None:
        self._models = dict(models)
        self._protocols = dict(protocols or {})

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def names(self) -> list[str]:
        """All model names, in catalog order."""
        return list(self._models)

    def models(self) -> list[ModelInfo]:
        """All models, in catalog order."""
        return list(self._models.values())

    def get(self, name: str) -> ModelInfo:
        """The model called `name`; raises UnknownModelError with the known names."""
        try:
            return self._models[name]
        except KeyError:
            raise UnknownModelError(name, self._models) from None

    def all_voices(self) -> list[str]:
        """Every voice any model in the catalog offers."""
        seen: dict[str, None] = {}
        for model in self._models.values():
            seen.update(dict.fromkeys(model.voices))
        return list(seen)

    def protocol_lifecycle(self, protocol: str) -> Lifecycle:
        """The lifecycle of a wire protocol flavour (`ga` or `beta`)."""
        return self._protocols.get(protocol, Lifecycle())

    def lifecycle_warnings(
        self, roles: Mapping[str, str], today: dt.date
    ) -> list[LifecycleWarning]:
        """Warnings for models (role → name) that are shut down or within the warning window."""
        warnings: list[LifecycleWarning] = []
        for role, name in roles.items():
            model = self.get(name)
            state = model.lifecycle.state(today)
            if state in (LifecycleState.SHUT_DOWN, LifecycleState.SHUTDOWN_SOON):
                assert model.lifecycle.shutdown is not None
                warnings.append(
                    LifecycleWarning(
                        name, role, state, model.lifecycle.shutdown, model.lifecycle.successor
                    )
                )
            proto = self.protocol_lifecycle(model.protocol)
            proto_state = proto.state(today)
            if proto.shutdown is not None and proto_state in (
                LifecycleState.SHUT_DOWN,
                LifecycleState.SHUTDOWN_SOON,
            ):
                warnings.append(
                    LifecycleWarning(
                        f"{model.protocol} protocol (used by {name})",
                        "interface:",
                        proto_state,
                        proto.shutdown,
                        f"the {proto.successor} interface" if proto.successor else None,
                    )
                )
        return warnings

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]]) -> ModelCatalog:
        """A new catalog with config `models:` entries applied (additions use `like:`)."""
        models = dict(self._models)
        for name, raw in overrides.items():
            spec = dict(raw)
            like = spec.pop("like", None)
            if name in models:
                base = models[name]
            elif like is not None:
                base = replace(self.get(str(like)), name=name, alias_of=None)
            else:
                raise ValueError(
                    f"models.{name}: a new model needs `like: <existing model>` "
                    "to inherit protocol, voices, features and prices"
                )
            models[name] = _apply_spec(base, spec, _packaged_voice_sets())
        return ModelCatalog(models, self._protocols)


def _apply_spec(
    base: ModelInfo, spec: Mapping[str, Any], voice_sets: Mapping[str, tuple[str, ...]]
) -> ModelInfo:
    """Overlay one `models:` entry (already validated by the config schema) onto a model."""
    changes: dict[str, Any] = {}
    if "protocol" in spec:
        changes["protocol"] = spec["protocol"]
    if "voices" in spec:
        changes["voices"] = _voices(spec["voices"], voice_sets)
    if "features" in spec:
        changes["features"] = frozenset(spec["features"])
    if "prices" in spec:
        changes["prices"] = replace(base.prices, **{k: float(v) for k, v in spec["prices"].items()})
    for key in ("context_window", "max_output_tokens"):
        if key in spec:
            changes[key] = spec[key]
    life: dict[str, Any] = {
        k: _date(spec[k]) for k in ("released", "deprecated", "shutdown") if k in spec
    }
    if "successor" in spec:
        life["successor"] = spec["successor"]
    if life:
        changes["lifecycle"] = replace(base.lifecycle, **life)
    return replace(base, **changes)


def _voices(value: Any, voice_sets: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    if isinstance(value, str):
        return voice_sets[value]
    return tuple(str(v) for v in value)


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _lifecycle(raw: Mapping[str, Any]) -> Lifecycle:
    return Lifecycle(
        released=_date(raw.get("released")),
        deprecated=_date(raw.get("deprecated")),
        shutdown=_date(raw.get("shutdown")),
        successor=raw.get("successor"),
    )


@lru_cache(maxsize=1)
def _packaged_data() -> dict[str, Any]:
    text = resources.files("edge_voice.models").joinpath("catalog.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@lru_cache(maxsize=1)
def _packaged_voice_sets() -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in _packaged_data()["voice_sets"].items()}


@lru_cache(maxsize=1)
def default_catalog() -> ModelCatalog:
    """The catalog shipped with the package (cached; ModelCatalog is immutable)."""
    data = _packaged_data()
    voice_sets = _packaged_voice_sets()
    models: dict[str, ModelInfo] = {}
    for name, raw in data["models"].items():
        features = frozenset(raw.get("features", []))
        unknown = features - KNOWN_FEATURES
        if unknown:  # a typo in the packaged table must fail loudly in tests
            raise ValueError(f"catalog.yaml: {name}: unknown features {sorted(unknown)}")
        models[name] = ModelInfo(
            name=name,
            protocol=raw["protocol"],
            voices=_voices(raw["voices"], voice_sets),
            features=features,
            prices=Prices(**{k: float(raw["prices"][k]) for k in TOKEN_CLASSES}),
            lifecycle=_lifecycle(raw),
            alias_of=raw.get("alias_of"),
            context_window=raw.get("context_window"),
            max_output_tokens=raw.get("max_output_tokens"),
        )
    protocols = {k: _lifecycle(v or {}) for k, v in data.get("protocols", {}).items()}
    return ModelCatalog(models, protocols)
