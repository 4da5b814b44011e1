"""The bare openWakeWord engine (pyopen-wakeword) on a WAV at real-time pace, nothing else.

    python -m bench.bare_openwakeword FILE.wav [MODEL]

Prints `ready` once the models are loaded and primed, then scores every 80 ms frame on time.
"""

from __future__ import annotations

import sys
import time
import wave

from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

FRAME_SAMPLES = 1280  # 80 ms at 16 kHz


def main(path: str, model_name: str = "hey_jarvis") -> None:
    """Load, prime with one silent frame (as the service does), then score at real time."""
    features = OpenWakeWordFeatures.from_builtin()
    model = OpenWakeWord.from_builtin(Model(model_name))
    with wave.open(path, "rb") as wav:
        pcm = wav.readframes(wav.getnframes())
    step = FRAME_SAMPLES * 2
    frames = [pcm[i : i + step] for i in range(0, len(pcm) - step + 1, step)]
    for embedding in features.process_streaming(bytes(step)):
        list(model.process_streaming(embedding))
    print("ready", flush=True)
    next_at = time.monotonic()
    for frame in frames:
        for embedding in features.process_streaming(frame):
            for _score in model.process_streaming(embedding):
                pass
        next_at += 0.08
        time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    main(*sys.argv[1:])
