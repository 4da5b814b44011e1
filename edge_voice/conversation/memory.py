"""Memory across conversations (`memory.enabled`, off by default).

When a conversation in which the user spoke ends and its session is still open, the model is
asked for a short text summary as an out-of-band, text-only response (it sees the
conversation, nothing is written back into it; priced like any response, `event/response`
with `kind: summary`). The summary is kept in `<state_dir>/memory.json`, at most
`memory.max_chars` characters and `memory.max_age_h` hours old, published retained on
`<base>/memory`, and appended to the instructions of the next session. `memory/clear` (the
HA button) forgets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from edge_voice.conversation.states import Status
from edge_voice.events import MemoryChanged
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import RealtimeError
from edge_voice.realtime.out_of_band import SUMMARY, response_kind, summary_response
from edge_voice.realtime.session_builders import SessionSettings

if TYPE_CHECKING:
    from edge_voice.conversation.assistant import Assistant
    from edge_voice.conversation.resilient_session import ResilientSession

log = logging.getLogger(__name__)

FILE_NAME: Final = "memory.json"
#: How long closing waits for a summary being written (so the last conversation is kept).
SETTLE_S: Final = 5.0
SUMMARY_INSTRUCTIONS: Final = (
    "Write a short summary of this conversation for your own memory, to be read at the start "
    "of the next conversation with the same user: the facts, names, preferences, requests and "
    "open questions worth remembering, in the conversation's language. At most {chars} "
    "characters, plain text, no greeting. Reply with the summary only."
)
CONTEXT_HEADER: Final = (
    "What you remember from earlier conversations with this user (a summary you wrote; it "
    "may be out of date):"
)


@dataclass(frozen=True)
class Remembered:
    """The summary kept, and when it was written."""

    summary: str
    updated: dt.datetime


class MemoryFile:
    """`memory.json` in the state directory: written whole and atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Remembered | None:
        """The kept summary, or None (none kept, or an unreadable file: logged, not fatal)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Remembered(str(data["summary"]), dt.datetime.fromisoformat(data["updated"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("memory: ignoring %s (%s)", self.path, exc)
            return None

    def save(self, remembered: Remembered) -> None:
        """Replace the kept summary."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {"summary": remembered.summary, "updated": remembered.updated.isoformat()}
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.path)

    def clear(self) -> None:
        """Forget the summary."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def bounded(text: str, max_chars: int) -> str:
    """`text` cut to `max_chars` at a word boundary (the model may write more than asked)."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0]
    return cut + "…"


class Memory:
    """Asks for the summary at a conversation's end, keeps it, hands it to the next session."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self.file = MemoryFile(assistant.store.state_path.with_name(FILE_NAME))
        self._heard = False
        self._response_id: str | None = None
        self._asked = False
        self._answered = asyncio.Event()

    @property
    def enabled(self) -> bool:
        """`memory.enabled` of the effective config."""
        return self.a.config.memory.enabled

    def current(self) -> Remembered | None:
        """The summary to use now: None when disabled or older than `memory.max_age_h`."""
        if not self.enabled:
            return None
        kept = self.file.load()
        max_age = dt.timedelta(hours=self.a.config.memory.max_age_h)
        if kept is None or dt.datetime.now(dt.UTC) - kept.updated > max_age:
            return None
        return kept

    def session_settings(self, settings: SessionSettings) -> SessionSettings:
        """`settings` with the kept summary after the instructions (a new session only)."""
        kept = self.current()
        if kept is None:
            return settings
        instructions = f"{settings.instructions}\n\n{CONTEXT_HEADER}\n{kept.summary}"
        return dataclasses.replace(settings, instructions=instructions)

    def publish(self) -> None:
        """Publish the retained `memory` (at start, after a change)."""
        kept = self.current()
        self.a.bus.publish(
            MemoryChanged(
                enabled=self.enabled,
                summary=kept.summary if kept else None,
                updated=kept.updated if kept else None,
            )
        )

    def clear(self) -> None:
        """`memory/clear`: forget the summary now."""
        self.file.clear()
        log.info("memory cleared")
        self.publish()

    # --- the conversation's view ------------------------------------------------------------

    def heard(self) -> None:
        """The user said something in this conversation: it is worth a summary."""
        self._heard = True

    def changed(self, old: Status, new: Status) -> None:
        """A state change: at a conversation's end, ask for its summary on the open session."""
        if new is not Status.IDLE or old is Status.IDLE:
            return
        heard, self._heard = self._heard, False
        link = self.a.link
        if heard and self.enabled and link is not None and not self._asked:
            self._asked = True
            self._answered.clear()
            self.a.spawn(self._ask(link))

    async def _ask(self, link: ResilientSession) -> None:
        max_chars = self.a.config.memory.max_chars
        instructions = SUMMARY_INSTRUCTIONS.format(chars=max_chars)
        response = summary_response(instructions, link.result.model.protocol, max_chars // 2)
        try:
            await link.create_out_of_band_response(response)
        except RealtimeError as exc:  # the session went meanwhile: nothing to summarise with
            self._asked = False
            self._answered.set()
            log.info("memory: no summary (%s)", exc)

    async def settle(self) -> None:
        """Before the session closes: let a summary being written arrive (bounded)."""
        if self._asked:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SETTLE_S):
                    await self._answered.wait()

    def response_created(self, event: ev.ResponseCreated) -> None:
        """A response began: note it when it is the summary."""
        if response_kind(event.response) == SUMMARY:
            self._response_id = event.response_id

    def finished(self, response_id: str) -> str | None:
        """A response ended: `summary` when it was the summary's (a new one may be asked)."""
        if response_id != self._response_id:
            return None
        self._response_id, self._asked = None, False
        self._answered.set()
        return SUMMARY

    def text_done(self, event: ev.TextDone) -> None:
        """The summary's text: keep it (bounded), publish it."""
        if event.response_id != self._response_id:
            return
        summary = bounded(event.text, self.a.config.memory.max_chars)
        if not summary or not self.enabled:
            return
        self.file.save(Remembered(summary, dt.datetime.now(dt.UTC).replace(microsecond=0)))
        log.info("memory: kept a summary of %d characters", len(summary))
        self.publish()
