"""Audio sinks for the Realtime API's 24 kHz PCM16 mono output: speaker, WAV file, null.

Every sink keeps per-response accounting: `received_ms` (written since `begin_response`) and
`played_ms` (of that, what actually reached the listener). `flush_now()` is the barge-in stop: it
drops everything not yet played and returns `played_ms`, the figure the assistant needs to
truncate the conversation item (`conversation.item.truncate`'s `audio_end_ms`).

What "played" means per sink:
- speaker: handed to PortAudio by its callback (the device's output latency is not subtracted).
- wav / null with `realtime=False` (default): written is played, at once; `drain()` returns
  immediately. Deterministic and fast, for tests and batch runs.
- wav / null with `realtime=True`: a simulated device plays queued audio at 1x on a monotonic
  clock and idles when empty, so played = written - still queued. The WAV file then holds only
  what was played: audio cut by `flush_now()` or `close()` (without `drain()`) is not in it,
  exactly what a listener would have heard. The clock and sleep are injectable for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
import wave
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from edge_voice.audio.device import (
    AudioUnavailableError,
    choose_rate,
    load_sounddevice,
    parse_device,
)
from edge_voice.audio.pcm import API_RATE, SAMPLE_WIDTH
from edge_voice.audio.playout import PlayoutTap, PlayoutTaps
from edge_voice.audio.resample import StreamResampler
from edge_voice.audio.timing import Clock, SimulatedPlayback, Sleep

SINK_SPECS: Final = "speaker[:DEVICE], wav:PATH, null"


class AudioSink(ABC):
    """Plays 24 kHz PCM16 mono audio and reports how much of the current response was played."""

    rate: Final = API_RATE

    def __init__(self) -> None:
        self._written = 0  # API-rate samples written over the sink's life, minus discarded ones
        self._response_start = 0
        self.item_id: str | None = None
        """The conversation item whose audio is playing, as given to `begin_response`."""
        self.closed = False
        self._taps = PlayoutTaps()

    @property
    def playout_rate(self) -> int:
        """The rate the audio is played at, and so the rate of every tap."""
        return self.rate

    def tap(self) -> PlayoutTap:
        """A tap of what is played from now on (the echo canceller's far end)."""
        return self._taps.add(self.playout_rate, before_take=self._commit)

    def _commit(self) -> None:  # noqa: B027 - a hook: a real device pushes as it plays
        """Hand the audio played since the last call to the taps (simulated devices)."""

    def begin_response(self, item_id: str | None = None) -> None:
        """Start accounting for a new response; `played_ms` and `received_ms` restart at 0."""
        self.item_id = item_id
        self._response_start = self._written

    async def write(self, pcm24k: bytes) -> None:
        """Queue PCM16 mono 24 kHz audio for playback."""
        if len(pcm24k) % SAMPLE_WIDTH:
            raise ValueError(f"PCM16 audio has an even number of bytes, got {len(pcm24k)}")
        if self.closed:
            raise RuntimeError(f"{type(self).__name__} is closed")
        self._written += len(pcm24k) // SAMPLE_WIDTH
        await self._write(pcm24k)

    @property
    def received_ms(self) -> int:
        """Milliseconds of audio written for the current response (after flushes: kept only)."""
        return (self._written - self._response_start) * 1000 // self.rate

    @property
    def played_ms(self) -> int:
        """Milliseconds of the current response that have been played so far."""
        played = self._written - min(self._pending(), self._written)
        return max(0, played - self._response_start) * 1000 // self.rate

    def flush_now(self) -> int:
        """Stop at once (barge-in): drop all queued audio; return the ms of the response played."""
        self._written -= min(self._pending(), self._written)
        self._discard()
        # Discarded audio of an earlier response may have been queued before this one began.
        self._response_start = min(self._response_start, self._written)
        return self.played_ms

    @abstractmethod
    async def _write(self, pcm24k: bytes) -> None:
        """Queue or write the audio (subclasses)."""

    @abstractmethod
    def _pending(self) -> int:
        """API-rate samples written but not yet played."""

    @abstractmethod
    def _discard(self) -> None:
        """Drop everything not yet played."""

    @abstractmethod
    async def drain(self) -> None:
        """Wait until everything written has been played."""

    def close(self) -> None:
        """Release the device or finish the file; audio not yet played is dropped (drain first)."""
        if not self.closed:
            self.closed = True
            self._close()

    @abstractmethod
    def _close(self) -> None:
        """Release resources (subclasses)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _SimulatedSink(AudioSink):
    def __init__(self, *, realtime: bool, clock: Clock, sleep: Sleep) -> None:
        super().__init__()
        self.realtime = realtime
        self._playback = SimulatedPlayback(self.rate, clock) if realtime else None
        self._sleep = sleep
        self._unplayed = bytearray()  # realtime, audio kept: written, not yet played

    def _keeps_audio(self) -> bool:
        """Whether played audio goes anywhere (a file, a tap)."""
        return bool(self._taps)

    def _played(self, pcm24k: bytes) -> None:
        """Audio the simulated device has just played."""
        self._taps.push(pcm24k)

    def _pending(self) -> int:
        self._commit()
        return 0 if self._playback is None else self._playback.pending()

    def _discard(self) -> None:
        self._commit()
        self._unplayed.clear()
        if self._playback is not None:
            self._playback.discard()

    async def _write(self, pcm24k: bytes) -> None:
        if self._playback is None:
            self._played(pcm24k)  # written is played, at once
            return
        self._playback.queue(len(pcm24k) // SAMPLE_WIDTH)
        if self._keeps_audio():
            self._unplayed += pcm24k
            self._commit()

    def _commit(self) -> None:
        """Move the part of the queue the simulated device has played on."""
        if self._playback is None or not self._unplayed:
            return
        queued = len(self._unplayed) // SAMPLE_WIDTH
        played = (queued - min(self._playback.pending(), queued)) * SAMPLE_WIDTH
        if played:
            self._played(bytes(self._unplayed[:played]))
            del self._unplayed[:played]

    async def drain(self) -> None:
        """Wait (realtime) until the simulated device has played everything; else return."""
        while self._playback is not None and (remaining := self._playback.remaining_s()) > 0:
            await self._sleep(remaining)
        self._commit()


class NullSink(_SimulatedSink):
    """Discards audio but keeps the accounting (and, with `realtime=True`, the timing)."""

    def __init__(
        self, *, realtime: bool = False, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        super().__init__(realtime=realtime, clock=clock, sleep=sleep)

    def _close(self) -> None:
        """Nothing to release."""


class WavSink(_SimulatedSink):
    """Writes a 24 kHz PCM16 mono WAV; the header is finalised on `close()`."""

    def __init__(
        self,
        path: str | Path,
        *,
        realtime: bool = False,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(realtime=realtime, clock=clock, sleep=sleep)
        self.path = Path(path)
        self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - closed in _close
        self._wav.setnchannels(1)
        self._wav.setsampwidth(SAMPLE_WIDTH)
        self._wav.setframerate(self.rate)

    @property
    def frames_written(self) -> int:
        """Samples in the file so far."""
        self._commit()
        return int(self._wav.getnframes())

    def _keeps_audio(self) -> bool:
        return True  # the file holds what was played

    def _played(self, pcm24k: bytes) -> None:
        # writeframesraw: the header is patched once on close, not on every chunk.
        self._wav.writeframesraw(pcm24k)
        super()._played(pcm24k)

    def _close(self) -> None:
        self._commit()
        self._unplayed.clear()
        self._wav.close()


class SpeakerSink(AudioSink):
    """A PortAudio output device via sounddevice (optional `audio` extra), opened on first write."""

    def __init__(self, device: str | int | None = None) -> None:
        super().__init__()
        self._sd = load_sounddevice("output")
        self.device = parse_device(device) if isinstance(device, str) else device
        self.device_rate = choose_rate(self._sd, "output", self.device, API_RATE)
        self._resampler = StreamResampler(API_RATE, self.device_rate)
        # Shared with PortAudio's callback thread; held only for a bytearray copy.
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self._stream: Any = None
        self._emptied = asyncio.Event()

    @property
    def playout_rate(self) -> int:
        """The device's rate: the taps get what PortAudio took, as it took it."""
        return self.device_rate

    def _open(self) -> None:
        loop = asyncio.get_running_loop()

        def callback(outdata: Any, frames: int, time_info: Any, status: Any) -> None:
            size = len(outdata)
            with self._lock:
                take = min(size, len(self._buffer))
                if take:
                    outdata[:take] = self._buffer[:take]
                    if self._taps:  # the echo canceller's reference: what plays now
                        self._taps.push(self._buffer[:take])
                    del self._buffer[:take]
                emptied = take > 0 and not self._buffer
            if take < size:
                outdata[take:] = bytes(size - take)
            if emptied:
                with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
                    loop.call_soon_threadsafe(self._emptied.set)

        try:
            self._stream = self._sd.RawOutputStream(
                samplerate=self.device_rate,
                device=self.device,
                channels=1,
                dtype="int16",
                callback=callback,
            )
            self._stream.start()
        except self._sd.PortAudioError as exc:
            raise AudioUnavailableError(f"cannot open speaker {self.device!r}: {exc}") from exc

    async def _write(self, pcm24k: bytes) -> None:
        if self._stream is None:
            self._open()
        data = self._resampler.process(pcm24k)
        with self._lock:
            self._buffer += data

    def _pending(self) -> int:
        with self._lock:
            queued = len(self._buffer) // SAMPLE_WIDTH
        queued += self._resampler.pending_output()
        return math.ceil(queued * self.rate / self.device_rate)

    def _discard(self) -> None:
        with self._lock:
            self._buffer.clear()
        self._resampler.reset()

    async def drain(self) -> None:
        """Wait until the device has taken everything, plus its output latency."""
        if self._stream is None:
            return
        tail = self._resampler.flush()
        self._resampler.reset()
        with self._lock:
            self._buffer += tail
        while True:
            with self._lock:
                if not self._buffer:
                    break
            # No await between the check and clear(): the callback's set() is scheduled
            # through the loop, so it lands after clear() and the wakeup is not lost.
            self._emptied.clear()
            await self._emptied.wait()
        await asyncio.sleep(float(self._stream.latency))

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abort()  # abort, not stop: stop() would block until the queue played out
            stream.close()
        self._discard()


def check_sink_spec(spec: str) -> tuple[str, str]:
    """(kind, argument) of a valid sink spec, else ValueError; opens nothing (config checks)."""
    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "wav" and not arg:
        raise ValueError(f"sink {spec!r}: wav needs a path, e.g. wav:answer.wav")
    if kind not in ("speaker", "wav", "null"):
        raise ValueError(f"unknown audio sink {spec!r}; expected one of: {SINK_SPECS}")
    return kind, arg


def parse_sink(spec: str, *, realtime: bool = False) -> AudioSink:
    """Build a sink from `speaker[:DEVICE]`, `wav:PATH` or `null` (`realtime` for wav/null)."""
    kind, arg = check_sink_spec(spec)
    if kind == "speaker":
        return SpeakerSink(parse_device(arg))
    if kind == "wav":
        return WavSink(arg, realtime=realtime)
    return NullSink(realtime=realtime)
