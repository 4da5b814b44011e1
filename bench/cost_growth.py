"""Cost per turn and cumulative cost against conversation length, per model and truncation.

Every turn runs through the real client (RealtimeSession) on the simulator, which bills like
the service: each response re-bills instructions, tools and the whole conversation as input,
an unchanged prefix counted as cached; `truncation` cuts the context at the model's input
limit (see edge_voice/sim/context.py for what is modelled and what is assumed). A turn is the
README demo's second exchange: 2.9 s of user audio (the question and the VAD's 500 ms of
silence) and the spoken answer "It's a quarter past ten." (1.7 s).

The typical interaction is the README demo conversation: "Hey Jarvis, turn on the kitchen
light." (4.1 s + 0.5 s), the set_light call and its result, "The kitchen light is on.", then
"What time is it?" (2.4 s + 0.5 s) and its answer, on a fresh session with the default
instructions and the demo's tool. Input transcription (billed separately) is not included.

    python -m bench.cost_growth            # regenerates docs/perf/*.png and prints the table
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_voice.cli.demo import LIGHT_TOOL
from edge_voice.config.schema import OpenAIConfig
from edge_voice.metrics.cost import calculate_cost
from edge_voice.models.catalog import default_catalog
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.protocol import ConversationItemCreate
from edge_voice.realtime.session import RealtimeSession
from edge_voice.realtime.session_builders import SessionSettings
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import Scenario

MODELS = ("gpt-realtime", "gpt-realtime-2.1", "gpt-realtime-mini", "gpt-4o-realtime-preview")
#: The simulator's calendar: the preview and the beta interface are still served then.
TODAY = dt.date(2026, 5, 1)
GOAL_USD = 0.008  # the spec's cost per typical interaction
INSTRUCTIONS = OpenAIConfig().instructions
KEY = "sk-bench-cost-0000"
TURN_SCENARIO = Scenario.model_validate(
    {
        "name": "turns",
        "loop": True,
        "turns": [{"user": "What time is it?", "say": "It's a quarter past ten."}],
    }
)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "perf"


@dataclass(frozen=True)
class Plan:
    """How a long conversation is held: truncation, and sessions ended by idle or not."""

    label: str
    truncation: Any = "auto"
    #: Turns per session: the warm session ends (idle) after this many; None: one session.
    session_turns: int | None = None
    ga_only: bool = False


PLANS = (
    Plan("one session, truncation auto"),
    Plan("one session, truncation disabled", "disabled", ga_only=True),
    Plan("one session, retention_ratio 0.8", {"retention_ratio": 0.8}, ga_only=True),
    Plan(
        "retention_ratio 0.8, 8k-token limit",
        {"retention_ratio": 0.8, "post_instructions_tokens": 8000},
        ga_only=True,
    ),
    Plan("a new session every 2 turns (idle end)", session_turns=2),
)


@dataclass
class Series:
    """Cost per turn of one model under one plan (a failed turn ends it)."""

    model: str
    plan: str
    cost: list[float] = field(default_factory=list)
    failed_at: int | None = None


def silence_b64(seconds: float) -> str:
    """Base64 of `seconds` of 24 kHz PCM16 (the sim bills by length, not content)."""
    return base64.b64encode(bytes(2 * int(24_000 * seconds))).decode()


def audio_item(seconds: float) -> ConversationItemCreate:
    """A user message of `seconds` of audio."""
    content = [{"type": "input_audio", "audio": silence_b64(seconds)}]
    return ConversationItemCreate(item={"type": "message", "role": "user", "content": content})


async def respond(session: RealtimeSession, events: Any) -> ev.ResponseDone:
    """Ask for a response; its response.done."""
    await session.create_response()
    async with asyncio.timeout(30):
        async for event in events:
            if isinstance(event, ev.ResponseDone):
                return event
    raise RuntimeError("the session ended without response.done")


def settings(
    model: str, truncation: Any, tools: tuple[dict[str, Any], ...] = ()
) -> SessionSettings:
    """The session the service would ask for (truncation only where the wire has it)."""
    wire = OpenAIConfig.model_validate({"truncation": truncation}).truncation_wire()
    beta = default_catalog().get(model).protocol == "beta"
    return SessionSettings(
        model=model,
        voice="alloy",
        instructions=INSTRUCTIONS,
        tools=tools,
        truncation="auto" if beta else wire,
    )


async def grow(sim: RealtimeSimulator, model: str, plan: Plan, turns: int) -> Series:
    """`turns` turns of one model under `plan`."""
    series = Series(model, plan.label)
    info = default_catalog().get(model)
    done_turns = 0
    while done_turns < turns and series.failed_at is None:
        async with RealtimeSession(
            settings(model, plan.truncation), info, api_key=KEY, base_url=sim.url
        ) as session:
            events = session.events()
            for _ in range(plan.session_turns or turns):
                if done_turns == turns:
                    break
                await session.send_event(audio_item(2.93))
                done = await respond(session, events)
                done_turns += 1
                if done.status == "failed":
                    series.failed_at = done_turns
                    break
                series.cost.append(calculate_cost(done.usage or {}, model))
    return series


async def typical_interaction(sim: RealtimeSimulator, model: str) -> float:
    """USD of the README demo conversation on a fresh session of `model`."""
    info = default_catalog().get(model)
    total = 0.0
    tools = (LIGHT_TOOL,)
    async with RealtimeSession(
        settings(model, "auto", tools), info, api_key=KEY, base_url=sim.url
    ) as session:
        events = session.events()
        await session.send_event(audio_item(4.6))
        done = await respond(session, events)
        total += calculate_cost(done.usage or {}, model)
        calls = [o for o in done.output if o.get("type") == "function_call"]
        for call in calls:
            await session.create_function_call_output(str(call["call_id"]), '{"ok": true}')
        if calls:
            done = await respond(session, events)
            total += calculate_cost(done.usage or {}, model)
        await session.send_event(audio_item(2.93))
        done = await respond(session, events)
        total += calculate_cost(done.usage or {}, model)
    return total


async def run(turns: int) -> tuple[list[Series], dict[str, float]]:
    """Every model under every plan that applies, and each model's typical interaction."""
    series: list[Series] = []
    typical: dict[str, float] = {}
    config = SimConfig(pacing=0, today=TODAY)
    async with RealtimeSimulator(config) as sim:
        for model in MODELS:
            typical[model] = await typical_interaction(sim, model)
    async with RealtimeSimulator(config, scenario=TURN_SCENARIO) as sim:
        for model in MODELS:
            beta = default_catalog().get(model).protocol == "beta"
            for plan in PLANS:
                if not (plan.ga_only and beta):
                    series.append(await grow(sim, model, plan, turns))
    return series, typical


def figures(series: list[Series], typical: dict[str, float], turns: int) -> dict[str, Any]:
    """The JSON figures: typical interaction per model, cost of `turns` turns per plan."""
    out: dict[str, Any] = {f"typical_interaction_usd_{m}": usd for m, usd in typical.items()}
    out["typical_interaction_goal_usd"] = GOAL_USD
    out["cost_growth_turns"] = turns
    out["cost_growth_total_usd"] = {f"{s.model} | {s.plan}": sum(s.cost) for s in series}
    out["cost_growth_failed_at"] = {
        f"{s.model} | {s.plan}": s.failed_at for s in series if s.failed_at is not None
    }
    return out


def plot(series: list[Series], directory: Path) -> list[Path]:
    """Cost per turn and cumulative cost, one panel per model; the PNG paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, cumulative in (("cost_per_turn", False), ("cumulative_cost", True)):
        fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True)
        for ax, model in zip(axes.flat, MODELS, strict=True):
            for s in (s for s in series if s.model == model):
                values = np.cumsum(s.cost) if cumulative else np.array(s.cost)
                label = s.plan + (f" (fails at turn {s.failed_at})" if s.failed_at else "")
                ax.plot(np.arange(1, len(values) + 1), values, label=label, linewidth=1.2)
            ax.set_title(model)
            if not cumulative:
                ax.set_yscale("log")  # the cuts' spikes and the slow growth on one scale
            ax.set_ylabel("cumulative USD" if cumulative else "USD per turn")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        for ax in axes[1]:
            ax.set_xlabel("turns (one question + spoken answer each)")
        fig.suptitle(
            ("Cumulative cost" if cumulative else "Cost per turn")
            + " against conversation length (simulated billing)"
        )
        fig.tight_layout()
        path = directory / f"{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def main() -> None:
    """Regenerate the plots and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args()
    series, typical = asyncio.run(run(args.turns))
    for path in plot(series, args.out):
        print("wrote", path)
    print(json.dumps(figures(series, typical, args.turns), indent=1))


if __name__ == "__main__":
    main()
