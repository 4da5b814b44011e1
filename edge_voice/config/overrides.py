"""Runtime overrides as people see them: which keys, from where and when, and dropping them.

An override is a key whose runtime value (`model/set`, `voice/set`, `model_selection/set`,
`config/set`, a rollback) differs from the config file's. The state file keeps it, so it beats
the file after a restart: precedence is defaults < file < `EDGE_VOICE__*` env < override. This
module describes them (start-up log, `config check`) and computes the config without some of
them (`config reset`, `<base>/config/reset`). Override values come from secrets-dropped dumps.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Union, get_args, get_origin

from pydantic import BaseModel

from edge_voice.config.loading import config_to_dict
from edge_voice.config.rules import (
    ChangeCode,
    ConfigChangeError,
    locked_paths_in,
    validate_change,
    without_locked,
)
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.state_file import (
    ConfigChange,
    KeyPath,
    StateFileError,
    apply_valid_overrides,
    check_owner,
    deep_merge,
    dotted,
    iter_leaves,
    leaf_diff,
    read_state,
    with_leaf,
)
from edge_voice.config.state_location import STATE_FILE_NAME, default_state_path, unscoped_dir
from edge_voice.metrics.ledger_format import iso_utc

log = logging.getLogger(__name__)

#: The source of the history entries the store writes for edits of the file between runs.
_STARTUP: Final = "startup"
_SHOWN_CHARS: Final = 60
_ABSENT: Final = object()
_ANY_KEY: Final = object()


@dataclass(frozen=True)
class Override:
    """One runtime override: key, value, where and when it was made, and the file's value."""

    key: str
    value: Any
    source: str | None = None
    ts: dt.datetime | None = None
    file_value: Any = _ABSENT
    #: The file's value when the state was last written (_ABSENT: not recorded).
    file_before: Any = field(default=_ABSENT, repr=False)

    @property
    def file_changed(self) -> bool:
        """Whether the file's value was edited since the last start (the override hides it)."""
        return self.file_before is not _ABSENT and self.file_before != self.file_value

    def describe(self) -> str:
        """`key = value (source, when); the config file says …`, on one line."""
        origin = "made before the kept history" if self.source is None else self.source
        when = f", {iso_utc(self.ts)}" if self.ts is not None else ""
        line = f"{self.key} = {_shown(self.value)} ({origin}{when}); the config file says "
        line += _shown(self.file_value)
        if self.file_changed:
            line += f" (edited since the last start, was {_shown(self.file_before)})"
        return line


def _shown(value: Any) -> str:
    if value is _ABSENT:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def describe(
    overrides: Mapping[str, Any],
    history: Iterable[ConfigChange],
    file_public: Mapping[str, Any],
    file_before: Mapping[str, Any] | None,
) -> list[Override]:
    """Each override leaf with the latest change (oldest-first `history`) that set it."""
    made: dict[str, ConfigChange] = {}
    for entry in history:
        if entry.source != _STARTUP:  # an edit of the file, not an override
            made.update(dict.fromkeys(entry.diff, entry))
    now = dict(iter_leaves(file_public))
    before = None if file_before is None else dict(iter_leaves(file_before))
    entries = []
    for path, value in iter_leaves(overrides):
        change = made.get(dotted(path))
        entries.append(
            Override(
                key=dotted(path),
                value=value,
                source=None if change is None else change.source,
                ts=None if change is None else change.ts,
                file_value=now.get(path, _ABSENT),
                file_before=_ABSENT if before is None else before.get(path, _ABSENT),
            )
        )
    return entries


# --- dropping overrides -------------------------------------------------------------------


def key_paths(keys: Iterable[str]) -> list[KeyPath]:
    """The paths of dotted config `keys`; ConfigChangeError (unknown_key) for any other key."""
    paths = []
    for key in keys:
        path = tuple(key.split("."))
        if "" in path or not _in_schema(path):
            raise ConfigChangeError(
                ChangeCode.UNKNOWN_KEY,
                f"{key!r} is not a config key; name a dotted key or section such as "
                "openai.model, voice.primary or budget",
            )
        paths.append(path)
    return paths


def _in_schema(path: KeyPath) -> bool:
    node: Any = EdgeVoiceConfig
    for part in path:
        node = _child(node, part)
        if node is _ABSENT:
            return False
    return True


def _child(annotation: Any, part: str) -> Any:
    if annotation is _ANY_KEY or annotation is Any:
        return _ANY_KEY
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        annotation = inner[0] if len(inner) == 1 else Any
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found = annotation.model_fields.get(part)
        return _ABSENT if found is None else found.annotation
    if get_origin(annotation) is dict:
        return get_args(annotation)[1]  # a name the user picks (`models.<name>`)
    return _ABSENT  # a scalar or a list: nothing below it


def without_keys(overrides: Mapping[str, Any], paths: Sequence[KeyPath]) -> dict[str, Any]:
    """`overrides` without every leaf at or below one of `paths`."""
    kept: dict[str, Any] = {}
    for path, value in iter_leaves(overrides):
        if not any(path[: len(p)] == p for p in paths):
            kept = with_leaf(kept, path, value)
    return kept


def reset_config(
    file_raw: Mapping[str, Any], overrides: Mapping[str, Any], keys: Sequence[str], source: str
) -> EdgeVoiceConfig:
    """The file config with the overrides not under `keys` (none when `keys` is empty)."""
    remaining = without_keys(overrides, key_paths(keys)) if keys else {}
    try:
        return validate_change(deep_merge(file_raw, remaining), source)
    except ConfigChangeError as exc:
        raise ConfigChangeError(
            ChangeCode.INVALID_CONFIG,
            f"the overrides left after dropping {', '.join(keys)} do not fit the config file "
            f"({exc.message}); drop those together",
        ) from None


# --- reading them without a store (config check) ------------------------------------------


@dataclass(frozen=True)
class StoredOverrides:
    """The overrides `run` would apply from a state file, and what it would ignore in it."""

    path: Path
    overrides: list[Override]
    problems: list[str]


def stored_overrides(cfg: EdgeVoiceConfig, path: Path | None = None) -> StoredOverrides:
    """What the store would rebuild from the state file of `cfg`'s device; never writes."""
    notes: list[str] = []
    if path is None:
        path = default_state_path(cfg)
        older = _unscoped_of(cfg)
        if older is not None and not path.exists():
            notes.append(f"{older} (from an older release) is moved to {path.parent} by `run`")
            path = older
    try:
        stored = read_state(path)
    except StateFileError as exc:
        problem = f"{path} is unusable ({exc}); `run` moves it aside and uses the config file"
        return StoredOverrides(path, [], [problem])
    if stored is None:
        return StoredOverrides(path, [], [])
    check_owner(path, stored, cfg.device_id)  # a ConfigError: run refuses that file too
    _cfg, kept, problems = rebuild(cfg, stored.overrides, str(path), "runtime override")
    problems = notes + problems
    history = sorted(stored.history, key=lambda c: c.version)
    file_public = config_to_dict(cfg, secrets="drop")
    entries = describe(kept, history, file_public, stored.file_snapshot)
    return StoredOverrides(path, entries, problems)


def _unscoped_of(cfg: EdgeVoiceConfig) -> Path | None:
    """This device's state file in the directory an older release shared, if there is one."""
    old_dir = unscoped_dir(cfg)
    old = None if old_dir is None else old_dir / STATE_FILE_NAME
    try:
        stored = None if old is None else read_state(old)
    except StateFileError:
        return None  # `run` leaves an unusable one alone
    return old if stored is not None and stored.device_id == cfg.device_id else None


def rebuild(
    file_config: EdgeVoiceConfig, overrides: Mapping[str, Any], source: str, what: str
) -> tuple[EdgeVoiceConfig, dict[str, Any], list[str]]:
    """The file config with the stored `overrides` that still fit; what is left, and why."""
    problems = [
        f"ignored {what} {dotted(path)}: it can only be set in the config file"
        for path in locked_paths_in(overrides)
    ]
    cfg, dropped = apply_valid_overrides(file_config, without_locked(overrides), source)
    problems += [
        f"dropped {what} {dotted(path)}: no longer valid with the config file ({reason})"
        for path, reason in dropped
    ]
    file_public = config_to_dict(file_config, secrets="drop")
    kept = without_locked(leaf_diff(file_public, config_to_dict(cfg, secrets="drop")))
    return cfg, kept, problems


# --- telling people -----------------------------------------------------------------------


def reset_hints(reset_topic: str) -> str:
    """How to drop overrides, over MQTT and from the command line."""
    return (
        f'drop them: publish {{}} (all) or {{"keys": ["voice.primary"]}} to {reset_topic}, '
        "or stop the service and run `edge-voice config reset --config FILE [KEY ...]`"
    )


def startup_block(
    entries: Sequence[Override], state_path: Path, reset_topic: str
) -> tuple[int, str] | None:
    """The start-up log record (level, text) listing `entries`; None when there are none."""
    if not entries:
        return None
    edited = sum(e.file_changed for e in entries)
    head = f"{len(entries)} runtime override(s) kept in {state_path} beat the config file"
    if edited:
        head += f"; {edited} of them hide an edit of the config file made since the last start"
    lines = [f"{head}:", *(f"  {e.describe()}" for e in entries), f"  {reset_hints(reset_topic)}"]
    return (logging.WARNING if edited else logging.INFO), "\n".join(lines)


def log_startup(entries: Sequence[Override], state_path: Path, reset_topic: str) -> None:
    """Log the start-up block (INFO; WARNING when an override hides an edit of the file)."""
    block = startup_block(entries, state_path, reset_topic)
    if block is not None:
        log.log(block[0], "%s", block[1])
