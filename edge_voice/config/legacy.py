"""Rewrite a config written for the old service into the current schema, keeping its choices."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_voice.config.loading import (
    ConfigError,
    config_to_dict,
    dump_yaml,
    read_yaml,
    validate_config,
    write_text_atomic,
)
from edge_voice.config.schema import DEFAULT_MODEL, move_legacy_voice
from edge_voice.config.successors import Confirm, apply_offers, successor_offers


@dataclass
class MigrationResult:
    """What `migrate_file` did: where it wrote, the backup, and a line per change."""

    target: Path
    backup: Path | None
    changes: list[str] = field(default_factory=list)


def upgrade_raw(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The raw mapping moved to the current schema, and a line for each change."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    data, voice_change = move_legacy_voice(data)
    changes = [voice_change] if voice_change else []
    openai = data.setdefault("openai", {})
    if not isinstance(openai, dict):
        return data, changes  # validation will explain what is wrong
    if "model" in openai:
        changes.append(
            f"openai.model: {openai['model']} kept (an explicit choice is never changed)"
        )
    else:
        changes.append(f"openai.model: not set, the default {DEFAULT_MODEL} applies")
    if "api_key" in openai:
        changes.append(
            "openai.api_key: kept in the file, but deprecated: "
            "move it to OPENAI_API_KEY or openai.api_key_file"
        )
    if not openai:
        del data["openai"]
    return data, changes


def migrate_file(
    old: Path,
    new: Path | None = None,
    *,
    today: dt.date | None = None,
    keep: Collection[str] = (),
    confirm: Confirm | None = None,
) -> MigrationResult:
    """Rewrite `old` into the current schema at `new` (default: in place), backing up first.

    Every shut-down model the file names is offered its live successor (as of `today`); keys in
    `keep`, and offers `confirm` declines, keep the file's choice.
    """
    raw = read_yaml(old)
    upgraded, changes = upgrade_raw(raw)
    cfg = validate_config(upgraded, str(old))  # nothing is written unless the result is valid
    offers = successor_offers(upgraded, cfg.catalog(), today or dt.date.today())
    if offers:
        before = upgraded.get("openai", {}).get("model")
        changes += apply_offers(upgraded, offers, keep=keep, confirm=confirm)
        if upgraded.get("openai", {}).get("model") != before:
            changes = [c for c in changes if not c.startswith(f"openai.model: {before} kept")]
        cfg = validate_config(upgraded, str(old))
    target = new or old
    backup = _backup(target) if target.exists() else None
    text = dump_yaml(config_to_dict(cfg, secrets="reveal", only_set=True))
    try:
        write_text_atomic(target, text)
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write: {exc.strerror}") from None
    if not changes:
        changes.append("nothing to change: the file already uses the current schema")
    return MigrationResult(target, backup, changes)


def _backup(path: Path) -> Path:
    candidate = path.with_name(path.name + ".bak")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak.{n}")
        n += 1
    shutil.copy2(path, candidate)
    return candidate
