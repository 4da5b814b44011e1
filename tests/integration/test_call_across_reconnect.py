"""A function call asked in a session that is lost before its answer comes: the answer still
goes in on the new session, with its call (found by the soak: the server refused the output,
"Tool call ID not found in conversation", and the user got an `invalid_value` error)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer
from tests.support.service_device import ask, light_device, running

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]


def created_items(sim: RealtimeSimulator, connection: int) -> list[dict[str, Any]]:
    """The items the client created on one connection (1-based), in order."""
    record = sim.connections[connection - 1]
    return [e["item"] for e in record.received if e["type"] == "conversation.item.create"]


async def test_an_answer_after_the_session_was_lost_goes_in_with_its_call(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device = light_device(mqtt_broker, tmp_path, sim, conversation={"function_deadline_ms": 8000})
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await ask(obs, device)  # the scenario's first turn calls set_light
        call = (await obs.expect(topics.event("function_call"), within=15)).json()
        assert sim.expire_sessions() == 1  # lost while the flow is still working on it
        await sim.wait_for(
            lambda: (
                sim.connection_count == 2
                and any(e["type"] == "session.update" for e in sim.connections[1].received)
            ),
            within=15,
        )
        result = {"call_id": call["call_id"], "output": "the kitchen light is on"}
        await obs.publish(f"{topics.base}/function_call/result", json.dumps(result))
        await sim.wait_for(
            lambda: any(i["type"] == "function_call_output" for i in created_items(sim, 2)),
            within=15,
        )
        await obs.status(device, "idle", within=20)
        errors = [m.json() for m in obs.on(topics.event("error"))]
    ours = [i for i in created_items(sim, 2) if i.get("call_id") == call["call_id"]]
    assert [i["type"] for i in ours] == ["function_call", "function_call_output"]
    assert ours[0]["name"] == "set_light"
    refused = [e for e in sim.connections[1].sent if e["type"] == "error"]
    assert refused == [], refused
    assert not [e for e in errors if e["code"] == "invalid_value"], errors
