"""The JSON codec on edge_voice's per-frame paths: stdlib `json` vs orjson vs msgspec.

    pip install -e '.[bench]' && python -m bench.json_codecs

Times the three messages that are encoded or decoded many times a second, with their real
shapes: a 100 ms `response.output_audio.delta` decoded (10 a second of reply), an 80 ms
`input_audio_buffer.append` encoded (12.5 a second of speech, 24 kHz after resampling) and the
retained `state` encoded (once per change). Prints µs per message and µs per second of audio.
"""

from __future__ import annotations

import base64
import json
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

from edge_voice.realtime.protocol import append_audio_json

REPEATS = 5
NUMBER = 20_000


def _pcm(samples: int) -> bytes:
    return (np.sin(np.arange(samples) / 5) * 8000).astype("<i2").tobytes()


def messages() -> dict[str, tuple[Any, float]]:
    """Name → (message, how many a second of audio), as the client sees them."""
    delta = {
        "type": "response.output_audio.delta",
        "event_id": "event_1",
        "response_id": "resp_1",
        "item_id": "item_1",
        "output_index": 0,
        "content_index": 0,
        "delta": base64.b64encode(_pcm(2400)).decode(),
    }
    append = _pcm(1920)  # 80 ms at 24 kHz: base64 is part of each codec's time
    state = {
        "status": "idle",
        "model": "gpt-realtime",
        "model_chain": ["gpt-realtime", "gpt-realtime-1.5"],
        "voices": ["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse"],
        "ts": "2026-11-24T18:30:05.123Z",
    }
    return {
        "decode delta": (json.dumps(delta), 10.0),
        "encode append": (append, 12.5),
        "encode state": (state, 0.0),
    }


def _append(encode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An encoder that also takes raw PCM: the append event it builds around the base64."""

    def either(message: Any) -> Any:
        if isinstance(message, bytes):
            audio = base64.b64encode(message).decode("ascii")
            message = {"type": "input_audio_buffer.append", "audio": audio}
        return encode(message)

    return either


def _codecs() -> dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]]:
    """Codec → (decode, encode); the optional ones only when installed."""
    compact = json.JSONEncoder(separators=(",", ":")).encode
    found: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
        "json": (json.loads, _append(compact))
    }
    try:
        import orjson

        found["orjson"] = (orjson.loads, _append(orjson.dumps))
    except ImportError:
        pass
    try:
        import msgspec

        found["msgspec"] = (msgspec.json.Decoder().decode, _append(msgspec.json.Encoder().encode))
    except ImportError:
        pass
    return found


def _us(call: Callable[[], Any]) -> float:
    return 1e6 * min(timeit.repeat(call, number=NUMBER, repeat=REPEATS)) / NUMBER


def measure() -> dict[str, float]:
    """µs per message for every codec installed, and µs per second of audio."""
    figures: dict[str, float] = {}
    for name, (decode, encode) in _codecs().items():
        for what, (message, per_s) in messages().items():
            codec = decode if what.startswith("decode") else encode
            us = _us(lambda codec=codec, message=message: codec(message))
            key = f"{what.replace(' ', '_')}_{name}"
            figures[f"{key}_us"] = us
            if per_s:
                figures[f"{key}_us_per_audio_s"] = us * per_s
    # What the client really sends: a string built around the base64, no encoder at all.
    pcm = messages()["encode append"][0]
    figures["encode_append_edge_voice_us"] = _us(lambda: append_audio_json(pcm))
    return figures


def main() -> None:
    """Print the table, with each codec's time as a ratio of the stdlib's."""
    figures = measure()
    codecs = list(_codecs())
    print(f"{'message':16}" + "".join(f"{c + ' µs':>14}" for c in codecs) + "   ratio to json")
    for what in messages():
        key = what.replace(" ", "_")
        times = [figures[f"{key}_{c}_us"] for c in codecs]
        ratios = " ".join(f"{t / times[0]:.2f}" for t in times[1:])
        print(f"{what:16}" + "".join(f"{t:14.2f}" for t in times) + f"   {ratios}")
    ours = figures["encode_append_edge_voice_us"]
    print(f"encode append, edge_voice's append_audio_json (base64 + concatenation): {ours:.2f} µs")


if __name__ == "__main__":
    main()
