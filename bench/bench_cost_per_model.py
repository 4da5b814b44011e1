"""Cost per model of one three-turn conversation, run through the real client and the sim.

The conversation runs once on gpt-realtime (GA usage has cached tokens by class); the same
usage is then priced per model, so only the prices differ. The sim bills like the real service
(audio 10 tokens/s in, 20/s out, the context re-billed every turn, an unchanged prefix cached),
so the figures show how caching widens the list-price gap. Beta usage reports only a cached
total, which is why the comparison is made on the GA breakdown.

    python bench/bench_cost_per_model.py
"""

from __future__ import annotations

import asyncio

from edge_voice.metrics.cost import TokenUsage, calculate_cost
from edge_voice.models.catalog import default_catalog
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.session import RealtimeSession
from edge_voice.realtime.session_builders import SessionSettings
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator

MODELS = ("gpt-realtime", "gpt-realtime-mini", "gpt-realtime-2.1", "gpt-4o-realtime-preview")
TURNS = ("What time is it?", "Thank you.", "What time is it?")


async def conversation(sim: RealtimeSimulator, model: str) -> TokenUsage:
    info = default_catalog().get(model)
    settings = SessionSettings(model=model, voice="alloy", instructions="Be brief. " * 40)
    total = TokenUsage()
    async with RealtimeSession(settings, info, api_key="sk-bench-0000", base_url=sim.url) as s:
        events = s.events()
        for text in TURNS:
            await s.create_text_item(text)
            await s.create_response()
            async for event in events:
                if isinstance(event, ev.ResponseDone):
                    total = total + TokenUsage.from_usage(event.usage or {})
                    break
    return total


async def main() -> None:
    async with RealtimeSimulator(SimConfig(pacing=0)) as sim:
        tokens = await conversation(sim, "gpt-realtime")
    print("usage by class:", tokens.as_dict())
    uncached = TokenUsage(
        text_in=tokens.text_in + tokens.cached_text_in,
        audio_in=tokens.audio_in + tokens.cached_audio_in,
        text_out=tokens.text_out,
        audio_out=tokens.audio_out,
    )
    base = calculate_cost(tokens, "gpt-4o-realtime-preview")
    base_uncached = calculate_cost(uncached, "gpt-4o-realtime-preview")
    print(f"{'model':26} {'USD':>10} {'vs preview':>10} {'no cache':>10}")
    for model in MODELS:
        cost = calculate_cost(tokens, model)
        ratio_uncached = calculate_cost(uncached, model) / base_uncached
        print(f"{model:26} {cost:10.6f} {cost / base:9.2f}x {ratio_uncached:9.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
