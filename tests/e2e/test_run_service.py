"""`edge-voice run` as a user runs it: WAV in, the sim, a real broker, a flow answering calls."""

from __future__ import annotations

import asyncio
import json
import uuid
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import LIGHT_TOOL
from tests.support.broker import BrokerAddress
from tests.support.cli_process import demo_run, run_to_exit, write_device_config

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


async def flow(
    broker: BrokerAddress, base: str, seen: list[tuple[str, Any]], ready: asyncio.Event
) -> None:
    """A Node-RED-like flow: records the device's traffic and answers its function calls."""
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe(f"{base}/#", qos=1)
        ready.set()
        async for message in client.messages:
            payload = bytes(message.payload or b"")  # type: ignore[arg-type]
            try:
                data: Any = json.loads(payload)
            except ValueError:
                data = payload.decode()
            seen.append((str(message.topic), data))
            if str(message.topic) == f"{base}/event/function_call":
                answer = {
                    "call_id": data["call_id"],
                    "output": {"ok": True},
                    "transaction": "flow-1",
                }
                await client.publish(f"{base}/function_call/result", json.dumps(answer), qos=1)


async def test_wav_in_reply_out_everything_on_the_broker(
    sim: RealtimeSimulator, mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    base_topic = f"t_{uuid.uuid4().hex[:8]}"
    base = f"{base_topic}/kitchen"
    config = write_device_config(tmp_path, mqtt_broker, sim.url, base_topic, tools=[LIGHT_TOOL])
    reply = tmp_path / "reply.wav"
    seen: list[tuple[str, Any]] = []
    ready = asyncio.Event()
    watcher = asyncio.create_task(flow(mqtt_broker, base, seen, ready))
    await asyncio.wait_for(ready.wait(), 10)
    done = await run_to_exit(*demo_run(config, f"wav:{reply}"))
    watcher.cancel()
    assert done.code == 0, done.err[-2000:]

    def payloads(suffix: str) -> list[Any]:
        return [p for t, p in seen if t == f"{base}/{suffix}"]

    assert [w["wakeword"] for w in payloads("event/wake")] == ["hey_jarvis"]
    assert [c["name"] for c in payloads("event/function_call")] == ["set_light"]
    assert {"role": "assistant", "text": "The kitchen light is on."}.items() <= payloads(
        "event/transcript"
    )[-1].items()
    responses = payloads("event/response")
    assert len(responses) == 2 and all(r["cost_usd"] > 0 for r in responses)
    assert payloads("response")[0] == {
        "topic": f"{base}/function_call/result",
        "status": "ok",
        "transaction": "flow-1",
        "ts": payloads("response")[0]["ts"],
    }
    assert payloads("availability")[0] == "online" and payloads("availability")[-1] == "offline"
    assert payloads("state")[-1]["status"] == "idle"
    assert payloads("config/last_good"), "a completed conversation makes the config last known good"
    metrics = payloads("metrics")[-1]
    assert metrics["cost_total_usd"] == pytest.approx(sum(r["cost_usd"] for r in responses))
    # The migration guide's key figures: latency p50/p95 per measure, success rate per model.
    for measure in ("session_ready", "first_audio", "function_call", "response"):
        p50, p95 = metrics["latency_ms"][measure]["p50"], metrics["latency_ms"][measure]["p95"]
        assert 0 < p50 <= p95, (measure, metrics["latency_ms"])
    assert metrics["connection_success_rate"] == {"gpt-realtime": 1.0}
    with wave.open(str(reply)) as wav:
        assert wav.getframerate() == 24000 and wav.getnframes() > 24000
    assert "sk-test-e2e-0001" not in done.out + done.err  # the key never reaches the logs
    assert (tmp_path / "state" / "cost_ledger.jsonl").exists()
