"""Conversations at real-time pace on the in-process simulator: what edge_voice adds.

- frame path: a source frame handed to the microphone loop → its `input_audio_buffer.append`
  written to the socket (frames while LISTENING; the ones held while the session opens are
  left out: they wait for the session on purpose);
- reply path: an audio delta read from the socket → written to the sink;
- speech stopped (the simulator sends the event) → first reply audio at the sink, minus the
  simulator's configured first-audio delay;
- wake (conversation/start) → session ready (LISTENING), warm session vs cold connect.

Everything runs in one process and one event loop, simulator included, so each figure also
holds the simulator's own work for the same events: an upper bound on edge_voice's share.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bench.broker import Mosquitto
from bench.device import REQUEST_WAV, SocketProbe, running_device, wav_frames
from bench.stats import quantile
from edge_voice.sim.config import SimConfig
from edge_voice.sim.observe import Observer
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import Scenario

#: The simulator's configured wait before the first audio delta (subtracted again).
FIRST_AUDIO_DELAY_MS = 100
SILENCE_TAIL = 12  # 960 ms of silence after the request: the VAD's 500 ms ends the turn
BENCH_SCENARIO = Scenario.model_validate(
    {"name": "bench", "loop": True, "turns": [{"user": "What time is it?", "say": "Ten past ten."}]}
)


class StampingObserver(Observer):
    """The simulator's observer, also stamping each `speech_stopped` it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.speech_stopped: list[float] = []
        self._seen: dict[int, int] = {}

    def notify(self) -> None:
        """Stamp a new speech_stopped event, then wake waiters as usual."""
        record = self.connections[-1] if self.connections else None
        if record is not None and record.sent and len(record.sent) != self._seen.get(record.id):
            self._seen[record.id] = len(record.sent)
            if record.sent[-1].get("type") == "input_audio_buffer.speech_stopped":
                self.speech_stopped.append(time.perf_counter())
        super().notify()


@dataclass
class Samples:
    """Raw samples in milliseconds, by figure."""

    frame_ms: list[float] = field(default_factory=list)
    reply_ms: list[float] = field(default_factory=list)
    first_audio_ms: list[float] = field(default_factory=list)
    warm_ms: list[float] = field(default_factory=list)
    cold_ms: list[float] = field(default_factory=list)


def _pairs(starts: list[float], ends: list[float]) -> list[float]:
    return [1000 * (end - start) for start, end in zip(starts, ends, strict=False)]


async def measure(conversations: int) -> dict[str, Any]:
    """`conversations` conversations, cold and warm in turn; the figures."""
    samples = Samples()
    speech = await wav_frames(REQUEST_WAV)
    silence = [b"\0" * len(speech[0])] * SILENCE_TAIL
    sim_config = SimConfig(pacing=1.0, first_audio_delay_ms=FIRST_AUDIO_DELAY_MS)
    with Mosquitto() as broker, SocketProbe() as probe:
        async with RealtimeSimulator(sim_config, scenario=BENCH_SCENARIO) as sim:
            observer = StampingObserver()
            sim.observer = observer
            async with running_device(broker.port, sim.url, pace_s=0.08) as device:
                for n in range(conversations):
                    a0, d0, w0 = len(probe.appends), len(probe.deltas), len(device.sink.writes)
                    s0 = len(observer.speech_stopped)
                    result = await device.converse(speech + silence, cold=n % 2 == 0)
                    (samples.cold_ms if n % 2 == 0 else samples.warm_ms).append(
                        result["wake_to_ready_ms"]
                    )
                    sent = [t for t, listening in device.mic_frames]
                    kept = [listening for t, listening in device.mic_frames]
                    for ms, listening in zip(_pairs(sent, probe.appends[a0:]), kept, strict=False):
                        if listening:
                            samples.frame_ms.append(ms)
                    writes = device.sink.writes[w0:]
                    samples.reply_ms += _pairs(probe.deltas[d0:], writes)
                    stopped = observer.speech_stopped[s0:]
                    if stopped and writes:
                        first = next(w for w in writes if w >= stopped[0])
                        delay = 1000 * (first - stopped[0]) - FIRST_AUDIO_DELAY_MS
                        samples.first_audio_ms.append(delay)
    return summarise(samples)


def summarise(s: Samples) -> dict[str, Any]:
    """The figures from the raw samples."""
    return {
        "frame_path_p50_ms": quantile(s.frame_ms, 0.5),
        "frame_path_p99_ms": quantile(s.frame_ms, 0.99),
        "frame_path_samples": len(s.frame_ms),
        "reply_path_p50_ms": quantile(s.reply_ms, 0.5),
        "reply_path_p99_ms": quantile(s.reply_ms, 0.99),
        "reply_path_samples": len(s.reply_ms),
        "speech_stopped_to_audio_p50_ms": quantile(s.first_audio_ms, 0.5),
        "speech_stopped_to_audio_p95_ms": quantile(s.first_audio_ms, 0.95),
        "speech_stopped_samples": len(s.first_audio_ms),
        "wake_to_ready_warm_p50_ms": quantile(s.warm_ms, 0.5),
        "wake_to_ready_warm_max_ms": max(s.warm_ms, default=float("nan")),
        "wake_to_ready_cold_p50_ms": quantile(s.cold_ms, 0.5),
    }
