"""The simulator's command line: used by `edge-voice sim`, alone as `python -m edge_voice.sim`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import signal
import sys
from collections.abc import Sequence

from edge_voice.sim.config import SimConfig
from edge_voice.sim.scenario import Scenario, default_scenario, load_scenario

#: What `edge-voice sim --help` says first.
SIM_DESCRIPTION = (
    "An offline stand-in for the OpenAI Realtime API: scripted spoken answers, function calls, "
    "refusals and faults. Point openai.base_url at the ws://…/v1/realtime URL it prints; it "
    "accepts any non-empty API key unless --api-key is given."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options to `parser`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port to listen on (default 8765; 0: any free port)"
    )
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        help="a YAML file of scripted answers and faults (default: the bundled demo scenario)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only this API key (repeatable); default: any non-empty key (no key at all "
        "is refused with invalid_api_key, as OpenAI does)",
    )
    parser.add_argument(
        "--pacing",
        type=float,
        default=1.0,
        help="how fast answers are streamed: 1 = real time (default), 0 = as fast as possible",
    )
    parser.add_argument(
        "--silence-duration-ms",
        type=int,
        metavar="MS",
        help="silence that ends the user's turn when the client sets none (default 500)",
    )
    parser.add_argument(
        "--vad-threshold-dbfs",
        type=float,
        metavar="DBFS",
        help="speech level that counts as talking at the client's VAD threshold 0.5 (default -40)",
    )
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the simulator's date: models and the beta interface past their catalog shutdown "
        "are refused (default: the real date)",
    )
    faults = parser.add_argument_group(
        "faults",
        "make the simulator misbehave the way the real service can, to watch the fallback, "
        "reconnects and error events (each overrides the scenario's `faults:`)",
    )
    faults.add_argument(
        "--beta-disabled",
        action="store_true",
        default=None,
        help="refuse the beta wire protocol (OpenAI-Beta: realtime=v1) whatever the date",
    )
    faults.add_argument(
        "--refuse-model",
        action="append",
        metavar="MODEL",
        default=None,
        help="answer MODEL with invalid_model and close 4000, as for a model the endpoint does "
        "not serve (repeatable)",
    )
    faults.add_argument(
        "--not-found-model",
        action="append",
        metavar="MODEL",
        default=None,
        help="answer MODEL with model_not_found and close 4000, as without access to it "
        "(repeatable)",
    )
    faults.add_argument(
        "--forbid-model",
        action="append",
        metavar="MODEL",
        default=None,
        help="refuse MODEL's connection with HTTP 403 (repeatable)",
    )
    faults.add_argument(
        "--stall-model",
        action="append",
        metavar="MODEL",
        default=None,
        help="accept MODEL's connection, then never answer: the client's connect timeout "
        "(repeatable)",
    )
    faults.add_argument(
        "--session-max-s",
        type=float,
        metavar="S",
        help="end each session after S seconds with session_expired (the real limit: 60 min)",
    )
    faults.add_argument(
        "--drop-after-audio-deltas",
        type=int,
        metavar="N",
        help="drop the connection after N audio chunks of an answer",
    )
    faults.add_argument(
        "--drop-mode",
        choices=["error", "abort"],
        help="how --drop-after-audio-deltas drops: error = close frame 1011 (default), "
        "abort = TCP reset without a close frame",
    )
    faults.add_argument(
        "--rate-limit",
        type=int,
        metavar="N",
        help="refuse the next N responses with rate_limit_exceeded",
    )
    faults.add_argument(
        "--rate-limit-retry-after-s",
        type=float,
        metavar="S",
        help="the wait a rate_limit_exceeded asks for ('Please try again in S s'; default 1.8)",
    )
    faults.add_argument(
        "--first-audio-delay-ms",
        type=int,
        metavar="MS",
        help="wait MS milliseconds before the first audio of each answer (a slow model)",
    )


def config_from_args(args: argparse.Namespace) -> tuple[SimConfig, Scenario]:
    """The config and scenario the arguments describe (ValueError on a bad scenario)."""
    scenario = load_scenario(args.scenario) if args.scenario else default_scenario()
    config = SimConfig(host=args.host, port=args.port, pacing=args.pacing, today=args.today)
    if args.api_keys:
        config.api_keys = set(args.api_keys)
    if args.silence_duration_ms is not None:
        config.default_silence_duration_ms = args.silence_duration_ms
    if args.vad_threshold_dbfs is not None:
        config.vad_threshold_dbfs = args.vad_threshold_dbfs
    if scenario.faults is not None:
        scenario.faults.apply_to(config)
    overrides = {
        "beta_disabled": args.beta_disabled,
        "refuse_models": args.refuse_model,
        "not_found_models": args.not_found_model,
        "forbid_models": args.forbid_model,
        "stall_models": args.stall_model,
        "session_max_s": args.session_max_s,
        "drop_after_audio_deltas": args.drop_after_audio_deltas,
        "drop_mode": args.drop_mode,
        "rate_limit_responses": args.rate_limit,
        "rate_limit_retry_after_s": args.rate_limit_retry_after_s,
        "first_audio_delay_ms": args.first_audio_delay_ms,
    }
    for name, value in overrides.items():
        if value is not None:
            setattr(config, name, set(value) if isinstance(value, list) else value)
    return config, scenario


async def run_from_args(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; 0 on a clean stop, 2 on a bad scenario or busy port."""
    from edge_voice.sim.realtime_server import RealtimeSimulator

    try:
        config, scenario = config_from_args(args)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"edge-voice sim: {exc}\n")
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    sim = RealtimeSimulator(config, scenario=scenario)
    try:
        await sim.start()
    except OSError as exc:
        sys.stderr.write(f"edge-voice sim: cannot listen on {config.host}:{config.port}: {exc}\n")
        return 2
    try:
        sys.stdout.write(f"simulator listening on ws://{config.host}:{sim.port}/v1/realtime\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await sim.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator from the command line (what `edge-voice sim` does)."""
    parser = argparse.ArgumentParser(prog="edge-voice sim", description=SIM_DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        return asyncio.run(run_from_args(args))
    except KeyboardInterrupt:
        return 0
