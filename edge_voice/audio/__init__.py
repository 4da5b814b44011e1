"""Audio I/O for edge_voice: sources (16 kHz frames), sinks (24 kHz), resampling, wake word."""

from edge_voice.audio.device import AudioUnavailableError
from edge_voice.audio.pcm import (
    API_RATE,
    FRAME_BYTES,
    FRAME_MS,
    FRAME_SAMPLES,
    SOURCE_RATE,
)
from edge_voice.audio.resample import StreamResampler, resample, resample_bytes
from edge_voice.audio.sinks import AudioSink, NullSink, SpeakerSink, WavSink, parse_sink
from edge_voice.audio.sources import (
    AudioSource,
    MicSource,
    StdinSource,
    WavSource,
    parse_source,
)
from edge_voice.audio.timing import Pacer, SimulatedPlayback
from edge_voice.audio.wakeword import (
    BUILTIN_MODELS,
    Detection,
    WakeWordDetector,
    WakeWordModelError,
    detect_stream,
)

__all__ = [
    "API_RATE",
    "BUILTIN_MODELS",
    "FRAME_BYTES",
    "FRAME_MS",
    "FRAME_SAMPLES",
    "SOURCE_RATE",
    "AudioSink",
    "AudioSource",
    "AudioUnavailableError",
    "Detection",
    "MicSource",
    "NullSink",
    "Pacer",
    "SimulatedPlayback",
    "SpeakerSink",
    "StdinSource",
    "StreamResampler",
    "WakeWordDetector",
    "WakeWordModelError",
    "WavSink",
    "WavSource",
    "detect_stream",
    "parse_sink",
    "parse_source",
    "resample",
    "resample_bytes",
]
