"""`edge-voice run`: the real service on a microphone (or a WAV, or stdin)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import sys

from edge_voice.audio.device import AudioUnavailableError
from edge_voice.audio.sinks import parse_sink
from edge_voice.audio.sources import AudioSource, parse_source
from edge_voice.audio.wakeword import WakeWordModelError
from edge_voice.cli.signals import stop_on_signals
from edge_voice.cli.verbosity import apply_level
from edge_voice.config.loading import load_config, resolve_api_key
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.mqtt.connection import describe
from edge_voice.service import Service, build_service

OFFICIAL_HOST = "api.openai.com"

log = logging.getLogger("edge_voice")


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
        "0, or 1 if every connection attempt failed (without it the service keeps "
        "running, MQTT up, until SIGTERM or Ctrl-C)",
    )


async def run_service(args: argparse.Namespace) -> int:
    """Build and run the service; 2 for a setup problem the user must fix."""
    cfg = load_config(args.config)
    flags = getattr(args, "log_level", None)  # -v/-q win over the file's log_level
    apply_level(cfg.log_level if flags is None else flags)
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
        # A file or pipe that ends is a room gone quiet: the last words still end their turn.
        source = parse_source(source_spec, fast=args.fast, pad_silence_s=1.5)
        sink = parse_sink(sink_spec)
        today = dt.date.fromisoformat(args.today) if getattr(args, "today", None) else None
        service = build_service(cfg, api_key=api_key, sink=sink, today=today)
    except FileNotFoundError as exc:
        print(f"error: {exc.filename}: no such file (source {source_spec})", file=sys.stderr)
        return 2
    except (AudioUnavailableError, WakeWordModelError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop_on_signals()
    log.info("%s", ready_line(service.store.effective, source))
    return await _serve(service, source, exit_on_eof=args.exit_on_eof)


def ready_line(cfg: EdgeVoiceConfig, source: AudioSource) -> str:
    """The one start-up line saying what the service listens for, where, and with what."""
    words = " or ".join(cfg.wakeword.models)
    model = f"{cfg.openai.model} ({cfg.openai.model_selection})"
    where = f"{source.description}, MQTT {describe(cfg.mqtt)}"
    return f"ready: listening for {words} on {where}, model {model}"


async def _serve(service: Service, source: AudioSource, *, exit_on_eof: bool) -> int:
    """Run until stopped (or the source ended, with exit_on_eof); 2 when the audio failed."""
    failed: list[AudioUnavailableError] = []
    try:
        with contextlib.suppress(asyncio.CancelledError):
            async with source:
                await service.run(source, exit_on_eof=exit_on_eof, keep_running=not exit_on_eof)
    except* AudioUnavailableError as group:  # stdin without audio, a microphone unplugged
        failed.extend(e for e in group.exceptions if isinstance(e, AudioUnavailableError))
    for exc in failed[:1]:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stats = service.metrics.connection_stats()
    if exit_on_eof and stats.failures and not stats.successes:
        print(f"error: all {stats.failures} connection attempts failed", file=sys.stderr)
        return 1
    return 0
