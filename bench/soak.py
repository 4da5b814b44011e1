"""Soak: the real service for many conversations with faults injected at random (seeded).

    python -m bench.soak --conversations N [--seed S] [--json out.json]

The service is `build_service` (what `edge-voice run` builds) on the project's simulator, a
real local Mosquitto that is stopped and restarted, a real MCP server that goes away, and a
flow on the broker that answers function calls late, twice or never. The report says what
held; the exit status is 1 if an invariant broke (see bench/soak_checks.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench import machine
from bench.device import REQUEST_WAV, Microphone, wav_frames
from bench.soak_checks import Figures, check, progress, resources, table
from bench.soak_probe import Probe
from bench.soak_rig import (
    FUNCTION_FAULTS,
    SCENARIO,
    Flow,
    McpHome,
    SoakBroker,
)
from edge_voice.audio.pcm import SILENCE_FRAME
from edge_voice.audio.sinks import NullSink
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.metrics.cost_ledger import CostLedger
from edge_voice.mqtt.bridge import BridgeOptions
from edge_voice.mqtt.connection import ReconnectPolicy
from edge_voice.service import Service, build_service
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import parse_scenario

log = logging.getLogger("bench.soak")
#: Faults applied before the conversation starts (the simulator's one-shot switches, the flow).
BEFORE = ("drop", "refused", "rate_limit", "slow_audio", *FUNCTION_FAULTS)
#: Faults that strike at a random moment of the conversation.
DURING = ("expiry", "broker_restart", "mcp_away")
FAULTS = BEFORE + DURING
DEADLINE_MS = 2000
BASE = "edge_voice_soak"
#: Real-time pacing would make 1000 conversations take hours; 4x is still streamed, not dumped.
PACING = 0.25


def soak_config(state_dir: Path, broker: SoakBroker, sim_url: str, mcp_url: str) -> EdgeVoiceConfig:
    """The device: one MQTT tool, one MCP server, a short deadline, a short fallback cool-down."""
    return EdgeVoiceConfig.model_validate(
        {
            "device_id": "soak",
            "log_level": "ERROR",
            "state_dir": str(state_dir),
            "mqtt": {"host": broker.host, "port": broker.port, "base_topic": BASE},
            "openai": {"base_url": sim_url, "fallback_cooldown_s": 5.0},
            "conversation": {"follow_up_s": 0.3, "function_deadline_ms": DEADLINE_MS},
            "tools": [
                {
                    "name": "set_light",
                    "description": "Turn a light on or off.",
                    "parameters": {
                        "type": "object",
                        "properties": {"room": {"type": "string"}, "state": {"type": "string"}},
                    },
                }
            ],
            "mcp_bridge": {"servers": [{"name": "home", "url": mcp_url}], "reconnect_max_s": 2},
        }
    )


@dataclass
class Soak:
    """One soak run: the parts, the random schedule, and what was counted."""

    service: Service
    sim: RealtimeSimulator
    broker: SoakBroker
    mcp: McpHome
    flow: Flow
    probe: Probe
    rng: random.Random
    speech: list[bytes]
    mic: Microphone = field(default_factory=Microphone)
    injected: Counter[str] = field(default_factory=Counter)
    completed: int = 0
    unanswered: int = 0
    hung: int = 0
    #: The faults of each conversation that got no answer (what a user would have noticed).
    unanswered_faults: Counter[str] = field(default_factory=Counter)

    def schedule(self, n: int) -> list[str]:
        """The faults of conversation `n`: each kind once first (seeded order), then at random."""
        if n < len(FAULTS):
            return [self._order[n]]
        if self.rng.random() < 0.4:
            return []
        return self.rng.sample(FAULTS, self.rng.choice((1, 1, 2)))

    def __post_init__(self) -> None:
        self._order = self.rng.sample(FAULTS, len(FAULTS))

    def records(self) -> tuple[object, ...]:
        """The rig's own records, which grow by design (counted apart from the service)."""
        p, f = self.probe, self.flow
        return (p.published, p.published_at, p.states, p.answers, f.arrivals, f.copies,
                self.sim.connections, self.broker.stops)  # fmt: skip

    async def converse(self, faults: list[str]) -> None:
        """One conversation (conversation/start, the request, back to idle) under `faults`."""
        self.injected.update(faults)
        for kind in faults:
            self._arm(kind)
        started = time.monotonic()
        before = self.probe.responses
        strikes = [asyncio.create_task(self._strike(k)) for k in faults if k in DURING]
        try:
            await self.service.assistant.start()
            stamp, status = await self.probe.status({"listening", "idle"}, started, 30)
            if status == "listening":
                self.mic.queue(self.speech)
                await self.probe.status({"idle"}, stamp, 60)
        except TimeoutError:
            self.hung += 1
            recent = [status for _, status in self.probe.states[-6:]]
            log.warning("soak: conversation hung under %s; last states %s", faults, recent)
            await self.service.assistant.stop()
        finally:
            await asyncio.gather(*strikes)
            await self._heal()
        if self.probe.responses > before:
            self.completed += 1
        else:
            self.unanswered += 1
            self.unanswered_faults.update(faults or ["none"])

    def _arm(self, kind: str) -> None:
        cfg = self.sim.config
        if kind == "drop":
            cfg.drop_after_audio_deltas, cfg.drop_responses = 2, 1
            cfg.drop_mode = self.rng.choice(("error", "abort"))
        elif kind == "refused":
            cfg.refuse_models.add(self.service.store.effective.openai.model)
            self.service.assistant.retire_warm_session()  # the next session meets the refusal
        elif kind == "rate_limit":
            cfg.rate_limit_responses = 1
        elif kind == "slow_audio":
            cfg.first_audio_delay_ms, cfg.slow_responses = 1500, 1
        elif kind in FUNCTION_FAULTS:
            self.flow.armed.append(kind)

    async def _strike(self, kind: str) -> None:
        # The random moment is the fault's timing (what is injected), not synchronisation.
        await asyncio.sleep(self.rng.uniform(0.0, 2.0))
        if kind == "expiry":
            self.sim.expire_sessions()
        elif kind == "broker_restart":
            await self.broker.stop()
            await asyncio.sleep(self.rng.uniform(0.2, 2.0))
            await self.broker.start()
        elif kind == "mcp_away":
            await self.mcp.stop()

    async def _heal(self) -> None:
        """Undo the one-shot switches that did not fire; bring the MCP server back."""
        cfg = self.sim.config
        cfg.refuse_models.clear()
        cfg.rate_limit_responses = cfg.drop_responses = cfg.slow_responses = 0
        for record in self.sim.connections:  # every event in and out: the rig's memory, not ours
            record.sent.clear()
            record.received.clear()
        if not self.mcp.up:
            await self.mcp.start()
        async with asyncio.timeout(30):
            await self.service.bridge.wait_connected()


#: Code of the parts around the service: their tasks are not the service's.
async def run(count: int, seed: int) -> Figures:
    """Soak `count` conversations (plus a warm-up and a last fault-free one) and count."""
    began = time.monotonic()
    broker, mcp = SoakBroker(), McpHome()
    await broker.start()
    await mcp.start()
    sim = RealtimeSimulator(SimConfig(pacing=PACING), scenario=parse_scenario(SCENARIO))
    await sim.start()
    state = tempfile.TemporaryDirectory(prefix="edge_voice_soak_")
    try:
        cfg = soak_config(Path(state.name), broker, sim.url, mcp.url)
        options = BridgeOptions(reconnect=ReconnectPolicy(initial_s=0.1, max_s=1.0))
        service = build_service(
            cfg, api_key=SecretStr("sk-soak-0000"), sink=NullSink(), bridge_options=options
        )
        probe = Probe()
        probe.attach(service)
        flow = Flow(broker.host, broker.port, f"{BASE}/soak", DEADLINE_MS / 1000)
        speech = await wav_frames(REQUEST_WAV) + [SILENCE_FRAME] * 13
        soak = Soak(service, sim, broker, mcp, flow, probe, random.Random(seed), speech)
        flow_task = asyncio.create_task(flow.run(), name="soak.flow")
        task = asyncio.create_task(service.run(soak.mic.frames()), name="soak.service")
        figures = await _drive(soak, count, began)
        soak.mic.close()
        async with asyncio.timeout(30):
            await task
        flow_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flow_task
        figures.ledger_nusd = CostLedger(service.store.ledger_path).total_nusd
        return figures
    finally:
        await sim.stop()
        await mcp.stop()
        await broker.close()
        state.cleanup()


async def _drive(soak: Soak, count: int, began: float) -> Figures:
    async with asyncio.timeout(30):
        await soak.service.bridge.wait_connected()
    await soak.converse([])  # warm-up: the baseline is taken with everything in use once
    soak.completed = soak.unanswered = soak.hung = 0
    start = resources(soak.records())
    tenth, by_tenth = start, list[dict[str, Any]]()
    for n in range(count):
        await soak.converse(soak.schedule(n))
        if (n + 1) % max(1, count // 10) == 0:  # RSS by tenth; and how far it is (stderr)
            now = resources(soak.records())
            tenth = tenth if by_tenth else now
            by_tenth.append(now)
            print(progress(n + 1, count, now), file=sys.stderr, flush=True)
    completed, unanswered = soak.completed, soak.unanswered
    # A function fault waits for a call answered over MQTT; the MCP turn makes none.
    for _ in range(6):
        if not soak.flow.armed:
            break
        await soak.converse([])
    answered = soak.completed
    await soak.converse([])  # the service still serves after everything above
    final_answered = soak.completed > answered
    await soak.flow.settled()
    await soak.flow.wait_for(lambda: _received_all(soak), within=15)
    # Counted now, copies: the service goes on publishing while it shuts down, after the count.
    published, arrivals = Counter(soak.probe.published), dict(soak.flow.arrivals)
    end = resources(soak.records())
    return Figures(
        conversations=count,
        seed=0,
        elapsed_s=time.monotonic() - began,
        machine=machine.describe(),
        completed=completed,
        unanswered=unanswered,
        hung=soak.hung,  # the last conversation too
        injected=dict(soak.injected),
        applied_function_faults=dict(soak.flow.applied),
        fallbacks=soak.probe.fallbacks,
        realtime_connections=soak.sim.connection_count,
        broker_reconnects=max(0, soak.probe.broker_connects - 1),
        broker_restarts=len(soak.broker.stops),
        errors=dict(soak.probe.errors),
        answers=dict(soak.probe.answers),
        unanswered_faults=dict(soak.unanswered_faults),
        published=published,
        published_at=dict(soak.probe.published_at),
        arrivals={key: list(times) for key, times in arrivals.items()},
        copies=dict(soak.flow.copies),
        response_messages=soak.flow.response_messages,
        response_cost_nusd=soak.flow.response_cost_nusd,
        broker_stops=list(soak.broker.stops),
        dropped_events=soak.service.bridge.dropped,
        expired_events=soak.service.bridge.outbox.expired,
        queue_bound=soak.service.store.effective.mqtt.queue_size,
        responses=soak.probe.responses,
        final_answered=final_answered,
        metrics_nusd=round(soak.service.metrics.cost_total_usd * 1e9),
        ledger_nusd=0,
        start=start,
        tenth=tenth,
        end=end,
        memory_by_tenth=by_tenth,
    )


def _received_all(soak: Soak) -> bool:
    arrivals = soak.flow.arrivals
    return all(key in arrivals for key in soak.probe.published)


def main(argv: list[str] | None = None) -> int:
    """Run the soak, print the table, write the JSON; 1 if an invariant broke."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--log", type=Path, help="the service's warnings go here (else: stderr)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.log else logging.ERROR,
        filename=args.log,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    figures = asyncio.run(run(args.conversations, args.seed))
    figures.seed = args.seed
    broken = check(figures)
    print(table(figures, broken))
    if args.json:
        args.json.write_text(json.dumps(figures.report(broken), indent=2) + "\n", encoding="utf-8")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
