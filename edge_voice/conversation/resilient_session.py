"""A realtime link that survives drops, expiry and the 60-minute limit without losing the thread.

Wraps ModelMigration and RealtimeSession: connects with jittered backoff (stopping at once on
errors that can never succeed, and trying no model twice that refused for good or timed out),
and when the server drops mid-conversation or the session expires, reconnects (falling back if
needed), replays the conversation so far as items and, if a response was cut off, asks for it
again, so the user does not start over. A conversation may do that only so often
(`ReplayLimits`): a server that cuts every answer ends it with `realtime_unstable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from edge_voice.conversation.history import ConversationHistory
from edge_voice.conversation.pending_audio import PendingAudio
from edge_voice.models.fallback import Backoff
from edge_voice.models.features import VoicePreference
from edge_voice.models.migration import (
    AllModelsFailedError,
    ConnectResult,
    ModelMigration,
    spent_models,
)
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import (
    RealtimeError,
    ServerClosedError,
    SessionExpiredError,
)
from edge_voice.realtime.protocol import ConversationItemCreate
from edge_voice.realtime.session import RealtimeSession
from edge_voice.realtime.session_builders import SessionSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkRestored:
    """The session was replaced (drop, expiry or renewal); the conversation was replayed."""

    kind: ClassVar[str] = "link.restored"
    model: str
    reason: str
    replayed_items: int
    response_resumed: bool


@dataclass(frozen=True)
class ReplayLimits:
    """How much reconnect-and-replay one conversation may use before it gives up."""

    #: Reconnects after a drop or an expired session (a planned renewal does not count).
    max_reconnects: int = 3
    #: Answers cut off by a drop and asked for again: each one is billed again.
    max_resumed_responses: int = 3


class RealtimeUnstableError(RealtimeError):
    """The link kept failing: the conversation used up its reconnects or re-asked answers."""

    default_code = "realtime_unstable"

    def __init__(self, message: str) -> None:
        super().__init__(message, code="realtime_unstable")


def call_key(name: str, arguments: str) -> tuple[str, str]:
    """A function call's identity apart from its call_id (arguments compared as JSON)."""
    with contextlib.suppress(ValueError):  # not JSON: compare the text as it is
        arguments = json.dumps(json.loads(arguments), sort_keys=True)
    return name, arguments


def can_retry(exc: RealtimeError) -> bool:
    """Whether trying to connect again later may work (a bad key or no quota never will)."""
    if isinstance(exc, AllModelsFailedError):
        return any(can_retry(e) for _, e in exc.failures)
    return exc.retryable


class ResilientSession:
    """One conversation's realtime link: reconnects, falls back, replays, renews."""

    def __init__(
        self,
        migration: ModelMigration[RealtimeSession],
        settings: SessionSettings,
        *,
        renew_after_s: float = 3300.0,
        limits: ReplayLimits | None = None,
        voice: VoicePreference | None = None,
        profile: str | None = None,
        max_connect_attempts: int = 5,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.migration = migration
        self.settings = settings
        #: The voice preference of the settings' profile (None: the configured one).
        self.voice = voice
        #: The wake word whose profile these settings are (None: the global settings).
        self.profile = profile
        self.history = ConversationHistory()
        self._renew_after_s = renew_after_s
        self._max_attempts = max_connect_attempts
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._sleep = sleep
        self._result: ConnectResult[RealtimeSession] | None = None
        self._opened_at = 0.0
        self._active_response: str | None = None
        self._closed = False
        #: What the server holds uncommitted: given to a replacement session.
        self.pending_audio = PendingAudio()
        self._limits = limits or ReplayLimits()
        self._reconnects = 0
        self._resumed = 0
        #: call_id → call of the calls not answered yet.
        self._open_calls: dict[str, tuple[str, str]] = {}
        #: Calls answered since the user last spoke, and those a restored session was given.
        self._answered: dict[tuple[str, str], str] = {}
        self._replayed: dict[tuple[str, str], str] = {}
        #: call_ids the current session has as items (a restore replays only answered calls).
        self._in_session: set[str] = set()
        #: The model to ask for instead of the configured primary (e.g. a budget's cheaper one).
        self.preferred_model: str | None = None

    @property
    def session(self) -> RealtimeSession:
        """The current underlying session."""
        if self._result is None:
            raise RuntimeError("not connected: call connect() first")
        return self._result.session

    @property
    def result(self) -> ConnectResult[RealtimeSession]:
        """Model, fitted settings and fallback of the current session."""
        if self._result is None:
            raise RuntimeError("not connected: call connect() first")
        return self._result

    @property
    def response_active(self) -> bool:
        """Whether a response is being generated now."""
        return self._active_response is not None

    async def connect(self, preferred_model: str | None = None) -> ConnectResult[RealtimeSession]:
        """Connect (with fallback), retrying transient failures with jittered backoff."""
        if preferred_model is not None:
            self.preferred_model = preferred_model  # reconnects after a drop keep it
        preferred_model = self.preferred_model
        skip: set[str] = set()  # models a retry would only wait for or be refused by again
        attempt = 0
        while True:
            attempt += 1
            try:
                self._result = await self.migration.connect(
                    self.settings, preferred_model, skip=skip, voice=self.voice
                )
            except RealtimeError as exc:
                skip |= spent_models(exc)
                if not self._worth_retrying(exc, attempt, skip):
                    raise
                delay = self._backoff.next_delay()
                log.warning("connect failed (%s); retry %d in %.1f s", exc, attempt, delay)
                await self._sleep(delay)
                continue
            self._backoff.reset()
            self._opened_at = self._clock()
            self._in_session = set()
            return self._result

    def _worth_retrying(self, exc: RealtimeError, attempt: int, skip: set[str]) -> bool:
        if not can_retry(exc) or attempt >= self._max_attempts:
            return False
        return bool(self.migration.plan(self.preferred_model, skip))

    async def begin_conversation(self) -> None:
        """A new conversation on this warm link: its own replay limits; renew first if due."""
        self._reconnects = self._resumed = 0
        if self.due_for_renewal and not self.response_active:
            await self.renew()

    @property
    def due_for_renewal(self) -> bool:
        """Whether the session is old enough to be replaced before the server's limit."""
        return self._result is not None and self._clock() - self._opened_at >= self._renew_after_s

    async def renew(self, reason: str = "renewal") -> LinkRestored:
        """Replace the session with a fresh one carrying the conversation so far."""
        old = self._result
        restored = await self._restore(reason, resume=False)
        if old is not None:
            await old.session.close()
        return restored

    async def events(self) -> AsyncIterator[ev.RealtimeEvent | LinkRestored]:
        """Events of the current session; across drops, a LinkRestored marks the seam."""
        while not self._closed:
            try:
                async for event in self.session.events():
                    self._observe(event)
                    yield event
                if self._closed or self.session.close_code == 1000:
                    return
                # The session we read was replaced (renewal): read the new one.
            except (ServerClosedError, SessionExpiredError) as exc:
                reason, resume = self._lost(exc)
                yield await self._restore(reason, resume=resume)

    def _lost(self, exc: ServerClosedError | SessionExpiredError) -> tuple[str, bool]:
        """Why the link went and whether an answer was cut; raises when not to reconnect."""
        if isinstance(exc, ServerClosedError):
            if not exc.recoverable:
                raise exc
            self.migration.report_drop(self.result.model.name)
            reason = f"closed_{exc.close_code}"
        else:
            reason = "session_expired"
        resume = self._active_response is not None
        # A session that reached its full age is routine (a warm one idle for hours expires
        # every hour): only a premature expiry or a drop counts as instability.
        if reason != "session_expired" or not self.due_for_renewal:
            self._reconnects += 1
        if resume:
            self._resumed += 1
        limits = self._limits
        if self._reconnects > limits.max_reconnects:
            raise RealtimeUnstableError(
                f"the realtime session was lost {self._reconnects} times in this conversation"
                f" (last: {reason}); conversation.max_reconnects is {limits.max_reconnects}"
            ) from exc
        if self._resumed > limits.max_resumed_responses:
            raise RealtimeUnstableError(
                f"the answer was cut off {self._resumed} times in this conversation"
                f" (last: {reason}); conversation.max_resumed_responses is"
                f" {limits.max_resumed_responses}"
            ) from exc
        return reason, resume

    def _observe(self, event: ev.RealtimeEvent) -> None:
        if isinstance(event, ev.ResponseCreated):
            self._active_response = event.response_id
        elif isinstance(event, ev.ResponseDone):
            self._active_response = None
        elif isinstance(event, ev.InputCommitted):
            self.pending_audio.committed()
            self._user_spoke()
        elif isinstance(event, ev.InputCleared):
            self.pending_audio.committed()
        elif isinstance(event, ev.UserTranscript):
            self.history.add_user(event.text)
        elif isinstance(event, ev.TranscriptDone | ev.TextDone):
            self.history.add_assistant(event.text)
        elif isinstance(event, ev.FunctionCallRequest):
            self.history.add_function_call(event.call_id, event.name, event.arguments)
            self._open_calls[event.call_id] = call_key(event.name, event.arguments)
            self._in_session.add(event.call_id)

    def _user_spoke(self) -> None:
        # A new request: the same call again is the user's wish now, not a re-asked answer.
        self._answered.clear()
        self._replayed.clear()

    def replayed_output(self, name: str, arguments: str) -> str | None:
        """The output already given to this call, if a re-asked answer makes it again."""
        return self._replayed.get(call_key(name, arguments))

    async def _restore(self, reason: str, *, resume: bool) -> LinkRestored:
        # The server's maximum duration is routine (the warm session outlived it): no warning.
        level = logging.INFO if reason == "session_expired" else logging.WARNING
        log.log(level, "realtime session lost (%s): reconnecting and replaying", reason)
        self._active_response = None
        self._replayed = dict(self._answered)
        self.pending_audio.hold()
        try:
            result = await self.connect()
            items = self.history.replay_items(result.model.protocol)
            for item in items:
                await result.session.send_event(ConversationItemCreate(item=item))
            self._in_session = {i["call_id"] for i in items if i["type"] == "function_call"}
            await self._give_pending_audio(result.session)
            if resume:
                await result.session.create_response()
        finally:
            self.pending_audio.release()
        return LinkRestored(result.model.name, reason, len(items), resume)

    async def _give_pending_audio(self, session: RealtimeSession) -> None:
        """The words the old session heard but never committed, to the new one."""
        held = self.pending_audio.held()
        for pcm in held:
            await session.append_audio(pcm)
        if held:
            ms = self.pending_audio.held_ms
            log.info("gave the new session the %.0f ms of audio the old one had not committed", ms)

    # --- pass-through commands that also feed the history ---------------------------------------

    async def append_audio(self, pcm: bytes) -> None:
        """Stream microphone audio (24 kHz PCM16); while the session is being replaced it waits,
        and audio the lost session never committed goes to the new one first."""
        await self.pending_audio.flowing()
        self.pending_audio.add(pcm)
        try:
            await self.session.append_audio(pcm)
        except (ServerClosedError, SessionExpiredError):
            if self._closed:
                raise
            log.debug("audio kept for the session that replaces the lost one")

    async def send_text(self, text: str) -> None:
        """Add a user text message."""
        self._user_spoke()
        self.history.add_user(text)
        await self.session.create_text_item(text)

    async def send_function_output(self, call_id: str, output: str) -> None:
        """Answer a function call (then call create_response)."""
        key = self._open_calls.pop(call_id, None)
        if key is not None:
            self._answered[key] = output
        if call_id not in self._in_session:
            # Asked in a session that was lost before the answer came: the new session was not
            # given the call (a call without output would leave it waiting), so it goes in now,
            # or the server refuses the output ("Tool call ID not found in conversation").
            item = self.history.function_call_item(call_id)
            if item is not None:
                await self.session.send_event(ConversationItemCreate(item=item))
                self._in_session.add(call_id)
        self.history.add_function_output(call_id, output)
        await self.session.create_function_call_output(call_id, output)

    async def create_response(self) -> None:
        """Ask the model to respond."""
        await self.session.create_response()

    async def create_out_of_band_response(self, response: dict[str, Any]) -> None:
        """A response outside the conversation (`response`: its options; nothing is replayed)."""
        await self.session.create_response(response)

    async def add_assistant_text(self, text: str) -> None:
        """Put what the assistant said (an announcement) into the conversation as context."""
        self.history.add_assistant(text)
        await self.session.create_text_item(text, "assistant")

    async def cancel_response(self) -> None:
        """Stop the active response."""
        await self.session.cancel_response()

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """Cut an assistant item back to what was played."""
        await self.session.truncate_item(item_id, audio_end_ms)

    async def close(self) -> None:
        """End the link; events() finishes."""
        self._closed = True
        self.pending_audio.release()
        if self._result is not None:
            await self._result.session.close()
