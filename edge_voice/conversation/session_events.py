"""What the assistant does with each realtime event: play, publish, call functions, account."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from edge_voice.conversation.resilient_session import LinkRestored
from edge_voice.conversation.states import Status, Trigger
from edge_voice.events import MetricsUpdated, ResponseCompleted, Transcript
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import RealtimeError

if TYPE_CHECKING:
    from edge_voice.conversation.assistant import Assistant

log = logging.getLogger(__name__)

#: Errors the service answers to itself and that need no user attention.
BENIGN_ERRORS = frozenset(
    {"response_cancel_not_active", "conversation_already_has_active_response"}
)


class SessionEventHandler:
    """Dispatches normalized realtime events to the assistant."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self.pending_calls = 0
        self.response_idle = asyncio.Event()
        self.response_idle.set()

    @property
    def model(self) -> str:
        """The model of the current session."""
        link = self.a.link
        return link.result.model.name if link is not None else self.a.config.openai.model

    async def handle(self, event: ev.RealtimeEvent | LinkRestored) -> None:
        """Handle one event of the current session."""
        a = self.a
        if isinstance(event, ev.SpeechStarted):
            a.cancel_timer()
            if a.status is Status.RESPONDING:
                await a.barge_in()  # only reached with echo cancellation: the mic is open
            else:
                a.machine.fire_if_possible(Trigger.SPEECH)
        elif isinstance(event, ev.SpeechStopped):
            a.metrics.speech_stopped()
            if a.status is Status.LISTENING:
                a.set_timer(a.listen_timeout_s)  # the answer should start well within this
        elif isinstance(event, ev.UserTranscript):
            a.bus.publish(
                Transcript(role="user", text=event.text, item_id=event.item_id, model=self.model)
            )
        elif isinstance(event, ev.ResponseCreated):
            self.response_idle.clear()
            if a.status is not Status.IDLE:
                a.cancel_timer()
                a.machine.fire_if_possible(Trigger.RESPONSE_STARTED)
        elif isinstance(event, ev.AudioDelta):
            await self._audio(event)
        elif isinstance(event, ev.TranscriptDone):
            a.bus.publish(
                Transcript(
                    role="assistant",
                    text=event.text,
                    item_id=event.item_id,
                    response_id=event.response_id,
                    model=self.model,
                )
            )
        elif isinstance(event, ev.FunctionCallRequest):
            self.pending_calls += 1
            a.spawn(self._function_call(event))
        elif isinstance(event, ev.ResponseDone):
            await self._response_done(event)
        elif isinstance(event, ev.ServerError):
            if event.code not in BENIGN_ERRORS:
                a.report_error(event.code or event.type, event.message)
        elif isinstance(event, LinkRestored):
            log.info("session restored on %s (%s)", event.model, event.reason)
            self.response_idle.set()
            a.publish_state()

    async def _audio(self, event: ev.AudioDelta) -> None:
        a = self.a
        if a.status is not Status.RESPONDING:
            return  # a cancelled answer's tail: never play it
        if a.tracker.audio(event.item_id, len(event.pcm)):
            a.sink.begin_response(event.item_id)
        a.metrics.audio_delta(event.response_id)
        await a.sink.write(event.pcm)

    async def _function_call(self, call: ev.FunctionCallRequest) -> None:
        a = self.a
        a.metrics.function_call_published(call.call_id)
        try:
            output = await a.calls.call(call.call_id, call.name, call.arguments, self.model)
            a.metrics.function_call_result(call.call_id)
            link = a.link
            if link is None:
                return
            await link.send_function_output(call.call_id, output)
            # response.create while the calling response is still open would be refused.
            await self.response_idle.wait()
        except RealtimeError as exc:
            a.report_error(exc.code or type(exc).__name__, str(exc))
            return
        finally:
            self.pending_calls -= 1
        if self.pending_calls == 0 and a.link is not None and a.status is Status.RESPONDING:
            try:
                await a.link.create_response()
            except RealtimeError as exc:
                a.report_error(exc.code or type(exc).__name__, str(exc))

    async def _response_done(self, event: ev.ResponseDone) -> None:
        a = self.a
        self.response_idle.set()
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
                )
            )
            a.bus.publish(MetricsUpdated(metrics=a.metrics.snapshot()))
        if event.status == "cancelled" or self.pending_calls > 0:
            return
        # The tracker stays: playback usually runs past response.done, and a barge-in then
        # still has to truncate the item to what was heard.
        a.spawn(a.answered())  # playback drains in real time; keep reading events meanwhile
