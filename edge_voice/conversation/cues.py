"""Earcons: the device's short sounds, played into the sink so the user knows what it does.

`wake` when a conversation begins (wake word or `conversation/start`), `listen_end` when the
user's turn ends (the server's VAD: speech stopped), `error` after a conversation ended on an
error (played once the device is idle, so the cleanup's flush cannot cut it). Off unless
`audio.earcons.enabled`; each sound `default`, a WAV path or `off`. Read once at start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from edge_voice.audio.sounds import load_sound, sound_path
from edge_voice.conversation.error_codes import ConversationErrorCode as Code
from edge_voice.conversation.states import Status

if TYPE_CHECKING:
    from edge_voice.config.schema import EdgeVoiceConfig
    from edge_voice.conversation.assistant import Assistant

log = logging.getLogger(__name__)

#: Errors that do not end the conversation, or that the user did not cause: no sound.
QUIET: Final = frozenset(
    {Code.AUDIO_DROPPED, Code.FUNCTION_CALL_TIMEOUT, Code.MCP_LIST_TOOLS_FAILED}
)


def load_earcons(cfg: EdgeVoiceConfig) -> dict[str, bytes]:
    """The configured earcons as 24 kHz PCM16, by name (none when they are disabled)."""
    earcons = cfg.audio.earcons
    if not earcons.enabled:
        return {}
    specs = {"wake": earcons.wake, "listen_end": earcons.listen_end, "error": earcons.error}
    paths = {name: sound_path(spec, name) for name, spec in specs.items()}
    return {name: load_sound(path) for name, path in paths.items() if path is not None}


class Cues:
    """Plays the earcons at the assistant's moments."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self.sounds = load_earcons(assistant.config)
        self._error_due = False

    def changed(self, old: Status, new: Status) -> None:
        """A state change: the wake sound when a conversation begins."""
        if old is Status.IDLE and new is Status.AWAKE:
            self.a.spawn(self.play("wake"))

    async def listen_end(self) -> None:
        """The user's turn ended (before the answer's audio: the same task writes both)."""
        if self.a.status is Status.LISTENING:
            await self.play("listen_end")

    def error(self, code: str) -> None:
        """An error was reported: the error sound once the conversation it ended is over."""
        if "error" not in self.sounds or code in QUIET or self.a.status is Status.IDLE:
            return
        if not self._error_due:  # one sound for the errors of one ending
            self._error_due = True
            self.a.spawn(self._after_ending())

    async def _after_ending(self) -> None:
        await self.a.idle.wait()
        self._error_due = False
        await self.play("error")

    async def play(self, name: str) -> None:
        """Write the sound `name` into the sink (nothing if it is off or the sink closed)."""
        pcm = self.sounds.get(name)
        sink = self.a.sink
        if pcm is None or sink.closed:
            return
        log.debug("earcon %s (%d ms)", name, len(pcm) * 1000 // (2 * sink.rate))
        await sink.write(pcm)
