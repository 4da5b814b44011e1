"""Unusable images in `function_call/result` over MQTT: the model gets a clear error result it can
speak, MQTT gets an `event/error` naming the call; the conversation and its cost data go on."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer
from tests.support.service_device import (
    WAKE_REQUEST,
    light_device,
    running,
)

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]

MAX_BYTES = 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff\xe0"


@pytest.mark.parametrize(
    ("mime", "data", "reason"),
    [
        ("image/png", PNG_MAGIC + bytes(4 * MAX_BYTES), "larger than 1024 bytes"),
        (
            "image/png",
            JPEG_MAGIC + bytes(64),
            "image.mime says image/png but the data is image/jpeg",
        ),
    ],
    ids=["oversized", "bad-magic"],
)
async def test_an_unusable_image_is_an_error_result_and_an_error_event(
    mqtt_broker: BrokerAddress,
    sim: RealtimeSimulator,
    tmp_path: Path,
    mime: str,
    data: bytes,
    reason: str,
) -> None:
    device = light_device(mqtt_broker, tmp_path, sim, conversation={"max_image_bytes": MAX_BYTES})
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await device.mic.play(WAKE_REQUEST)
        call = (await obs.expect(topics.event("function_call"))).json()
        image = {"mime": mime, "data_base64": base64.b64encode(data).decode()}
        answer = await obs.request(
            device,
            "function_call/result",
            {"call_id": call["call_id"], "output": '{"ok": true}', "image": image},
        )
        assert answer["status"] == "error" and reason in answer["error"]
        error = await obs.expect(topics.event("error"))
        assert call["call_id"] in error.json()["message"]
        assert "set_light" in error.json()["message"]
        said = await obs.expect(
            topics.event("transcript"), lambda m: m.json()["role"] == "assistant"
        )
        await obs.status(device, "idle", after=said)  # nothing crashed: the answer was spoken

    outputs = [
        e["item"]["output"]
        for _, e in sim.received
        if e["type"] == "conversation.item.create" and e["item"]["type"] == "function_call_output"
    ]
    assert len(outputs) == 1 and "image was refused" in outputs[0] and reason in outputs[0]
    shown = [
        e
        for _, e in sim.received
        if e["type"] == "conversation.item.create" and e["item"]["type"] == "message"
    ]
    assert not shown
    responses = [m.json() for m in obs.on(topics.event("response"))]
    assert len(responses) == 2 and all(r["cost_usd"] > 0 for r in responses)
    snapshot = device.service.metrics.snapshot()
    assert snapshot.cost_total_usd == pytest.approx(sum(r["cost_usd"] for r in responses))
