"""MQTT: an event published on the service's bus → received by a subscriber through Mosquitto.

The service's own MqttBridge carries `WakeDetected` events (one every 20 ms) to `event/wake`;
a separate aiomqtt client subscribed to it stamps each arrival. Both live in this process, so
the figure includes the subscriber's own parsing: an upper bound on the bridge's share.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiomqtt

from bench.broker import Mosquitto
from bench.device import running_device
from bench.stats import quantile
from edge_voice.events import WakeDetected

NO_REALTIME = "ws://127.0.0.1:9/v1/realtime"


async def measure(events: int) -> dict[str, Any]:
    """p50/p99 of `events` events, publish → receive."""
    sent: dict[str, float] = {}
    latencies: list[float] = []
    with Mosquitto() as broker:
        async with (
            running_device(broker.port, NO_REALTIME, pace_s=0.08) as device,
            aiomqtt.Client("127.0.0.1", broker.port) as client,
        ):
            await client.subscribe("edge_voice_bench/bench/event/wake")
            await asyncio.sleep(0.5)  # the bridge is connected and the subscription active

            async def receive() -> None:
                async for message in client.messages:
                    now = time.perf_counter()
                    name = json.loads(bytes(message.payload))["wakeword"]  # type: ignore[arg-type]
                    latencies.append(1000 * (now - sent[name]))
                    if len(latencies) == events:
                        return

            receiver = asyncio.create_task(receive())
            for n in range(events):
                name = f"bench_{n}"
                sent[name] = time.perf_counter()
                device.service.bus.publish(WakeDetected(wakeword=name, score=0.9))
                await asyncio.sleep(0.02)
            await asyncio.wait_for(receiver, 30)
    return {
        "mqtt_event_p50_ms": quantile(latencies, 0.5),
        "mqtt_event_p99_ms": quantile(latencies, 0.99),
        "mqtt_event_samples": len(latencies),
    }
