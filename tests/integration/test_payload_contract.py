"""What a running service publishes follows the JSON schemas docs/MQTT_API.md documents: the
real service on the simulator and a broker, every payload of a conversation checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.api_doc_schemas import documented_contract
from tests.support.assistant_rig import LIGHT_TOOL
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import WAKE_REQUEST, build_device, make_config, running

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]

EXPECTED = {
    "StatePayload",
    "MetricsPayload",
    "WakePayload",
    "TranscriptPayload",
    "FunctionCallPayload",
    "ResponsePayload",
    "FallbackPayload",
    "ErrorPayload",
    "CommandResponse",
}


async def test_every_payload_of_a_real_conversation_follows_the_documented_schema(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.config.refuse_models.add("gpt-realtime")  # the primary refuses: event/fallback
    base_topic = unique_base()
    cfg = make_config(mqtt_broker, tmp_path, base=base_topic, sim=sim, tools=[LIGHT_TOOL])
    device = build_device(cfg, sim=sim)
    topics = device.topics
    contract = documented_contract(topics.base, base_topic)
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await device.mic.play(WAKE_REQUEST)
        call = (await obs.expect(topics.event("function_call"), within=15)).json()
        # A flow answers with a JSON object (the documented "any JSON"); it is a command too.
        result = {"call_id": call["call_id"], "output": {"ok": True, "brightness": 80}}
        assert contract.errors("FunctionCallResult", result) == []
        assert (await obs.request(device, "function_call/result", result))["status"] == "ok"
        said = await obs.expect(
            topics.event("transcript"), lambda m: m.json()["role"] == "assistant", within=15
        )
        await obs.status(device, "idle", after=said)
        await obs.expect(topics.metrics, lambda m: m.json()["conversations"] >= 1)
        await obs.barrier(device)  # an unknown command: event/error and its response

    checked: dict[str, int] = {}
    for message in obs.messages:
        model = contract.model_for(message.topic, "out")
        if model is None or not message.payload:
            continue
        payload = json.loads(message.payload)
        assert contract.errors(model, payload) == [], (message.topic, payload)
        checked[model] = checked.get(model, 0) + 1
    assert set(checked) >= EXPECTED, EXPECTED - set(checked)
    responses = [m.json() for m in obs.on(topics.event("response"))]
    assert any(r["usage"]["audio_out"] > 0 for r in responses)  # the token classes, documented
