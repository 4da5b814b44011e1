"""The device's own sounds: earcons (wake, end of listening, error) and the spoken offline
notice. Bundled WAVs (`edge_voice/assets/earcons/`, made by `tools/make_earcons.py` and
`tools/make_offline_notice.py`) or the user's, read once into the sink's 24 kHz PCM16 mono."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Final

from edge_voice.audio.pcm import API_RATE, to_mono_int16
from edge_voice.audio.resample import resample

BUNDLED: Final = Path(__file__).resolve().parents[1] / "assets" / "earcons"
#: The bundled sounds, by name (`offline` is the spoken notice).
SOUND_NAMES: Final = ("wake", "listen_end", "error", "offline")
#: A longer file is refused: these sounds interrupt nothing, so they must be short.
MAX_SECONDS: Final = 10.0


def sound_path(spec: str, name: str) -> Path | None:
    """Where the sound `name` comes from: `default` the bundled one, `off` none, else a path."""
    if spec == "off":
        return None
    if spec == "default":
        return BUNDLED / f"{name}.wav"
    return Path(spec).expanduser()


def load_sound(path: Path) -> bytes:
    """The WAV at `path` as 24 kHz PCM16 mono (ValueError naming the file if it is unusable)."""
    try:
        with wave.open(str(path), "rb") as wav:
            raw = wav.readframes(wav.getnframes())
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
    except (OSError, EOFError, wave.Error) as exc:
        raise ValueError(f"{path}: not a readable WAV file ({exc})") from None
    samples = to_mono_int16(raw, width, channels)
    if not len(samples):
        raise ValueError(f"{path}: the WAV file has no audio")
    if len(samples) > MAX_SECONDS * rate:
        raise ValueError(f"{path}: longer than {MAX_SECONDS:g} s")
    return resample(samples, rate, API_RATE).tobytes()


def check_sound_spec(spec: str, name: str) -> str:
    """`spec` if the sound it names can be played (`default`, `off` or a good WAV path)."""
    path = sound_path(spec, name)
    if path is not None and spec != "default":
        load_sound(path)
    return spec
