"""`edge-voice run`: the real service on a microphone (or a WAV, or stdin)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import signal
import sys

from edge_voice.audio.device import AudioUnavailableError
from edge_voice.audio.sinks import parse_sink
from edge_voice.audio.sources import parse_source
from edge_voice.audio.wakeword import WakeWordModelError
from edge_voice.config.loading import load_config, resolve_api_key
from edge_voice.service import build_service

OFFICIAL_HOST = "api.openai.com"


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `edge-voice run`."""
    parser.add_argument("--config", help="YAML config file (default: built-in defaults + env)")
    parser.add_argument(
        "--source", help="mic[:DEVICE] | wav:PATH | stdin[:RATE] (default: audio.source)"
    )
    parser.add_argument("--sink", help="speaker[:DEVICE] | wav:PATH | null (default: audio.sink)")
    parser.add_argument("--fast", action="store_true", help="read a WAV source as fast as possible")
    parser.add_argument(
        "--exit-on-eof",
        action="store_true",
        help="exit once the source ended and the conversation it started completed: "
        "0, or 1 if every connection attempt failed",
    )


async def run_service(args: argparse.Namespace) -> int:
    """Build and run the service; 2 for a setup problem the user must fix."""
    cfg = load_config(args.config)
    logging.getLogger().setLevel(cfg.log_level)
    api_key = resolve_api_key(cfg)
    if api_key is None and OFFICIAL_HOST in cfg.openai.base_url:
        print(
            "error: no OpenAI API key: set OPENAI_API_KEY or openai.api_key_file "
            "(or run `edge-voice demo`, which needs none)",
            file=sys.stderr,
        )
        return 2
    source_spec, sink_spec = args.source or cfg.audio.source, args.sink or cfg.audio.sink
    try:
        source = parse_source(
            source_spec, fast=args.fast, pad_silence_s=1.5 if args.exit_on_eof else 0.0
        )
        sink = parse_sink(sink_spec)
        today = dt.date.fromisoformat(args.today) if getattr(args, "today", None) else None
        service = build_service(cfg, api_key=api_key, sink=sink, today=today)
    except FileNotFoundError as exc:
        print(f"error: {exc.filename}: no such file (source {source_spec})", file=sys.stderr)
        return 2
    except (AudioUnavailableError, WakeWordModelError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        if task is not None:
            loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        async with source:
            await service.run(source, exit_on_eof=args.exit_on_eof)
    stats = service.metrics.connection_stats()
    if args.exit_on_eof and stats.failures and not stats.successes:
        print(f"error: all {stats.failures} connection attempts failed", file=sys.stderr)
        return 1
    return 0
