"""CPU per second of conversation audio on the client's own per-frame code.

Up: one 80 ms microphone frame resampled 16 → 24 kHz (soxr, streaming) and made into its
`input_audio_buffer.append` JSON (base64). Down: one 100 ms `response.output_audio.delta`
frame decoded by the session's Normalizer (JSON, base64) into PCM for the sink. The websocket
framing and the wake word (which runs whatever the state) are not in these figures.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import numpy as np

from edge_voice.audio.resample import upsampler
from edge_voice.realtime.protocol import Normalizer, append_audio_json


def _speechlike(samples: int, rate: int) -> bytes:
    t = np.arange(samples) / rate
    wave = 8000 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
    return wave.astype("<i2").tobytes()


def uplink_cpu_ms_per_s(seconds: float) -> float:
    """CPU ms per second of microphone audio: resample + append JSON."""
    frame = _speechlike(1280, 16_000)
    resampler = upsampler()
    frames = int(seconds / 0.08)
    start = time.process_time()
    for _ in range(frames):
        append_audio_json(resampler.process(frame))
    return 1000 * (time.process_time() - start) / seconds


def downlink_cpu_ms_per_s(seconds: float) -> float:
    """CPU ms per second of reply audio: decode the delta events."""
    pcm = _speechlike(2400, 24_000)
    message = json.dumps(
        {
            "event_id": "event_0123456789abcdefghijkl",
            "type": "response.output_audio.delta",
            "response_id": "resp_0123456789abcdefghijkl",
            "item_id": "item_0123456789abcdefghijkl",
            "output_index": 0,
            "content_index": 0,
            "delta": base64.b64encode(pcm).decode(),
        }
    )
    normalizer = Normalizer()
    deltas = int(seconds / 0.1)
    start = time.process_time()
    for _ in range(deltas):
        normalizer.feed(message)
    return 1000 * (time.process_time() - start) / seconds


def measure(seconds: float) -> dict[str, Any]:
    """Both directions over `seconds` of audio each."""
    return {
        "audio_cpu_uplink_ms_per_s": uplink_cpu_ms_per_s(seconds),
        "audio_cpu_downlink_ms_per_s": downlink_cpu_ms_per_s(seconds),
    }
