"""The `audio.earcons` section: short sounds on wake, at the end of listening and on an error."""

from __future__ import annotations

from pydantic import ValidationInfo, field_validator

from edge_voice.audio.sounds import check_sound_spec
from edge_voice.config.section import Section


class EarconsConfig(Section):
    """Each sound: `default` (the bundled one), a WAV file path, or `off`."""

    enabled: bool = False
    wake: str = "default"
    listen_end: str = "default"
    error: str = "default"

    @field_validator("wake", "listen_end", "error")
    @classmethod
    def _sound(cls, value: str, info: ValidationInfo) -> str:
        return check_sound_spec(value, str(info.field_name))
