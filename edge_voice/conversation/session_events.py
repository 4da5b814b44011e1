"""The downlink: each realtime event of the assistant's session, handled (play, publish, call
functions, account) by one task that reads one session after the other."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from edge_voice.conversation.call_flow import CallFlow
from edge_voice.conversation.mcp_events import McpHandler
from edge_voice.conversation.rate_limits import RateLimitRetry
from edge_voice.conversation.resilient_session import LinkRestored, ResilientSession
from edge_voice.conversation.states import Status, Trigger
from edge_voice.events import ResponseCompleted, Transcript
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import RateLimitError, RealtimeError, classify_error, snake_code

if TYPE_CHECKING:
    from edge_voice.conversation.assistant import Assistant

log = logging.getLogger(__name__)

#: Errors the service answers to itself and that need no user attention. `session_expired`
#: (the server's maximum duration) is followed by its close, and the link opens a new session
#: with the conversation so far; only a failure to do so is the user's business.
BENIGN_ERRORS = frozenset(
    {"response_cancel_not_active", "conversation_already_has_active_response", "session_expired"}
)


class SessionEventHandler:
    """Dispatches normalized realtime events to the assistant."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self.calls = CallFlow(assistant)
        self.rate_limits = RateLimitRetry(assistant)
        self._handlers: dict[type, Callable[[Any], Awaitable[None]]] = {
            ev.SpeechStarted: self._speech_started,
            ev.SpeechStopped: self._speech_stopped,
            ev.UserTranscript: self._user_transcript,
            ev.ResponseCreated: self._response_created,
            ev.AudioDelta: self._audio,
            ev.TranscriptDone: self._transcript_done,
            ev.TextDone: self._text_done,
            ev.FunctionCallRequest: self._function_call_request,
            ev.ResponseDone: self._response_done,
            ev.ServerError: self._server_error,
            LinkRestored: self._link_restored,
        }
        self.mcp = McpHandler(assistant, lambda: self.model)
        self._handlers.update(self.mcp.handlers())

    @property
    def model(self) -> str:
        """The model of the current session."""
        link = self.a.link
        return link.result.model.name if link is not None else self.a.config.openai.model

    async def handle(self, event: ev.RealtimeEvent | LinkRestored) -> None:
        """Handle one event of the current session (events nobody acts on are ignored)."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            await handler(event)

    async def _speech_started(self, event: ev.SpeechStarted) -> None:
        a = self.a
        a.cancel_timer()
        a.false_wakes.speech()
        self.calls.speech_started()
        self.rate_limits.cancel()  # a new turn: its own response answers what went before
        if a.status is Status.RESPONDING:
            await a.barge_in()  # only reached with echo cancellation: the mic is open
        else:
            a.machine.fire_if_possible(Trigger.SPEECH)

    async def _speech_stopped(self, event: ev.SpeechStopped) -> None:
        a = self.a
        a.metrics.speech_stopped()
        await a.cues.listen_end()
        self.calls.speech_stopped()
        if a.status is Status.LISTENING:
            a.set_timer(a.listen_timeout_s)  # the answer should start well within this

    async def _text_done(self, event: ev.TextDone) -> None:
        self.a.memory.text_done(event)

    async def _user_transcript(self, event: ev.UserTranscript) -> None:
        self.a.memory.heard()
        self.a.bus.publish(
            Transcript(role="user", text=event.text, item_id=event.item_id, model=self.model)
        )

    async def _response_created(self, event: ev.ResponseCreated) -> None:
        a = self.a
        self.calls.response_created()
        self.rate_limits.answered()
        a.announcer.response_created(event)
        a.memory.response_created(event)
        if a.status is not Status.IDLE:
            a.cancel_timer()
            a.machine.fire_if_possible(Trigger.RESPONSE_STARTED)

    async def _transcript_done(self, event: ev.TranscriptDone) -> None:
        self.a.bus.publish(
            Transcript(
                role="assistant",
                text=event.text,
                item_id=event.item_id,
                response_id=event.response_id,
                model=self.model,
            )
        )

    async def _function_call_request(self, event: ev.FunctionCallRequest) -> None:
        self.calls.requested(event)

    async def _server_error(self, event: ev.ServerError) -> None:
        self.calls.server_error(event.code)
        if event.code in BENIGN_ERRORS:
            log.debug("realtime: %s (%s): handled here", event.code, event.message)
            return
        error = classify_error(event, phase="session", model=self.model)
        if isinstance(error, RateLimitError):
            self.rate_limits.limited(error)
            return
        # The server's own code (or type); the message with anything key-shaped masked.
        self.a.report_error(snake_code(event.code or event.type), error.message)

    async def _link_restored(self, event: LinkRestored) -> None:
        log.info("session restored on %s (%s)", event.model, event.reason)
        self.calls.link_restored()
        if event.response_resumed:
            self.rate_limits.cancel()  # a cut answer is asked for again by the link itself
        # Else a due retry stays: the refused request never began, so the link does not ask
        # for it, and the retry asks the new session (the conversation is replayed there).
        elif self.a.status is Status.LISTENING and not self.rate_limits.waiting:
            # The new session heard nothing of an utterance the old one was hearing (its
            # speech_started stopped the timer; its speech_stopped will never come): listen
            # anew, within the timer, rather than wait forever.
            self.a.set_timer(self.a.listen_timeout_s)
        self.a.publish_state()

    async def _audio(self, event: ev.AudioDelta) -> None:
        a = self.a
        if a.status is not Status.RESPONDING:
            return  # a cancelled answer's tail: never play it
        a.announcer.audio(event)
        if a.tracker.audio(event.item_id, len(event.pcm)):
            a.sink.begin_response(event.item_id)
        a.metrics.audio_delta(event.response_id)
        await a.sink.write(event.pcm)

    async def _response_done(self, event: ev.ResponseDone) -> None:
        a = self.a
        hold = self.calls.response_done()
        summary = a.memory.finished(event.response_id)
        voice = a.link.result.fitted.voice.voice if a.link is not None else None
        try:
            cost = a.metrics.record_response(
                event.response_id, self.model, event.usage, voice=voice
            )
        except ValueError as exc:  # a usage object we cannot read must not stop the answer
            log.warning("cannot account response %s: %s", event.response_id, exc)
        else:
            a.bus.publish(
                ResponseCompleted(
                    response_id=event.response_id,
                    model=self.model,
                    voice=voice,
                    usage=cost.usage.as_dict(),
                    cost_usd=cost.cost_usd,
                    latency_ms=dict(cost.latency_ms),
                    status=event.status,
                    kind=summary or a.announcer.kind_of(event.response_id),
                )
            )
            a.publish_metrics()
        announcement = a.announcer.finished(event.response_id)
        if event.status == "cancelled" or hold or summary or self.mcp.response_done(event):
            return
        if announcement is not None:
            a.spawn(a.announcer.answered(announcement))
            return
        # The tracker stays: playback usually runs past response.done, and a barge-in then
        # still has to truncate the item to what was heard.
        a.spawn(a.answered())  # playback drains in real time; keep reading events meanwhile


class Downlink:
    """The downlink task: reads the events of each session the assistant opens, in turn."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self.handler = SessionEventHandler(assistant)
        self._links: asyncio.Queue[ResilientSession | None] = asyncio.Queue()
        self._reading: asyncio.Task[None] | None = None

    def follow(self, link: ResilientSession) -> None:
        """Read `link` (after the session read now, which has been closed, has ended)."""
        self._links.put_nowait(link)

    def close(self) -> None:
        """End `run()`, at once even in the middle of a reconnect."""
        self._links.put_nowait(None)
        if self._reading is not None:
            self._reading.cancel()

    async def run(self) -> None:
        """Read each session until `close()`."""
        while (link := await self._links.get()) is not None:
            reading = asyncio.create_task(self._read(link), name="edge_voice.downlink.read")
            self._reading = reading
            try:
                await asyncio.wait([reading])  # a cancelled reading (close) is no error here
            finally:
                self._reading = None
                reading.cancel()  # when this task itself is being cancelled
                await asyncio.gather(reading, return_exceptions=True)
            if not reading.cancelled() and (error := reading.exception()) is not None:
                log.error("reading the realtime session failed", exc_info=error)

    async def _read(self, link: ResilientSession) -> None:
        a = self.a
        try:
            async for event in link.events():
                await self.handler.handle(event)
        except RealtimeError as exc:
            log.warning("realtime session ended: %s", exc)
            a.report_error(exc.error_code, f"conversation ended: {exc}")
            await a.end_conversation(close_link=True)
