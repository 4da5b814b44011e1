"""The `audio` section: source, sink, echo handling, earcons."""

from __future__ import annotations

from pydantic import Field, field_validator

from edge_voice.audio.echo_cancel import EchoCancelMethod
from edge_voice.audio.sinks import check_sink_spec
from edge_voice.audio.sounds import check_sound_spec
from edge_voice.audio.sources import check_source_spec
from edge_voice.config.paths import FsPath
from edge_voice.config.section import Section
from edge_voice.config.sounds_schema import EarconsConfig


class AudioConfig(Section):
    """Where sound comes from and goes to."""

    source: str = "mic"
    sink: str = "speaker"
    echo_cancelled: bool = False
    # none: the mic is gated while the answer plays (unless echo_cancelled says the system
    # cancels); webrtc: cancelled here (the `aec` extra), so speech over the answer barges in.
    echo_cancel: EchoCancelMethod = "none"
    room_echo: FsPath | None = None
    earcons: EarconsConfig = Field(default_factory=EarconsConfig)
    offline_notice: str = "default"

    @field_validator("offline_notice")
    @classmethod
    def _offline_notice(cls, value: str) -> str:
        return check_sound_spec(value, "offline")

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        check_source_spec(value)
        return value

    @field_validator("sink", mode="before")
    @classmethod
    def _null_sink(cls, value: object) -> object:
        # `sink: null`, as the docs write it, reads as YAML's null (an env override too).
        return "null" if value is None else value

    @field_validator("sink")
    @classmethod
    def _sink(cls, value: str) -> str:
        check_sink_spec(value)
        return value
