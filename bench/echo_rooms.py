"""Echo cancellation on synthetic rooms: echo attenuation, barge-in, self-trigger.

    python -m bench.echo_rooms            # 3 rooms x 4 signal-to-echo ratios x 4 cancellers
    python -m bench.echo_rooms --quick    # one room, two ratios (seconds)

The reply (espeak-ng) is written to a real sink; what it plays reaches the microphone through a
pyroomacoustics room impulse response (speaker 10 cm from the mic, as on one device), through the
service's own taps, far-end blocks and `RoomEcho`. The user (other espeak-ng speech, through its
own response, 2 m away) starts half-way through the reply, at a signal-to-echo ratio (SER: user
over echo power at the mic). The frames then go through the canceller as in the service, and
the result, upsampled to 24 kHz as the uplink sends it, into the simulator's server VAD.

Figures per room x SER x canceller:
- erle_db: echo attenuation, 10 log10(P_mic / P_out) over the echo-only part (from 1 s, after
  the canceller has had a second of reply to converge on, up to the user's first word).
- self_trigger: the VAD's speech_started fires before the user speaks (the reply interrupts
  itself); barge_in: it fires during the user's speech; barge_in_ms: how long after the onset.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pyroomacoustics as pra
from numpy.typing import NDArray

from bench.nlms import NlmsCanceller, SpeexCanceller
from edge_voice.audio.echo_cancel import EchoCanceller, FarEnd, WebRtcCanceller
from edge_voice.audio.pcm import API_RATE, FRAME_SAMPLES, SOURCE_RATE
from edge_voice.audio.resample import StreamResampler, resample
from edge_voice.audio.room_echo import RoomEcho
from edge_voice.audio.sinks import NullSink
from edge_voice.sim.vad import EnergyVad, SpeechStarted

REPLY: Final = (
    "The weather today is sunny with a light breeze from the west, and the temperature "
    "will reach twenty two degrees by the afternoon, so it is a good day for a walk."
)
USER: Final = "Stop. What about tomorrow morning?"
#: The echo's level at the mic (speech RMS): a device's own speaker, 10 cm away, is loud.
ECHO_DBFS: Final = -22.0
NOISE_DBFS: Final = -70.0  # the room's noise floor, so nothing is digital silence
USER_AT_S: Final = 3.0
ERLE_FROM_S: Final = 1.0
CANCELLERS: Final = ("none", "webrtc", "nlms", "speex")
SERS: Final = (-10.0, -5.0, 0.0, 5.0)


@dataclass(frozen=True)
class Room:
    """A shoebox room: size (m), reverberation time RT60 (s)."""

    name: str
    size: tuple[float, float, float]
    rt60_s: float


ROOMS: Final = (
    Room("small 3x3x2.5 m, RT60 0.2 s", (3.0, 3.0, 2.5), 0.2),
    Room("living 5x4x2.7 m, RT60 0.4 s", (5.0, 4.0, 2.7), 0.4),
    Room("hall 8x6x3 m, RT60 0.7 s", (8.0, 6.0, 3.0), 0.7),
)


@dataclass(frozen=True)
class Result:
    """The figures of one room, SER and canceller."""

    room: str
    ser_db: float
    canceller: str
    erle_db: float
    self_trigger: bool
    barge_in: bool
    barge_in_ms: int | None


@functools.cache
def espeak(text: str, voice: str = "en") -> NDArray[np.float64]:
    """espeak-ng speech at 16 kHz, as floats."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return resample(pcm, rate, SOURCE_RATE).astype(np.float64) / 32768.0


@functools.cache
def room_responses(room: Room) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(speaker → mic, user → mic) impulse responses of `room` at 16 kHz."""
    absorption, max_order = pra.inverse_sabine(room.rt60_s, list(room.size))
    shoebox = pra.ShoeBox(
        list(room.size), fs=SOURCE_RATE, materials=pra.Material(absorption), max_order=max_order
    )
    w, d, _ = room.size
    device = np.array([w * 0.25, d * 0.3, 0.9])  # on a shelf, near a wall
    shoebox.add_source(list(np.add(device, [0.1, 0.0, 0.05])))  # its own speaker
    shoebox.add_source([min(w - 0.5, device[0] + 2.0), device[1] + 0.3, 1.6])  # the user, 2 m
    shoebox.add_microphone(list(device))
    shoebox.compute_rir()
    rir = shoebox.rir[0]
    return np.asarray(rir[0], dtype=np.float64), np.asarray(rir[1], dtype=np.float64)


def _power(x: NDArray[np.float64]) -> float:
    return float(np.mean(x * x)) + 1e-20


def _db(ratio: float) -> float:
    return float(10.0 * np.log10(ratio))


def make_canceller(name: str) -> EchoCanceller | None:
    """The canceller under test: none, the service's WebRTC one, or a baseline."""
    if name == "webrtc":
        return WebRtcCanceller()
    if name == "speex":
        return SpeexCanceller()
    return NlmsCanceller() if name == "nlms" else None


@dataclass(frozen=True)
class Scene:
    """One room at one SER: the reply at 24 kHz, the user at the mic, the scaled echo path."""

    reply24: NDArray[np.int16]
    near: NDArray[np.float64]  # user through the room, plus noise, 16 kHz
    echo_ir: NDArray[np.float64]
    user_at: int  # samples
    user_end: int


def scene(room: Room, ser_db: float, *, reply_s: float | None = None) -> Scene:
    """The reply, the user's speech at `ser_db` and the echo path of `room`."""
    reply = espeak(REPLY)
    if reply_s is not None:
        reply = reply[: int(reply_s * SOURCE_RATE)]
    echo_ir, user_ir = room_responses(room)
    echo = np.convolve(reply, echo_ir)[: reply.size]
    gain = 10 ** (ECHO_DBFS / 20) / np.sqrt(_power(echo[np.abs(echo) > 1e-3]))
    reply24 = resample((reply * 32767).astype(np.int16), SOURCE_RATE, API_RATE)
    user = np.convolve(espeak(USER, "en-us"), user_ir)
    echo_power = 10 ** (ECHO_DBFS / 10)
    user *= np.sqrt(echo_power * 10 ** (ser_db / 10) / _power(user[np.abs(user) > 1e-4]))
    at = int(USER_AT_S * SOURCE_RATE)
    length = reply.size + SOURCE_RATE  # a second after the reply
    length += -length % FRAME_SAMPLES
    near = np.random.default_rng(7).normal(0, 10 ** (NOISE_DBFS / 20), length)
    near[at : at + user.size] += user[: max(0, length - at)]
    voiced = np.flatnonzero(np.abs(user) > 10 ** (-50 / 20))
    return Scene(reply24, near, echo_ir * gain, at, at + int(voiced[-1]))


async def run_scene(s: Scene, canceller: EchoCanceller | None) -> tuple[NDArray, NDArray]:
    """(mic, out): the frames through the room and the canceller, as the service runs them."""
    sink = NullSink()  # written is played: one frame of reply per frame of mic
    room_far, aec_far = FarEnd(sink.tap()), FarEnd(sink.tap())
    room = RoomEcho(s.echo_ir)
    step = API_RATE * FRAME_SAMPLES // SOURCE_RATE
    near = np.clip(np.round(s.near * 32768), -32768, 32767).astype("<i2")
    mic, out = [], []
    for i in range(near.size // FRAME_SAMPLES):
        await sink.write(s.reply24[i * step : (i + 1) * step].tobytes())
        frame = near[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES].tobytes()
        heard = room.add(frame, room_far.frame())
        mic.append(heard)
        out.append(heard if canceller is None else canceller.process(heard, aec_far.frame()))
    as_float = lambda frames: np.frombuffer(b"".join(frames), "<i2") / 32768.0  # noqa: E731
    return as_float(mic), as_float(out)


def server_vad_onsets(out16: NDArray[np.float64]) -> list[int]:
    """Where the simulator's server VAD starts speech (16 kHz samples), fed as the uplink sends."""
    up = StreamResampler(SOURCE_RATE, API_RATE)
    pcm = np.clip(np.round(out16 * 32768), -32768, 32767).astype(np.int16)
    events = EnergyVad().feed(up.process(pcm.tobytes()) + up.flush())
    return [e.onset_ms * SOURCE_RATE // 1000 for e in events if isinstance(e, SpeechStarted)]


async def measure(room: Room, ser_db: float, name: str, reply_s: float | None = None) -> Result:
    """The figures of one room, SER and canceller."""
    s = scene(room, ser_db, reply_s=reply_s)
    mic, out = await run_scene(s, make_canceller(name))
    echo_only = slice(int(ERLE_FROM_S * SOURCE_RATE), s.user_at)
    erle = _db(_power(mic[echo_only]) / _power(out[echo_only]))
    onsets = server_vad_onsets(out)
    early = [o for o in onsets if o < s.user_at]
    during = [o for o in onsets if s.user_at <= o <= s.user_end]
    barge_ms = None if not during else (during[0] - s.user_at) * 1000 // SOURCE_RATE
    return Result(room.name, ser_db, name, round(erle, 1), bool(early), bool(during), barge_ms)


def table(results: list[Result]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| room | SER dB | canceller | ERLE dB | self-trigger | barge-in | after onset |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        after = "-" if r.barge_in_ms is None else f"{r.barge_in_ms} ms"
        lines.append(
            f"| {r.room} | {r.ser_db:+.0f} | {r.canceller} | {r.erle_db:.1f} | "
            f"{'yes' if r.self_trigger else 'no'} | {'yes' if r.barge_in else 'no'} | {after} |"
        )
    return "\n".join(lines)


def available() -> tuple[str, ...]:
    """The cancellers this machine has (speex needs libspeexdsp-dev to build)."""
    try:
        SpeexCanceller()
    except ImportError:
        return tuple(c for c in CANCELLERS if c != "speex")
    return CANCELLERS


async def run(rooms: tuple[Room, ...], sers: tuple[float, ...]) -> list[Result]:
    """Every room x SER x canceller."""
    names = available()
    return [await measure(r, ser, c) for r in rooms for ser in sers for c in names]


def cpu_per_frame(name: str, frames: int = 250) -> float:
    """CPU ms one canceller spends on an 80 ms frame of echo and reference (noise-like)."""
    import time

    canceller = make_canceller(name)
    assert canceller is not None
    rng = np.random.default_rng(5)
    far = rng.normal(0, 3000, (frames, FRAME_SAMPLES)).astype(np.int16)
    near = [(f // 3).astype("<i2").tobytes() for f in far]
    start = time.process_time()
    for mic, ref in zip(near, far, strict=True):
        canceller.process(mic, ref)
    return (time.process_time() - start) * 1000 / frames


def main() -> None:
    """Print the table (and the figures as JSON with --json)."""
    parser = argparse.ArgumentParser(prog="python -m bench.echo_rooms", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one room, two SERs")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    rooms, sers = (ROOMS[1:2], (-5.0, 5.0)) if args.quick else (ROOMS, SERS)
    results = asyncio.run(run(rooms, sers))
    print(table(results))
    for name in ("webrtc", "nlms", "speex") if "speex" in available() else ("webrtc", "nlms"):
        ms = cpu_per_frame(name, 50 if name == "nlms" else 250)
        print(f"{name}: {ms:.2f} ms CPU per 80 ms frame ({ms / 80 * 100:.1f} % of a core)")
    if args.json:
        import json

        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
