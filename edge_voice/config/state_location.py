"""Where one device keeps its state, and moving the state an older release left unscoped.

Older releases kept every device's state directly in `~/.local/state/edge_voice/`, so two
configs with different `device_id`s on one host shared the runtime state and the cost ledger.
The default is now one directory per device (`state_dir: ~/.local/state/edge_voice/{device_id}`).
A state file left in the parent by this same device is moved into the device's directory,
together with the cost ledger next to it, so runtime choices and cost totals survive the upgrade.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from edge_voice.config.schema import DEVICE_PLACEHOLDER, EdgeVoiceConfig
from edge_voice.config.state_file import StateFileError, read_state

log = logging.getLogger(__name__)

STATE_FILE_NAME: Final = "runtime_state.json"
LEDGER_FILE_NAME: Final = "cost_ledger.jsonl"


def default_state_path(cfg: EdgeVoiceConfig) -> Path:
    """The runtime state file of the device configured by `cfg`."""
    return cfg.resolved_state_dir() / STATE_FILE_NAME


def ledger_path_for(state_path: Path) -> Path:
    """The cost ledger that belongs with the state file at `state_path`."""
    return state_path.with_name(LEDGER_FILE_NAME)


def unscoped_dir(cfg: EdgeVoiceConfig) -> Path | None:
    """The shared directory an older release used instead of `state_dir`, if there was one."""
    if cfg.state_dir.name != DEVICE_PLACEHOLDER:
        return None  # an explicit directory is used as it is, now as before
    return Path(str(cfg.state_dir.parent).replace(DEVICE_PLACEHOLDER, cfg.device_id)).expanduser()


def adopt_unscoped_state(cfg: EdgeVoiceConfig) -> list[str]:
    """Move this device's state out of the old shared directory; a warning per thing done."""
    old_dir = unscoped_dir(cfg)
    old_state = None if old_dir is None else old_dir / STATE_FILE_NAME
    if old_state is None or not old_state.is_file():
        return []
    new_state = default_state_path(cfg)
    try:
        stored = read_state(old_state)
    except StateFileError as exc:
        return [f"{old_state} (from an older release) is left alone: it is unusable ({exc})"]
    owner = None if stored is None else stored.device_id
    if owner is None:
        return [
            f"{old_state} (from an older release) is left alone: it does not say which device "
            f"wrote it; if it is {cfg.device_id!r}'s, move it and {LEDGER_FILE_NAME} "
            f"to {new_state.parent}"
        ]
    if owner != cfg.device_id:
        return []  # another device's state: that device moves it on its next start
    if new_state.exists():
        return [
            f"{old_state} (from an older release) is left alone: device {cfg.device_id!r} "
            f"already has its own state in {new_state.parent}"
        ]
    return [_move(old_state, new_state)]


def _move(old_state: Path, new_state: Path) -> str:
    # The ledger first: the state file marks an unfinished move, so a crash in between is
    # finished on the next start.
    old_ledger, new_ledger = ledger_path_for(old_state), ledger_path_for(new_state)
    try:
        new_state.parent.mkdir(parents=True, exist_ok=True)
        if old_ledger.is_file() and not new_ledger.exists():
            old_ledger.replace(new_ledger)
        old_state.replace(new_state)
    except OSError as exc:
        return (
            f"cannot move {old_state} (from an older release) to {new_state.parent}: "
            f"{exc.strerror}; starting without it"
        )
    return (
        f"moved the runtime state and cost ledger of this device from {old_state.parent} "
        f"(shared by every device in older releases) to {new_state.parent}"
    )
