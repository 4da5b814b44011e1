"""The real service in-process, with probes at its edges: source, socket and sink.

`build_service` wires the real parts (wake word, Assistant, ResilientSession → RealtimeSession,
MqttBridge on a local Mosquitto). The probes only read clocks:

- the source stamps each frame as it hands it to the microphone loop;
- the realtime session's websocket frame logger (the one `-vv` shows) stamps every frame the
  websocket library writes to or reads from the socket;
- the sink stamps every write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from edge_voice.audio.pcm import FRAME_BYTES, SILENCE_FRAME
from edge_voice.audio.sinks import NullSink
from edge_voice.audio.sources import WavSource
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.conversation.states import Status
from edge_voice.events import ServiceState
from edge_voice.realtime.session import FRAME_LOGGER
from edge_voice.service import Service, build_service

ASSETS = Path(__file__).resolve().parents[1] / "edge_voice" / "assets" / "audio"
#: "What time is it?" without the wake word (the simulator's first turn answers it).
REQUEST_WAV = ASSETS / "follow_up_time.wav"
API_KEY = "sk-bench-000000000000"
FRAME_S = 0.08


async def wav_frames(path: Path) -> list[bytes]:
    """A WAV's 80 ms 16 kHz frames, read by the package's own WAV source."""
    return [frame async for frame in WavSource(path, fast=True)]


class SocketProbe(logging.Handler):
    """Stamps websocket frames as the library writes (`>`) or reads (`<`) them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.appends: list[float] = []
        self.deltas: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Stamp an audio append going out, or an audio delta coming in."""
        now = time.perf_counter()
        if not record.args or not isinstance(record.args, tuple):
            return
        data = getattr(record.args[0], "data", b"")[:128]
        if record.msg == "> %s" and b'"input_audio_buffer.append"' in data:
            self.appends.append(now)
        elif record.msg == "< %s" and b"audio.delta" in data:
            self.deltas.append(now)

    def __enter__(self) -> SocketProbe:
        logger = logging.getLogger(FRAME_LOGGER)
        self._saved = (logger.level, logger.propagate)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # stamped, not printed
        logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger(FRAME_LOGGER)
        logger.removeHandler(self)
        logger.setLevel(self._saved[0])
        logger.propagate = self._saved[1]


class ProbeSink(NullSink):
    """A null sink that stamps every write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[float] = []

    async def _write(self, pcm24k: bytes) -> None:
        self.writes.append(time.perf_counter())
        await super()._write(pcm24k)


@dataclass
class Device:
    """One running service and its probes."""

    service: Service
    sink: ProbeSink
    #: (time, status) of every retained state the assistant published.
    states: list[tuple[float, str]] = field(default_factory=list)
    #: Stamps of frames handed over while the microphone streams (LISTENING, FOLLOW_UP).
    open_frames: list[float] = field(default_factory=list)
    #: Per frame handed over while the mic is open (AWAKE too): whether it was LISTENING.
    mic_frames: list[tuple[float, bool]] = field(default_factory=list)
    script: list[bytes] = field(default_factory=list)
    pace_s: float = FRAME_S
    frames_out: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_state(self, event: ServiceState) -> None:
        """Bus handler: runs inside publish, so the stamp is when the state changed."""
        if not self.states or self.states[-1][1] != event.status:
            self.states.append((time.perf_counter(), event.status))
            self._changed.set()

    async def wait_status(self, status: str, after: float) -> float:
        """When the assistant entered `status` after `after` (within 30 s)."""
        async with asyncio.timeout(30):
            while True:
                for stamp, seen in self.states:
                    if seen == status and stamp >= after:
                        return stamp
                self._changed.clear()
                await self._changed.wait()

    async def source(self) -> AsyncIterator[bytes]:
        """Scripted frames, then silence, at `pace_s` per frame (0: as fast as possible)."""
        status = self.service.assistant
        next_at = time.perf_counter()
        while True:
            frame = self.script.pop(0) if self.script else SILENCE_FRAME
            assert len(frame) == FRAME_BYTES
            now = time.perf_counter()
            if status.status in (Status.AWAKE, Status.LISTENING, Status.FOLLOW_UP):
                self.mic_frames.append((now, status.status is not Status.AWAKE))
            self.frames_out += 1
            yield frame
            next_at += self.pace_s
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    def forget(self) -> None:
        """Drop the stamps gathered so far (a long run keeps its memory to the service's)."""
        del self.states[:-1]  # the current state: wait_status looks for the next one
        self.sink.writes.clear()
        self.mic_frames.clear()

    async def converse(self, speech: list[bytes], *, cold: bool) -> dict[str, float]:
        """One conversation (conversation/start, the speech, the answer, back to idle)."""
        assistant = self.service.assistant
        if cold:
            await assistant.close_link()
        self.mic_frames.clear()
        started = time.perf_counter()
        await assistant.start()
        ready = await self.wait_status("listening", started)
        self.script.extend(speech)
        await self.wait_status("idle", ready)
        return {"wake_to_ready_ms": 1000 * (ready - started), "started": started}


def device_config(state_dir: Path, mqtt_port: int, sim_url: str, **openai: Any) -> EdgeVoiceConfig:
    """A device on the local broker and the simulator, with a short follow-up window."""
    return EdgeVoiceConfig.model_validate(
        {
            "device_id": "bench",
            "log_level": "ERROR",
            "state_dir": str(state_dir),
            "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "base_topic": "edge_voice_bench"},
            "openai": {"base_url": sim_url, **openai},
            "conversation": {"follow_up_s": 0.3},
        }
    )


@contextlib.asynccontextmanager
async def running_device(mqtt_port: int, sim_url: str, pace_s: float) -> AsyncIterator[Device]:
    """The service running on a scripted source until the block ends."""
    with tempfile.TemporaryDirectory(prefix="edge_voice_bench_") as state:
        cfg = device_config(Path(state), mqtt_port, sim_url)
        sink = ProbeSink()
        service = build_service(cfg, api_key=SecretStr(API_KEY), sink=sink)
        device = Device(service, sink, pace_s=pace_s)
        service.bus.on(ServiceState, device.on_state)
        task = asyncio.create_task(service.run(device.source()))
        try:
            await device.wait_status("idle", 0.0)
            yield device
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Microphone:
    """A quiet room between utterances: frames only while an utterance is queued (the soak's
    microphone, and the tests' beneath their WAV playing)."""

    def __init__(self) -> None:
        self._frames: asyncio.Queue[bytes | None] = asyncio.Queue()

    def queue(self, frames: list[bytes]) -> None:
        """Queue an utterance's frames, all at once."""
        for frame in frames:
            self._frames.put_nowait(frame)

    def close(self) -> None:
        """End the source (the service shuts down)."""
        self._frames.put_nowait(None)

    async def frames(self) -> AsyncIterator[bytes]:
        """The source the service reads."""
        while (frame := await self._frames.get()) is not None:
            yield frame
