"""Memory across conversations on a real broker and the simulator, through the real service:
the summary asked at a conversation's end (out of band, text only, priced), kept in the state
directory, given to the next session (also after a restart), shown retained, cleared; off by
default; too old a summary is not used."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from edge_voice.conversation.memory import CONTEXT_HEADER
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import Observer, observer, unique_base
from tests.support.service_device import Device, ask, build_device, make_config, running

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]

#: The simulator's answer to the request (no light tool declared).
ANSWER = "I can't control the lights from here."


def _config(broker: BrokerAddress, sim: RealtimeSimulator, state: Path, **memory: Any) -> Any:
    return make_config(broker, state, base=unique_base(), sim=sim, memory=memory)


def _instructions(sim: RealtimeSimulator) -> list[str]:
    """The instructions of every session.update the simulator received, in order."""
    return [
        str(e["session"].get("instructions", ""))
        for _, e in sim.received
        if e.get("type") == "session.update"
    ]


async def _converse(obs: Observer, device: Device) -> dict[str, Any]:
    """One conversation to its end; the `event/response` of its answer."""
    await ask(obs, device)
    answer = await obs.expect(device.topics.event("response"))
    await obs.status(device, "idle", after=answer)
    data: dict[str, Any] = answer.json()
    return data


async def _memory(obs: Observer, device: Device, where: Any) -> dict[str, Any]:
    message = await obs.expect(device.topics.memory, lambda m: where(m.json()))
    data: dict[str, Any] = message.json()
    return data


async def test_the_summary_is_kept_given_to_the_next_session_and_cleared(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = _config(mqtt_broker, sim, tmp_path, enabled=True)
    device = build_device(cfg, sim=sim)
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        assert (await _memory(obs, device, lambda m: True))["summary"] is None  # at start
        answer = await _converse(obs, device)
        kept = await _memory(obs, device, lambda m: m["summary"])
        summary = (await obs.expect(topics.event("response"))).json()
    assert answer["kind"] == "answer"
    assert summary["kind"] == "summary" and summary["cost_usd"] > 0  # priced like any response
    assert summary["usage"]["audio_out"] == 0 and summary["usage"]["text_out"] > 0
    assert ANSWER in kept["summary"] and kept["updated"] and kept["enabled"] is True
    (create,) = [e for _, e in sim.received if e.get("type") == "response.create"]
    assert create["response"]["conversation"] == "none"  # out of band, over the conversation
    assert create["response"]["output_modalities"] == ["text"] and "input" not in create["response"]
    async with observer(mqtt_broker, topics.memory) as late:  # retained: HA sees it later
        retained = await late.expect(topics.memory)
        assert retained.retain and retained.json()["summary"] == kept["summary"]
    on_disk = json.loads((tmp_path / "memory.json").read_text(encoding="utf-8"))
    assert on_disk["summary"] == kept["summary"]
    assert not any(CONTEXT_HEADER in i for i in _instructions(sim))  # nothing known before

    # A restart: the next session (a new one) is told what was said.
    device = build_device(cfg, sim=sim)
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        assert (await _memory(obs, device, lambda m: True))["summary"] == kept["summary"]
        await _converse(obs, device)
        assert f"{CONTEXT_HEADER}\n{kept['summary']}" in _instructions(sim)[-1]
        await obs.expect(topics.event("response"), lambda m: m.json()["kind"] == "summary")
        # Cleared (the HA button sends `clear`): gone now, and from the next session.
        await obs.publish(f"{topics.base}/memory/clear", "clear")
        assert (await obs.answer(device, f"{topics.base}/memory/clear"))["status"] == "ok"
        await _memory(obs, device, lambda m: m["summary"] is None)
        assert not (tmp_path / "memory.json").exists()
        assert (await obs.request(device, "conversation/stop", {}))["status"] == "ok"
        await _converse(obs, device)  # the stop closed the session: a new one
    assert CONTEXT_HEADER not in _instructions(sim)[-1]


async def test_off_by_default_nothing_is_asked_or_kept(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim), sim=sim)
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        await _converse(obs, device)
        await obs.barrier(device)
    assert not [e for _, e in sim.received if e.get("type") == "response.create"]
    assert len(obs.on(device.topics.event("response"))) == 1
    assert not obs.on(device.topics.memory), "no retained memory topic for a feature that is off"
    assert not (tmp_path / "memory.json").exists()


async def test_switching_memory_on_and_off_at_runtime_updates_the_retained_topic(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim), sim=sim)
    set_topic = f"{device.topics.base}/config/set"
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        await obs.publish(set_topic, json.dumps({"memory": {"enabled": True}}))
        assert (await obs.answer(device, set_topic))["status"] == "ok"
        assert (await _memory(obs, device, lambda m: m["enabled"]))["summary"] is None
        await _converse(obs, device)
        assert (await _memory(obs, device, lambda m: m["summary"]))["enabled"] is True
        await obs.publish(set_topic, json.dumps({"memory": {"enabled": False}}))
        assert (await obs.answer(device, set_topic))["status"] == "ok"
        off = await _memory(obs, device, lambda m: not m["enabled"])
        assert off["summary"] is None, "off: the summary is no longer offered"


async def test_a_summary_older_than_max_age_is_not_used(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    (tmp_path / "memory.json").write_text(
        json.dumps({"summary": "The user's name is Ada.", "updated": old.isoformat()})
    )
    cfg = _config(mqtt_broker, sim, tmp_path, enabled=True, max_age_h=2)
    device = build_device(cfg, sim=sim)
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        assert (await _memory(obs, device, lambda m: True))["summary"] is None
        await ask(obs, device)
        await obs.expect(device.topics.event("response"))
    assert _instructions(sim) and "Ada" not in _instructions(sim)[0]
