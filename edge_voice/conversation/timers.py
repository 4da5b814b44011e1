"""The assistant's one timer: a state's timeout (nobody spoke) or the warm session's expiry."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from edge_voice.conversation.states import Status, Trigger

if TYPE_CHECKING:
    from edge_voice.conversation.assistant import Assistant


class StateTimer:
    """At most one timer at a time; a new one replaces the last."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self._task: asyncio.Task[Any] | None = None

    def timeout(self, seconds: float) -> None:
        """Fire TIMEOUT after `seconds` unless the state changes first (or a call is pending)."""
        self.cancel()
        self._task = self.a.spawn(self._timeout(seconds))

    def expire_link(self, seconds: float) -> None:
        """Close the warm session after `seconds` of idle."""
        self.cancel()
        self._task = self.a.spawn(self._expire(seconds))

    def cancel(self) -> None:
        """Cancel the pending timer."""
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _timeout(self, seconds: float) -> None:
        await asyncio.sleep(seconds)  # a real timeout: nobody spoke
        # A pending async call keeps the conversation open; its late answer changes the state
        # (and so cancels this timer) before the window can close on it.
        quiet = self.a.downlink.handler.calls.quiet
        while not quiet.is_set():
            await quiet.wait()
        self._task = None
        self.a.machine.fire_if_possible(Trigger.TIMEOUT)

    async def _expire(self, seconds: float) -> None:
        await asyncio.sleep(seconds)  # keep the warm session no longer than this
        self._task = None
        if self.a.status is Status.IDLE:
            await self.a.close_link()
