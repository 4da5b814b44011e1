"""The `edge-voice` command: one sub-command per job, each in its own small handler."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from edge_voice import __version__
from edge_voice.audio.echo_cancel import EchoCancelUnavailableError
from edge_voice.audio.echo_cancel import check_available as check_echo_cancel
from edge_voice.cli.demo import add_demo_arguments
from edge_voice.cli.evaluate import add_eval_arguments
from edge_voice.cli.models import print_chain, print_models
from edge_voice.cli.overrides import add_reset_arguments, cmd_config_reset, print_overrides
from edge_voice.cli.run import add_run_arguments
from edge_voice.cli.verbosity import add_verbosity, apply_level, level_from_flags
from edge_voice.cli.wakeword import add_wakeword_arguments
from edge_voice.config.legacy import migrate_file
from edge_voice.config.loading import (
    ConfigError,
    config_to_dict,
    dump_yaml,
    load_config,
    resolve_api_key,
)
from edge_voice.config.successors import SuccessorOffer
from edge_voice.config.warnings import config_facts, print_facts
from edge_voice.sim.cli import SIM_DESCRIPTION
from edge_voice.sim.cli import add_arguments as add_sim_arguments

EXIT_CONFIG = 2


def _today(value: str | None) -> dt.date:
    return dt.date.fromisoformat(value) if value else dt.date.today()


def cmd_config_check(args: argparse.Namespace) -> int:
    """Validate a config file; print its effective config (secrets redacted) and the overrides."""
    cfg = load_config(args.file)
    try:
        check_echo_cancel(cfg.audio.echo_cancel)
    except EchoCancelUnavailableError as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"# {args.file}: valid")
    print(dump_yaml(config_to_dict(cfg, secrets="redact")), end="")
    key = resolve_api_key(cfg)
    print(f"# API key: {'set' if key else 'not set (the demo and the simulator need none)'}")
    print_overrides(cfg)
    print_facts(config_facts(cfg, _today(args.today), migrate_file=args.file), sys.stderr)
    return 0


def cmd_config_migrate(args: argparse.Namespace) -> int:
    """Rewrite an old config file into the current schema, keeping a backup."""
    result = migrate_file(
        Path(args.old),
        Path(args.new) if args.new else None,
        today=_today(args.today),
        keep=args.keep or (),
        confirm=None if args.yes or not sys.stdin.isatty() else _ask,
    )
    print(f"migrated {args.old} → {result.target}")
    if result.backup:
        print(f"backup: {result.backup}")
    for line in result.changes:
        print(f"  - {line}")
    cfg = load_config(result.target, env={})
    print_facts(config_facts(cfg, _today(args.today)), sys.stderr)
    return 0


def _ask(offer: SuccessorOffer) -> bool:
    answer = input(f"{offer.question()} [Y/n] ").strip().lower()
    return answer in ("", "y", "yes")


def cmd_models(args: argparse.Namespace) -> int:
    """Print the model catalog with voices, features, prices and lifecycle."""
    cfg = load_config(args.config) if args.config else None
    today = _today(args.today)
    print_models(cfg.catalog() if cfg else None, today, as_json=args.json)
    if cfg is not None and not args.json:
        print_chain(cfg, today, args.config)
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    """Run the offline Realtime API simulator until interrupted."""
    import asyncio

    from edge_voice.sim.cli import run_from_args

    return asyncio.run(run_from_args(args))


def cmd_run(args: argparse.Namespace) -> int:
    """Run the service (microphone, or a WAV/stdin source)."""
    import asyncio

    from edge_voice.cli.run import run_service

    return asyncio.run(run_service(args))


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the offline demo end to end."""
    import asyncio

    from edge_voice.cli.demo import run_demo
    from edge_voice.cli.embedded_broker import EmbeddedBrokerUnavailable

    try:
        return asyncio.run(run_demo(args))
    except EmbeddedBrokerUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    parser = argparse.ArgumentParser(
        prog="edge-voice",
        description="A voice assistant for the smart home: wake word, OpenAI Realtime API, "
        "speaker, everything on MQTT for Home Assistant and Node-RED. "
        "New here? Run `edge-voice demo` (offline, needs nothing).",
        epilog="`edge-voice COMMAND --help` explains each command.",
    )
    parser.add_argument("--version", action="version", version=f"edge-voice {__version__}")
    add_verbosity(parser, sub=False)
    sub = parser.add_subparsers(dest="command", required=True)

    config = sub.add_parser("config", help="check, migrate or reset a config")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate and print the effective config")
    check.add_argument("file", help="YAML config file")
    check.set_defaults(handler=cmd_config_check)
    migrate = config_sub.add_parser("migrate", help="rewrite an old config into the new schema")
    migrate.add_argument("old", help="the old config file (a backup is kept)")
    migrate.add_argument("new", nargs="?", help="where to write (default: in place)")
    migrate.add_argument(
        "--keep",
        action="append",
        metavar="KEY",
        help="keep this key's shut-down model (e.g. openai.legacy_model, for a proxy that "
        "still serves it) instead of its live successor; repeatable",
    )
    migrate.add_argument(
        "-y", "--yes", action="store_true", help="take every successor without asking"
    )
    migrate.set_defaults(handler=cmd_config_migrate)
    reset = config_sub.add_parser(
        "reset", help="drop runtime overrides (MQTT changes kept in state_dir): the file applies"
    )
    add_reset_arguments(reset)
    reset.set_defaults(handler=cmd_config_reset)

    models = sub.add_parser("models", help="print the model catalog and lifecycles")
    models.add_argument("--config", help="apply this config's `models:` section")
    models.add_argument("--json", action="store_true", help="machine-readable output")
    models.set_defaults(handler=cmd_models)

    run = sub.add_parser("run", help="run the voice assistant service")
    add_run_arguments(run)
    run.set_defaults(handler=cmd_run)

    demo = sub.add_parser(
        "demo",
        help="the whole job offline: bundled audio, simulator, MQTT",
        description="Plays a recorded request (wake word, 'turn on the kitchen light'), lets "
        "the model call a function that is answered over MQTT, and writes the spoken reply to "
        "a WAV file, printing the MQTT traffic and the cost. Without OPENAI_API_KEY it uses the "
        "bundled Realtime simulator; without a broker it starts an embedded one.",
    )
    add_demo_arguments(demo)
    demo.set_defaults(handler=cmd_demo)

    sim = sub.add_parser(
        "sim",
        help="run the offline OpenAI Realtime API simulator",
        description=SIM_DESCRIPTION,
    )
    add_sim_arguments(sim)
    sim.set_defaults(handler=cmd_sim)

    evaluate = sub.add_parser(
        "eval",
        help="compare models on function calling, instructions, latency and cost",
        description="Runs a suite of cases (default: the bundled one, 50 cases) on each model "
        "through the service's realtime client and prints them side by side: pass rates with "
        "95%% intervals, latency p50/p95, tokens, cost per interaction and the ratios between "
        "models. With OPENAI_API_KEY it uses the real API; without (or with --sim) the offline "
        "simulator, answering from the suite with the --sim-* error rates.",
    )
    add_eval_arguments(evaluate)

    wakeword = sub.add_parser("wakeword", help="measure wake word models on your own audio")
    add_wakeword_arguments(wakeword)

    for p in (check, migrate, models, run):
        p.add_argument("--today", help=argparse.SUPPRESS)  # pin the date for lifecycle checks
    for p in (check, migrate, models, run, demo, sim, evaluate):
        add_verbosity(p, sub=True)  # `edge-voice run -v` as well as `edge-voice -v run`
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `edge-voice` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    args.log_level = level_from_flags(args)  # `run` applies it over the config's log_level
    apply_level(logging.WARNING if args.log_level is None else args.log_level)
    try:
        code: int = args.handler(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
