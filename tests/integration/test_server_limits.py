"""The server's routine limits on a real device: the session's maximum duration and rate limits
are handled without an alarm, and without losing what the user asked."""

from __future__ import annotations

import base64
import logging
import wave
from pathlib import Path

import pytest

from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import (
    REQUEST,
    WAKE_REQUEST,
    ask,
    build_device,
    light_device,
    make_config,
    running,
    start_conversation,
)

pytestmark = pytest.mark.broker


async def test_the_idle_warm_session_expiring_is_renewed_quietly(
    mqtt_broker: BrokerAddress,
    sim: RealtimeSimulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim), sim=sim)
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await ask(obs, device)
        await obs.expect(topics.event("transcript"), lambda m: m.json()["role"] == "assistant")
        idle = await obs.status(device, "idle")
        assert idle["connected"], "the warm session is kept for the next conversation"
        caplog.clear()
        assert sim.expire_sessions() == 1  # the server's 60 minutes are up
        renewed = await obs.status(device, "idle")  # published once the new session carries on
        assert renewed["connected"]
        assert sim.connection_count == 2
        # An error event would have come before the state that follows the renewal.
        errors = [m.json() for m in obs.on(topics.event("error"))]
        assert errors == [], errors
    assert device.assistant.link is None  # closed at the end, not before
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [m for m in loud if "expired" in m.lower()], loud
    quiet = [r.getMessage() for r in caplog.records if "session_expired" in r.getMessage()]
    assert quiet, "the renewal is logged (at INFO)"


def _asked_again(sim: RealtimeSimulator) -> int:
    """`response.create` events the device sent (the turns themselves are answered by VAD)."""
    return sum(1 for _, event in sim.received if event.get("type") == "response.create")


async def test_a_rate_limited_request_is_asked_again_within_the_hint_and_answered(
    mqtt_broker: BrokerAddress,
    sim: RealtimeSimulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim.config.rate_limit_responses = 1  # the answer to the user's turn is refused once
    sim.config.rate_limit_retry_after_s = 0.3
    caplog.set_level(logging.WARNING, logger="edge_voice")
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim), sim=sim)
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await ask(obs, device)
        said = await obs.expect(
            topics.event("transcript"), lambda m: m.json()["role"] == "assistant"
        )
        assert said.json()["text"]
        await obs.status(device, "idle", after=said)
        assert not obs.on(topics.event("error")), "answered: nothing to tell the user"
    assert sim.config.rate_limit_responses == 0
    assert _asked_again(sim) == 1
    retried = [r.getMessage() for r in caplog.records if "asking again in 0.3 s" in r.getMessage()]
    assert len(retried) == 1, retried


@pytest.mark.parametrize(
    ("refusals", "after_s", "why", "asked_again"),
    [
        (2, 0.2, "still limited after asking again once", 1),
        (1, 30.0, "the server asks to wait 30 s, longer than the 5 s edge_voice waits", 0),
    ],
)
async def test_a_rate_limit_not_lifted_within_the_bound_is_told_to_the_user(
    mqtt_broker: BrokerAddress,
    sim: RealtimeSimulator,
    tmp_path: Path,
    refusals: int,
    after_s: float,
    why: str,
    asked_again: int,
) -> None:
    sim.config.rate_limit_responses = refusals
    sim.config.rate_limit_retry_after_s = after_s
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim), sim=sim)
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await ask(obs, device)
        error = (await obs.expect(topics.event("error"))).json()
        assert error["code"] == "rate_limit_exceeded"
        assert "Rate limit reached" in error["message"] and why in error["message"]
        assert "the request was not answered" in error["message"]
        assert (await obs.request(device, "conversation/stop", {}))["status"] == "ok"
        await obs.status(device, "idle")
        assert not [
            m for m in obs.on(topics.event("transcript")) if m.json()["role"] == "assistant"
        ]
    assert _asked_again(sim) == asked_again
    assert sim.config.rate_limit_responses == refusals - 1 - asked_again


async def test_a_rate_limited_answer_after_a_function_result_is_told_and_does_not_hang(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    # "wait" calls: the answer after the result is our own response.create.
    device = light_device(mqtt_broker, tmp_path, sim, openai={"disable_new_features": True})
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await device.mic.play(WAKE_REQUEST)  # "Hey Jarvis, turn on the kitchen light."
        call = (await obs.expect(topics.event("function_call"))).json()
        assert call["mode"] == "wait"
        sim.config.rate_limit_responses = 2  # the answer, and the one retry
        sim.config.rate_limit_retry_after_s = 0.2
        answer = await obs.request(
            device, "function_call/result", {"call_id": call["call_id"], "output": "done"}
        )
        assert answer["status"] == "ok"
        error = (await obs.expect(topics.event("error"))).json()
        assert error["code"] == "rate_limit_exceeded"
        assert "still limited after asking again once" in error["message"]
        await obs.status(device, "follow_up")  # the user may ask again
        await obs.status(device, "idle")
    assert _asked_again(sim) == 2  # after the result, and once more


async def test_a_rate_limit_retry_due_when_the_session_expires_is_asked_on_the_new_session(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    # The soak's hang: the expiry's restore cancelled the due retry (the link re-asks only an
    # answer that was cut, and this one never began), and the listen timer was off for it.
    sim.config.rate_limit_responses = 1
    sim.config.rate_limit_retry_after_s = 2.0
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim), sim=sim)
    topics = device.topics

    def refused() -> bool:
        return any(
            e.get("type") == "error" and e["error"].get("code") == "rate_limit_exceeded"
            for c in sim.connections
            for e in c.sent
        )

    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await ask(obs, device)
        await sim.wait_for(refused, within=15)
        assert sim.expire_sessions() == 1  # before the retry is due (2 s)
        said = await obs.expect(
            topics.event("transcript"), lambda m: m.json()["role"] == "assistant", within=15
        )
        assert said.json()["text"]
        await obs.status(device, "idle", after=said)
        codes = [m.json()["code"] for m in obs.on(topics.event("error"))]
        assert "rate_limit_exceeded" not in codes, "answered: nothing to tell the user"
    assert sim.connection_count == 2
    asked = [cid for cid, e in sim.received if e.get("type") == "response.create"]
    assert asked == [sim.connections[1].id], asked  # once, on the new session


def _wav_part(
    source: Path, target: Path, end: float, *, silent: bool = False, tail: bool = False
) -> Path:
    """The first `end` (a fraction of its length) of `source` (`tail`: what follows it), or
    that long of silence."""
    with wave.open(str(source), "rb") as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    width = params.sampwidth * params.nchannels
    at = int(len(frames) * end) // width * width
    cut = frames[at:] if tail else frames[:at]
    with wave.open(str(target), "wb") as w:
        w.setparams(params)
        w.writeframes(bytes(len(cut)) if silent else cut)
    return target


async def test_the_session_expiring_while_the_user_speaks_loses_nothing_of_the_utterance(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    # The soak's unanswered conversations: the expiry took the uncommitted words with it (and,
    # before that fix, left the device listening forever). The link gives the new session what
    # the old one had not committed, then the rest of the words: one utterance, answered.
    begun = _wav_part(REQUEST, tmp_path / "begun.wav", 0.4)
    rest = _wav_part(REQUEST, tmp_path / "rest.wav", 0.4, tail=True)
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim), sim=sim)
    topics = device.topics

    def speaking() -> bool:
        return any(
            e.get("type") == "input_audio_buffer.speech_started"
            for c in sim.connections
            for e in c.sent
        )

    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await start_conversation(obs, device)
        await device.mic.play(begun, silence_s=0.0)
        await sim.wait_for(speaking, within=15)
        assert sim.expire_sessions() == 1
        await device.mic.play(rest)  # the user goes on speaking
        answer = (await obs.expect(topics.event("response"), within=20)).json()
        await obs.status(device, "idle", within=20)
        errors = [m.json()["code"] for m in obs.on(topics.event("error"))]
    assert answer["kind"] == "answer"
    assert "audio_dropped" not in errors, errors
    assert sim.connection_count == 2
    first, second = sim.connections
    assert "input_audio_buffer.committed" not in first.sent_types()  # cut off mid-utterance
    assert second.sent_types().count("input_audio_buffer.committed") == 1  # one utterance
    appended = [e["audio"] for e in second.received if e["type"] == "input_audio_buffer.append"]
    heard_ms = sum(len(base64.b64decode(a)) for a in appended) / 48  # 24 kHz PCM16
    # All the words, those the old session heard first: the whole utterance (one frame slack).
    assert heard_ms >= _ms(begun) + _ms(rest) - 80, (heard_ms, _ms(begun), _ms(rest))


def _ms(path: Path) -> float:
    """A WAV file's length."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() * 1000 / w.getframerate()
