"""Earcons and the offline notice: the device's own sounds, played into the sink so the user
knows what it does.

`wake` when a conversation begins (wake word or `conversation/start`), `listen_end` when the
user's turn ends (the server's VAD: speech stopped), `error` after a conversation ended on an
error. Off unless `audio.earcons.enabled`; each sound `default`, a WAV path or `off`. The
spoken offline notice (`audio.offline_notice`, on by default) follows when no model could be
reached. The last two play once the device is idle, so the ending's flush cannot cut them.
Every sound is read once at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Final

from edge_voice.audio.sounds import load_sound, sound_path
from edge_voice.conversation.error_codes import ConversationErrorCode as Code
from edge_voice.conversation.states import Status

if TYPE_CHECKING:
    from edge_voice.config.schema import EdgeVoiceConfig
    from edge_voice.conversation.assistant import Assistant

log = logging.getLogger(__name__)

#: How long closing waits for a due sound to play out (the notice is about 2.3 s).
SETTLE_S: Final = 5.0
#: Errors that do not end the conversation, or that the user did not cause: no sound.
QUIET: Final = frozenset(
    {Code.AUDIO_DROPPED, Code.FUNCTION_CALL_TIMEOUT, Code.MCP_LIST_TOOLS_FAILED}
)


def load_earcons(cfg: EdgeVoiceConfig) -> dict[str, bytes]:
    """The configured sounds as 24 kHz PCM16, by name (no earcons when they are disabled)."""
    earcons = cfg.audio.earcons
    specs = {"offline": cfg.audio.offline_notice}
    if earcons.enabled:
        specs |= {"wake": earcons.wake, "listen_end": earcons.listen_end, "error": earcons.error}
    paths = {name: sound_path(spec, name) for name, spec in specs.items()}
    return {name: load_sound(path) for name, path in paths.items() if path is not None}


class Cues:
    """Plays the earcons at the assistant's moments."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self.sounds = load_earcons(assistant.config)
        self._due: list[str] = []  # to play once idle, in order
        self._playing: asyncio.Task[None] | None = None

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
        if code not in QUIET and self.a.status is not Status.IDLE:
            self._after_ending("error")

    def offline(self) -> None:
        """No model could be reached: the spoken notice (after the error sound)."""
        self._after_ending("offline")

    def _after_ending(self, name: str) -> None:
        if name not in self.sounds or name in self._due:  # once per ending
            return
        self._due.append(name)
        if len(self._due) == 1:
            self._playing = self.a.spawn(self._play_due())

    async def _play_due(self) -> None:
        await self.a.idle.wait()
        due, self._due = sorted(self._due, key=["error", "offline"].index), []
        for name in due:
            await self.play(name)

    async def settle(self) -> None:
        """Before the sink closes: let a due notice play out (bounded: shutdown waits little)."""
        playing = self._playing
        if playing is None or playing.done():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SETTLE_S):
                await playing
                await self.a.sink.drain()

    async def play(self, name: str) -> None:
        """Write the sound `name` into the sink (nothing if it is off or the sink closed)."""
        pcm = self.sounds.get(name)
        sink = self.a.sink
        if pcm is None or sink.closed:
            return
        log.debug("earcon %s (%d ms)", name, len(pcm) * 1000 // (2 * sink.rate))
        await sink.write(pcm)
