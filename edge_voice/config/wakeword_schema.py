"""The `wakeword` config section: which models listen, with which engine, and per-word options.

`models` lists what listens (built-in names or model files). `words`, keyed by detection name,
optionally gives one wake word its engine, threshold, refractory time and a profile: the model,
voice, instructions and tools its conversations use instead of the global ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)

from edge_voice.audio.wakeword_names import (
    MICROWAKEWORD,
    WakeEngine,
    builtin_name,
    detection_name,
    engine_for,
    spec_problem,
)
from edge_voice.config.topic_rules import check_segment

ToolName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class Section(BaseModel):
    """Like config.schema.Section (which imports this module): unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SparseSection(Section):
    """A section whose unset (None) keys are left out when dumped: a runtime override of one
    key of `words.<name>` (e.g. a threshold from HA) is that key alone, not null siblings."""

    @model_serializer(mode="wrap")
    def _without_none(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


class WakeProfile(SparseSection):
    """What a conversation started by this wake word uses instead of the global settings."""

    #: The primary model (fallbacks as configured follow it in `auto`).
    model: str | None = None
    voice: str | None = None
    instructions: str | None = None
    #: The tools the model may call; None: every tool; []: none.
    tools: list[ToolName] | None = None


class WakeWordOptions(SparseSection):
    """Options of one wake word, keyed by its detection name under `wakeword.words`."""

    engine: WakeEngine | None = None
    #: Detection threshold; default: `wakeword.threshold` (openWakeWord) or the manifest's
    #: `probability_cutoff` (microWakeWord).
    threshold: float | None = Field(default=None, gt=0, lt=1)
    refractory_s: float | None = Field(default=None, ge=0)
    profile: WakeProfile | None = None


@dataclass(frozen=True, slots=True)
class WakeWordEntry:
    """One listening model as the detector and the conversation use it, defaults resolved."""

    name: str
    spec: str
    engine: WakeEngine
    #: None: the engine's own default (microWakeWord's manifest cutoff).
    threshold: float | None
    refractory_s: float
    profile: WakeProfile | None


class WakewordConfig(Section):
    """Wake-word models, engines and detection settings."""

    models: list[str] = Field(default_factory=lambda: ["hey_jarvis"], min_length=1)
    #: openWakeWord's default threshold (microWakeWord models use their manifest's cutoff).
    threshold: float = Field(default=0.5, gt=0, lt=1)
    refractory_s: float = Field(default=2.0, ge=0)
    arbitration_group: str | None = None
    #: After a wake word, how long to wait for speech before ending quietly (a false wake).
    no_speech_timeout_s: float = Field(default=4.5, gt=0, le=60)
    words: dict[str, WakeWordOptions] = Field(default_factory=dict)

    @field_validator("models")
    @classmethod
    def _known_models(cls, value: list[str]) -> list[str]:
        names: list[str] = []
        for spec in value:
            problem = spec_problem(spec, engine_for(spec))
            if problem is not None and builtin_name(spec, MICROWAKEWORD) is None:
                raise ValueError(problem)
            name = detection_name(spec)
            if name in names:
                raise ValueError(f"two models detect as {name!r}; rename one file")
            names.append(name)
        return value

    @model_validator(mode="after")
    def _words(self) -> WakewordConfig:
        names = [detection_name(spec) for spec in self.models]
        for name, options in self.words.items():
            if name not in names:
                raise ValueError(
                    f"words.{name}: no such wake word in wakeword.models ({', '.join(names)})"
                )
            spec = self.models[names.index(name)]
            problem = spec_problem(spec, engine_for(spec, options.engine))
            if problem is not None:
                raise ValueError(f"words.{name}.engine: {problem}")
        return self

    @field_validator("arbitration_group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        return None if value is None else check_segment(value)

    def entries(self) -> list[WakeWordEntry]:
        """Every listening model with its engine and options resolved, in `models` order."""
        return [self._entry(spec) for spec in self.models]

    def _entry(self, spec: str) -> WakeWordEntry:
        name = detection_name(spec)
        options = self.words.get(name) or WakeWordOptions()
        engine = engine_for(spec, options.engine)
        default = None if engine == MICROWAKEWORD else self.threshold
        return WakeWordEntry(
            name=name,
            spec=spec,
            engine=engine,
            threshold=options.threshold if options.threshold is not None else default,
            refractory_s=(
                options.refractory_s if options.refractory_s is not None else self.refractory_s
            ),
            profile=options.profile,
        )

    def profiles(self) -> dict[str, WakeProfile]:
        """The wake words that have a profile, by detection name."""
        return {n: o.profile for n, o in self.words.items() if o.profile is not None}

    def profile_of(self, name: str | None) -> WakeProfile | None:
        """The profile of wake word `name` (None for no name, or a word without one)."""
        options = self.words.get(name) if name is not None else None
        return options.profile if options is not None else None

    def profile_choices(self, key: Literal["model", "voice"]) -> list[tuple[str, str]]:
        """`(config path, value)` of every profile that sets `key`, for the catalog checks."""
        return [
            (f"wakeword.words.{name}.profile.{key}", value)
            for name, profile in self.profiles().items()
            if (value := getattr(profile, key)) is not None
        ]
