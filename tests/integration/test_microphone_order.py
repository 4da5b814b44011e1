"""A frame for the session is on the socket before the wake word scores it (frame path)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from edge_voice.audio.sources import parse_source
from edge_voice.conversation.microphone import MIC_OPEN, WakeWord
from edge_voice.conversation.states import Status
from edge_voice.events import FunctionCallRequested
from edge_voice.realtime.session import FRAME_LOGGER
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import Rig, build_rig, demo_wav, make_config

pytestmark = pytest.mark.timeout(60)


class AppendCounter(logging.Handler):
    """Counts `input_audio_buffer.append` frames as the websocket library writes them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.appends = 0

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        data = getattr(args[0], "data", b"") if args else b""
        if record.msg == "> %s" and b'"input_audio_buffer.append"' in data[:128]:
            self.appends += 1


class Scored:
    """The real detector, noting what was on the socket when each LISTENING frame is scored."""

    def __init__(self, inner: WakeWord, rig: Rig, counter: AppendCounter) -> None:
        self.inner, self.rig, self.counter = inner, rig, counter
        self.streamed = 0  # frames handed over while the microphone streams to the session
        self.at_scoring: list[tuple[int, int]] = []

    def process(self, frame: bytes) -> Sequence[object]:
        if self.rig.assistant.status is Status.LISTENING:
            self.at_scoring.append((self.streamed, self.counter.appends))
        return self.inner.process(frame)  # type: ignore[return-value]

    def reset(self) -> None:
        self.inner.reset()

    def close(self) -> None:
        self.inner.close()


async def live_mic(path: Path, scored: Scored, rig: Rig) -> AsyncIterator[bytes]:
    """The WAV at real-time pace (a live microphone), then silence."""
    async with parse_source(f"wav:{path}", pad_silence_s=5) as source:
        async for frame in source:
            if rig.assistant.status in MIC_OPEN:
                scored.streamed += 1
            yield frame


async def test_streamed_frames_are_sent_before_they_are_scored(tmp_path: Path) -> None:
    counter = AppendCounter()
    logger = logging.getLogger(FRAME_LOGGER)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(counter)
    try:
        async with RealtimeSimulator(SimConfig(pacing=0)) as sim:
            rig = build_rig(make_config(sim.url, tmp_path), tmp_path / "reply.wav")
            scored = Scored(rig.assistant.mic.wake, rig, counter)
            rig.assistant.mic.wake = scored
            events = rig.bus.subscribe()
            source = live_mic(demo_wav("hey_jarvis_kitchen_light.wav"), scored, rig)
            run = asyncio.create_task(rig.assistant.run(source))
            async with asyncio.timeout(20):  # the user's turn ends: the model answers
                while not isinstance(await events.get(), FunctionCallRequested):
                    pass
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
        logger.propagate = propagate
    steady = scored.at_scoring[5:]  # past the burst of frames held while the session opened
    assert len(steady) > 10
    assert all(appended == streamed for streamed, appended in steady), steady[:5]
