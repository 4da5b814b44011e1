"""ModelMigration: pick the model, connect with fallback, fit voices and features to it.

The catalog itself is `models/catalog.py` (data in `catalog.yaml`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from pydantic import SecretStr

from edge_voice.models import lifecycle
from edge_voice.models.attempts import (
    AllModelsFailedError,
    ConnectAttempt,
    FallbackEvent,
    ModelRecovered,
    fallback_reason,
    spent_models,
)
from edge_voice.models.catalog import (
    ModelCatalog,
    ModelInfo,
    default_catalog,
)
from edge_voice.models.fallback import (
    BreakerState,
    CircuitBreaker,
    ModelSelection,
    breaker_order,
    candidate_models,
)
from edge_voice.models.features import (
    Degradation,
    DegradationReporter,
    FittedSettings,
    VoicePreference,
    fit_settings,
)
from edge_voice.models.lifecycle import Replacement
from edge_voice.realtime.errors import (
    MODEL_REFUSAL_CODES,
    AuthenticationError,
    ModelRefusedError,
    RealtimeError,
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
    #: Further `auto` candidates after legacy_model, in order.
    fallback_models: tuple[str, ...] = ()
    model_selection: ModelSelection = "auto"
    disable_new_features: bool = False
    voice: VoicePreference = field(default_factory=VoicePreference)
    fallback_cooldown_s: float = 300.0
    #: (model, config key) of the models a caller may prefer over the primary (wake word
    #: profiles), so a replacement names the key to change; others: PREFERRED_ROLE.
    preferred_roles: tuple[tuple[str, str], ...] = ()


MigrationEvent = FallbackEvent | ModelRecovered | ConnectAttempt | Degradation | Replacement

#: The role of a model the caller prefers over the primary: only the daily budget does that.
PREFERRED_ROLE = "budget.cheaper_model"


@dataclass(frozen=True)
class ConnectResult(Generic[S]):
    """A ready session, the model it runs on and what was fitted to that model."""

    session: S
    model: ModelInfo
    fitted: FittedSettings
    fallback: FallbackEvent | None


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
        today: Callable[[], dt.date] | None = None,
    ) -> None:
        """`today` dates lifecycle decisions (default: `lifecycle.calendar_today`, read per use)."""
        self._opener = opener
        self._today = today or (lambda: lifecycle.calendar_today())
        self._catalog = catalog or default_catalog()
        self._on_event = on_event or (lambda _event: None)
        self._clock = clock
        self._reporter = DegradationReporter()
        self.settings = settings
        self.breaker = CircuitBreaker(settings.fallback_cooldown_s, clock=clock)
        self.active_model: str | None = None
        self.fallback_active = False
        #: True after the key was refused, False after a connection: None before either.
        self.api_key_problem: bool | None = None
        #: Models that refused for a reason retrying cannot fix: when, and the error.
        self._refused: dict[str, tuple[float, RealtimeError]] = {}
        #: Replacements and `shut_down` moves already announced (once per process).
        self._announced: set[tuple[str, ...]] = set()

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
        self.announce_replacements()

    def _lifecycle(self, primary: str | None = None) -> lifecycle.Chain:
        """The `auto` chain from `primary` (default: the configured model) as of today."""
        s = self.settings
        preferred = dict(s.preferred_roles).get(primary or "", PREFERRED_ROLE)
        role = "openai.model" if primary in (None, s.model) else preferred
        roles = lifecycle.chain_roles(primary or s.model, s.legacy_model, s.fallback_models, role)
        return lifecycle.lifecycle_chain(roles, self._catalog, self._today())

    def chain(self) -> list[str]:
        """The models this selection tries today, in configured order (`state.model_chain`)."""
        s = self.settings
        roles = lifecycle.chain_roles(s.model, s.legacy_model, s.fallback_models)
        return list(
            lifecycle.selection_chain(s.model_selection, roles, self._catalog, self._today()).models
        )

    def _breaker_model(self) -> str:
        """The model the breaker watches: the primary, or its live successor once it died."""
        return self._lifecycle().models[0]

    def announce_replacements(self, primary: str | None = None, *, quiet: bool = False) -> None:
        """Log and emit each replacement of a dead `auto` candidate, once per process.

        `quiet`: emit only (the caller has logged the config's lifecycle facts itself).
        """
        if self.settings.model_selection != "auto":
            return
        for replaced in self._lifecycle(primary).replacements:
            key = ("replaced", replaced.role, replaced.model, str(replaced.replacement))
            if key not in self._announced:
                self._announced.add(key)
                if not quiet:
                    log.warning("%s", replaced.message())
                self._emit(replaced)

    def plan(self, preferred_model: str | None = None, skip: Collection[str] = ()) -> list[str]:
        """The models `connect` would try now, in order (none of `skip`)."""
        return self._plan(preferred_model, skip)[0]

    def _plan(
        self, preferred_model: str | None, skip: Collection[str]
    ) -> tuple[list[str], list[tuple[str, RealtimeError]]]:
        """Models to try, and the recent refusals of the ones left out for them."""
        s = self.settings
        primary = preferred_model or s.model
        if s.model_selection == "auto":
            state = self.breaker.state if primary == s.model else BreakerState.CLOSED
            ordered = breaker_order(self._lifecycle(primary).models, state)
        else:
            ordered = candidate_models(
                s.model_selection, primary, s.legacy_model, BreakerState.CLOSED
            )
        candidates = [name for name in ordered if name not in skip]
        # A model that refused for good within the cool-down is no fallback target: it would
        # refuse again, and announcing a fallback to it would mislead. Alone, it is still tried.
        live = [name for name in candidates if not self._refused_now(name)] or candidates[:1]
        left_out = [(name, self._refused[name][1]) for name in candidates if name not in live]
        return live, left_out

    def _refused_now(self, model: str) -> bool:
        refused = self._refused.get(model)
        cooldown_s = self.settings.fallback_cooldown_s
        return refused is not None and self._clock() - refused[0] < cooldown_s

    def fit(
        self,
        base: SessionSettings,
        model: str | ModelInfo,
        voice: VoicePreference | None = None,
    ) -> FittedSettings:
        """`base` fitted to `model`: voice chosen (`voice`, default: the configured preference),
        unsupported features dropped."""
        info = model if isinstance(model, ModelInfo) else self._catalog.get(model)
        return fit_settings(
            base,
            info,
            voice or self.settings.voice,
            disable_new_features=self.settings.disable_new_features,
        )

    async def connect(
        self,
        base: SessionSettings,
        preferred_model: str | None = None,
        *,
        skip: Collection[str] = (),
        voice: VoicePreference | None = None,
    ) -> ConnectResult[S]:
        """Open a session on the first model that accepts us; fall back on refusals only.

        `skip` names models a retry must not try again (see `spent_models`); `voice` replaces
        the configured voice preference (a wake word's profile).
        """
        self.announce_replacements(preferred_model)
        candidates, failures = self._plan(preferred_model, skip)
        primary = preferred_model or self.settings.model
        watched = self._breaker_model()
        fallback: FallbackEvent | None = None
        for index, name in enumerate(candidates):
            info = self._catalog.get(name)
            fitted = self.fit(base, info, voice)
            started = self._clock()
            try:
                session = await self._opener(info, fitted.settings)
            except RealtimeError as exc:
                self._emit(
                    ConnectAttempt(name, False, self._clock() - started, fallback_reason(exc))
                )
                if isinstance(exc, AuthenticationError):
                    self.api_key_problem = True
                if not exc.fallback_worthy:
                    raise  # a bad key or no network: every model would fail the same way
                self._note_refusal(name, exc, watched)
                failures.append((name, exc))
                log.warning("model %s refused: %s", name, exc)
                if index + 1 < len(candidates):
                    fallback = FallbackEvent(name, candidates[index + 1], fallback_reason(exc))
                    self._emit(fallback)
                continue
            self._emit(ConnectAttempt(name, True, self._clock() - started))
            self.api_key_problem = False
            self._refused.pop(name, None)
            self._landed(name, primary, watched)
            fallback = self._shut_down_move(name, primary) or fallback
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

    def _note_refusal(self, name: str, exc: RealtimeError, watched: str) -> None:
        """A model refused us: hint at the fix, remember a lasting refusal, feed the breaker."""
        self._hint_pinned(name, exc)
        if not exc.retryable:
            # Noted before the breaker opens, so it is forgotten by the time of the probe.
            self._refused[name] = (self._clock(), exc)
        if name == watched and self.settings.model_selection == "auto":
            self.breaker.record_failure()

    def _hint_pinned(self, name: str, exc: RealtimeError) -> None:
        """A pinned model refused as unknown: name its successor and the fix in the error."""
        s = self.settings
        refused = isinstance(exc, ModelRefusedError) or exc.code in MODEL_REFUSAL_CODES
        if s.model_selection == "auto" or not refused:
            return
        role = "openai.model" if s.model_selection == "new" else "openai.legacy_model"
        hint = lifecycle.refusal_hint(role, name, self._catalog, self._today())
        if hint is not None:
            exc.message = f"{exc.message} ({hint})"
            exc.args = (exc.message,)

    def _shut_down_move(self, name: str, primary: str) -> FallbackEvent | None:
        """Landed on the live successor of a dead primary: one `shut_down` fallback, ever."""
        if self.settings.model_selection != "auto" or ("moved", primary, name) in self._announced:
            return None
        for replaced in self._lifecycle(primary).replacements:
            if replaced.model == primary and replaced.replacement == name:
                self._announced.add(("moved", primary, name))
                event = FallbackEvent(primary, name, "shut_down")
                self._emit(event)
                return event
        return None

    def report_drop(self, model: str) -> FallbackEvent | None:
        """A session on `model` dropped; repeated drops of the primary open the breaker."""
        s = self.settings
        chain = self._lifecycle().models
        if model != chain[0] or s.model_selection != "auto" or len(chain) < 2:
            return None
        if self.breaker.record_drop():
            event = FallbackEvent(model, chain[1], "repeated_drops")
            self._emit(event)
            return event
        return None

    def _landed(self, name: str, primary: str, watched: str) -> None:
        was_fallback = self.fallback_active
        # `legacy` is a choice, not a fallback; only `auto` landing elsewhere is one (the live
        # successor of a dead primary too: the configured model is not the one in use).
        self.fallback_active = self.settings.model_selection == "auto" and name != primary
        if name == watched:
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
        except AuthenticationError as exc:
            await session.close()
            _hint_key(exc, has_key=bool(api_key), official="api.openai.com" in base_url)
            raise
        except BaseException:
            await session.close()
            raise
        return session

    return open_session


def _hint_key(exc: AuthenticationError, *, has_key: bool, official: bool) -> None:
    """A refused key: say where the key comes from and what the endpoint wants (never the key)."""
    where = "set OPENAI_API_KEY or openai.api_key_file"
    if has_key:
        hint = "the API key was refused: check OPENAI_API_KEY or openai.api_key_file"
        if not official:
            hint += " (a simulator started with --api-key accepts only those keys)"
    else:
        hint = f"no API key was sent: {where}"
        if not official:
            hint += " (the simulator accepts any non-empty key unless started with --api-key)"
    exc.message = f"{exc.message} ({hint})"
    exc.args = (exc.message,)
