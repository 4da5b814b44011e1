"""Runtime overrides on the command line: listed by `config check`, dropped by `config reset`."""

from __future__ import annotations

import argparse
import sys

from edge_voice.config.loading import load_config
from edge_voice.config.overrides import reset_hints, stored_overrides
from edge_voice.config.rules import ConfigChangeError
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.store import ConfigStore
from edge_voice.mqtt.topics import CommandKind, Topics

EXIT_REFUSED = 2


def _reset_topic(cfg: EdgeVoiceConfig) -> str:
    return Topics.for_config(cfg).command(CommandKind.CONFIG_RESET)


def print_overrides(cfg: EdgeVoiceConfig) -> None:
    """The overrides `run` would apply over `cfg`, as YAML comments (stdout stays YAML)."""
    view = stored_overrides(cfg)
    for problem in view.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if not view.overrides:
        print(f"# runtime overrides: none ({view.path})")
        return
    print(
        f"# runtime overrides: {len(view.overrides)}, kept in {view.path}; `edge-voice run` "
        "applies them over the config above (defaults < file < EDGE_VOICE__ env < overrides):"
    )
    for override in view.overrides:
        print(f"#   {override.describe()}")
    print(f"#   {reset_hints(_reset_topic(cfg))}")


def add_reset_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `edge-voice config reset`."""
    parser.add_argument("--config", help="YAML config file (default: built-in defaults + env)")
    parser.add_argument(
        "keys",
        nargs="*",
        metavar="KEY",
        help="dotted key or section to drop (openai.model, voice); none: every override",
    )


def cmd_config_reset(args: argparse.Namespace) -> int:
    """Drop runtime overrides from the device's state file, so the config file applies."""
    cfg = load_config(args.config)
    store = ConfigStore(cfg)  # the state file `run` uses, moved from an older release like `run`
    before = {o.key: o for o in store.overrides()}
    if not before:
        print(f"no runtime overrides in {store.state_path}: the config file applies as it is")
        return 0
    try:
        store.reset_overrides(args.keys, source="cli:config reset")
    except ConfigChangeError as exc:
        print(f"error: config reset: {exc.message}; nothing changed", file=sys.stderr)
        return EXIT_REFUSED
    if store.persist_error:
        print(f"error: {store.persist_error}", file=sys.stderr)
        return EXIT_REFUSED
    left = {o.key for o in store.overrides()}
    dropped = [o for key, o in before.items() if key not in left]
    print(f"dropped {len(dropped)} runtime override(s) from {store.state_path}:")
    for override in dropped:
        print(f"  {override.describe()}")
    if left:
        print(f"kept: {', '.join(sorted(left))}")
    print(
        "a service running now keeps them until it restarts (and may write them back): "
        f"stop it first, or publish the reset to {_reset_topic(cfg)}"
    )
    return 0
