"""Announcements (`<base>/say`): the model speaks a given text as an out-of-band response.

An announcement waits while a conversation runs and is spoken once the assistant is idle, in
the order they came. It opens (or reuses) the warm session like a conversation, but the
response is out of band (`realtime/out_of_band.py`): it does not enter the conversation and is
priced and published like any response (`event/response` with `kind: announcement`). With
`start_conversation` the assistant then listens for an answer, the announcement's text in the
conversation as the assistant's last words; otherwise it is back to idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from edge_voice.conversation.error_codes import ConversationErrorCode as Code
from edge_voice.conversation.states import Status, Trigger
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import RealtimeError
from edge_voice.realtime.out_of_band import ANNOUNCEMENT, announcement_response, response_kind

if TYPE_CHECKING:
    from edge_voice.conversation.assistant import Assistant

log = logging.getLogger(__name__)

#: Announcements waiting at most; one more is refused (a flow in a loop must not pile up).
MAX_QUEUED: Final = 10


class AnnouncementQueueFull(Exception):
    """`say` while MAX_QUEUED announcements are waiting."""


@dataclass(frozen=True)
class Announcement:
    """What to say, in which voice (None: the session's) and whether to listen afterwards."""

    text: str
    voice: str | None = None
    start_conversation: bool = False


class Announcer:
    """Queues announcements and speaks each when the assistant is idle."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self._queue: deque[Announcement] = deque()
        self._worker: asyncio.Task[None] | None = None
        #: The announcement being spoken and, once created, its response id.
        self.current: Announcement | None = None
        self._response_id: str | None = None
        self._item_ids: set[str] = set()
        self._created = asyncio.Event()

    @property
    def queued(self) -> int:
        """Announcements waiting to be spoken."""
        return len(self._queue)

    def say(self, announcement: Announcement) -> None:
        """Queue `announcement` (AnnouncementQueueFull when MAX_QUEUED are waiting)."""
        if len(self._queue) >= MAX_QUEUED:
            raise AnnouncementQueueFull(f"{MAX_QUEUED} announcements are already waiting")
        self._queue.append(announcement)
        if self._worker is None or self._worker.done():
            self._worker = self.a.spawn(self._work())

    async def _work(self) -> None:
        a = self.a
        while self._queue:
            await a.idle.wait()
            if a.status is not Status.IDLE:
                await asyncio.sleep(0)  # a wake word won the race; wait for its end
                continue
            await self._speak(self._queue.popleft())

    async def _speak(self, announcement: Announcement) -> None:
        """From idle: connect, ask for the out-of-band response, wait until it began."""
        a = self.a
        a.machine.fire(Trigger.ANNOUNCE)  # responding: the mic is gated, the wake word barges in
        self.current, self._response_id = announcement, None
        self._item_ids.clear()
        self._created.clear()
        if not await a.opening.connect(None) or a.link is None:
            await self._failed("no realtime session")
            return
        a.metrics.begin_conversation()
        a.completed_in_conversation = True  # an announcement marks no config version good
        a.uplink.open()  # a wake word over it goes on as a conversation
        voice = announcement.voice
        if voice is not None and voice not in a.link.result.model.voices:
            log.warning(
                "announcement: %s cannot speak %s; using the session's voice",
                a.link.result.model.name,
                voice,
            )
            voice = None
        response = announcement_response(announcement.text, a.link.result.model.protocol, voice)
        try:
            await a.link.create_out_of_band_response(response)
            async with asyncio.timeout(a.listen_timeout_s):
                await self._created.wait()
        except (RealtimeError, TimeoutError) as exc:
            await self._failed(str(exc) or "the model did not start the response in time")

    async def _failed(self, why: str) -> None:
        a = self.a
        a.report_error(Code.ANNOUNCEMENT_FAILED, f"announcement not spoken: {why}")
        self.current = None
        if a.status is Status.RESPONDING:
            await a.end_conversation()

    # --- the downlink's view ---------------------------------------------------------------

    def response_created(self, event: ev.ResponseCreated) -> None:
        """A response began: note it when it is the announcement's."""
        if self.current is not None and response_kind(event.response) == ANNOUNCEMENT:
            self._response_id = event.response_id
            self._created.set()

    def audio(self, event: ev.AudioDelta) -> None:
        """Audio arrived: remember the announcement's items (never truncated: not in the
        conversation)."""
        if event.response_id == self._response_id:
            self._item_ids.add(event.item_id)

    def owns_item(self, item_id: str) -> bool:
        """Whether `item_id` is an announcement's (out of band: the server cannot truncate it)."""
        return item_id in self._item_ids

    def kind_of(self, response_id: str) -> str:
        """`announcement` or `answer`, for `event/response`."""
        return ANNOUNCEMENT if response_id == self._response_id else "answer"

    def finished(self, response_id: str) -> Announcement | None:
        """The announcement whose response just ended (None: not an announcement's)."""
        if response_id != self._response_id:
            return None
        announcement, self.current, self._response_id = self.current, None, None
        return announcement

    async def answered(self, announcement: Announcement) -> None:
        """The announcement's response ended: play out, then listen or go back to idle."""
        a = self.a
        await a.sink.drain()
        if a.status is not Status.RESPONDING or (a.link and a.link.response_active):
            return  # barged in (the wake word): that conversation goes on
        if not announcement.start_conversation or a.link is None:
            await a.end_conversation()
            return
        with contextlib.suppress(RealtimeError):  # a drop: the resilient session recovers
            await a.link.add_assistant_text(announcement.text)
        a.conversation_version = a.store.version
        a.completed_in_conversation = False
        a.machine.fire(Trigger.ANSWERED)  # follow-up: the answer needs no wake word
