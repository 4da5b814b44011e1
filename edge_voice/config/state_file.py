"""The config store's runtime state file, change records, and the nested-dict plumbing they share.

The file holds only what differs from the config file (runtime overrides), the last-known-good
overrides, the version counter, a public snapshot of the effective config and one of the file
config (to notice edits of the config file between runs) and the change history. It never
holds secrets: every dict written here comes from a secrets-dropped dump with the runtime-locked
keys removed.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from edge_voice.config.loading import (
    ConfigError,
    config_to_dict,
    validate_config,
    write_text_atomic,
)
from edge_voice.config.rules import without_locked
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.metrics.ledger_format import iso_utc

log = logging.getLogger(__name__)

STATE_FORMAT = 1
KeyPath = tuple[str, ...]


def dotted(path: KeyPath) -> str:
    """A key path as people write it (`openai.model`)."""
    return ".".join(path)


# --- nested dicts -------------------------------------------------------------------------


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """`patch` over a copy of `base`: mappings merge key by key; lists and scalars replace."""
    merged = copy.deepcopy(dict(base))
    for key, value in patch.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def leaf_diff(base: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The smallest nested dict that, deep-merged over `base`, gives `new` (keys ⊆ new's)."""
    out: dict[str, Any] = {}
    for key, value in new.items():
        if key not in base:
            out[key] = copy.deepcopy(value)
            continue
        old = base[key]
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            inner = leaf_diff(old, value)
            if inner:
                out[key] = inner
        elif old != value:
            out[key] = copy.deepcopy(value)
    return out


def iter_leaves(data: Mapping[str, Any], prefix: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    """Every (key path, value) whose value is not a non-empty mapping; lists are leaves."""
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from iter_leaves(value, path)
        else:
            yield path, value


def with_leaf(data: Mapping[str, Any], path: KeyPath, value: Any) -> dict[str, Any]:
    """A copy of `data` with `value` at `path`, creating mappings on the way."""
    patch: Any = value
    for key in reversed(path):
        patch = {key: patch}
    return deep_merge(data, patch)


def config_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Dotted key → (old, new) for every leaf that differs; a missing side is None."""
    before = dict(iter_leaves(old))
    after = dict(iter_leaves(new))
    return {
        dotted(path): (before.get(path), after.get(path))
        for path in sorted(before.keys() | after.keys())
        if before.get(path) != after.get(path)
    }


# --- change records -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigChange:
    """One change of the effective config: its version, where it came from, when, and what."""

    version: int
    source: str
    ts: dt.datetime
    diff: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    note: str | None = None

    @property
    def changed(self) -> bool:
        """Whether the effective config changed (False: the request was already in effect)."""
        return bool(self.diff)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the state file, events and logs (holds no secrets)."""
        return {
            "version": self.version,
            "source": self.source,
            "ts": iso_utc(self.ts),
            "diff": {key: {"old": old, "new": new} for key, (old, new) in self.diff.items()},
            **({"note": self.note} if self.note else {}),
        }


# --- the state file -----------------------------------------------------------------------


class StateFileError(Exception):
    """A state file that exists but cannot be used (unreadable, not JSON, wrong shape)."""


class ForeignStateError(ConfigError):
    """A state file written for another device: using it would give this device its state."""

    def __init__(self, path: Path, owner: str, device_id: str) -> None:
        super().__init__(
            f"{path}: this state file was written for device {owner!r}, not {device_id!r}; "
            "give each device its own state_dir (the default "
            "~/.local/state/edge_voice/{device_id} is one per device), or, if this device was "
            "renamed, move the file away"
        )


def check_owner(path: Path, state: StoredState, device_id: str) -> None:
    """ForeignStateError if `state` was written by another device than `device_id`."""
    if state.device_id is not None and state.device_id != device_id:
        raise ForeignStateError(path, state.device_id, device_id)


class _Diffed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old: JsonValue = None
    new: JsonValue = None


class _HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: int = Field(ge=0)
    source: str
    ts: dt.datetime
    diff: dict[str, _Diffed] = Field(default_factory=dict)
    note: str | None = None


class _LastGood(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: int = Field(ge=0)
    overrides: dict[str, JsonValue]


class _StateFile(BaseModel):
    # Unknown keys are tolerated so that a newer release's additions do not wipe the state.
    model_config = ConfigDict(extra="ignore")
    format: Literal[1]
    device_id: str | None = None
    version: int = Field(ge=0)
    overrides: dict[str, JsonValue] = Field(default_factory=dict)
    last_good: _LastGood | None = None
    snapshot: dict[str, JsonValue] | None = None
    file_snapshot: dict[str, JsonValue] | None = None
    history: list[_HistoryEntry] = Field(default_factory=list)


@dataclass
class StoredState:
    """What the state file holds, as plain data."""

    device_id: str | None = None
    """The device that wrote it (older files: the device_id in their snapshot, if any)."""
    version: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)
    last_good: dict[str, Any] | None = None
    last_good_version: int | None = None
    snapshot: dict[str, Any] | None = None
    file_snapshot: dict[str, Any] | None = None
    """The config file (with env overrides, no secrets) when the state was last written."""
    history: list[ConfigChange] = field(default_factory=list)


def read_state(path: Path) -> StoredState | None:
    """The state in `path`, None if there is no file; StateFileError if it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateFileError(f"cannot read: {exc.__class__.__name__}") from None
    try:
        parsed = _StateFile.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        where = dotted(tuple(str(p) for p in first["loc"])) or "(file)"
        raise StateFileError(f"unexpected content at {where}: {first['msg']}") from None
    history = [
        ConfigChange(
            version=entry.version,
            source=entry.source,
            ts=entry.ts if entry.ts.tzinfo else entry.ts.replace(tzinfo=dt.UTC),
            diff={key: (d.old, d.new) for key, d in entry.diff.items()},
            note=entry.note,
        )
        for entry in parsed.history
    ]
    recorded = parsed.device_id
    if recorded is None and parsed.snapshot is not None:
        snapshot_id = parsed.snapshot.get("device_id")
        recorded = snapshot_id if isinstance(snapshot_id, str) else None
    return StoredState(
        device_id=recorded,
        version=parsed.version,
        overrides=dict(parsed.overrides),
        last_good=None if parsed.last_good is None else dict(parsed.last_good.overrides),
        last_good_version=None if parsed.last_good is None else parsed.last_good.version,
        snapshot=None if parsed.snapshot is None else dict(parsed.snapshot),
        file_snapshot=None if parsed.file_snapshot is None else dict(parsed.file_snapshot),
        history=history,
    )


def write_state(path: Path, state: StoredState) -> None:
    """Replace the state file atomically; locked keys are stripped again as a last guard."""
    data = {
        "format": STATE_FORMAT,
        "device_id": state.device_id,
        "version": state.version,
        "overrides": without_locked(state.overrides),
        "last_good": None
        if state.last_good is None
        else {
            "version": state.last_good_version or 0,
            "overrides": without_locked(state.last_good),
        },
        "snapshot": state.snapshot,
        "file_snapshot": state.file_snapshot,
        "history": [change.to_dict() for change in state.history],
    }
    write_text_atomic(path, json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n")


def quarantine(path: Path, now: dt.datetime) -> Path | None:
    """Move an unusable state file aside as `<name>.corrupt-<ts>` so it can be inspected."""
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(100):
        target = path.with_name(f"{path.name}.corrupt-{stamp}" + (f"-{n}" if n else ""))
        if target.exists():
            continue
        try:
            path.replace(target)
        except OSError as exc:
            log.warning("cannot move the unusable state file %s aside: %s", path, exc.strerror)
            return None
        return target
    return None


def _problems(message: str) -> str:
    # A ConfigError message without its `<source>: N problems:` heading.
    lines = [line.strip() for line in message.splitlines()[1:] if line.strip()]
    return "; ".join(lines) if lines else message


def apply_valid_overrides(
    file_config: EdgeVoiceConfig, overrides: Mapping[str, Any], source: str
) -> tuple[EdgeVoiceConfig, list[tuple[KeyPath, str]]]:
    """`file_config` with every override that still validates; the dropped ones with reasons."""
    file_raw = config_to_dict(file_config, secrets="reveal")
    try:
        return validate_config(deep_merge(file_raw, overrides), source), []
    except ConfigError:
        pass
    # Leaf by leaf until nothing more fits, so overrides that depend on each other (a model
    # added under `models:` and `openai.model` naming it) survive in any order.
    pending = list(iter_leaves(overrides))
    kept: dict[str, Any] = {}
    cfg = file_config
    reasons: dict[KeyPath, str] = {}
    progress = True
    while pending and progress:
        progress = False
        for leaf in list(pending):
            candidate = with_leaf(kept, *leaf)
            try:
                cfg = validate_config(deep_merge(file_raw, candidate), source)
            except ConfigError as exc:
                reasons[leaf[0]] = _problems(str(exc))
                continue
            kept = candidate
            pending.remove(leaf)
            progress = True
    return cfg, [(path, reasons.get(path, "invalid")) for path, _value in pending]
