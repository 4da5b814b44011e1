"""The effective runtime config: the only place it changes, with history, last-known-good,
rollback and persistence across restarts.

Precedence, highest first: runtime override (MQTT commands, persisted in the state file) >
environment (`EDGE_VOICE__*`) > config file > schema default. The state file stores only where
the runtime config differs from the file config, so a key that was never changed at runtime (or
was changed back to the file's value) follows later edits of the file.

`config/set` patches deep-merge: mappings merge key by key, lists replace as a whole, and `null`
is a value (it sets a nullable key such as `budget.daily_usd` to null, as docs/MQTT_API.md says;
on a key that cannot be null it is refused). A key returns to the file's value by setting that
value, by a rollback, or by `reset_overrides` (`config reset`, `<base>/config/reset`).

The API is synchronous and never awaits: every caller runs in the one event loop, so each call
is atomic without a lock. Every change is announced on the event bus (`ConfigChanged`,
`LastGoodChanged`); the assistant and the MQTT bridge react to it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Final

from edge_voice.config.events import ConfigChanged, LastGoodChanged
from edge_voice.config.loading import config_to_dict
from edge_voice.config.overrides import Override, describe, rebuild, reset_config
from edge_voice.config.retained import FILE_SOURCE, RETAINED_SOURCE, read_retained, report
from edge_voice.config.rules import (
    LEGACY_PROFILE,
    ChangeCode,
    ConfigChangeError,
    RollbackTarget,
    check_voice,
    locked_paths_in,
    refuse_non_finite,
    validate_change,
    voice_note,
    without_locked,
)
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.state_file import (
    ConfigChange,
    StateFileError,
    StoredState,
    check_owner,
    config_diff,
    deep_merge,
    dotted,
    leaf_diff,
    quarantine,
    read_state,
    write_state,
)
from edge_voice.config.state_location import (
    adopt_unscoped_state,
    default_state_path,
    ledger_path_for,
)
from edge_voice.events import EventBus
from edge_voice.models.catalog import UnknownModelError

log = logging.getLogger(__name__)

HISTORY_SIZE: Final = 50
_UTC_NOW: Final = partial(dt.datetime.now, dt.UTC)
#: Changes of these keys can change the voice of the next session (all `openai.model*` keys).
_VOICE_KEYS: Final = ("openai.model", "openai.legacy_model", "voice.")


def _public(cfg: EdgeVoiceConfig) -> dict[str, Any]:
    return config_to_dict(cfg, secrets="drop")


class ConfigStore:
    """The single owner of the effective config; every runtime change goes through it."""

    def __init__(
        self,
        file_config: EdgeVoiceConfig,
        state_path: Path | None = None,
        *,
        bus: EventBus | None = None,
        history_size: int = HISTORY_SIZE,
        clock: Callable[[], dt.datetime] = _UTC_NOW,
    ) -> None:
        #: Where changes are announced (a private bus when nobody listens, e.g. `config` CLI).
        self.bus = bus if bus is not None else EventBus()
        self._file = file_config
        self._path = state_path if state_path is not None else default_state_path(file_config)
        self._clock = clock
        self._file_raw = config_to_dict(file_config, secrets="reveal")
        self._file_public = config_to_dict(file_config, secrets="drop")
        self._effective = file_config
        self._overrides: dict[str, Any] = {}
        self._version = 0
        self._last_good: EdgeVoiceConfig | None = None
        self._last_good_overrides: dict[str, Any] | None = None
        self._last_good_version: int | None = None
        self._history: deque[ConfigChange] = deque(maxlen=history_size)
        self._file_before: dict[str, Any] | None = None  # the file as the last run saw it
        self._warnings: list[str] = []
        self._adoptable = False
        self.persist_error: str | None = None
        if state_path is None:
            for message in adopt_unscoped_state(file_config):
                self._warn(message)
        self._load()

    # --- reading ------------------------------------------------------------------------

    @property
    def effective(self) -> EdgeVoiceConfig:
        """The config in effect now (secrets included: never publish it as is)."""
        return self._effective

    @property
    def last_good(self) -> EdgeVoiceConfig | None:
        """The last config a conversation completed with, or None before the first one."""
        return self._last_good

    @property
    def version(self) -> int:
        """The version of the effective config; it only ever grows."""
        return self._version

    @property
    def state_path(self) -> Path:
        """Where runtime changes are persisted."""
        return self._path

    @property
    def ledger_path(self) -> Path:
        """The cost ledger of this device (next to its state file)."""
        return ledger_path_for(self._path)

    @property
    def runtime_overrides(self) -> dict[str, Any]:
        """A copy of the runtime overrides (nested, no secrets) as stored in the state file."""
        return deep_merge({}, self._overrides)

    def overrides(self) -> list[Override]:
        """Each runtime override with its origin and the config file's value (no secrets)."""
        return describe(self._overrides, self._history, self._file_public, self._file_before)

    @property
    def load_warnings(self) -> tuple[str, ...]:
        """Problems met while loading the state file (already logged), for the caller to report."""
        return tuple(self._warnings)

    @property
    def can_adopt(self) -> bool:
        """Whether a retained config from the broker would be adopted (fresh device, no change)."""
        return self._adoptable

    def history(self) -> list[ConfigChange]:
        """The recent changes, oldest first (bounded)."""
        return list(self._history)

    def public_config(self) -> dict[str, Any]:
        """The `<base>/config` payload: the effective config without secrets, with `version`."""
        return {**_public(self._effective), "version": self._version}

    def public_last_good(self) -> dict[str, Any] | None:
        """The `<base>/config/last_good` payload, or None while there is no last good config."""
        if self._last_good is None:
            return None
        return {**_public(self._last_good), "version": self._last_good_version}

    # --- changing -----------------------------------------------------------------------

    def set_model(self, name: str, *, source: str = "mqtt:model/set") -> ConfigChange:
        """Use model `name` (from the catalog, with the config's `models:` additions)."""
        catalog = self._effective.catalog()
        if name not in catalog:
            raise ConfigChangeError(
                ChangeCode.UNKNOWN_MODEL, str(UnknownModelError(name, catalog.names()))
            )
        return self._change({"openai": {"model": name}}, source)

    def set_model_selection(
        self, selection: str, *, source: str = "mqtt:model_selection/set"
    ) -> ConfigChange:
        """Set `openai.model_selection` to `auto`, `new` or `legacy`."""
        return self._change({"openai": {"model_selection": selection}}, source)

    def set_voice(self, name: str, *, source: str = "mqtt:voice/set") -> ConfigChange:
        """Prefer voice `name` (or `auto`); refused if the model of the next session lacks it."""
        check_voice(self._effective, name)
        return self._change({"voice": {"primary": name}}, source)

    def apply_patch(
        self, partial: Mapping[str, Any], *, source: str = "mqtt:config/set"
    ) -> ConfigChange:
        """Deep-merge a partial config into the effective one and apply it if valid as a whole."""
        if not isinstance(partial, Mapping):
            raise ConfigChangeError(
                ChangeCode.INVALID_CONFIG, "a config patch must be an object of config sections"
            )
        locked = locked_paths_in(partial)
        if locked:
            names = ", ".join(dotted(path) for path in locked)
            raise ConfigChangeError(
                ChangeCode.FORBIDDEN,
                f"{names} cannot be changed at runtime; edit the config file (credentials, "
                "endpoints, paths and the MQTT link stay local: a wrong value could cut the "
                "device off or send the API key elsewhere)",
            )
        return self._change(partial, source, voice_checked=True)

    def rollback(
        self, target: RollbackTarget | str = "last_good", *, source: str | None = None
    ) -> ConfigChange:
        """Go back to the last known good config, or to the quick-rollback `legacy` profile."""
        source = source or f"rollback:{target}"
        if target == "last_good":
            if self._last_good is None:
                raise ConfigChangeError(
                    ChangeCode.NOTHING_TO_ROLL_BACK,
                    "no last known good config yet: no conversation has completed",
                )
            change = self._commit(self._last_good, source)
            if not change.changed:
                raise ConfigChangeError(
                    ChangeCode.NOTHING_TO_ROLL_BACK,
                    f"already on the last known good config (version {self._last_good_version})",
                )
            return change
        if target == "legacy":
            change = self._change(LEGACY_PROFILE, source)
            if not change.changed:
                raise ConfigChangeError(
                    ChangeCode.NOTHING_TO_ROLL_BACK,
                    "already on the legacy profile (model_selection legacy, new features off)",
                )
            return change
        raise ConfigChangeError(
            ChangeCode.UNKNOWN_TARGET,
            f"unknown rollback target {target!r}; allowed: last_good, legacy",
        )

    def reset_overrides(
        self, keys: Sequence[str] = (), *, source: str = "mqtt:config/reset"
    ) -> ConfigChange:
        """Drop the runtime overrides at or below dotted `keys` (all if none): the file applies."""
        return self._commit(reset_config(self._file_raw, self._overrides, keys, source), source)

    def mark_good(self, version: int | None = None) -> bool:
        """A conversation completed under `version`: mark it good; True if last_good changed."""
        # A conversation that began under an older version proves nothing about the config in
        # effect now, so it marks nothing.
        if version is not None and version != self._version:
            return False
        if self._last_good_version == self._version and self._last_good is not None:
            return False
        self._last_good = self._effective
        self._last_good_overrides = deep_merge({}, self._overrides)
        self._last_good_version = self._version
        self._persist()
        self.bus.publish(LastGoodChanged(version=self._version))
        return True

    def adopt_retained(
        self, payload: Mapping[str, Any], *, adopt: bool, source: str = RETAINED_SOURCE
    ) -> ConfigChange | None:
        """A retained `<base>/config` met without state: adopted (`adopt`), else replaced by
        the file's; None if it changes nothing or the device has state of its own."""
        # Only a fresh device (no or unusable state file, no change since start) may adopt: on
        # any other, its own state is newer. Either way the version continues after the
        # retained one, so that consumers never see it go back.
        if not self._adoptable:
            return None
        found = read_retained(payload, self._file_raw, source)
        diff = config_diff(_public(self._effective), _public(found.config))
        if found.version <= self._version and not diff:
            self._adoptable = False
            return None
        report(diff, found.version, adopt=adopt)
        cfg, source = (found.config, source) if adopt else (self._effective, FILE_SOURCE)
        return self._commit(cfg, source, version=max(self._version, found.version) + 1)

    # --- internals ----------------------------------------------------------------------

    def _change(
        self, patch: Mapping[str, Any], source: str, *, voice_checked: bool = False
    ) -> ConfigChange:
        refuse_non_finite(patch)
        merged = deep_merge(config_to_dict(self._effective, secrets="reveal"), patch)
        cfg = validate_change(merged, source)
        if voice_checked and cfg.voice.primary != self._effective.voice.primary:
            check_voice(cfg, cfg.voice.primary)
        return self._commit(cfg, source)

    def _commit(
        self, cfg: EdgeVoiceConfig, source: str, *, version: int | None = None
    ) -> ConfigChange:
        new_public = _public(cfg)
        diff = config_diff(_public(self._effective), new_public)
        ts = self._clock()
        if not diff and version is None:
            return ConfigChange(self._version, source, ts, {})
        self._version = self._version + 1 if version is None else version
        self._effective = cfg
        self._overrides = without_locked(leaf_diff(self._file_public, new_public))
        note = voice_note(cfg) if any(k.startswith(_VOICE_KEYS) for k in diff) else None
        change = ConfigChange(self._version, source, ts, diff, note)
        self._history.append(change)
        self._adoptable = False
        self._persist()
        log.info("config version %d from %s: %s", self._version, source, ", ".join(diff) or "-")
        self.bus.publish(ConfigChanged.of(change, cfg))
        return change

    def _warn(self, message: str) -> None:
        log.warning("%s", message)
        self._warnings.append(message)

    def _load(self) -> None:
        try:
            stored = read_state(self._path)
        except StateFileError as exc:
            moved = quarantine(self._path, self._clock())
            aside = f"moved aside as {moved.name}" if moved else "could not be moved aside"
            self._warn(
                f"state file {self._path} is unusable ({exc}); it was {aside}; "
                "starting from the config file"
            )
            stored = None
        if stored is not None:
            check_owner(self._path, stored, self._file.device_id)
        if stored is None:
            # Written now so that the next start, finding it, never adopts our own retained
            # config: that one would hold file values from before an edit of the file.
            self._adoptable = True
            self._persist()
            return
        self._version = stored.version
        self._file_before = stored.file_snapshot
        self._history.extend(sorted(stored.history, key=lambda c: c.version))
        self._effective, self._overrides = self._rebuild(stored.overrides, "runtime override")
        if stored.last_good is not None:
            self._last_good, self._last_good_overrides = self._rebuild(
                stored.last_good, "last known good override"
            )
            self._last_good_version = stored.last_good_version
        public = _public(self._effective)
        diff = config_diff(stored.snapshot, public) if stored.snapshot is not None else {}
        if diff:
            # The config file or the environment changed, or an override was dropped:
            # consumers of the retained config must see a new version.
            self._version += 1
            self._history.append(ConfigChange(self._version, "startup", self._clock(), diff))
        # The next start compares the config file with the one saved now.
        stale = stored.snapshot is None or stored.file_snapshot != self._file_public
        if diff or stale or self._overrides != stored.overrides:
            self._persist()

    def _rebuild(
        self, overrides: Mapping[str, Any], what: str
    ) -> tuple[EdgeVoiceConfig, dict[str, Any]]:
        """The file config with `overrides`; any override that no longer validates is dropped."""
        cfg, kept, problems = rebuild(self._file, overrides, str(self._path), what)
        for problem in problems:
            self._warn(problem)
        return cfg, kept

    def _persist(self) -> None:
        state = StoredState(
            device_id=self._file.device_id,
            version=self._version,
            overrides=self._overrides,
            last_good=self._last_good_overrides,
            last_good_version=self._last_good_version,
            snapshot=_public(self._effective),
            file_snapshot=self._file_public,
            history=list(self._history),
        )
        try:
            write_state(self._path, state)
        except (OSError, ValueError) as exc:
            # The change stays in effect: a read-only or full disk must not stop the device
            # from taking commands; the caller can report persist_error.
            self.persist_error = f"cannot write {self._path}: {exc}"
            log.warning("%s", self.persist_error)
        else:
            self.persist_error = None
