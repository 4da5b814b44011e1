"""A request refused for a rate limit is asked again once, when the server says it may be.

The server refuses a response with `rate_limit_exceeded` and says when to try again ("Please
try again in 1.8s"). What the user said is already in the conversation, so one
`response.create` after that wait answers it. A wait longer than `MAX_WAIT_S` is not taken (the
user would hear nothing for too long), and a second refusal is not retried: both, and a refusal
without a hint, go to `event/error` with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from edge_voice.conversation.states import Status, Trigger
from edge_voice.realtime.errors import RateLimitError, RealtimeError

if TYPE_CHECKING:
    from edge_voice.conversation.assistant import Assistant

log = logging.getLogger(__name__)

#: The longest retry hint waited for, in seconds, while the user waits for the answer.
MAX_WAIT_S: Final = 5.0


class RateLimitRetry:
    """One retry per request after a rate limit (part of the downlink, like CallFlow)."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self._retried = False  # the request in hand was asked again already
        self._task: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> bool:
        """Whether a retry is scheduled."""
        return self._task is not None and not self._task.done()

    def answered(self) -> None:
        """A response began: a later refusal is another request's."""
        self._retried = False

    def cancel(self) -> None:
        """The user spoke again, the link was replaced or the conversation ended."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        self._retried = False

    def limited(self, error: RateLimitError) -> None:
        """The server refused a response: ask again once within its hint, else tell the user."""
        wait = error.retry_after_s
        if self.waiting:
            log.info("rate limited again while a retry is due: %s", error.message)
        elif self._retried:
            self._give_up(error, "still limited after asking again once")
        elif wait is None:
            self._give_up(error, "no retry hint: not asked again")
        elif wait > MAX_WAIT_S:
            self._give_up(
                error,
                f"the server asks to wait {wait:g} s, longer than the {MAX_WAIT_S:g} s "
                "edge_voice waits while the user listens: not asked again",
            )
        else:
            self._retried = True
            log.warning("rate limited (%s): asking again in %g s", error.message, wait)
            if self.a.status is Status.LISTENING:
                self.a.cancel_timer()  # the answer is on its way: do not end the conversation
            self._task = self.a.spawn(self._retry(wait))

    async def _retry(self, wait: float) -> None:
        await asyncio.sleep(wait)  # the server's hint: sooner would only be refused again
        link = self.a.link
        if link is None or self.a.status is Status.IDLE:
            return
        if self.a.status is Status.LISTENING:
            self.a.set_timer(self.a.listen_timeout_s)  # the answer should start well within
        try:
            await link.create_response()
        except RealtimeError as exc:
            self.a.report_error(exc.error_code, str(exc))

    def _give_up(self, error: RateLimitError, why: str) -> None:
        a = self.a
        a.report_error(error.error_code, f"{error.message} ({why}; the request was not answered)")
        link = a.link
        if a.status is Status.RESPONDING and not (link is not None and link.response_active):
            # The answer after a function result was refused: none is coming. The user may
            # ask again in the follow-up window (listening, a timer already runs).
            a.machine.fire_if_possible(Trigger.ANSWERED)
