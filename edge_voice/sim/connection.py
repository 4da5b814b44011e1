"""One accepted realtime session: client event dispatch, responses, usage, expiry, faults."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from edge_voice.models.catalog import ModelInfo
from edge_voice.realtime.model_spec import WireProtocol
from edge_voice.realtime.out_of_band import verbatim_text
from edge_voice.sim import items, wire
from edge_voice.sim.config import SimConfig
from edge_voice.sim.context import fit_context, refuse_response
from edge_voice.sim.conversation import Conversation, Item, TokenCounts, recap, text_tokens
from edge_voice.sim.dialogue import Dialogue, Reply
from edge_voice.sim.errors import ClientError, invalid_type, invalid_value, missing_parameter
from edge_voice.sim.input_audio import InputAudio
from edge_voice.sim.malformed import MALFORMED_EVENTS
from edge_voice.sim.mcp_session import McpSession
from edge_voice.sim.observe import ConnectionRecord, Observer
from edge_voice.sim.response_options import parse_options
from edge_voice.sim.responses import (
    ActiveResponse,
    PlannedCall,
    ResponseDropped,
    ResponsePlan,
    arguments_json,
)
from edge_voice.sim.scenario import Scenario
from edge_voice.sim.session_config import (
    SessionState,
    TurnDetection,
    apply_update,
    render_session,
)

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]

#: Client event types the GA service lists as accepted (reference §3, live error, late 2026).
CLIENT_EVENT_TYPES = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.truncate",
    "conversation.item.delete",
    "conversation.item.retrieve",
    "response.create",
    "response.cancel",
)


class RealtimeConnection:
    """Server side of one accepted websocket, after auth and model checks passed."""

    def __init__(
        self,
        ws: ServerConnection,
        record: ConnectionRecord,
        observer: Observer,
        config: SimConfig,
        model: ModelInfo,
        protocol: WireProtocol,
        scenario: Scenario,
    ) -> None:
        self.ws = ws
        self.record = record
        self.observer = observer
        self.config = config
        self.model = model
        self.protocol = protocol
        self.session = SessionState(
            model=model.name,
            voice=model.voices[0] if "alloy" not in model.voices else "alloy",
            turn_detection=TurnDetection(silence_duration_ms=config.default_silence_duration_ms),
        )
        self.session_id = wire.new_id("sess")
        self.expires_at = int(time.time() + config.session_max_s)
        self.conversation = Conversation()
        self.dialogue = Dialogue(scenario)
        self.audio = InputAudio(self)
        self.mcp = McpSession(self)
        self.active: ActiveResponse | None = None
        self._task: asyncio.Task[None] | None = None
        #: Set to end the session with `session_expired` now (the maximum duration reached).
        self.expire_now = asyncio.Event()
        self._audio_spoken = False
        self._last_prefix: str | None = None
        self._last_input = TokenCounts()
        self._handlers: dict[str, Handler] = {
            "session.update": self._session_update,
            "input_audio_buffer.append": self.audio.append,
            "input_audio_buffer.commit": self.audio.commit,
            "input_audio_buffer.clear": self.audio.clear,
            "conversation.item.create": lambda e: items.create(self, e),
            "conversation.item.truncate": lambda e: items.truncate(self, e),
            "conversation.item.delete": lambda e: items.delete(self, e),
            "conversation.item.retrieve": lambda e: items.retrieve(self, e),
            "response.create": self._response_create,
            "response.cancel": self._response_cancel,
        }

    @property
    def voice_locked(self) -> bool:
        """The model has spoken in this session, so the voice can no longer change."""
        return self._audio_spoken or (self.active is not None and self.active.audio_ms > 0)

    async def run(self) -> None:
        """Greet with session.created, then serve client events until the socket closes."""
        await self.send({"type": "session.created", "session": self._render_session()})
        expiry = asyncio.create_task(self._expire())
        try:
            async for message in self.ws:
                await self._handle(message)
        except ConnectionClosed:
            pass
        finally:
            expiry.cancel()
            await self._stop_response()
            await self.mcp.close()
            with contextlib.suppress(asyncio.CancelledError):
                await expiry

    async def send(self, event: dict[str, Any]) -> None:
        """Send a server event (with a fresh event_id) and record it."""
        event = {"event_id": wire.new_id("event"), **event}
        self.record.sent.append(event)
        self.observer.notify()
        await self.ws.send(json.dumps(event))

    async def send_error(self, err: ClientError, client_event_id: str | None) -> None:
        """Answer a client mistake; the session stays open."""
        await self.send(
            wire.error_event(
                err.code,
                err.message,
                error_type=err.error_type,
                param=err.param,
                client_event_id=client_event_id,
            )
        )

    def add_item(self, item: Item) -> str | None:
        """Append a response's output item to the conversation."""
        return self.conversation.add(item)

    async def announce_item(self, item: Item, previous: str | None) -> None:
        """Tell the client about a new item: GA added+done, beta created."""
        rendered = wire.render_item(item, self.protocol)
        if self.protocol == "ga":
            for kind in ("conversation.item.added", "conversation.item.done"):
                await self.send({"type": kind, "previous_item_id": previous, "item": rendered})
        else:
            await self.send(
                {
                    "type": "conversation.item.created",
                    "previous_item_id": previous,
                    "item": rendered,
                }
            )

    async def drop(self) -> None:
        """The drop fault: a 1011 close, or a TCP abort with no close frame at all."""
        if self.config.drop_mode == "abort":
            self.ws.transport.abort()
        else:
            await self.ws.close(1011, "Internal server error")

    async def _handle(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            err = ClientError("invalid_event", "Binary frames are not supported; send JSON text.")
            await self.send_error(err, None)
            return
        try:
            event = json.loads(message)
        except ValueError as exc:
            err = ClientError("invalid_json", f"The event is not valid JSON: {exc}.")
            await self.send_error(err, None)
            return
        if not isinstance(event, dict):
            await self.send_error(invalid_type("event", "an object", event), None)
            return
        self.record.received.append(event)
        self.observer.notify()
        client_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        try:
            if "type" not in event:
                raise missing_parameter("type")
            handler = self._handlers.get(str(event["type"]))
            if handler is None:
                raise invalid_value("type", event["type"], CLIENT_EVENT_TYPES)
            await handler(event)
        except ClientError as err:
            log.debug("client error %s on %s", err.code, event.get("type"))
            await self.send_error(err, client_id)

    def _render_session(self) -> dict[str, Any]:
        return render_session(self.session, self.protocol, self.session_id, self.expires_at)

    async def _session_update(self, event: dict[str, Any]) -> None:
        if "session" not in event:
            raise missing_parameter("session")
        vad_was_on = self.session.turn_detection is not None
        self.session = apply_update(
            self.session,
            event["session"],
            self.protocol,
            self.model,
            voice_locked=self.voice_locked,
        )
        self.audio.session_changed(vad_was_on)
        await self.send({"type": "session.updated", "session": self._render_session()})
        self.mcp.tools_changed(self.session.tools)

    async def _response_create(self, event: dict[str, Any]) -> None:
        if self.active is not None:
            raise ClientError(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {self.active.id}. "
                "Wait until the response is finished before creating a new one.",
            )
        client_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        await self.start_response(event.get("response"), client_id)

    async def start_response(self, raw_options: Any, client_event_id: str | None) -> None:
        """Begin a response (client request or VAD turn end) unless a fault refuses it."""
        opts = parse_options(
            raw_options, self.protocol, self.model, self.session, voice_locked=self.voice_locked
        )
        await self.settle_cancelled()
        if self.active is not None:
            log.debug("turn ended while response %s is active; no new response", self.active.id)
            return
        if self.config.rate_limit_responses > 0:
            self.config.rate_limit_responses -= 1
            await self.send(
                wire.rate_limit_error(
                    self.model.name, self.config.rate_limit_retry_after_s, client_event_id
                )
            )
            return
        if self.config.malformed_events:
            for text in MALFORMED_EVENTS:
                await self.ws.send(text)
        # Out of band: the text it is told to say verbatim, else (a summary) a recap.
        said = None if opts.in_conversation else verbatim_text(opts.instructions)
        if not opts.in_conversation and said is None:
            said = recap(self.conversation)
        planned = (Reply(said), None) if said is not None else self.mcp.follow_up()
        if planned is None:
            reply = self.dialogue.next_reply(
                opts.tool_names,
                opts.tool_choice,
                async_functions="async_functions" in self.model.features,
            )
            planned = reply, self.mcp.step_for(reply, opts.tool_choice)
        reply, mcp_step = planned
        call = None
        if reply.call is not None:
            call = PlannedCall(reply.call.name, arguments_json(reply.call.arguments))
        more = [PlannedCall(c.name, arguments_json(c.arguments)) for c in reply.more_calls]
        prefix = opts.instructions + json.dumps(self.session.tools, sort_keys=True)
        fit = fit_context(
            self.conversation, self.session.truncation, self.model, TokenCounts(text_tokens(prefix))
        )
        if fit.overflow:
            needed = text_tokens(prefix) + self.conversation.tokens().total
            await refuse_response(self.send, self.model, self.protocol, opts, needed)
            return
        if opts.no_context:  # `input: []`: only the instructions and tools are billed
            inputs, cached = TokenCounts(text=text_tokens(prefix)), TokenCounts()
        else:
            inputs, cached = self._input_usage(prefix, cut=fit.cut > 0)
        plan = ResponsePlan(
            say=reply.say,
            call=call,
            more_calls=more,
            voice=opts.voice,
            speed=self.session.speed,
            audio_out=opts.audio_out,
            in_conversation=opts.in_conversation,
            metadata=opts.metadata,
            max_output_tokens=opts.max_output_tokens,
            turn=reply.turn,
            mcp=mcp_step,
            input_tokens=inputs,
            cached_tokens=cached,
        )
        active = ActiveResponse(plan, self)
        self.active = active
        self._task = asyncio.create_task(self._run_response(active))

    async def settle_cancelled(self) -> None:
        """Let a response that is being cancelled send its `response.done` first."""
        if self.active is not None and self.active.cancelling and self._task is not None:
            await self._task

    def _input_usage(self, prefix: str, *, cut: bool) -> tuple[TokenCounts, TokenCounts]:
        """Input re-bills instructions, tools and the whole conversation; an unchanged prefix
        (same instructions and tools as the previous response) counts as cached up to the
        previous response's input, class by class. A truncation cut changes the conversation's
        start, so then only the instructions and tools stay cached."""
        head = TokenCounts(text=text_tokens(prefix))
        current = head + self.conversation.tokens()
        cached = TokenCounts()
        if prefix == self._last_prefix:
            cached = (head if cut else current).cap(self._last_input)
        self._last_prefix, self._last_input = prefix, current
        return current, cached

    async def _run_response(self, active: ActiveResponse) -> None:
        try:
            await active.run()
        except (ResponseDropped, ConnectionClosed):
            pass
        finally:
            self.response_finished(active)
            active.ended.set()

    def response_finished(self, response: ActiveResponse) -> None:
        """Release the conversation for the next response and remember a completed call."""
        if response.finished:
            return
        response.finished = True
        if response.audio_ms > 0:
            self._audio_spoken = True
        if self.active is response:
            self.active = None
        turn = response.plan.turn
        for call in response.call_items:
            if call.call_id and turn is not None:
                self.dialogue.call_made(turn, call.call_id)

    async def _response_cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        if self.active is None or (wanted is not None and wanted != self.active.id):
            raise ClientError(
                "response_cancel_not_active", "Cancellation failed: no active response found."
            )
        self.active.cancel("client_cancelled")

    async def _stop_response(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task

    async def _expire(self) -> None:
        # A real timer is the behaviour being simulated here, not test synchronisation.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.expire_now.wait(), self.config.session_max_s)
        await self._stop_response()
        minutes = 60 if self.protocol == "ga" else 30
        log.info("session %s expired", self.session_id)
        with contextlib.suppress(ConnectionClosed):
            await self.send(
                wire.error_event(
                    "session_expired",
                    f"Your session hit the maximum duration of {minutes} minutes.",
                )
            )
            await self.ws.close(1001, "Session expired")
