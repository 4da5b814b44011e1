"""Optional sounddevice/PortAudio access: lazy import, device lookup and a clear error."""

from __future__ import annotations

import importlib
import logging
from typing import Any, Final, Literal

_LOGGER = logging.getLogger(__name__)

Kind = Literal["input", "output"]
INSTALL_HINT: Final = (
    "install the audio extra (pip install 'edge-voice[audio]') and PortAudio "
    "(apt-get install libportaudio2)"
)


class AudioUnavailableError(RuntimeError):
    """A sound device cannot be used: sounddevice or PortAudio is missing, or the device failed."""


def _alternatives(kind: Kind) -> str:
    if kind == "input":
        return "or use source 'wav:PATH' or 'stdin' instead"
    return "or use sink 'wav:PATH' or 'null' instead"


def load_sounddevice(kind: Kind) -> Any:
    """Import sounddevice on first use, or raise AudioUnavailableError saying how to get it."""
    what = "microphone" if kind == "input" else "speaker"
    try:
        return importlib.import_module("sounddevice")
    except ImportError as exc:
        if exc.name == "sounddevice":
            reason = "the sounddevice package is not installed"
        else:
            reason = f"sounddevice cannot be imported ({exc})"
        raise AudioUnavailableError(
            f"{what} unavailable: {reason}; {INSTALL_HINT}, {_alternatives(kind)}"
        ) from exc
    except OSError as exc:
        # sounddevice raises OSError at import when libportaudio is not on the system.
        raise AudioUnavailableError(
            f"{what} unavailable: {exc}; {INSTALL_HINT}, {_alternatives(kind)}"
        ) from exc


def parse_device(spec: str | None) -> int | str | None:
    """A device index for digits, a name (substring) otherwise, None for the default device."""
    if spec is None or not spec.strip():
        return None
    spec = spec.strip()
    return int(spec) if spec.isdigit() else spec


def choose_rate(sd: Any, kind: Kind, device: int | str | None, wanted: int) -> int:
    """`wanted` if the device accepts mono int16 at it, else the device's default rate."""
    check = sd.check_input_settings if kind == "input" else sd.check_output_settings
    try:
        info = sd.query_devices(device, kind)
    except (ValueError, sd.PortAudioError) as exc:
        raise AudioUnavailableError(
            f"no {kind} device {device!r}: {exc}; list devices with "
            f"`python -m sounddevice`, {_alternatives(kind)}"
        ) from exc
    try:
        check(device=device, channels=1, dtype="int16", samplerate=wanted)
    except (ValueError, sd.PortAudioError):
        rate = int(info["default_samplerate"])
        _LOGGER.info(
            "%s device %r does not take %d Hz; using %d Hz and resampling",
            kind,
            info.get("name", device),
            wanted,
            rate,
        )
        return rate
    return wanted
