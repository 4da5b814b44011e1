"""The bare microWakeWord engine (pymicro-wakeword) on a WAV at real-time pace, nothing else.

    python -m bench.bare_microwakeword FILE.wav [MODEL]

Prints `ready` once the model is loaded and primed, then scores every 80 ms frame on time:
the frames `edge-voice run` gives its detector, each through the MicroFrontend's 10 ms steps.
"""

from __future__ import annotations

import sys
import time
import wave

from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

FRAME_SAMPLES = 1280  # 80 ms at 16 kHz, as the service frames its audio


def main(path: str, model_name: str = "okay_nabu") -> None:
    """Load, prime with one silent frame (as the service does), then score at real time."""
    features = MicroWakeWordFeatures()
    model = MicroWakeWord.from_builtin(Model(model_name))
    with wave.open(path, "rb") as wav:
        pcm = wav.readframes(wav.getnframes())
    step = FRAME_SAMPLES * 2
    frames = [pcm[i : i + step] for i in range(0, len(pcm) - step + 1, step)]
    for feature in features.process_streaming(bytes(step)):
        model.process_streaming_prob(feature)
    print("ready", flush=True)
    next_at = time.monotonic()
    for frame in frames:
        for feature in features.process_streaming(frame):
            model.process_streaming_prob(feature)
        next_at += 0.08
        time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    main(*sys.argv[1:])
