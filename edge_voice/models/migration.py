"""ModelMigration: pick the model, connect with fallback, fit voices and features to it.

The catalog itself is `models/catalog.py` (data in `catalog.yaml`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from pydantic import SecretStr

from edge_voice.models.catalog import (
    ModelCatalog,
    ModelInfo,
    default_catalog,
)
from edge_voice.models.fallback import (
    BreakerState,
    CircuitBreaker,
    ModelSelection,
    candidate_models,
)
from edge_voice.models.features import (
    Degradation,
    DegradationReporter,
    FittedSettings,
    VoicePreference,
    fit_settings,
)
from edge_voice.realtime.errors import (
    ConnectTimeout,
    HandshakeError,
    RealtimeError,
    ServerClosedError,
)
from edge_voice.realtime.session import RealtimeSession
from edge_voice.realtime.session_builders import SessionSettings

__all__ = [
    "AllModelsFailedError",
    "ConnectAttempt",
    "ConnectResult",
    "FallbackEvent",
    "MigrationSettings",
    "ModelMigration",
    "ModelRecovered",
    "realtime_opener",
    "spent_models",
]

log = logging.getLogger(__name__)


class ClosableSession(Protocol):
    """What ModelMigration needs of a session: that it can be closed."""

    async def close(self) -> None: ...


S = TypeVar("S", bound=ClosableSession)
#: Opens a session on a model with settings fitted to it; RealtimeSession in every deployment.
SessionOpener = Callable[[ModelInfo, SessionSettings], Awaitable[S]]


@dataclass(frozen=True)
class MigrationSettings:
    """The `openai` and `voice` config that decides models, fallback and voices."""

    model: str = "gpt-realtime"
    legacy_model: str = "gpt-4o-realtime-preview"
    model_selection: ModelSelection = "auto"
    disable_new_features: bool = False
    voice: VoicePreference = field(default_factory=VoicePreference)
    fallback_cooldown_s: float = 300.0


@dataclass(frozen=True)
class FallbackEvent:
    """The service moved from one model to another because the first failed."""

    from_model: str
    to_model: str
    reason: str


@dataclass(frozen=True)
class ModelRecovered:
    """The primary answered again after a fallback."""

    model: str
    after_fallback_to: str


@dataclass(frozen=True)
class ConnectAttempt:
    """One connection attempt, for success-rate metrics."""

    model: str
    ok: bool
    duration_s: float
    error_code: str | None = None


MigrationEvent = FallbackEvent | ModelRecovered | ConnectAttempt | Degradation


@dataclass(frozen=True)
class ConnectResult(Generic[S]):
    """A ready session, the model it runs on and what was fitted to that model."""

    session: S
    model: ModelInfo
    fitted: FittedSettings
    fallback: FallbackEvent | None


class AllModelsFailedError(RealtimeError):
    """Every candidate model refused; `.failures` has each model's error."""

    fallback_worthy = True

    def __init__(self, failures: list[tuple[str, RealtimeError]]) -> None:
        self.failures = failures
        detail = "; ".join(f"{m}: {fallback_reason(e)}" for m, e in failures)
        super().__init__(f"no model could be reached ({detail})", code="all_models_failed")


def fallback_reason(exc: RealtimeError) -> str:
    """A short machine-friendly reason for a failed attempt."""
    if isinstance(exc, HandshakeError):
        return f"http_{exc.status_code}"
    if isinstance(exc, ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, ServerClosedError) and exc.code is None:
        return f"closed_{exc.close_code}"
    return exc.code or type(exc).__name__


def spent_models(exc: RealtimeError) -> set[str]:
    """Models that retrying the same connect cannot help after `exc`.

    A model that refused for good would refuse again, and one that timed out has used its
    connect timeout: trying it again would only make the user wait another one.
    """
    failures = exc.failures if isinstance(exc, AllModelsFailedError) else [(exc.model, exc)]
    return {
        model
        for model, error in failures
        if model is not None and (isinstance(error, ConnectTimeout) or not error.retryable)
    }


class ModelMigration(Generic[S]):
    """Connects to the right model: primary, legacy or fallback, as `model_selection` says."""

    def __init__(
        self,
        settings: MigrationSettings,
        opener: SessionOpener[S],
        *,
        catalog: ModelCatalog | None = None,
        on_event: Callable[[MigrationEvent], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._opener = opener
        self._catalog = catalog or default_catalog()
        self._on_event = on_event or (lambda _event: None)
        self._clock = clock
        self._reporter = DegradationReporter()
        self.settings = settings
        self.breaker = CircuitBreaker(settings.fallback_cooldown_s, clock=clock)
        self.active_model: str | None = None
        self.fallback_active = False
        #: Models that refused for a reason retrying cannot fix: when, and the error.
        self._refused: dict[str, tuple[float, RealtimeError]] = {}

    def update(self, settings: MigrationSettings, catalog: ModelCatalog | None = None) -> None:
        """Apply a new config for the next connection (a running session is not touched)."""
        if settings.model != self.settings.model:
            self.breaker.reset()  # a new primary starts with a clean record
        if settings != self.settings:
            self._refused.clear()  # e.g. another voice may be accepted where this one was not
        self.breaker.cooldown_s = settings.fallback_cooldown_s
        self.settings = settings
        if catalog is not None:
            self._catalog = catalog

    def plan(self, preferred_model: str | None = None, skip: Collection[str] = ()) -> list[str]:
        """The models `connect` would try now, in order (none of `skip`)."""
        return self._plan(preferred_model, skip)[0]

    def _plan(
        self, preferred_model: str | None, skip: Collection[str]
    ) -> tuple[list[str], list[tuple[str, RealtimeError]]]:
        """Models to try, and the recent refusals of the ones left out for them."""
        s = self.settings
        primary = preferred_model or s.model
        state = self.breaker.state if primary == s.model else BreakerState.CLOSED
        candidates = [
            name
            for name in candidate_models(s.model_selection, primary, s.legacy_model, state)
            if name not in skip
        ]
        # A model that refused for good within the cool-down is no fallback target: it would
        # refuse again, and announcing a fallback to it would mislead. Alone, it is still tried.
        live = [name for name in candidates if not self._refused_now(name)] or candidates[:1]
        left_out = [(name, self._refused[name][1]) for name in candidates if name not in live]
        return live, left_out

    def _refused_now(self, model: str) -> bool:
        refused = self._refused.get(model)
        cooldown_s = self.settings.fallback_cooldown_s
        return refused is not None and self._clock() - refused[0] < cooldown_s

    def fit(self, base: SessionSettings, model: str | ModelInfo) -> FittedSettings:
        """`base` fitted to `model`: voice chosen, unsupported features dropped."""
        info = model if isinstance(model, ModelInfo) else self._catalog.get(model)
        return fit_settings(
            base, info, self.settings.voice, disable_new_features=self.settings.disable_new_features
        )

    async def connect(
        self,
        base: SessionSettings,
        preferred_model: str | None = None,
        *,
        skip: Collection[str] = (),
    ) -> ConnectResult[S]:
        """Open a session on the first model that accepts us; fall back on refusals only.

        `skip` names models a retry must not try again (see `spent_models`).
        """
        candidates, failures = self._plan(preferred_model, skip)
        primary = preferred_model or self.settings.model
        fallback: FallbackEvent | None = None
        for index, name in enumerate(candidates):
            info = self._catalog.get(name)
            fitted = self.fit(base, info)
            started = self._clock()
            try:
                session = await self._opener(info, fitted.settings)
            except RealtimeError as exc:
                self._emit(
                    ConnectAttempt(name, False, self._clock() - started, fallback_reason(exc))
                )
                if not exc.fallback_worthy:
                    raise  # a bad key or no network: every model would fail the same way
                if not exc.retryable:
                    # Noted before the breaker opens, so it is forgotten by the time of the probe.
                    self._refused[name] = (self._clock(), exc)
                if name == self.settings.model and self.settings.model_selection == "auto":
                    self.breaker.record_failure()
                failures.append((name, exc))
                log.warning("model %s refused: %s", name, exc)
                if index + 1 < len(candidates):
                    fallback = FallbackEvent(name, candidates[index + 1], fallback_reason(exc))
                    self._emit(fallback)
                continue
            self._emit(ConnectAttempt(name, True, self._clock() - started))
            self._refused.pop(name, None)
            self._landed(name, primary)
            for degradation in self._reporter.new(fitted.degraded):
                log.info(
                    "%s: %s not used (%s)",
                    degradation.model,
                    degradation.feature,
                    degradation.action,
                )
                self._emit(degradation)
            if fitted.voice.changed:
                log.info("%s", fitted.voice.explain())
            return ConnectResult(session, info, fitted, fallback)
        if len(failures) == 1:
            raise failures[0][1]
        raise AllModelsFailedError(failures)

    def report_drop(self, model: str) -> FallbackEvent | None:
        """A session on `model` dropped; repeated drops of the primary open the breaker."""
        s = self.settings
        if model != s.model or s.model_selection != "auto" or s.model == s.legacy_model:
            return None
        if self.breaker.record_drop():
            event = FallbackEvent(model, s.legacy_model, "repeated_drops")
            self._emit(event)
            return event
        return None

    def _landed(self, name: str, primary: str) -> None:
        was_fallback = self.fallback_active
        # `legacy` is a choice, not a fallback; only `auto` landing elsewhere is one.
        self.fallback_active = self.settings.model_selection == "auto" and name != primary
        if name == self.settings.model:
            self.breaker.record_success()
        if name == primary and was_fallback and self.active_model:
            self._emit(ModelRecovered(name, self.active_model))
        self.active_model = name

    def _emit(self, event: MigrationEvent) -> None:
        try:
            self._on_event(event)
        except Exception:  # a broken listener must not break connecting
            log.exception("migration event listener failed")


def realtime_opener(
    api_key: SecretStr | str | None, base_url: str, *, connect_timeout_s: float = 10.0
) -> SessionOpener[RealtimeSession]:
    """The opener every deployment uses: a RealtimeSession to `base_url` (OpenAI or the sim)."""

    async def open_session(model: ModelInfo, settings: SessionSettings) -> RealtimeSession:
        session = RealtimeSession(
            settings,
            model,
            api_key=api_key,
            base_url=base_url,
            connect_timeout_s=connect_timeout_s,
            setup_timeout_s=connect_timeout_s,
        )
        try:
            await session.connect()
        except BaseException:
            await session.close()
            raise
        return session

    return open_session
