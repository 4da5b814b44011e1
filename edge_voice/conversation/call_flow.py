"""Function calls in a conversation: each one run, its result delivered, the answer asked for.

Two ways, by the features of the session's model:

- *wait* (no `async_functions`, or `disable_new_features`): the answer pauses; once every call of
  the response has its output and the response is over, one `response.create`.
- *async* (`async_functions`): the conversation goes on while a call is pending (the user may
  speak; the real service's placeholder result makes the model say it is still waiting). Each
  late result goes in when it arrives, and `response.create` follows as soon as no response is
  active and the user is not in the middle of a turn (never while one is: the service would
  refuse it with `conversation_already_has_active_response`). The conversation does not end
  while a call is pending: `quiet` is set only once every call has its output and its answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from edge_voice.conversation.function_results import deliver_result
from edge_voice.conversation.states import Status
from edge_voice.events import CallMode
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import RealtimeError

if TYPE_CHECKING:
    from edge_voice.conversation.assistant import Assistant

log = logging.getLogger(__name__)

ACTIVE_RESPONSE = "conversation_already_has_active_response"


class CallFlow:
    """The function-call part of the downlink (one per assistant, like McpHandler)."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        #: Calls whose output has not been delivered (in wait mode: nor answered yet).
        self.pending = 0
        #: Set while no response is being generated.
        self.response_idle = asyncio.Event()
        self.response_idle.set()
        #: Set while no call is pending and no late answer is due: the conversation may end.
        self.quiet = asyncio.Event()
        self.quiet.set()
        self._free = asyncio.Event()  # a response.create now would be accepted
        self._free.set()
        self._wanted = False  # a late result waits for its response.create
        self._asked = False  # response.create sent, its response.created not seen yet
        self._user_turn = False  # the user is speaking
        self._requester: asyncio.Task[None] | None = None
        #: Conversations ended so far: a call that outlives its own is answered in no other.
        self._conversation = 0

    @property
    def async_calls(self) -> bool:
        """Whether the session's model takes function calls asynchronously."""
        link = self.a.link
        return link is not None and "async_functions" in link.result.fitted.features

    # --- what the downlink reports ---------------------------------------------------------

    def requested(self, call: ev.FunctionCallRequest) -> None:
        """The model called a function: run it in a task of its own."""
        self.pending += 1
        self._refresh()
        self.a.spawn(self._run(call))

    def speech_started(self) -> None:
        """The user began speaking: a late answer waits for the turn."""
        self._user_turn = True
        self._refresh()

    def speech_stopped(self) -> None:
        """The user stopped speaking."""
        self._user_turn = False
        self._refresh()

    def response_created(self) -> None:
        """A response began (ours or one the server's turn detection started)."""
        self.response_idle.clear()
        self._asked = self._user_turn = False
        self._refresh()

    def response_done(self) -> bool:
        """A response ended; whether the conversation waits for an answer this flow asks for."""
        self.response_idle.set()
        self._refresh()
        return self._wanted if self.async_calls else self.pending > 0

    def server_error(self, code: str | None) -> None:
        """An error event: no response may come of our response.create; one refused because
        another response began first is asked for again after it."""
        if not self._asked:
            return
        self._asked = False
        if code == ACTIVE_RESPONSE:
            self._ask_soon()
        else:
            self._refresh()

    def link_restored(self) -> None:
        """A new session carries the conversation: nothing is active on it."""
        self.response_idle.set()
        self._asked = self._user_turn = False
        self._refresh()

    def conversation_ended(self) -> None:
        """The conversation is over: no late answer is asked for any more."""
        self._conversation += 1
        self._wanted = self._asked = self._user_turn = False
        self._refresh()

    # --- running one call ------------------------------------------------------------------

    async def _run(self, call: ev.FunctionCallRequest) -> None:
        a = self.a
        conversation = self._conversation
        try:
            output = await self._output(call)
            link = a.link
            if link is None:
                return
            await deliver_result(link, call.call_id, output, a.calls.take_image(call.call_id))
            if self.async_calls:
                # Wanted before the call stops counting, so the conversation stays open.
                self._wanted = self._wanted or conversation == self._conversation
            else:
                # response.create while the calling response is still open would be refused.
                await self.response_idle.wait()
        except RealtimeError as exc:
            a.report_error(exc.error_code, str(exc))
            return
        finally:
            self.pending -= 1
            self._refresh()
        if self._wanted:
            self._ask_soon()
        elif not self.async_calls and self.pending == 0 and a.status is Status.RESPONDING:
            await self._create()

    async def _output(self, call: ev.FunctionCallRequest) -> str:
        """The call's output: asked for (published), or the one given before a drop."""
        a = self.a
        link = a.link
        replayed = link.replayed_output(call.name, call.arguments) if link is not None else None
        if replayed is not None:
            log.info("%s was answered before the link was lost: not calling it again", call.name)
            return replayed
        a.metrics.function_call_published(call.call_id)
        model = link.result.model.name if link is not None else a.config.openai.model
        offered = (
            {str(t.get("name")) for t in link.result.fitted.settings.tools}
            if link is not None
            else None
        )
        output = await a.calls.call(
            call.call_id, call.name, call.arguments, model, mode=self._mode(), offered=offered
        )
        a.metrics.function_call_result(call.call_id)
        return output

    def _mode(self) -> CallMode:
        return "async" if self.async_calls else "wait"

    # --- asking for the late answer --------------------------------------------------------

    def _ask_soon(self) -> None:
        """A late result is in: ask for the answer once no response is active."""
        self._wanted = True
        self._refresh()
        if self._requester is None or self._requester.done():
            self._requester = self.a.spawn(self._request())

    async def _request(self) -> None:
        while self._wanted:
            await self._free.wait()
            link = self.a.link
            if not self._wanted or link is None or self.a.status is Status.IDLE:
                break
            self._wanted, self._asked = False, True
            self._refresh()
            log.info("late function result delivered: asking for the answer")
            try:
                await link.create_response()
            except RealtimeError as exc:
                self._asked = False
                self.a.report_error(exc.error_code, str(exc))
        self._wanted = False
        self._refresh()

    async def _create(self) -> None:
        link = self.a.link
        if link is None:
            return
        try:
            await link.create_response()
        except RealtimeError as exc:
            self.a.report_error(exc.error_code, str(exc))

    def _refresh(self) -> None:
        """Recompute the two conditions others wait on."""
        free = self.response_idle.is_set() and not self._asked and not self._user_turn
        quiet = self.pending == 0 and not self._wanted and not self._asked
        for event, value in ((self._free, free), (self.quiet, quiet)):
            if value:
                event.set()
            else:
                event.clear()
