"""The assistant end to end on real parts: wake word on WAV speech, the sim, a reply WAV."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edge_voice.conversation.states import Status
from edge_voice.events import (
    ErrorOccurred,
    FunctionCallRequested,
    ResponseCompleted,
    ServiceState,
    Transcript,
    WakeDetected,
)
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import (
    Rig,
    answer_calls,
    build_rig,
    demo_wav,
    frames_of,
    make_config,
    wav_seconds,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


async def test_wake_word_to_function_call_to_spoken_reply(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    rig = build_rig(make_config(sim.url, tmp_path), tmp_path / "reply.wav")
    answering = asyncio.create_task(answer_calls(rig))
    async with asyncio.timeout(30):
        await rig.assistant.run(
            frames_of(demo_wav("hey_jarvis_kitchen_light.wav")), exit_on_eof=True
        )
    answering.cancel()

    wakes = rig.of(WakeDetected)
    assert [w.wakeword for w in wakes] == ["hey_jarvis"] and wakes[0].score > 0.5
    calls = rig.of(FunctionCallRequested)
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("set_light", {"room": "kitchen", "state": "on"})
    ]
    said = [(t.role, t.text) for t in rig.of(Transcript)]
    assert ("user", "Hey Jarvis, turn on the kitchen light.") in said
    assert ("assistant", "The kitchen light is on.") in said
    responses = rig.of(ResponseCompleted)
    assert len(responses) == 2  # the call, then the spoken answer
    assert all(r.cost_usd > 0 and r.model == "gpt-realtime" for r in responses)
    assert responses[-1].voice == "cedar"
    assert wav_seconds(tmp_path / "reply.wav") > 1.0
    statuses = [s.status for s in rig.of(ServiceState)]
    assert statuses[:4] == ["idle", "awake", "listening", "responding"]
    assert statuses[-1] == "idle"
    assert rig.assistant.status is Status.IDLE
    # the wake word itself never reached the API: the sim heard only the request
    appended = sum(1 for _, e in sim.received if e["type"] == "input_audio_buffer.append")
    assert 0 < appended * 0.08 < 4.1 - 1.5


async def test_follow_up_without_the_wake_word(sim: RealtimeSimulator, tmp_path: Path) -> None:
    rig = build_rig(make_config(sim.url, tmp_path, tools=[]), tmp_path / "reply.wav")
    follow_up_heard = asyncio.Event()

    async def source() -> AsyncIterator[bytes]:
        async for frame in frames_of(demo_wav("hey_jarvis_kitchen_light.wav"), silence_s=0):
            yield frame
        while rig.assistant.status is not Status.FOLLOW_UP:  # like a user waiting for the answer
            yield bytes(2560)
            await asyncio.sleep(0.01)
        async for frame in frames_of(demo_wav("follow_up_time.wav")):
            yield frame
        follow_up_heard.set()

    async with asyncio.timeout(30):
        await rig.assistant.run(source(), exit_on_eof=True)
    assert follow_up_heard.is_set()
    assert len(rig.of(WakeDetected)) == 1
    said = [t.text for t in rig.of(Transcript) if t.role == "assistant"]
    assert said == ["I can't control the lights from here.", "It's a quarter past ten."]
    assert sim.connection_count == 1  # one session for both turns


async def test_unanswered_call_gets_an_error_output_after_the_deadline(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = make_config(sim.url, tmp_path, conversation={"function_deadline_ms": 300})
    rig = build_rig(cfg, tmp_path / "reply.wav")
    async with asyncio.timeout(30):
        await rig.assistant.run(
            frames_of(demo_wav("hey_jarvis_kitchen_light.wav")), exit_on_eof=True
        )
    outputs = [
        e["item"]["output"]
        for _, e in sim.received
        if e["type"] == "conversation.item.create" and e["item"]["type"] == "function_call_output"
    ]
    assert [json.loads(o) for o in outputs] == [{"error": "no answer from set_light within 300 ms"}]
    assert len(rig.of(ResponseCompleted)) == 2  # the model still answered the user


async def test_fallback_mid_run_completes_on_the_legacy_model(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.config.refuse_models.add("gpt-realtime")
    rig = build_rig(make_config(sim.url, tmp_path), tmp_path / "reply.wav")
    answering = asyncio.create_task(answer_calls(rig))
    async with asyncio.timeout(30):
        await rig.assistant.run(
            frames_of(demo_wav("hey_jarvis_kitchen_light.wav")), exit_on_eof=True
        )
    answering.cancel()
    responses = rig.of(ResponseCompleted)
    assert responses and all(r.model == "gpt-4o-realtime-preview" for r in responses)
    assert responses[-1].voice == "alloy"  # cedar mapped to the configured fallback voice
    assert [t.text for t in rig.of(Transcript) if t.role == "assistant"] == [
        "The kitchen light is on."
    ]
    assert any(s.fallback_active for s in rig.of(ServiceState))


async def test_drop_mid_answer_with_no_way_back_ends_with_an_error_and_idle(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.config.drop_after_audio_deltas = 1
    sim.config.drop_mode = "abort"
    cfg = make_config(sim.url, tmp_path, tools=[], openai={"model_selection": "new"})
    rig = build_rig(cfg, tmp_path / "reply.wav")
    source = frames_of(demo_wav("hey_jarvis_kitchen_light.wav"))
    async with asyncio.timeout(30):
        run = asyncio.create_task(rig.assistant.run(source, exit_on_eof=True))
        await sim.wait_for(lambda: sim.connection_count >= 1, within=20)
        sim.config.refuse_models.add("gpt-realtime")  # the reconnect after the drop is refused
        await run
    errors = rig.of(ErrorOccurred)
    assert errors and "invalid_model" in {e.code for e in errors}
    assert rig.assistant.status is Status.IDLE


async def interrupt_the_answer(rig: Rig, tmp_path: Path, words: str, after_ms: int) -> None:
    """Ask for the light, then say `words` once `after_ms` of the answer has been played."""
    from edge_voice.audio.sources import parse_source
    from tests.support.speech import Speech, SpeechCache

    interruption = SpeechCache(tmp_path).wav(Speech(words, voice="en", speed=150))
    sink = rig.assistant.sink

    async def user() -> AsyncIterator[bytes]:
        async for frame in frames_of(demo_wav("hey_jarvis_kitchen_light.wav"), silence_s=0):
            yield frame
        while not (rig.assistant.status is Status.RESPONDING and sink.played_ms >= after_ms):
            yield bytes(2560)
            await asyncio.sleep(0.08)  # the microphone's own pace while the answer plays
        async with parse_source(f"wav:{interruption}", fast=True) as source:
            async for frame in source:
                yield frame

    async with asyncio.timeout(30):
        await rig.assistant.run(user(), exit_on_eof=True)


async def test_wake_word_over_the_answer_barges_in_and_truncates_at_the_played_position(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = make_config(sim.url, tmp_path, tools=[])
    rig = build_rig(cfg, tmp_path / "reply.wav", sink_realtime=True)  # a speaker's pace
    await interrupt_the_answer(rig, tmp_path, "hey jarvis", after_ms=400)
    truncates = [e for _, e in sim.received if e["type"] == "conversation.item.truncate"]
    assert len(truncates) == 1
    cut = truncates[0]["audio_end_ms"]
    answer_ms = len("I can't control the lights from here.") * 70  # the sim's speech length
    assert 400 <= cut < answer_ms  # what was heard, not what was received
    statuses = [s.status for s in rig.of(ServiceState)]
    assert "listening" in statuses[statuses.index("responding") :]
    assert len(rig.of(WakeDetected)) == 2


async def test_with_echo_cancellation_speech_over_the_answer_barges_in_by_server_vad(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = make_config(sim.url, tmp_path, tools=[], audio={"echo_cancelled": True})
    rig = build_rig(cfg, tmp_path / "reply.wav", sink_realtime=True)
    await interrupt_the_answer(rig, tmp_path, "stop, stop please", after_ms=300)
    assert len(rig.of(WakeDetected)) == 1  # no wake word needed to interrupt
    truncates = [e for _, e in sim.received if e["type"] == "conversation.item.truncate"]
    assert len(truncates) == 1 and truncates[0]["audio_end_ms"] >= 300
    statuses = [s.status for s in rig.of(ServiceState)]
    assert "listening" in statuses[statuses.index("responding") :]


@pytest.mark.parametrize("action", ["switch_model", "refuse"])
async def test_daily_budget_switches_to_the_cheaper_model_or_refuses(
    sim: RealtimeSimulator, tmp_path: Path, action: str
) -> None:
    cfg = make_config(sim.url, tmp_path, tools=[], budget={"daily_usd": 0.01, "action": action})
    rig = build_rig(cfg, tmp_path / "reply.wav")
    spent = rig.assistant.metrics.record_response(
        "earlier", "gpt-realtime", {"input": 500, "output": 500}
    )
    assert spent.cost_usd > 0.01  # today's budget is already used up
    async with asyncio.timeout(30):
        await rig.assistant.run(
            frames_of(demo_wav("hey_jarvis_kitchen_light.wav")), exit_on_eof=True
        )
    if action == "switch_model":
        assert [c.model for c in sim.connections] == ["gpt-realtime-mini"]
        assert [r.model for r in rig.of(ResponseCompleted)] == ["gpt-realtime-mini"]
    else:
        assert sim.connection_count == 0
        errors = rig.of(ErrorOccurred)
        assert [e.code for e in errors] == ["budget_exceeded"]
        assert "no new conversations until tomorrow" in errors[0].message
    assert rig.assistant.status is Status.IDLE


async def test_a_config_change_between_conversations_is_not_hidden_by_the_warm_session(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = make_config(sim.url, tmp_path, tools=[])
    rig = build_rig(cfg, tmp_path / "reply.wav")

    async def user() -> AsyncIterator[bytes]:
        async for frame in frames_of(demo_wav("hey_jarvis_kitchen_light.wav"), silence_s=0):
            yield frame
        while not (rig.assistant.status is Status.IDLE and rig.assistant.completed_in_conversation):
            yield bytes(2560)
            await asyncio.sleep(0.02)
        assert rig.assistant.link is not None  # a warm session waits for the next conversation
        rig.store.set_model("gpt-realtime-mini")  # model/set: announced on the bus
        async for frame in frames_of(demo_wav("hey_jarvis_kitchen_light.wav")):
            yield frame

    async with asyncio.timeout(40):
        await rig.assistant.run(user(), exit_on_eof=True)
    assert [c.model for c in sim.connections] == ["gpt-realtime", "gpt-realtime-mini"]
    assert [r.model for r in rig.of(ResponseCompleted)] == ["gpt-realtime", "gpt-realtime-mini"]


async def test_a_replaced_wake_word_detector_and_the_last_one_are_closed(tmp_path: Path) -> None:
    from edge_voice.audio.wakeword import WakeWordDetector

    rig = build_rig(make_config("ws://127.0.0.1:9", tmp_path), tmp_path / "reply.wav")
    first = rig.assistant.wake_word
    assert isinstance(first, WakeWordDetector)
    second = WakeWordDetector(("alexa",))
    rig.assistant.replace_wake_word(second)  # what a wakeword.* change does
    assert first.closed  # its TFLite interpreters are freed, not left to the garbage collector
    assert not second.closed
    await rig.assistant.close()
    assert second.closed
