"""`edge-voice demo`: the main job offline: wake word, simulator, MQTT, a function call, a reply."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

import aiomqtt

from edge_voice.audio.pcm import FRAME_BYTES
from edge_voice.audio.sinks import parse_sink
from edge_voice.audio.sources import parse_source
from edge_voice.cli.embedded_broker import (
    anonymous_login_refused,
    broker_reachable,
    embedded_broker,
)
from edge_voice.cli.signals import EXIT_INTERRUPTED, stop_on_signals
from edge_voice.config.loading import validate_config
from edge_voice.conversation.states import Status
from edge_voice.events import ErrorOccurred, ResponseCompleted, Transcript
from edge_voice.mqtt.bridge import BridgeOptions
from edge_voice.service import Service, build_service
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator

DEMO_KEY = "sk-edge-voice-demo-local"
OPENAI_URL = "wss://api.openai.com/v1/realtime"
WAKE_AND_REQUEST = "hey_jarvis_kitchen_light.wav"
FOLLOW_UP = "follow_up_time.wav"
LIGHT_TOOL = {
    "name": "set_light",
    "description": "Turn a light in a room on or off.",
    "parameters": {
        "type": "object",
        "properties": {
            "room": {"type": "string"},
            "state": {"type": "string", "enum": ["on", "off"]},
        },
        "required": ["room", "state"],
    },
}


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `edge-voice demo` (its -q/--quiet, shared by every command: only the summary)."""
    parser.add_argument(
        "--out",
        default="edge_voice_demo_reply.wav",
        metavar="WAV",
        help="where to write the spoken reply (default: edge_voice_demo_reply.wav)",
    )
    parser.add_argument(
        "--fast", action="store_true", help="run as fast as possible instead of in real time"
    )
    parser.add_argument(
        "--mqtt-host",
        default="localhost",
        metavar="HOST",
        help="the MQTT broker to use if it answers (default: localhost); else an embedded one",
    )
    parser.add_argument(
        "--mqtt-port", type=int, default=1883, metavar="PORT", help="its port (default: 1883)"
    )
    parser.add_argument(
        "--sim",
        action="store_true",
        help="use the bundled Realtime simulator even when OPENAI_API_KEY is set",
    )
    # The endpoint used with a key (tests: one that cannot be reached).
    parser.add_argument("--realtime-url", default=OPENAI_URL, help=argparse.SUPPRESS)


def _asset(name: str) -> Path:
    return Path(str(resources.files("edge_voice.assets").joinpath(f"audio/{name}")))


async def _user(service: Service, fast: bool, errors: list[ErrorOccurred]) -> AsyncIterator[bytes]:
    """The user: the wake phrase and request, then after the answer a follow-up question."""
    async with parse_source(f"wav:{_asset(WAKE_AND_REQUEST)}", fast=fast) as first:
        async for frame in first:
            yield frame
    # A room is never silent for long; keep the mic running until the follow-up window opens
    # after the answer (with async function calls it also opens while the call is pending).
    while service.assistant.status is not Status.FOLLOW_UP or not service.assistant.calls_settled:
        if errors and service.assistant.status is Status.IDLE:
            return  # the conversation failed (no connection): nobody will answer
        yield bytes(FRAME_BYTES)
        await asyncio.sleep(0.01 if fast else 0.08)  # the microphone's pace
    async with parse_source(f"wav:{_asset(FOLLOW_UP)}", fast=fast, pad_silence_s=1.5) as second:
        async for frame in second:
            yield frame


async def _watch(host: str, port: int, base: str, ready: asyncio.Event, quiet: bool) -> None:
    """Print the device's MQTT traffic and answer its function calls, as a Node-RED flow would."""
    async with aiomqtt.Client(host, port, identifier="edge_voice_demo_flow") as client:
        await client.subscribe(f"{base}/#", qos=1)
        ready.set()
        async for message in client.messages:
            topic, payload = str(message.topic), bytes(message.payload or b"")
            if not quiet and "/tools/" not in topic and "/_sync/" not in topic:
                text = payload.decode(errors="replace")
                print(f"  mqtt {topic:<44} {text[:110]}{'…' if len(text) > 110 else ''}")
            if topic.endswith("/event/function_call"):
                call = json.loads(payload)
                args = json.loads(call["arguments"] or "{}")
                result = {"call_id": call["call_id"], "output": json.dumps({"ok": True, **args})}
                await client.publish(f"{base}/function_call/result", json.dumps(result), qos=1)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _summary(events: list[Any], out: Path, *, simulated: bool) -> bool:
    responses = [e for e in events if isinstance(e, ResponseCompleted)]
    said = [e for e in events if isinstance(e, Transcript)]
    print("\nconversation:")
    for t in said:
        print(f"  {t.role:>9}: {t.text}")
    print("\nresponses:")
    total = 0.0
    for r in responses:
        first_audio = r.latency_ms.get("first_audio")
        latency = f"{first_audio:.0f} ms to first audio" if first_audio is not None else "no audio"
        tokens = sum(r.usage.values())
        total += r.cost_usd
        print(f"  {r.model} voice {r.voice}: {tokens} tokens, ${r.cost_usd:.6f}, {latency}")
    print(f"\ntotal ${total:.6f} for {len(responses)} responses; reply audio in {out}")
    if simulated:
        print("(latency measured against the local simulator; set OPENAI_API_KEY for real figures)")
    return any(t.role == "assistant" for t in said) and bool(responses)


async def run_demo(args: argparse.Namespace) -> int:
    """Run the demo; 0 when the conversation completed, 130 when interrupted (Ctrl-C)."""
    stop_on_signals()
    try:
        return await _demo(args)
    except asyncio.CancelledError:
        # Stopped in order (device idle and offline, flow, simulator, broker closed): an
        # interrupted demo did not show what it set out to, hence not 0.
        print("\ninterrupted: the demo stopped", file=sys.stderr)
        return EXIT_INTERRUPTED


async def _demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    async with contextlib.AsyncExitStack() as stack:
        state_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="edge_voice_demo_"))
        base_url, api_key = await _endpoint(args, stack)
        host, port, options = await _broker(args.mqtt_host, args.mqtt_port, stack)
        cfg = validate_config(
            {
                "device_id": "demo",
                "state_dir": state_dir,
                "openai": {"base_url": base_url},
                "mqtt": {"host": host, "port": port},
                "conversation": {"follow_up_s": 6},
                "tools": [LIGHT_TOOL],
            }
        )
        service = build_service(
            cfg,
            api_key=api_key,  # type: ignore[arg-type]
            sink=parse_sink(f"wav:{out}"),
            bridge_options=options,
        )
        events: list[Any] = []
        errors: list[ErrorOccurred] = []
        service.bus.on(ErrorOccurred, errors.append)
        queue = service.bus.subscribe()
        ready = asyncio.Event()
        base = f"{cfg.mqtt.base_topic}/{cfg.device_id}"
        watcher = asyncio.create_task(_watch(host, port, base, ready, args.quiet))
        stack.push_async_callback(_cancel, watcher)  # before the broker it reads goes away
        await asyncio.wait_for(ready.wait(), 10)
        print('playing "hey jarvis, turn on the kitchen light", then "what time is it"\n')
        await service.run(_user(service, args.fast, errors), exit_on_eof=True)
        while not queue.empty():
            events.append(queue.get_nowait())
    if errors and not any(isinstance(e, ResponseCompleted) for e in events):
        print(
            f"error: no answer from the Realtime API at {base_url}: {errors[-1].message}\n"
            "check the network and OPENAI_API_KEY, or run `edge-voice demo --sim` to use the "
            "bundled simulator",
            file=sys.stderr,
        )
        return 1
    return 0 if _summary(events, out, simulated=base_url.startswith("ws://127.0.0.1")) else 1


async def _broker(
    host: str, port: int, stack: contextlib.AsyncExitStack
) -> tuple[str, int, BridgeOptions | None]:
    """The broker at host:port if it takes the demo's anonymous login, else an embedded one."""
    if not broker_reachable(host, port):
        why = f"no MQTT broker answers at {host}:{port}"
    elif (refused := await anonymous_login_refused(host, port)) is not None:
        why = f"the broker at {host}:{port} refused an anonymous login ({refused})"
    else:
        print(f"MQTT broker: {host}:{port}")
        return host, port, None
    embedded_host, embedded_port = await stack.enter_async_context(embedded_broker(why=why))
    print(f"{why}: embedded broker on {embedded_host}:{embedded_port}")
    # aMQTT 0.11 loses track of concurrent QoS 1 deliveries to a client that leaves (and then
    # fails its shutdown): one message in flight at a time.
    return embedded_host, embedded_port, BridgeOptions(max_in_flight=1)


async def _endpoint(args: argparse.Namespace, stack: contextlib.AsyncExitStack) -> tuple[str, str]:
    """The Realtime URL and key: OpenAI with OPENAI_API_KEY (unless --sim), else the simulator."""
    api_key = os.environ.get("OPENAI_API_KEY")
    if api_key and not args.sim:
        print(f"OPENAI_API_KEY is set: using the OpenAI Realtime API at {args.realtime_url}")
        print("(`edge-voice demo --sim` uses the bundled simulator instead)")
        return args.realtime_url, api_key
    sim = await stack.enter_async_context(
        RealtimeSimulator(SimConfig(pacing=0 if args.fast else 1))
    )
    why = "--sim" if api_key else "no OPENAI_API_KEY"
    print(f"{why}: using the bundled Realtime simulator at {sim.url}")
    return sim.url, DEMO_KEY
