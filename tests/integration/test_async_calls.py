"""Asynchronous function calls on the real simulator: the conversation goes on while a call is
pending, the late result is spoken; models without the feature keep waiting for the result."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from edge_voice.audio.sinks import parse_sink
from edge_voice.conversation.session_settings import session_settings
from edge_voice.conversation.states import Status
from edge_voice.events import FunctionCallRequested, ResponseCompleted, ServiceState, Transcript
from edge_voice.models.features import Degradation
from edge_voice.service import build_service
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import parse_scenario
from tests.support.assistant_rig import Rig, build_rig, demo_wav, frames_of, make_config
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import FAST

pytestmark = pytest.mark.timeout(60)

WAITING = "I'm still waiting for that to finish."
LIGHT_ON = "The kitchen light is on."
SILENCE = bytes(2560)


async def silence_until(
    condition: Callable[[], object], within: float = 15.0
) -> AsyncIterator[bytes]:
    """Silent microphone frames (as a user waiting) until `condition()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "the expected moment never came"
        yield SILENCE
        await asyncio.sleep(0.01)


def said(rig: Rig) -> list[str]:
    """What the assistant said, in order."""
    return [t.text for t in rig.of(Transcript) if t.role == "assistant"]


def outputs(sim: RealtimeSimulator) -> list[Any]:
    """The function_call_output items the service sent, parsed."""
    return [
        json.loads(e["item"]["output"])
        for _, e in sim.received
        if e["type"] == "conversation.item.create" and e["item"]["type"] == "function_call_output"
    ]


def sent_errors(sim: RealtimeSimulator) -> list[str]:
    """Codes of the error events the simulator sent."""
    return [e["error"]["code"] for c in sim.connections for e in c.sent if e["type"] == "error"]


def pending(rig: Rig) -> bool:
    """A call is published and waits for its result in follow-up (the conversation goes on)."""
    return rig.assistant.status is Status.FOLLOW_UP and bool(rig.assistant.calls.pending)


def answer(rig: Rig, index: int = 0, output: str = '{"ok": true}') -> None:
    """Answer the `index`-th published call, as a flow would."""
    call = rig.of(FunctionCallRequested)[index]
    rig.assistant.function_result(call.call_id, output, None)


async def test_the_user_speaks_while_a_call_is_pending_then_the_late_result_is_spoken(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = make_config(sim.url, tmp_path, conversation={"function_deadline_ms": 20000})
    rig = build_rig(cfg, tmp_path / "reply.wav")

    async def source() -> AsyncIterator[bytes]:
        async for frame in frames_of(demo_wav("hey_jarvis_kitchen_light.wav"), silence_s=0):
            yield frame
        async for frame in silence_until(lambda: pending(rig)):
            yield frame
        async for frame in frames_of(demo_wav("follow_up_time.wav")):  # the user goes on
            yield frame
        async for frame in silence_until(lambda: WAITING in said(rig) and pending(rig)):
            yield frame
        answer(rig)  # long after the call: the answer comes late
        async for frame in silence_until(lambda: LIGHT_ON in said(rig)):
            yield frame

    async with asyncio.timeout(40):
        await rig.assistant.run(source(), exit_on_eof=True)

    assert [c.mode for c in rig.of(FunctionCallRequested)] == ["async"]
    users = [t.text for t in rig.of(Transcript) if t.role == "user"]
    assert users == ["Hey Jarvis, turn on the kitchen light.", "What time is it?"]
    assert said(rig) == [WAITING, LIGHT_ON]
    assert outputs(sim) == [{"ok": True}]
    assert [e["type"] for _, e in sim.received].count("response.create") == 1  # the late one
    assert sent_errors(sim) == []
    assert rig.assistant.status is Status.IDLE


async def test_a_result_arriving_during_an_active_response_waits_for_its_response_done(
    tmp_path: Path,
) -> None:
    # Each spoken response stays active a while before its audio: the result comes meanwhile.
    async with RealtimeSimulator(SimConfig(pacing=0, first_audio_delay_ms=400)) as sim:
        cfg = make_config(sim.url, tmp_path, conversation={"function_deadline_ms": 20000})
        rig = build_rig(cfg, tmp_path / "reply.wav")
        active_at_result: list[bool] = []

        def placeholder_speaking() -> bool:
            link = rig.assistant.link
            return (
                rig.assistant.status is Status.RESPONDING
                and link is not None
                and (link.response_active)
            )

        async def source() -> AsyncIterator[bytes]:
            async for frame in frames_of(demo_wav("hey_jarvis_kitchen_light.wav"), silence_s=0):
                yield frame
            async for frame in silence_until(lambda: pending(rig)):
                yield frame
            async for frame in frames_of(demo_wav("follow_up_time.wav"), silence_s=0):
                yield frame
            async for frame in silence_until(placeholder_speaking):
                yield frame
            answer(rig)
            link = rig.assistant.link
            active_at_result.append(link is not None and link.response_active)
            async for frame in silence_until(lambda: LIGHT_ON in said(rig)):
                yield frame

        async with asyncio.timeout(40):
            await rig.assistant.run(source(), exit_on_eof=True)

        assert active_at_result == [True]
        assert said(rig) == [WAITING, LIGHT_ON]
        assert sent_errors(sim) == []  # no conversation_already_has_active_response
        assert [e["type"] for _, e in sim.received].count("response.create") == 1
        assert len(rig.of(ResponseCompleted)) == 3  # the call, the placeholder, the late answer


async def test_a_call_past_its_deadline_gets_the_error_result_then_the_conversation_ends(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    # The follow-up window is far shorter than the deadline: the pending call holds it open.
    cfg = make_config(
        sim.url, tmp_path, conversation={"function_deadline_ms": 1000, "follow_up_s": 0.2}
    )
    rig = build_rig(cfg, tmp_path / "reply.wav")
    async with asyncio.timeout(30):
        await rig.assistant.run(
            frames_of(demo_wav("hey_jarvis_kitchen_light.wav")), exit_on_eof=True
        )
    assert outputs(sim) == [{"error": "no answer from set_light within 1000 ms"}]
    assert len(rig.of(ResponseCompleted)) == 2  # the model answered the user after all
    statuses = [s.status for s in rig.of(ServiceState)]
    tail = statuses[statuses.index("follow_up") :]
    assert tail == ["follow_up", "responding", "follow_up", "idle"]
    assert sent_errors(sim) == []
    assert rig.assistant.status is Status.IDLE and not rig.assistant.calls.pending


async def test_several_pending_calls_each_resolve_on_their_own(tmp_path: Path) -> None:
    script = """
name: two calls
turns:
  - user: "Turn on the kitchen light."
    call: {name: set_light, arguments: {room: kitchen, state: "on"}}
    after_call: "Kitchen done."
  - user: "And the hall light."
    call: {name: set_light, arguments: {room: hall, state: "on"}}
    after_call: "Hall done."
"""
    async with RealtimeSimulator(SimConfig(pacing=0), scenario=parse_scenario(script)) as sim:
        cfg = make_config(sim.url, tmp_path, conversation={"function_deadline_ms": 20000})
        rig = build_rig(cfg, tmp_path / "reply.wav")

        def calls_pending(count: int) -> bool:
            return pending(rig) and len(rig.assistant.calls.pending) == count

        async def source() -> AsyncIterator[bytes]:
            async for frame in frames_of(demo_wav("hey_jarvis_kitchen_light.wav"), silence_s=0):
                yield frame
            async for frame in silence_until(lambda: calls_pending(1)):
                yield frame
            async for frame in frames_of(demo_wav("follow_up_time.wav"), silence_s=0):
                yield frame
            async for frame in silence_until(lambda: calls_pending(2)):
                yield frame
            answer(rig, 1)  # the second call first
            async for frame in silence_until(lambda: "Hall done." in said(rig) and pending(rig)):
                yield frame
            answer(rig, 0)
            async for frame in silence_until(lambda: "Kitchen done." in said(rig)):
                yield frame

        async with asyncio.timeout(40):
            await rig.assistant.run(source(), exit_on_eof=True)

        assert said(rig) == ["Hall done.", "Kitchen done."]
        assert len(outputs(sim)) == 2
        assert sent_errors(sim) == []


async def wait_for_result_conversation(rig: Rig) -> list[Status]:
    """Speak, let the user try to go on while the call is pending, then answer it; returns the
    status at each of those moments."""
    seen: list[Status] = []

    def call_made() -> bool:
        return bool(rig.assistant.calls.pending) and len(rig.of(ResponseCompleted)) == 1

    async def source() -> AsyncIterator[bytes]:
        async for frame in frames_of(demo_wav("hey_jarvis_kitchen_light.wav"), silence_s=0):
            yield frame
        async for frame in silence_until(call_made):
            yield frame
        seen.append(rig.assistant.status)
        async for frame in frames_of(demo_wav("follow_up_time.wav")):  # not heard: it waits
            yield frame
        seen.append(rig.assistant.status)
        answer(rig)
        async for frame in silence_until(lambda: LIGHT_ON in said(rig)):
            yield frame

    async with asyncio.timeout(40):
        await rig.assistant.run(source(), exit_on_eof=True)
    return seen


async def test_the_preview_model_keeps_waiting_for_the_result(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = make_config(sim.url, tmp_path, openai={"model": "gpt-4o-realtime-preview"})
    rig = build_rig(cfg, tmp_path / "reply.wav")
    seen = await wait_for_result_conversation(rig)
    assert seen == [Status.RESPONDING, Status.RESPONDING]
    assert [c.mode for c in rig.of(FunctionCallRequested)] == ["wait"]
    assert [t.role for t in rig.of(Transcript)].count("user") == 1
    assert said(rig) == [LIGHT_ON]
    assert sim.connections[0].protocol == "beta"
    dropped = [e for e in rig.migration_events if isinstance(e, Degradation)]
    assert "async_functions" in {d.feature for d in dropped}


async def test_disable_new_features_turns_async_calls_off_reported_once(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = make_config(sim.url, tmp_path, openai={"disable_new_features": True})
    rig = build_rig(cfg, tmp_path / "reply.wav")
    seen = await wait_for_result_conversation(rig)
    assert seen == [Status.RESPONDING, Status.RESPONDING]
    assert [c.mode for c in rig.of(FunctionCallRequested)] == ["wait"]
    assert said(rig) == [LIGHT_ON]
    # A second session on the same model reports nothing new.
    again = await rig.assistant.migration.connect(
        session_settings(cfg, rig.assistant.calls.registry)
    )
    await again.session.close()
    dropped = [
        e
        for e in rig.migration_events
        if isinstance(e, Degradation) and e.feature == "async_functions"
    ]
    assert [(d.model, d.feature) for d in dropped] == [("gpt-realtime", "async_functions")]
    assert sim.connection_count == 2


@pytest.mark.broker
async def test_a_flow_answers_on_mqtt_after_the_user_went_on_and_the_answer_is_spoken(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    mqtt_base = unique_base()
    mqtt = {"host": mqtt_broker.host, "port": mqtt_broker.port, "base_topic": mqtt_base}
    mqtt |= {"discovery_prefix": f"{mqtt_base}_ha", "ha_status_topic": f"{mqtt_base}_ha/status"}
    cfg = make_config(sim.url, tmp_path, mqtt=mqtt, conversation={"function_deadline_ms": 20000})
    key = SecretStr("sk-test-async-0001")
    service = build_service(cfg, api_key=key, sink=parse_sink("null"), bridge_options=FAST)
    base = service.bridge.topics.base
    a = service.assistant
    async with observer(mqtt_broker, f"{base}/#") as obs:

        def spoken() -> list[str]:
            return [
                m.json()["text"]
                for m in obs.on(f"{base}/event/transcript")
                if m.json()["role"] == "assistant"
            ]

        async def flow() -> Any:
            """A slow flow: it answers once the model has told the user it is still waiting."""
            call = (await obs.expect(f"{base}/event/function_call", within=30)).json()
            await obs.expect(f"{base}/event/transcript", lambda m: m.json()["text"] == WAITING)
            result = {"call_id": call["call_id"], "output": {"ok": True}}
            return call, await obs.request(service.bridge, "function_call/result", result)

        answering = asyncio.create_task(flow())

        async def speech() -> AsyncIterator[bytes]:
            await service.bridge.wait_connected()
            async for frame in frames_of(demo_wav("hey_jarvis_kitchen_light.wav"), silence_s=0):
                yield frame
            async for frame in silence_until(
                lambda: a.status is Status.FOLLOW_UP and bool(a.calls.pending)
            ):
                yield frame
            async for frame in frames_of(demo_wav("follow_up_time.wav")):
                yield frame
            async for frame in silence_until(lambda: LIGHT_ON in spoken()):
                yield frame

        async with asyncio.timeout(40):
            await service.run(speech(), exit_on_eof=True)
        call, reply = await answering
    assert call["mode"] == "async" and call["answered_by"] == "mqtt"
    assert reply["status"] == "ok"
    assert spoken() == [WAITING, LIGHT_ON]
    assert sent_errors(sim) == []
